// Usage: node scripts/size.mjs PKG_DIR WASM_RAW WASM_GZ JS_RAW JS_GZ   (budgets in bytes)
// Prints the package's wasm and JS glue sizes, raw and gzipped (level 9, what a CDN serves),
// and fails when one is over its budget.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const [dir = "pkg", ...budgets] = process.argv.slice(2);
const [wasmRaw, wasmGz, jsRaw, jsGz] = budgets.map(Number);
const sizes = (files) => {
  const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
  return { raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
};
// The JS a page loads: the glue plus the snippets it imports.
const snippets = [];
const walk = (d) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".js")) snippets.push(p);
  }
};
try { walk(join(dir, "snippets")); } catch { /* no snippets */ }
const wasm = sizes([join(dir, "oblien_user_client_bg.wasm")]);
const js = sizes([join(dir, "oblien_user_client.js"), ...snippets]);

let failed = false;
const row = (name, size, raw, gz) => {
  const over = [size.raw > raw && `raw over ${raw}`, size.gz > gz && `gzip over ${gz}`].filter(Boolean);
  if (over.length) failed = true;
  console.log(`${name.padEnd(6)} ${String(size.raw).padStart(8)} B raw  ${String(size.gz).padStart(7)} B gzip   budget ${raw} / ${gz}${over.length ? `   OVER: ${over.join(", ")}` : ""}`);
};
row("wasm", wasm, wasmRaw, wasmGz);
row("js", js, jsRaw, jsGz);
console.log(`total  ${String(wasm.raw + js.raw).padStart(8)} B raw  ${String(wasm.gz + js.gz).padStart(7)} B gzip   (first load transfers the gzip sizes)`);
if (failed) {
  console.error("size: over budget (budgets live in the Makefile: SIZE_BUDGET_*)");
  process.exit(1);
}
