// A long-lived JSON-lines server around the real BlockNote + Yjs libraries, driven by
// tests/interop/harness.py. One request per stdin line, one response per stdout line:
//   {"id": 1, "op": "to_blocks", "version": "0.55", "schema": "docs", ...} -> {"id": 1, "ok": true, "result": ...}
// One process serves one BlockNote version, given as the first argument: "0.55" (@blocknote/server-util
// 0.55.0), "0.54" (core 0.54.2 + server-util 0.54.0, a later Docs y-provider pin) or "0.51" (core and
// server-util 0.51.4, what La Suite Docs 5.4.1 pins). The three expose the same API used here
// (ServerBlockNoteEditor.create, yDocToBlocks/blocksToYDoc with a fragment name, _blocksToProsemirrorNode,
// the comments extension), so no operation differs by version. Two copies of @blocknote/core cannot
// share a process: both register the same ProseMirror selection class ("Duplicate use of selection JSON ID").
// Schemas: "blocknote" (BlockNote defaults) and "docs" (defaults + the blocks La Suite Docs adds,
// re-declared here from their prop schemas, plus the comments mark).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as Y from "yjs";
import { updateYFragment } from "y-prosemirror";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const FRAGMENT = "document-store";

// Keep stdout for protocol lines only.
const protocolOut = process.stdout.write.bind(process.stdout);
console.log = (...args) => process.stderr.write(args.join(" ") + "\n");
console.warn = console.log;
console.info = console.log;
console.debug = () => {};

const PACKAGES = {
  "0.51": {
    serverUtil: "node_modules/bn051-server-util",
    core: "node_modules/bn051-server-util/node_modules/@blocknote/core",
  },
  "0.55": { serverUtil: "node_modules/@blocknote/server-util", core: "node_modules/@blocknote/core" },
  "0.54": {
    serverUtil: "node_modules/bn054-server-util",
    core: "node_modules/bn054-server-util/node_modules/@blocknote/core",
  },
};

function esmEntry(packageDir, subpath = ".") {
  const dir = path.join(here, packageDir);
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  const entry = pkg.exports[subpath];
  return pathToFileURL(path.join(dir, typeof entry === "string" ? entry : entry.import)).href;
}

const SERVED_VERSION = process.argv[2] || "0.55";
const libraries = new Map();

async function library(version = SERVED_VERSION) {
  if (version !== SERVED_VERSION) throw new Error(`this harness serves BlockNote ${SERVED_VERSION}, not ${version}`);
  if (!libraries.has(version)) {
    const where = PACKAGES[version];
    if (!where) throw new Error(`unknown BlockNote version ${version}`);
    const [serverUtil, core, commentsModule, yjsModule] = await Promise.all([
      import(esmEntry(where.serverUtil)),
      import(esmEntry(where.core)),
      import(esmEntry(where.core, "./comments")),
      import(esmEntry(where.core, "./yjs")),
    ]);
    const comments = { ...commentsModule, YjsThreadStore: yjsModule.YjsThreadStore ?? commentsModule.YjsThreadStore };
    const pkg = JSON.parse(readFileSync(path.join(here, where.core, "package.json"), "utf8"));
    libraries.set(version, { serverUtil, core, comments, coreVersion: pkg.version, editors: new Map() });
  }
  return libraries.get(version);
}

function docsSchema(core) {
  const { BlockNoteSchema, createBlockSpec, createInlineContentSpec, defaultBlockSpecs, defaultInlineContentSpecs,
    defaultProps, withPageBreak } = core;
  const div = (type) => () => {
    const dom = document.createElement("div");
    dom.setAttribute("data-content-type", type);
    return { dom };
  };
  const callout = createBlockSpec(
    {
      type: "callout",
      propSchema: {
        textAlignment: defaultProps.textAlignment,
        backgroundColor: { default: "default" },
        emoji: { default: "💡" },
      },
      content: "inline",
    },
    {
      render: () => {
        const dom = document.createElement("div");
        const contentDOM = document.createElement("p");
        dom.appendChild(contentDOM);
        return { dom, contentDOM };
      },
    },
  );
  const pdf = createBlockSpec(
    {
      type: "pdf",
      propSchema: {
        backgroundColor: { default: "default" },
        caption: { default: "" },
        name: { default: "" },
        previewWidth: { default: undefined, type: "number" },
        showPreview: { default: true },
        textAlignment: { default: "left" },
        url: { default: "" },
      },
      content: "none",
    },
    { render: div("pdf") },
  );
  const uploadLoader = createBlockSpec(
    {
      type: "uploadLoader",
      propSchema: {
        information: { default: "" },
        type: { default: "loading", values: ["loading", "warning"] },
        blockUploadName: { default: "" },
        blockUploadShowPreview: { default: true },
        blockUploadType: { default: "" },
        blockUploadUrl: { default: "" },
      },
      content: "none",
    },
    { render: div("uploadLoader") },
  );
  const interlinking = createInlineContentSpec(
    {
      type: "interlinkingLinkInline",
      propSchema: {
        docId: { default: "" },
        disabled: { default: false, values: [true, false] },
        trigger: { default: "/", values: ["/", "@"] },
        title: { default: "" },
      },
      content: "none",
    },
    {
      render: (inline) => {
        const dom = document.createElement("a");
        dom.textContent = inline.props.title || inline.props.docId;
        return { dom };
      },
    },
  );
  return withPageBreak(
    BlockNoteSchema.create({
      blockSpecs: { ...defaultBlockSpecs, callout: callout(), pdf: pdf(), uploadLoader: uploadLoader() },
      inlineContentSpecs: { ...defaultInlineContentSpecs, interlinkingLinkInline: interlinking },
    }),
  );
}

async function editorFor(version, schemaName) {
  const lib = await library(version);
  const key = schemaName || "blocknote";
  if (!lib.editors.has(key)) {
    let editor;
    if (key === "docs") {
      const { CommentsExtension, DefaultThreadStoreAuth, YjsThreadStore } = lib.comments;
      const threads = new YjsThreadStore("interop", new Y.Doc().getMap("threads"),
        new DefaultThreadStoreAuth("interop", "editor"));
      editor = lib.serverUtil.ServerBlockNoteEditor.create({
        schema: docsSchema(lib.core),
        extensions: [CommentsExtension({ threadStore: threads, resolveUsers: async (ids) => ids.map((id) => ({ id, username: id, avatarUrl: "" })) })],
      });
    } else if (key === "blocknote") {
      editor = lib.serverUtil.ServerBlockNoteEditor.create();
    } else {
      throw new Error(`unknown schema ${key}`);
    }
    lib.editors.set(key, editor);
  }
  return { lib, editor: lib.editors.get(key) };
}

const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const unb64 = (text) => new Uint8Array(Buffer.from(text, "base64"));
const sameBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

function docFrom(update) {
  const doc = new Y.Doc();
  if (update) Y.applyUpdate(doc, unb64(update));
  return doc;
}

// Render the doc as the editor would and tell whether reading it changed the shared document
// (y-prosemirror deletes nodes the schema does not know, as a Yjs transaction).
function readBlocks(editor, doc) {
  const before = Y.encodeStateAsUpdate(doc);
  let changes = 0;
  const onUpdate = () => { changes += 1; };
  doc.on("update", onUpdate);
  const blocks = editor.yDocToBlocks(doc, FRAGMENT);
  doc.off("update", onUpdate);
  const after = Y.encodeStateAsUpdate(doc);
  return { blocks, mutated: changes > 0 || !sameBytes(before, after), update: b64(after) };
}

function findPath(blocks, id, trail = []) {
  for (let i = 0; i < blocks.length; i += 1) {
    if (blocks[i].id === id) return [...trail, i];
    const inner = findPath(blocks[i].children || [], id, [...trail, i]);
    if (inner) return inner;
  }
  return null;
}

function siblingsAndIndex(blocks, id) {
  const trail = findPath(blocks, id);
  if (!trail) throw new Error(`no block ${id}`);
  let list = blocks;
  for (const index of trail.slice(0, -1)) list = list[index].children;
  return [list, trail[trail.length - 1]];
}

// Human edits, applied to BlockNote JSON, then written the editor's way:
// blocks -> ProseMirror doc -> y-prosemirror updateYFragment (what ySyncPlugin does on every change).
function applyHumanEdits(blocks, edits) {
  for (const edit of edits) {
    if (edit.op === "set_content") {
      const [list, index] = siblingsAndIndex(blocks, edit.id);
      list[index] = { ...list[index], content: edit.content };
    } else if (edit.op === "append") {
      blocks.push(edit.block);
    } else if (edit.op === "insert_after") {
      const [list, index] = siblingsAndIndex(blocks, edit.id);
      list.splice(index + 1, 0, edit.block);
    } else if (edit.op === "delete") {
      const [list, index] = siblingsAndIndex(blocks, edit.id);
      list.splice(index, 1);
    } else if (edit.op === "set_props") {
      const [list, index] = siblingsAndIndex(blocks, edit.id);
      list[index] = { ...list[index], props: { ...list[index].props, ...edit.props } };
    } else {
      throw new Error(`unknown edit ${edit.op}`);
    }
  }
  return blocks;
}

function humanEdit(editor, doc, edits) {
  const fragment = doc.getXmlFragment(FRAGMENT);
  const blocks = applyHumanEdits(editor.yDocToBlocks(doc, FRAGMENT), edits);
  const pmDoc = editor._blocksToProsemirrorNode(blocks);
  const before = Y.encodeStateVector(doc);
  doc.transact(() => {
    updateYFragment(doc, fragment, pmDoc, { mapping: new Map(), isOMark: new Map() });
  });
  return Y.encodeStateAsUpdate(doc, before);
}

function canonicalXml(fragment) {
  // Attribute and mark order differ between writers; sort them so equal trees give equal strings. An
  // attribute set to undefined (BlockNote's numberedListItem.start) reads as absent, so it is left out.
  const walk = (node) => {
    if (node instanceof Y.XmlText) {
      const sorted = (attrs) => attrs && Object.fromEntries(Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : 1)));
      return JSON.stringify(node.toDelta().map((op) => ({ ...op, attributes: sorted(op.attributes) })));
    }
    const attrs = node instanceof Y.XmlElement ? node.getAttributes() : {};
    const keys = Object.keys(attrs).filter((k) => attrs[k] !== undefined).sort();
    const head = node instanceof Y.XmlElement ? node.nodeName : "#fragment";
    return `<${head}${keys.map((k) => ` ${k}=${JSON.stringify(attrs[k])}`).join("")}>${node.toArray().map(walk).join("")}</${head}>`;
  };
  return walk(fragment);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(repeat, fn) {
  const times = [];
  let result;
  for (let i = 0; i < repeat; i += 1) {
    const start = process.hrtime.bigint();
    result = await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { times, median: median(times), result };
}

const handlers = {
  async ping() {
    return { pid: process.pid };
  },

  async versions({ version }) {
    const lib = await library(version);
    const pkg = JSON.parse(readFileSync(path.join(here, PACKAGES[version || SERVED_VERSION].serverUtil, "package.json"), "utf8"));
    return { core: lib.coreVersion, serverUtil: pkg.version, yjs: require("yjs/package.json").version };
  },

  async to_blocks({ version, schema, update }) {
    const { editor } = await editorFor(version, schema);
    return readBlocks(editor, docFrom(update));
  },

  async to_ydoc({ version, schema, blocks }) {
    const { editor } = await editorFor(version, schema);
    const doc = editor.blocksToYDoc(blocks, FRAGMENT);
    return { update: b64(Y.encodeStateAsUpdate(doc)) };
  },

  // The document's tree in a canonical form, to compare what two writers wrote.
  async xml({ update }) {
    return { xml: canonicalXml(docFrom(update).getXmlFragment(FRAGMENT)) };
  },

  async human_edit({ version, schema, update, edits }) {
    const { editor } = await editorFor(version, schema);
    const doc = docFrom(update);
    return { update: b64(humanEdit(editor, doc, edits)) };
  },

  // Apply the updates to fresh replicas in each given order (indexes into `updates`, out-of-order
  // delivery included), and merged with Y.mergeUpdates; report each replica's canonical XML.
  async merge({ version, schema, updates, orders }) {
    const { editor } = await editorFor(version, schema);
    const bytes = updates.map(unb64);
    const replicas = (orders || [updates.map((_, i) => i)]).map((order) => {
      const doc = new Y.Doc();
      for (const index of order) Y.applyUpdate(doc, bytes[index]);
      const pending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
      return { doc, xml: canonicalXml(doc.getXmlFragment(FRAGMENT)), pending };
    });
    const merged = new Y.Doc();
    Y.applyUpdate(merged, Y.mergeUpdates(bytes));
    const first = replicas[0].doc;
    return {
      xml: replicas.map((r) => r.xml),
      pending: replicas.map((r) => r.pending),
      merged_xml: canonicalXml(merged.getXmlFragment(FRAGMENT)),
      read: readBlocks(editor, first),
      markdown: await editor.blocksToMarkdownLossy(editor.yDocToBlocks(first, FRAGMENT)),
    };
  },

  async markdown_to_blocks({ version, schema, markdown }) {
    const { editor } = await editorFor(version, schema);
    return { blocks: await editor.tryParseMarkdownToBlocks(markdown) };
  },

  async blocks_to_markdown({ version, schema, blocks }) {
    const { editor } = await editorFor(version, schema);
    return { markdown: await editor.blocksToMarkdownLossy(blocks) };
  },

  // Timings measured inside Node (no pipe overhead), for bench/blocknote_bench.py.
  async bench({ version, schema, markdown, update, repeat }) {
    const { editor } = await editorFor(version, schema);
    const toUpdate = await timed(repeat, async () => {
      const blocks = await editor.tryParseMarkdownToBlocks(markdown);
      return Y.encodeStateAsUpdate(editor.blocksToYDoc(blocks, FRAGMENT));
    });
    const source = update ? unb64(update) : toUpdate.result;
    const toMarkdown = await timed(repeat, async () => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, source);
      return (await editor.blocksToMarkdownLossy(editor.yDocToBlocks(doc, FRAGMENT))).length;
    });
    return {
      markdown_to_update_ms: toUpdate.times,
      update_to_markdown_ms: toMarkdown.times,
      update: b64(toUpdate.result),
      markdown_chars: toMarkdown.result,
    };
  },
};

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
let queue = Promise.resolve();
input.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let request;
    try {
      request = JSON.parse(line);
      const handler = handlers[request.op];
      if (!handler) throw new Error(`unknown op ${request.op}`);
      const result = await handler(request);
      protocolOut(JSON.stringify({ id: request.id, ok: true, result }) + "\n");
    } catch (error) {
      protocolOut(JSON.stringify({ id: request?.id ?? null, ok: false, error: String(error?.stack || error) }) + "\n");
    }
  });
});
input.on("close", () => queue.then(() => process.exit(0)));
library(SERVED_VERSION).then(
  (lib) => protocolOut(JSON.stringify({ id: 0, ok: true, result: { ready: true, core: lib.coreVersion } }) + "\n"),
  (error) => protocolOut(JSON.stringify({ id: 0, ok: false, error: String(error?.stack || error) }) + "\n"),
);
