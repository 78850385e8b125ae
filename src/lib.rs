//! `oblien-user-client`: the browser side of an Oblien SaaS session.
//!
//! The client holds only a short-lived scoped JWT minted by the SaaS backend (`POST /tokens`).
//! `core` is plain Rust (token decoding, the refresh policy, request rules, error mapping) and is
//! tested natively; `bindings` is the thin `#[wasm_bindgen]` layer that owns timers, listeners
//! and `fetch`.

#![cfg_attr(not(feature = "std"), no_std)]
extern crate alloc;

/// What std's prelude adds to core's, for the build without std.
#[allow(unused_imports)]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

/// Without std a panic is a trap: std's hook printed nothing on wasm32-unknown-unknown either, and
/// std's formatting of the message (~1.7 KB of the wasm) goes.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod bindings;

/// Talc instead of the default dlmalloc: smaller wasm (README, "Dependencies").
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
