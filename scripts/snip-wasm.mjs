// Code the wasm holds and nothing runs, cut before wasm-opt (scripts/finish-pkg.mjs), with
// binaryen.js on wasm-bindgen's output, whose function names are still there:
//
// - Table slots of wasm-bindgen's closure `invoke` shims that the module does not export. The
//   glue calls every closure it makes through an exported shim
//   (`wasm_bindgen__convert__closures_____invoke__…`); the other shims sit in the function table
//   only because descriptor functions took their addresses, and the CLI deletes those after
//   reading them. Nothing calls through these slots (the table is not exported, and no code
//   holds their indices), but binaryen cannot know that, so they kept ~40 shims and the
//   `core::fmt` code some of them reach. The slots now point to one function that traps; a shim
//   that an exported one calls directly stays (only its slot changes).
// - The bodies of the functions that always panic (`-> !`: core's panic entry points, the bounds,
//   slice range and `RefCell` failures, alloc's capacity and allocation failures): each ends in
//   the panic handler's trap (src/lib.rs), which reads nothing of the message; cut to the trap
//   itself, they no longer build the message's arguments first. A panic traps as before.
//
// Measured on this package: −2.4 KB gz (the slots) and −0.65 KB gz (the panics), behaviour the
// same (the browser suites run on the package built this way).
import binaryen from "binaryen";

const INVOKE = /^wasm_bindgen::convert::closures::_::invoke::h[0-9a-f]+$/;
/** Functions that always end in a panic (`-> !`): core's panic entry points, the bounds, slice
 *  range and `RefCell` failures, and alloc's capacity and allocation failures. */
const PANICKING =
  /^(core|alloc)(\[[0-9a-f]+\])?::(panicking::.*|slice::index::slice_index_fail|cell::panic_already_(mutably_)?borrowed|raw_vec::(handle_error|capacity_overflow)|alloc::handle_alloc_error)$|^__rustc(\[[0-9a-f]+\])?::__r(dl|ust)_alloc_error_handler$/;
const TRAP = "snip-wasm: a table slot nothing calls";

/** `bytes` (a wasm with its name section) with the code above cut, and what was cut. */
export function snipWasm(bytes) {
  const module = binaryen.readBinary(bytes);
  try {
    const exported = new Set();
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      if (info.kind === binaryen.ExternalFunction) exported.add(info.value);
    }

    module.addFunction(TRAP, binaryen.none, binaryen.none, [], module.unreachable());
    let slots = 0;
    const segments = [];
    for (let i = 0; i < module.getNumElementSegments(); i++) {
      segments.push(binaryen.getElementSegmentInfo(module.getElementSegmentByIndex(i)));
    }
    for (const segment of segments) {
      const offset = binaryen.getExpressionInfo(segment.offset);
      if (segment.isPassive || offset.id !== binaryen.ConstId) {
        throw new Error(`snip-wasm: element segment ${segment.name} is not active at a constant offset`);
      }
      const data = segment.data.map((f) => (INVOKE.test(f) && !exported.has(f) ? (slots++, TRAP) : f));
      module.removeElementSegment(segment.name);
      module.addActiveElementSegment(segment.table, segment.name, data, module.i32.const(offset.value));
    }

    const panicking = [];
    for (let i = 0; i < module.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (!info.module && PANICKING.test(info.name) && !exported.has(info.name)) panicking.push(info);
    }
    for (const f of panicking) {
      module.removeFunction(f.name);
      module.addFunction(f.name, f.params, f.results, [], module.unreachable());
    }

    if (!module.validate()) throw new Error("snip-wasm: the module does not validate after the cut");
    return { wasm: module.emitBinary(), slots, functions: panicking.length };
  } finally {
    module.dispose();
  }
}
