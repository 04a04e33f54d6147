// Builds the browser UI into fixed file names (no content hashes): cmake embeds them into the
// binary (src/api/CMakeLists.txt, cmake/embed.cmake). OPSBOX_WEB_OUT names the output folder.
import { resolve } from "node:path";
import { defineConfig } from "vite";

const root = import.meta.dirname;

export default defineConfig({
  root,
  publicDir: resolve(root, "public"),
  logLevel: "warn",
  build: {
    outDir: process.env.OPSBOX_WEB_OUT || resolve(root, "dist"),
    emptyOutDir: true,
    target: "es2020",
    modulePreload: false,
    minify: true,
    sourcemap: false,
    rollupOptions: {
      input: {
        app: resolve(root, "index.html"),
        wfm: resolve(root, "wfm.html"),
        desktop: resolve(root, "desktop.html"),
        wallboard: resolve(root, "wallboard.html"),
      },
      output: {
        entryFileNames: "[name].js",
        chunkFileNames: "shared.js",
        assetFileNames: "[name][extname]",
        // Everything more than one page uses goes into one chunk with a fixed name.
        manualChunks: (id) =>
          id.includes("node_modules") || id.includes("/src/lib/") ? "shared" : undefined,
      },
    },
  },
});
