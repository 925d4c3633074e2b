/**
 * suite_ai's REST API and event stream, as the README documents them (/api/v1.0/): the catalogue,
 * submitting an action, following `links.events` with EventSource, reading and cancelling a job.
 * Every failure becomes an {@link ApiError} with the API's stable `code`.
 */
import type { SuiteAiAuth } from "./auth";

export type Locale = "fr" | "en";

export interface ActionOption {
  name: string;
  type: string;
  required: boolean;
  description?: string;
  choices?: string[];
  max_length?: number;
}

export interface ActionDescription {
  name: string;
  label: Record<string, string>;
  description?: string;
  options: ActionOption[];
  needs_model: boolean;
  offline_engine?: boolean;
  result: "blocks" | "note" | string;
  scope: Array<"selection" | "document" | string>;
}

export interface JobLinks {
  self: string;
  events: string;
  cancel: string;
}

export interface AcceptedJob {
  id: string;
  status: string;
  links: JobLinks;
}

export interface JobError {
  code: string;
  message: string;
  detail?: string;
  [key: string]: unknown;
}

export interface JobResult {
  markdown?: string;
  blocks?: unknown[];
  note?: { document_id: string; url: string; title?: string } | null;
  [key: string]: unknown;
}

export interface Job {
  id: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled" | string;
  progress?: { done: number; total: number } | null;
  result?: JobResult | null;
  error?: JobError | null;
  links?: JobLinks;
  [key: string]: unknown;
}

export type ActionInput = { blocks: unknown[] } | { markdown: string };

export interface ActionRequest {
  action: string;
  input?: ActionInput;
  options?: Record<string, string>;
}

/** An answer of the API that is not a success, or a network failure (`code` "network_error"). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly body: Record<string, unknown>;

  constructor(code: string, message: string, status: number, body: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.body = body;
  }

  /** Seconds to wait, for throttled answers (`retry_after` in the body, else Retry-After). */
  get retryAfter(): number | undefined {
    const value = this.body.retry_after;
    return typeof value === "number" ? value : undefined;
  }
}

/** The handlers of a followed job. Exactly one of done/failed/cancelled ends it. */
export interface JobHandlers {
  status?(data: { status: string; attempt?: number; retry_in?: number; reason?: string }): void;
  progress?(data: { done: number; total: number }): void;
  delta?(data: { text: string }): void;
  discard?(data: { reason: string; attempt?: number }): void;
  done?(data: { status: "succeeded"; result: JobResult }): void;
  failed?(data: { status: "failed"; error: JobError }): void;
  cancelled?(data: { status: "cancelled" }): void;
  /** The stream could not be followed (the job can still be read with `job()`). */
  error?(error: ApiError): void;
}

export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
  onerror: ((event: Event) => void) | null;
}

export type EventSourceFactory = (url: string, init: { withCredentials: boolean }) => EventSourceLike;

export interface ClientOptions {
  /** The API's root, e.g. "https://ai.example.org/api/v1.0" (no trailing slash needed). */
  baseUrl: string;
  auth: SuiteAiAuth;
  /** The language of the API's messages (Accept-Language). */
  locale?: Locale;
  fetch?: typeof fetch;
  eventSource?: EventSourceFactory;
}

const CLOSED = 2;
const FINAL_EVENTS = ["done", "failed", "cancelled"] as const;
const STREAM_EVENTS = ["status", "progress", "delta", "discard", ...FINAL_EVENTS] as const;

export class SuiteAiClient {
  readonly baseUrl: string;
  locale: Locale;
  private readonly auth: SuiteAiAuth;
  private readonly fetchImpl: typeof fetch;
  private readonly eventSourceFactory: EventSourceFactory;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.auth = options.auth;
    this.locale = options.locale ?? "fr";
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.eventSourceFactory =
      options.eventSource ?? ((url, init) => new EventSource(url, init) as unknown as EventSourceLike);
  }

  /** A link the API gave (absolute URL or path) as is; anything else relative to the API's root. */
  private url(path: string): string {
    return /^(https?:\/\/|\/)/.test(path) ? path : `${this.baseUrl}/${path}`;
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init: RequestInit = {
      method,
      credentials: this.auth.credentials,
      headers: {
        Accept: "application/json",
        "Accept-Language": this.locale,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(await this.auth.headers(method)),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    };
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path), init);
    } catch (error) {
      throw new ApiError("network_error", String(error), 0);
    }
    const text = await response.text();
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (!response.ok) {
      const record = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
      const retryHeader = Number(response.headers.get("Retry-After"));
      if (record.retry_after === undefined && Number.isFinite(retryHeader) && retryHeader > 0) {
        record.retry_after = retryHeader;
      }
      const code = typeof record.code === "string" ? record.code : `http_${response.status}`;
      const message = typeof record.message === "string" ? record.message : response.statusText;
      throw new ApiError(code, message, response.status, record);
    }
    if (data === undefined) throw new ApiError("bad_response", "not JSON", response.status);
    return data as T;
  }

  catalogue(): Promise<ActionDescription[]> {
    return this.request("GET", "actions/");
  }

  submit(documentId: string, body: ActionRequest, idempotencyKey?: string): Promise<AcceptedJob> {
    const headers: Record<string, string> = idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {};
    return this.request("POST", `documents/${encodeURIComponent(documentId)}/actions/`, body, headers);
  }

  job(selfLinkOrId: string): Promise<Job> {
    return this.request("GET", selfLinkOrId.includes("/") ? selfLinkOrId : `jobs/${selfLinkOrId}/`);
  }

  cancel(cancelLinkOrId: string): Promise<Job> {
    return this.request("POST", cancelLinkOrId.includes("/") ? cancelLinkOrId : `jobs/${cancelLinkOrId}/cancel/`);
  }

  /**
   * Follow a job through its `links.events` (a ticket in the URL: EventSource sends no
   * Authorization). EventSource reconnects by itself with Last-Event-ID; when it gives up (an
   * expired ticket answers 401), the job is read again and followed from its fresh link, after the
   * last event seen. Returns a function that stops following.
   */
  follow(job: AcceptedJob | Job, handlers: JobHandlers): () => void {
    let stopped = false;
    let source: EventSourceLike | null = null;
    let lastEventId = "";
    let reopened = 0;
    const stop = () => {
      stopped = true;
      source?.close();
    };
    const open = (eventsUrl: string) => {
      const url = lastEventId ? withParam(eventsUrl, "last_event_id", lastEventId) : eventsUrl;
      const current = this.eventSourceFactory(url, { withCredentials: this.auth.withCredentials });
      source = current;
      for (const name of STREAM_EVENTS) {
        current.addEventListener(name, (event: MessageEvent) => {
          if (stopped) return;
          if (event.lastEventId) lastEventId = event.lastEventId;
          let data: unknown;
          try {
            data = JSON.parse(String(event.data));
          } catch {
            return;
          }
          if ((FINAL_EVENTS as readonly string[]).includes(name)) stop();
          const handler = handlers[name] as ((payload: unknown) => void) | undefined;
          handler?.(data);
        });
      }
      current.onerror = () => {
        if (stopped || current.readyState !== CLOSED) return; // EventSource retries by itself
        void recover();
      };
    };
    const recover = async () => {
      reopened += 1;
      try {
        const fresh = await this.job(job.links?.self ?? job.id);
        if (stopped) return;
        if (fresh.status === "succeeded") {
          stop();
          handlers.done?.({ status: "succeeded", result: fresh.result ?? {} });
        } else if (fresh.status === "failed") {
          stop();
          handlers.failed?.({ status: "failed", error: fresh.error ?? { code: "internal_error", message: "" } });
        } else if (fresh.status === "cancelled") {
          stop();
          handlers.cancelled?.({ status: "cancelled" });
        } else if (fresh.links?.events && reopened <= 5) {
          open(fresh.links.events);
        } else {
          stop();
          handlers.error?.(new ApiError("stream_lost", "the event stream could not be followed", 0));
        }
      } catch (error) {
        stop();
        handlers.error?.(error instanceof ApiError ? error : new ApiError("network_error", String(error), 0));
      }
    };
    open(job.links?.events ?? this.url(`jobs/${job.id}/events/`));
    return stop;
  }
}

function withParam(url: string, name: string, value: string): string {
  const parsed = new URL(url, "http://placeholder.invalid");
  parsed.searchParams.set(name, value);
  return /^https?:\/\//.test(url) ? parsed.toString() : `${parsed.pathname}${parsed.search}`;
}
