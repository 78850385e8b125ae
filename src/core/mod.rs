//! The pure-Rust core: no `wasm_bindgen`, testable natively with `cargo test`. Every decision the
//! client makes lives here; the binding only converts values and talks to the browser.

pub mod api;
pub mod base64url;
pub mod catchup;
pub mod cell;
pub mod crosstab;
pub mod decimal;
pub mod endpoint;
pub mod error;
pub mod exec_stream;
pub mod flight;
pub mod float;
pub mod frames;
pub mod gateway;
pub mod json;
pub mod ndjson;
pub mod policy;
pub mod proxy;
pub mod request;
pub mod retry_after;
pub mod runtime;
pub mod scan;
pub mod scope;
pub mod socket;
pub mod sse;
pub mod token;
pub mod utf8;
pub mod workspace;
