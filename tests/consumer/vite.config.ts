// A consumer app's Vite config: no plugins. The package is wasm-pack's `web` target; Vite itself
// turns its `new URL("oblien_user_client_bg.wasm", import.meta.url)` into a hashed asset.
import { defineConfig } from "vite";

export default defineConfig({
  // Relative asset URLs: the built app works under any path it is served from.
  base: "./",
  build: {
    // Top-level await and class fields as written.
    target: "es2022",
    // The .wasm stays a separate, streamed asset (never inlined as base64) whatever its size.
    assetsInlineLimit: 0,
    emptyOutDir: true,
    rolldownOptions: {
      // index.html: `init()`; url.html: `init({ module_or_path: wasmUrl })` with Vite's `?url`.
      input: { index: "index.html", url: "url.html" },
    },
  },
});
