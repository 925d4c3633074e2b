// The playground's bundle, committed under suite_ai/playground/static/playground/ so that `make run`
// serves it on a fresh machine without Node or the npm registry (see the README). One JS file and
// one CSS file with fixed names: the Django template refers to them through {% static %}.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "../suite_ai/playground/static/playground",
    emptyOutDir: true,
    sourcemap: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4000,
    modulePreload: false,
    rollupOptions: {
      input: "playground/main.tsx",
      output: {
        format: "es",
        inlineDynamicImports: true,
        entryFileNames: "playground.js",
        assetFileNames: "playground[extname]",
      },
    },
  },
});
