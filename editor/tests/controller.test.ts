import { beforeEach, describe, expect, it } from "vitest";

import { SuiteAiClient, type ActionDescription } from "../src/api";
import { bearerAuth } from "../src/auth";
import { AssistantController, withoutIds, type EditorLike } from "../src/controller";
import { FakeEventSource, fakeFetch, flush, type Recorded } from "./fakes";

const CATALOGUE: ActionDescription[] = [
  { name: "rephrase", label: { fr: "Reformuler", en: "Rephrase" }, options: [], needs_model: true, result: "blocks", scope: ["selection"] },
  {
    name: "translate",
    label: { fr: "Traduire", en: "Translate" },
    options: [{ name: "language", type: "string", required: true, choices: ["fr", "en"] }, { name: "lang", type: "string", required: false }],
    needs_model: true,
    result: "blocks",
    scope: ["selection", "document"],
  },
  { name: "note", label: { fr: "Note", en: "Note" }, options: [], needs_model: true, result: "note", scope: ["document"] },
];
const LINKS = { self: "/api/v1.0/jobs/j1/", events: "/api/v1.0/jobs/j1/events/?ticket=t", cancel: "/api/v1.0/jobs/j1/cancel/" };

/** A document of three paragraphs, recording what the controller does to it. */
class RecordingEditor implements EditorLike {
  document = [
    { id: "a", type: "paragraph", content: "Un" },
    { id: "b", type: "paragraph", content: "Deux" },
    { id: "c", type: "paragraph", content: "Trois" },
  ];
  selection: string[] = ["a", "b"];
  calls: Array<[string, ...unknown[]]> = [];
  getSelection() {
    return this.selection.length ? { blocks: this.document.filter((block) => this.selection.includes(block.id)) } : undefined;
  }
  getTextCursorPosition() {
    return { block: this.document[2] };
  }
  getBlock(id: string) {
    return this.document.find((block) => block.id === id);
  }
  replaceBlocks(remove: string[], insert: unknown[]) {
    this.calls.push(["replaceBlocks", remove, insert]);
  }
  insertBlocks(blocks: unknown[], reference: string, placement: "before" | "after") {
    this.calls.push(["insertBlocks", blocks, reference, placement]);
  }
  transact<T>(callback: (tr: unknown) => T): T {
    this.calls.push(["transact:start"]);
    const value = callback({});
    this.calls.push(["transact:end"]);
    return value;
  }
}

async function setUp() {
  const server = fakeFetch((request: Recorded) => {
    if (request.url.endsWith("/actions/") && request.method === "GET") return { status: 200, body: CATALOGUE };
    if (request.url.endsWith("/cancel/")) return { status: 200, body: { id: "j1", status: "running" } };
    return { status: 202, body: { id: "j1", status: "queued", links: LINKS } };
  });
  const client = new SuiteAiClient({ baseUrl: "/api/v1.0", auth: bearerAuth(() => "tok"), fetch: server.impl, eventSource: FakeEventSource.factory });
  const editor = new RecordingEditor();
  const controller = new AssistantController({ client, editor, documentId: "doc-1", locale: "fr" });
  await controller.loadCatalogue();
  return { server, editor, controller };
}

beforeEach(() => {
  FakeEventSource.opened = [];
});

describe("the assistant controller", () => {
  it("sends the selected blocks, streams the preview, and accepts as one transaction", async () => {
    const { server, editor, controller } = await setUp();
    controller.choose("rephrase");
    await flush();
    const submit = server.requests.find((request) => request.method === "POST")!;
    expect(submit.body).toEqual({ action: "rephrase", input: { blocks: editor.document.slice(0, 2) } });
    expect(submit.headers["Idempotency-Key"]).toBeTruthy();
    const stream = FakeEventSource.opened[0];
    stream.emit("status", { status: "running", attempt: 1 });
    stream.emit("delta", { text: "Une " });
    stream.emit("delta", { text: "phrase" });
    expect(controller.current).toMatchObject({ phase: "running", text: "Une phrase" });
    const blocks = [{ id: "x", type: "paragraph", content: [{ type: "text", text: "Une phrase", styles: { bold: true } }], children: [] }];
    stream.emit("done", { status: "succeeded", result: { markdown: "**Une phrase**", blocks } });
    expect(controller.current.phase).toBe("succeeded");
    expect(editor.calls).toEqual([]);
    editor.selection = []; // the selection moved meanwhile: the blocks chosen at the start are replaced
    controller.accept();
    expect(editor.calls).toEqual([["transact:start"], ["replaceBlocks", ["a", "b"], withoutIds(blocks)], ["transact:end"]]);
    expect(controller.current.phase).toBe("idle");
  });

  it("leaves the document untouched on reject, and drops a discarded attempt's text", async () => {
    const { editor, controller } = await setUp();
    controller.choose("rephrase");
    await flush();
    const stream = FakeEventSource.opened[0];
    stream.emit("delta", { text: "moitié" });
    stream.emit("discard", { reason: "worker_lost", attempt: 1 });
    expect(controller.current.text).toBe("");
    stream.emit("done", { status: "succeeded", result: { markdown: "ok", blocks: [{ type: "paragraph" }] } });
    controller.reject();
    expect(editor.calls).toEqual([]);
    expect(stream.closed).toBe(true);
  });

  it("asks for the target language before translating, and stops through the cancel link", async () => {
    const { server, controller } = await setUp();
    controller.choose("translate");
    expect(controller.current).toMatchObject({ phase: "options", pendingOptions: ["language"] });
    expect(server.requests.filter((request) => request.method === "POST")).toEqual([]);
    await controller.run({ language: "en" });
    expect(server.requests.at(-1)!.body).toMatchObject({ action: "translate", options: { language: "en" } });
    await controller.stop();
    expect(server.requests.at(-1)!.url).toBe(LINKS.cancel);
    FakeEventSource.opened[0].emit("cancelled", { status: "cancelled" });
    expect(controller.current.phase).toBe("cancelled");
  });

  it("shows a failed job's error for a person, in the editor's language", async () => {
    const { controller } = await setUp();
    controller.choose("rephrase");
    await flush();
    FakeEventSource.opened[0].emit("failed", { status: "failed", error: { code: "model_unavailable", message: "The model is unavailable." } });
    expect(controller.current.error).toEqual({ code: "model_unavailable", message: "Le modèle d'IA est indisponible. Réessayez plus tard." });
  });

  it("runs the note on the document with no input, and keeps its link", async () => {
    const { server, controller } = await setUp();
    controller.choose("note", "document");
    await flush();
    expect(server.requests.at(-1)!.body).toEqual({ action: "note" });
    const note = { document_id: "n1", url: "https://docs.example/docs/n1/", title: "Note" };
    FakeEventSource.opened[0].emit("done", { status: "succeeded", result: { note } });
    expect(controller.current.result?.note).toEqual(note);
  });
});
