//! The `#[wasm_bindgen]` layer: converts JS values, owns timers and listeners, calls `fetch`.
//! Every decision lives in `crate::core`.

mod abort;
mod client;
mod error;
mod fetch;
mod host;
mod options;
mod runtime;
mod token;
mod types;
mod workspaces;

use wasm_bindgen::prelude::*;

/// The package version, as in Cargo.toml.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
