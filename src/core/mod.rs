//! The pure-Rust core: no `wasm_bindgen`, testable natively with `cargo test`.

pub mod api;
pub mod base64url;
pub mod cell;
pub mod error;
pub mod flight;
pub mod policy;
pub mod request;
pub mod retry_after;
pub mod runtime;
pub mod token;
