// Builds the console into fixed file names (no content hashes): index.html, app.js and app.css,
// which cmake embeds into the binary (src/api/CMakeLists.txt, cmake/embed.cmake). One script
// (dynamic imports inlined), so the server serves three files. OPSBOX_WEB_OUT names the output
// folder.
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
      input: { app: resolve(root, "index.html") },
      output: {
        entryFileNames: "[name].js",
        assetFileNames: "[name][extname]",
        inlineDynamicImports: true,
      },
    },
  },
});
