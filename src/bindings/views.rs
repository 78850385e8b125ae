//! The thin views (`client.workspaces`, `apiAccess`, `WorkspaceRuntime` and its `files`, `exec`,
//! `search`, `transfer`, `proxy(port)`, `terminals`, `watchers`) are plain JS classes
//! (`js/views.js`): each exported wasm class cost JS glue and a wasm export per method, and each
//! getter a wasm object with a finalizer. A view holds one dispatch function, a Rust closure over
//! its owner (the session, or a runtime), and forwards every method to it as a small number; the
//! option checks, the endpoint table and every decision stay in Rust behind that number.

use alloc::rc::Rc;
use core::cell::RefCell;
use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/views.js")]
extern "C" {
    /// A new view of class `kind` (js/views.js `view`) on the dispatch `call`; `Terminal`,
    /// `Watcher` and `RuntimeConnection` also hold their js/socket.js object, `held`.
    #[wasm_bindgen(js_name = view)]
    pub fn js_view(kind: u32, call: &JsValue, held: &JsValue) -> JsValue;
}

/// Ops every dispatch answers (js/views.js): `free()` lets go of the owner at once, as freeing a
/// wasm object did; `VIEW` makes a dispatch of the same owner for a view taken from this one.
const FREE: u32 = 0;
const VIEW: u32 = 1;

/// What a dispatch does with `op` (≥ 2) and its arguments: a Promise, a value, or (for the
/// methods that throw) an `OblienError` the view throws.
pub type Run<T> = fn(&Rc<T>, u32, JsValue, JsValue, JsValue) -> JsValue;

/// A dispatch on `owner`: a JS function that the garbage collector frees with its view, and that
/// lets go of `owner` on `free()`. The same closure shape as the socket's, the stream's and a
/// request's (`call::step`): one shim in the wasm for all of them.
pub fn dispatch<T: 'static>(owner: Rc<T>, run: Run<T>) -> Function {
    let held = RefCell::new(Some(owner));
    let call = move |op: u32, a: JsValue, b: JsValue, c: JsValue, _: JsValue| {
        // The borrow ends here: `run` may call back into JS, and JS into this dispatch.
        let Some(owner) = held.borrow().clone() else {
            return JsValue::UNDEFINED;
        };
        match op {
            FREE => {
                held.replace(None);
                JsValue::UNDEFINED
            }
            VIEW => dispatch(owner, run).into(),
            _ => run(&owner, op, a, b, c),
        }
    };
    Closure::<dyn Fn(u32, JsValue, JsValue, JsValue, JsValue) -> JsValue>::new(call)
        .into_js_value()
        .unchecked_into()
}

/// A new view of class `kind` on its own dispatch of `owner`.
pub fn view<T: 'static>(kind: u32, owner: Rc<T>, run: Run<T>) -> JsValue {
    js_view(kind, &dispatch(owner, run), &JsValue::UNDEFINED)
}

/// A `Terminal`, `Watcher` or `RuntimeConnection` (kinds 2, 3, 4) over its js/socket.js object
/// `held`: its methods go to `held` directly; its dispatch only keeps the runtime's socket
/// (`owner`) alive until `free()` or the garbage collector, as the wasm object did.
pub fn held<T: 'static>(kind: u32, owner: Rc<T>, held: &JsValue) -> JsValue {
    fn nothing<T>(_: &Rc<T>, _: u32, _: JsValue, _: JsValue, _: JsValue) -> JsValue {
        JsValue::UNDEFINED
    }
    js_view(kind, &dispatch(owner, nothing), held)
}

/// A sync method's result: the value, or the error the view throws.
pub fn thrown(result: Result<JsValue, JsValue>) -> JsValue {
    result.unwrap_or_else(|e| e)
}

/// An optional argument as wasm-bindgen passed an `Option<JsValue>`: `undefined` and `null` are
/// `None`.
pub fn opt(value: JsValue) -> Option<JsValue> {
    (!value.is_undefined() && !value.is_null()).then_some(value)
}
