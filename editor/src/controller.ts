/**
 * One assistant run at a time on one editor: what is selected when an action is chosen, the job it
 * becomes, its streamed preview, and what Accept / Reject / Stop do to the document. No React here,
 * so the same controller serves the toolbar menu, the document menu, the slash menu and tests.
 */
import type { ActionDescription, Job, JobResult, Locale, SuiteAiClient } from "./api";
import { ApiError } from "./api";
import { describeError, errorMessage } from "./messages";

export type Scope = "selection" | "document";
export type Phase = "idle" | "options" | "submitting" | "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface AssistantState {
  phase: Phase;
  action: ActionDescription | null;
  scope: Scope;
  /** The streamed text so far (deltas), dropped when an attempt is discarded. */
  text: string;
  progress: { done: number; total: number } | null;
  result: JobResult | null;
  error: { code: string; message: string } | null;
  jobId: string | null;
  retryIn: number | null;
  /** Options the chosen action needs before it runs (phase "options"). */
  pendingOptions: string[];
}

/** The part of BlockNote's editor the controller uses (BlockNoteEditor satisfies it). */
export interface EditorLike {
  readonly document: Array<{ id: string }>;
  getSelection(): { blocks: Array<{ id: string }> } | undefined;
  getTextCursorPosition(): { block: { id: string } };
  getBlock(id: string): { id: string } | undefined;
  replaceBlocks(remove: string[], insert: unknown[]): unknown;
  insertBlocks(blocks: unknown[], reference: string, placement: "before" | "after"): unknown;
  transact<T>(callback: (tr: unknown) => T): T;
}

export interface ControllerOptions {
  client: SuiteAiClient;
  editor: EditorLike;
  documentId: string;
  locale?: Locale;
  /** Called for every change, with the new state (embedders and tests observe runs with it). */
  onEvent?: (event: { type: string; state: AssistantState }) => void;
}

const IDLE: AssistantState = {
  phase: "idle",
  action: null,
  scope: "selection",
  text: "",
  progress: null,
  result: null,
  error: null,
  jobId: null,
  retryIn: null,
  pendingOptions: [],
};

/** The options a person must give (the instructions' language is the service's to guess). */
export function requiredOptions(action: ActionDescription): string[] {
  return action.options.filter((option) => option.required).map((option) => option.name);
}

/** Result blocks without their ids: BlockNote gives inserted blocks fresh ones. */
export function withoutIds(blocks: unknown[]): unknown[] {
  return blocks.map((block) => {
    if (!block || typeof block !== "object") return block;
    const { id: _id, children, ...rest } = block as Record<string, unknown>;
    return Array.isArray(children) ? { ...rest, children: withoutIds(children) } : rest;
  });
}

function newKey(): string {
  const cryptoApi = globalThis.crypto as Crypto | undefined;
  if (cryptoApi?.randomUUID) return cryptoApi.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class AssistantController {
  readonly client: SuiteAiClient;
  readonly editor: EditorLike;
  readonly documentId: string;
  locale: Locale;
  catalogue: ActionDescription[] = [];
  catalogueError: { code: string; message: string } | null = null;
  private state: AssistantState = IDLE;
  private listeners = new Set<(state: AssistantState) => void>();
  private targetIds: string[] = [];
  private stopFollowing: (() => void) | null = null;
  private cancelLink: string | null = null;
  private readonly onEvent?: ControllerOptions["onEvent"];

  constructor(options: ControllerOptions) {
    this.client = options.client;
    this.editor = options.editor;
    this.documentId = options.documentId;
    this.locale = options.locale ?? options.client.locale;
    this.onEvent = options.onEvent;
  }

  get current(): AssistantState {
    return this.state;
  }

  subscribe(listener: (state: AssistantState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setLocale(locale: Locale): void {
    this.locale = locale;
    this.client.locale = locale;
    this.set("locale", {});
  }

  private set(type: string, patch: Partial<AssistantState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state);
    this.onEvent?.({ type, state: this.state });
  }

  async loadCatalogue(): Promise<ActionDescription[]> {
    try {
      this.catalogue = await this.client.catalogue();
      this.catalogueError = null;
    } catch (error) {
      this.catalogueError = describeError(error, this.locale);
    }
    this.set("catalogue", {});
    return this.catalogue;
  }

  /** Actions a menu offers for a scope (the note only on the whole document). */
  actionsFor(scope: Scope): ActionDescription[] {
    return this.catalogue.filter((action) => action.scope.includes(scope));
  }

  label(action: ActionDescription): string {
    return action.label[this.locale] ?? action.label.en ?? action.name;
  }

  get busy(): boolean {
    return ["submitting", "queued", "running"].includes(this.state.phase);
  }

  /** The blocks an action on the selection works on: the selected ones, else the cursor's. */
  private selectedBlockIds(): string[] {
    const selection = this.editor.getSelection();
    if (selection && selection.blocks.length > 0) return selection.blocks.map((block) => block.id);
    return [this.editor.getTextCursorPosition().block.id];
  }

  /** A menu item was chosen: remember the target now (focus may move), then run or ask for options. */
  choose(actionName: string, scope: Scope = "selection"): void {
    if (this.busy) return;
    const action = this.catalogue.find((candidate) => candidate.name === actionName);
    if (!action) {
      this.set("failed", { ...IDLE, phase: "failed", error: { code: "unknown_action", message: errorMessage({ code: "unknown_action" }, this.locale) } });
      return;
    }
    this.targetIds = scope === "selection" ? this.selectedBlockIds() : [];
    const pending = requiredOptions(action);
    this.set("chosen", { ...IDLE, action, scope, phase: pending.length ? "options" : "idle", pendingOptions: pending });
    if (!pending.length) void this.run({});
  }

  /** Submit the chosen action with its options, and follow the job. */
  async run(options: Record<string, string>): Promise<void> {
    const { action, scope } = this.state;
    if (!action || this.busy) return;
    const input = this.input(action, scope);
    this.set("submitting", { phase: "submitting", pendingOptions: [], text: "", error: null, progress: null });
    const body = { action: action.name, ...(input ? { input } : {}), ...(Object.keys(options).length ? { options } : {}) };
    let accepted;
    try {
      accepted = await this.client.submit(this.documentId, body, newKey());
    } catch (error) {
      this.set("failed", { phase: "failed", error: describeError(error, this.locale) });
      return;
    }
    this.cancelLink = accepted.links.cancel;
    this.set("queued", { phase: "queued", jobId: accepted.id });
    this.stopFollowing = this.client.follow(accepted, {
      status: (data) => {
        if (data.status === "running") this.set("status", { phase: "running", retryIn: null });
        else if (data.status === "queued") this.set("status", { phase: "queued", retryIn: data.retry_in ?? null });
      },
      progress: (data) => this.set("progress", { progress: { done: data.done, total: data.total } }),
      delta: (data) => this.set("delta", { phase: "running", text: this.state.text + data.text }),
      discard: () => this.set("discard", { text: "" }),
      done: (data) => this.finish(data.result),
      failed: (data) => this.set("failed", { phase: "failed", error: { code: data.error.code, message: errorMessage(data.error, this.locale) } }),
      cancelled: () => this.set("cancelled", { phase: "cancelled" }),
      error: (error) => this.set("failed", { phase: "failed", error: describeError(error, this.locale) }),
    });
  }

  private input(action: ActionDescription, scope: Scope): { blocks: unknown[] } | undefined {
    // The note reads the document from Docs itself, with the caller's rights.
    if (action.result === "note") return undefined;
    if (scope === "document") return { blocks: this.editor.document };
    const wanted = new Set(this.targetIds);
    const blocks = this.editor.document.filter((block) => wanted.has(block.id));
    // Nested blocks are not top-level: read each one directly.
    const found = new Set(blocks.map((block) => block.id));
    for (const id of this.targetIds) {
      if (!found.has(id)) {
        const block = this.editor.getBlock(id);
        if (block) blocks.push(block);
      }
    }
    return { blocks };
  }

  private finish(result: JobResult): void {
    this.stopFollowing = null;
    const text = result.markdown ?? this.state.text;
    this.set("done", { phase: "succeeded", result, text, progress: this.state.progress });
  }

  /** Replace the selection with the result (one undo step); on the document, insert it after the cursor. */
  accept(): void {
    const { result, phase, scope } = this.state;
    if (phase !== "succeeded" || !result?.blocks?.length) {
      this.reset();
      return;
    }
    const blocks = withoutIds(result.blocks);
    const targets = this.targetIds.filter((id) => this.editor.getBlock(id));
    this.editor.transact(() => {
      if (scope === "selection" && targets.length) {
        this.editor.replaceBlocks(targets, blocks);
      } else {
        this.editor.insertBlocks(blocks, this.editor.getTextCursorPosition().block.id, "after");
      }
    });
    this.set("accepted", { ...IDLE });
  }

  /** Leave the document as it is. */
  reject(): void {
    this.reset();
  }

  /** Cancel the running job; the stream's `cancelled` event ends the run. */
  async stop(): Promise<void> {
    if (!this.busy || !this.cancelLink) {
      this.reset();
      return;
    }
    try {
      const job: Job = await this.client.cancel(this.cancelLink);
      if (job.status === "cancelled") {
        this.stopFollowing?.();
        this.set("cancelled", { phase: "cancelled" });
      }
    } catch (error) {
      // The job ended first: its own final event says how.
      if (!(error instanceof ApiError && error.code === "job_finished")) {
        this.set("failed", { phase: "failed", error: describeError(error, this.locale) });
      }
    }
  }

  reset(): void {
    this.stopFollowing?.();
    this.stopFollowing = null;
    this.cancelLink = null;
    this.targetIds = [];
    this.set("reset", { ...IDLE });
  }
}
