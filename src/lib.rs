//! `oblien-user-client`: the browser side of an Oblien SaaS session.
//!
//! The client holds only a short-lived scoped JWT minted by the SaaS backend. Later issues fill this
//! crate: a pure-Rust core (token decoding, refresh policy, request building, error mapping) and a
//! thin `#[wasm_bindgen]` layer over it.

use wasm_bindgen::prelude::*;

/// The package version, as in Cargo.toml.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
