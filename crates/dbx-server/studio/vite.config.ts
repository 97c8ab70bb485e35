import { defineConfig } from "vite";

// The bundle is committed and embedded in the `dbx` binary, so the build must be
// reproducible: no source maps, no timestamps, hashed file names under assets/.
export default defineConfig({
  // Relative asset URLs, so that the Studio works wherever the server mounts it
  // (`/studio/`, or `/database/api/studio/` under `server.base-path`).
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npm run dev` against a running `dbx serve` on the default port.
    proxy: { "/api": "http://127.0.0.1:8080", "/health": "http://127.0.0.1:8080" },
  },
});
