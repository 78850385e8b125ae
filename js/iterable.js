// `for await` support for the package's streams (ExecStream, FileStream): wasm-bindgen cannot
// name a method by a symbol, so the class's prototype gets `[Symbol.asyncIterator]() { return this }`
// the first time one of its objects is handed out. The object's own `next()` / `return()` do the rest.
export function iterable(object) {
  const proto = Object.getPrototypeOf(object);
  if (!Object.prototype.hasOwnProperty.call(proto, Symbol.asyncIterator)) {
    Object.defineProperty(proto, Symbol.asyncIterator, {
      value() {
        return this;
      },
      configurable: true,
      writable: true,
    });
  }
  return object;
}
