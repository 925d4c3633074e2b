// The playground's bundle, committed under suite_ai/playground/static/playground/ so that `make run`
// serves it on a fresh machine without Node or the npm registry (see the README). One JS file and
// one CSS file with fixed names: the Django template refers to them through {% static %}.
// sources.sha256 records what it was built from; tests/test_playground_page.py fails when a source
// changed and the bundle was not rebuilt (`make editor-build`).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const OUT_DIR = "../suite_ai/playground/static/playground";
const SOURCES = ["src", "playground", "package-lock.json", "vite.playground.config.ts"];

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => files(join(path, name)));
}

/** sha256 over each source's path and bytes, in path order (the test computes the same). */
export function sourcesDigest(root: string): string {
  const hash = createHash("sha256");
  const paths = SOURCES.flatMap((source) => files(join(root, source)))
    .map((path) => relative(root, path).split("\\").join("/"))
    .sort();
  for (const path of paths) {
    hash.update(`${path}\0`);
    hash.update(readFileSync(join(root, path)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

const recordSources = (): Plugin => ({
  name: "suite-ai-record-sources",
  closeBundle() {
    writeFileSync(join(__dirname, OUT_DIR, "sources.sha256"), `${sourcesDigest(__dirname)}\n`);
  },
});

export default defineConfig({
  plugins: [react(), recordSources()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: OUT_DIR,
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
