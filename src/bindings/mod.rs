//! The `#[wasm_bindgen]` layer: converts JS values, owns timers and listeners, calls `fetch`.
//! Every decision lives in `crate::core`.

mod abort;
mod client;
mod error;
mod fetch;
mod gateway;
mod host;
mod options;
mod runtime;
mod timer;
mod token;
mod types;
mod workspace_runtime;
mod workspaces;

use wasm_bindgen::prelude::*;

/// The package version, as in Cargo.toml.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
