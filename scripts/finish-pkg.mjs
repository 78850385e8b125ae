// Usage: node scripts/finish-pkg.mjs [PKG_DIR]
// Finishes what `wasm-pack build --target web` wrote into pkg/:
// - the npm-facing README.md and LICENSE from pkg-template/ replace the crate's;
// - pkg-template/package.json is merged into the generated package.json (template keys win,
//   `files` is the union; wasm-pack's list omits `snippets/`, which the glue imports);
// - `OblienError` (defined in a snippet so it truly extends Error), `ExecStream` (the streams'
//   I/O, js/stream.js) and the thin views (`Workspaces`, `WorkspaceRuntime`, `RuntimeFiles`, …,
//   js/views.js) are re-exported from the entry, so `instanceof` works for users;
// - the .d.ts references the `esnext.disposable` lib its `[Symbol.dispose]()` members need;
// - the wasm's dead table slots and panic formatting cut (scripts/snip-wasm.mjs), then wasm-opt
//   run here (wasm-pack's own run is off: it would drop the names the cut goes by);
// - the wasm's import and export names made short in the wasm and the glue together
//   (scripts/minify-names.mjs);
// - the JS glue and its snippet become one minified ES module (esbuild; names kept), so a page
//   loads one JS file instead of two and ~3 KB less, then terser's compress and mangle passes
//   take ~0.3 KB gz more than esbuild alone finds (README, "Dependencies").
import { buildSync } from "esbuild";
import { minify } from "terser";
import { minifyNames, renameExportTypes } from "./minify-names.mjs";
import { snipWasm } from "./snip-wasm.mjs";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const pkg = process.argv[2] ?? join(root, "pkg");
const template = join(root, "pkg-template");
const name = "oblien_user_client";

for (const file of ["README.md", "LICENSE"]) {
  copyFileSync(join(template, file), join(pkg, file));
}

const read = (path) => JSON.parse(readFileSync(path, "utf8"));
const generated = read(join(pkg, "package.json"));
const extra = read(join(template, "package.json"));
// The snippets are bundled into the entry below: nothing else to ship.
const files = new Set(
  [...(generated.files ?? []), ...(extra.files ?? [])].map((f) => f.replace(/\/$/, "")).filter((f) => f !== "snippets"),
);
const merged = { ...generated, ...extra, files: [...files] };
writeFileSync(join(pkg, "package.json"), JSON.stringify(merged, null, 2) + "\n");

// The classes defined in snippets, re-exported from the entry: `OblienError` (so that it truly
// extends Error), `ExecStream` (the streams' I/O is JS: js/stream.js) and the thin views (plain
// JS classes forwarding to one Rust dispatch each: js/views.js).
const snippetDir = join(pkg, "snippets");
const snippet = (file) =>
  existsSync(snippetDir)
    ? readdirSync(snippetDir).map((d) => `./snippets/${d}/js/${file}`).find((p) => existsSync(join(pkg, p)))
    : undefined;

const jsPath = join(pkg, `${name}.js`);
const wasmPath = join(pkg, `${name}_bg.wasm`);
let js = readFileSync(jsPath, "utf8");
const snipped = snipWasm(readFileSync(wasmPath));
writeFileSync(wasmPath, snipped.wasm);
// npm's binaryen, not whatever `wasm-opt` is on PATH (Debian's breaks the module: design.md).
// --low-memory-unused: no pointer arithmetic of ours wraps into the first KiB, so binaryen may
// fold constant offsets into loads and stores (-0.35 KB gz).
execFileSync(join(root, "node_modules", ".bin", "wasm-opt"), [
  "-Oz", "--converge", "--low-memory-unused", "--strip-producers", "--strip-target-features",
  wasmPath, "-o", wasmPath,
], { stdio: "inherit" });
{
  const minified = minifyNames(readFileSync(wasmPath), js, `./${name}_bg.js`);
  writeFileSync(wasmPath, minified.wasm);
  js = minified.js;
  for (const dts of [`${name}.d.ts`, `${name}_bg.wasm.d.ts`].map((f) => join(pkg, f)).filter(existsSync)) {
    writeFileSync(dts, renameExportTypes(readFileSync(dts, "utf8"), minified.exports));
  }
}
const views = ["ApiAccess", "RuntimeConnection", "RuntimeExec", "RuntimeFiles", "RuntimeProxy", "RuntimeSearch",
  "RuntimeTerminals", "RuntimeTransfer", "RuntimeWatchers", "Terminal", "Watcher", "WorkspaceRuntime", "Workspaces"].map((v) => [v, "views.js"]);
for (const [exported, file] of [["OblienError", "oblien_error.js"], ["ExecStream", "stream.js"], ...views]) {
  const module = snippet(file);
  if (!module) throw new Error(`finish-pkg: the ${exported} snippet is missing from pkg/snippets`);
  if (!js.includes(`export { ${exported} }`)) js += `\nexport { ${exported} } from "${module}";\n`;
}
writeFileSync(jsPath, js);
buildSync({
  entryPoints: [jsPath],
  outfile: jsPath,
  allowOverwrite: true,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  // Not `keepNames` (+1.1 KB gz: a wrapper around every function); the exported classes get their
  // names back below, so `client.constructor.name` and the console still say `OblienUserClient`.
  keepNames: false,
  legalComments: "none",
  logLevel: "warning",
  // `OblienUserClient.free()` is defined twice on purpose: the client's own (dispose, then release)
  // comes after wasm-bindgen's and replaces it (and `[Symbol.dispose]`).
  logOverride: { "duplicate-class-member": "silent" },
});
rmSync(snippetDir, { recursive: true, force: true });
{
  // Safe transforms only (terser's `unsafe*` options stay off): the same behaviour, fewer bytes.
  const squeezed = await minify(readFileSync(jsPath, "utf8"), {
    module: true,
    ecma: 2022,
    compress: { passes: 2 },
    mangle: true,
    format: { comments: false },
  });
  writeFileSync(jsPath, squeezed.code);
}
{
  const bundled = readFileSync(jsPath, "utf8");
  const exports = /export\{([^}]*)\};?\s*$/.exec(bundled);
  if (!exports) throw new Error("finish-pkg: the bundle's export clause is missing");
  const classes = exports[1].split(",").map((e) => e.trim().split(/\s+as\s+/)).filter(([, name]) => /^[A-Z]/.test(name ?? ""));
  const names = classes.map(([local, name]) => `[${local},"${name}"]`).join(",");
  const restore = `for(const[c,n]of[${names}])Object.defineProperty(c,"name",{value:n});`;
  writeFileSync(jsPath, bundled.slice(0, exports.index) + restore + bundled.slice(exports.index));
}

const dtsPath = join(pkg, `${name}.d.ts`);
let dts = readFileSync(dtsPath, "utf8");
// The generated classes declare `[Symbol.dispose]()`: make the lib that types it explicit, so a
// project with `lib: ["ES2022", "DOM"]` and `skipLibCheck: false` compiles.
if (!dts.startsWith('/// <reference lib="esnext.disposable" />')) {
  dts = '/// <reference lib="esnext.disposable" />\n' + dts;
}
if (!dts.includes("export declare const OblienError")) {
  dts += `
/** The class of every error this package throws or rejects with (\`instanceof OblienError\`). */
export declare const OblienError: {
  new (code: OblienErrorCode, message: string, status?: number, retryAfter?: number, requestId?: string): OblienError;
  readonly prototype: OblienError;
};
`;
}
writeFileSync(dtsPath, dts);
console.log(`finish-pkg: ${pkg}: files = ${merged.files.join(", ")}; ${snipped.slots} dead table slots and ${snipped.functions} panicking functions cut, wasm-opt -Oz; snippets bundled and the glue minified; OblienError, ExecStream and the views exported`);
