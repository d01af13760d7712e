import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The bundle is committed under src/plait/web/static and served by `plait serve` at `/`.
// File names carry content hashes only, so identical sources give identical bytes.
const outDir = "../src/plait/web/static"; // relative to web/

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    assetsDir: "assets",
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npm run dev` proxies the API to a local `plait serve`.
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/files": "http://127.0.0.1:8000",
    },
  },
});
