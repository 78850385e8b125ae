//! `oblien-user-client`: the browser side of an Oblien SaaS session.
//!
//! The client holds only a short-lived scoped JWT minted by the SaaS backend (`POST /tokens`).
//! `core` is plain Rust (token decoding, the refresh policy, request rules, error mapping) and is
//! tested natively; `bindings` is the thin `#[wasm_bindgen]` layer that owns timers, listeners
//! and `fetch`.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod bindings;

/// Talc instead of the default dlmalloc: smaller wasm (README, "Dependencies").
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
