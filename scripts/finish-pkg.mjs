// Usage: node scripts/finish-pkg.mjs [PKG_DIR]
// Merges pkg-template/ into what `wasm-pack build` wrote: the npm-facing README.md and LICENSE
// replace the crate's, and pkg-template/package.json is merged into the generated package.json.
// Some wasm-pack versions leave `snippets/` (JS modules from `#[wasm_bindgen(module = …)]`) out of
// `files`, so a published package would miss them; it is added whenever the directory exists.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const pkg = process.argv[2] ?? join(root, "pkg");
const template = join(root, "pkg-template");

for (const file of ["README.md", "LICENSE"]) {
  copyFileSync(join(template, file), join(pkg, file));
}

const read = (path) => JSON.parse(readFileSync(path, "utf8"));
const generated = read(join(pkg, "package.json"));
const extra = read(join(template, "package.json"));

// Template keys win, except `files`, which is the union of both lists.
// Entries are compared without a trailing slash: "snippets" and "snippets/" are one entry.
const files = new Set([...(generated.files ?? []), ...(extra.files ?? [])].map((f) => f.replace(/\/$/, "")));
if (existsSync(join(pkg, "snippets"))) files.add("snippets");
const merged = { ...generated, ...extra, files: [...files] };

writeFileSync(join(pkg, "package.json"), JSON.stringify(merged, null, 2) + "\n");
console.log(`finish-pkg: ${pkg}/package.json files = ${merged.files.join(", ")}`);
