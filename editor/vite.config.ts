/// <reference types="vitest" />
// The library: ES module, BlockNote and React left to the host application (peer dependencies).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const external = [/^react($|\/)/, /^react-dom($|\/)/, /^@blocknote\//, /^@mantine\//];

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    lib: { entry: "src/index.ts", formats: ["es"], fileName: () => "suite-ai-editor.js", cssFileName: "suite-ai-editor" },
    rollupOptions: { external },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
