//! The `#[wasm_bindgen]` layer: converts JS values, owns timers and listeners, calls `fetch`.
//! Every decision lives in `crate::core`. Arrows run one way:
//! `client` → `workspaces` → `runtime` → `call` → `session` → {`fetch`, `host`,
//! `convert`, `platform`}; `views` (the JS classes' dispatch) is a leaf; `api_access` holds only
//! types.

pub mod api_access;
mod call;
pub mod client;
mod convert;
mod cross_tab;
mod error;
mod fetch;
mod host;
mod mint;
mod platform;
mod refresh;
pub mod runtime;
mod session;
mod types;
mod views;
pub mod workspaces;

use crate::prelude::*;
use wasm_bindgen::prelude::*;

/// The package version, as in Cargo.toml.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
