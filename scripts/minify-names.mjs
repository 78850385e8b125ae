// The wasm's import and export names made short, in the wasm and in the JS glue together
// (scripts/finish-pkg.mjs, before the glue is bundled). wasm-bindgen names each import
// `__wbg_<name>_<16 hex digits>` and each module by its path: in the wasm and again as keys in
// the glue, ~7 KB of names that gzip can hardly shrink (the hashes). binaryen's
// `--minify-imports-and-exports` does this for the wasm alone; here the glue is rewritten with it,
// and a name the glue does not hold as expected stops the build rather than ship a broken link.
// Kept: the snippets' own export names (the glue imports them by name), and the `memory` export
// (`init()` resolves with the exports; apps read its memory).

/** Short JS identifiers: a…z, A…Z, then two letters, … */
function* shortNames() {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (let length = 1; ; length++) {
    const digits = new Array(length).fill(0);
    for (;;) {
      yield digits.map((d) => letters[d]).join("");
      let i = length - 1;
      while (i >= 0 && ++digits[i] === letters.length) digits[i--] = 0;
      if (i < 0) break;
    }
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** `s` as a literal inside a RegExp. */
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** A reader of the wasm binary format's pieces at `pos`. */
class Reader {
  constructor(bytes, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }
  byte() {
    if (this.pos >= this.bytes.length) throw new Error("minify-names: the wasm ends early");
    return this.bytes[this.pos++];
  }
  leb() {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) return Number(result);
    }
  }
  name() {
    const length = this.leb();
    const start = this.pos;
    this.pos += length;
    return decoder.decode(this.bytes.subarray(start, this.pos));
  }
  /** The bytes from `start` to here. */
  since(start) {
    return this.bytes.subarray(start, this.pos);
  }
}

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Uint8Array.from(out);
};
const name = (s) => {
  const bytes = encoder.encode(s);
  return [leb(bytes.length), bytes];
};
const concat = (parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Skips an import's description (after its kind byte). */
function skipDescription(r, kind) {
  const limits = () => {
    const flags = r.byte();
    r.leb();
    if (flags & 1) r.leb();
  };
  if (kind === 0) r.leb(); // function: its type
  else if (kind === 1) { // table: its element type, its limits
    r.byte();
    limits();
  } else if (kind === 2) limits(); // memory
  else if (kind === 3) { // global: its type, mutability
    r.byte();
    r.byte();
  } else if (kind === 4) { // tag: attribute, type
    r.byte();
    r.leb();
  } else throw new Error(`minify-names: an import of unknown kind ${kind}`);
}

/**
 * `wasm` (bytes) and `js` (the wasm-bindgen glue, --target web, not yet minified) with short
 * import module names, short import names for the glue's own module (`glueModule`), and short
 * export names but `memory`. Returns { wasm, js, exports } (`exports`: each renamed export's new
 * name, for the .d.ts files).
 */
export function minifyNames(wasm, js, glueModule) {
  const names = shortNames();
  const modules = new Map();
  const imports = new Map();
  const exports = new Map();
  const sections = [wasm.subarray(0, 8)];
  const r = new Reader(wasm, 8);
  while (r.pos < wasm.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.leb();
    const end = r.pos + size;
    if (id === 2) {
      const parts = [];
      const count = r.leb();
      parts.push(leb(count));
      for (let i = 0; i < count; i++) {
        const module = r.name();
        const field = r.name();
        const descStart = r.pos;
        const kind = r.byte();
        skipDescription(r, kind);
        if (!modules.has(module)) modules.set(module, names.next().value);
        let short = field;
        if (module === glueModule) {
          if (!imports.has(field)) imports.set(field, names.next().value);
          short = imports.get(field);
        }
        parts.push(...name(modules.get(module)), ...name(short), r.since(descStart));
      }
      const body = concat(parts);
      sections.push(Uint8Array.of(id), leb(body.length), body);
    } else if (id === 7) {
      const parts = [];
      const count = r.leb();
      parts.push(leb(count));
      for (let i = 0; i < count; i++) {
        const field = r.name();
        const descStart = r.pos;
        r.byte();
        r.leb();
        let short = field;
        if (field !== "memory") {
          short = names.next().value;
          exports.set(field, short);
        }
        parts.push(...name(short), r.since(descStart));
      }
      const body = concat(parts);
      sections.push(Uint8Array.of(id), leb(body.length), body);
    } else {
      sections.push(wasm.subarray(start, end));
    }
    if ((id === 2 || id === 7) && r.pos !== end) {
      throw new Error(`minify-names: section ${id} does not end where its size says`);
    }
    r.pos = end;
  }
  if (!modules.has(glueModule)) throw new Error(`minify-names: the wasm imports nothing from ${glueModule}`);

  // The glue: its import object's keys, the modules' keys, `wasm.<export>`.
  // A key at the start of a line, `indent` kept: `  key:` becomes `  short:`.
  const replaceKeys = (text, pattern, short, what) => {
    let count = 0;
    const out = text.replace(pattern, (_, indent) => {
      count++;
      return `${indent}${short}:`;
    });
    if (count === 0) throw new Error(`minify-names: the glue does not hold ${what} as expected`);
    return out;
  };
  for (const [field, short] of imports) {
    js = replaceKeys(js, new RegExp(`^(\\s+)${escape(field)}:`, "gm"), short, `the import ${field}`);
  }
  for (const [module, short] of modules) {
    js = replaceKeys(js, new RegExp(`^(\\s+)"${escape(module)}":`, "gm"), short, `the module ${module}`);
    // The glue may list a snippet module twice (two `import * as` of the same file: the same
    // object); one key is enough.
    let seen = false;
    js = js.replace(new RegExp(`^\\s+${short}: import\\d+,\\n`, "gm"), (line) => (seen ? "" : ((seen = true), line)));
  }
  for (const [field, short] of exports) {
    // An export the glue never calls (wasm-bindgen's own hooks) is renamed in the wasm alone.
    js = js.replace(new RegExp(`\\bwasm\\.${escape(field)}\\b`, "g"), `wasm.${short}`);
  }
  const out = concat(sections);
  return { wasm: out, js, exports };
}

/** A .d.ts's declarations of the wasm's exports (`readonly name:` in `InitOutput`, `export const
 * name:` in the `_bg.wasm.d.ts`) renamed as `exports` says. */
export function renameExportTypes(dts, exports) {
  for (const [field, short] of exports) {
    dts = dts.replace(new RegExp(`^(\\s*(?:readonly|export const) )${escape(field)}:`, "m"), `$1${short}:`);
  }
  return dts;
}
