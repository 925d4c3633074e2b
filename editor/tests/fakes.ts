// Stand-ins for the browser's fetch and EventSource (the boundaries the client is given), recording
// what the client sends and answering as the README's API does.
import type { EventSourceLike } from "../src/api";

export interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  credentials?: RequestCredentials;
}

export type Route = (request: Recorded) => { status: number; body?: unknown; headers?: Record<string, string> } | Error;

export function fakeFetch(route: Route) {
  const requests: Recorded[] = [];
  const impl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request: Recorded = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      credentials: init?.credentials,
    };
    requests.push(request);
    const answer = route(request);
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? "" : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": "application/json", ...(answer.headers ?? {}) },
    });
  }) as typeof fetch;
  return { impl, requests };
}

export class FakeEventSource implements EventSourceLike {
  static opened: FakeEventSource[] = [];
  readyState = 0;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private listeners = new Map<string, Array<(event: MessageEvent) => void>>();

  constructor(
    readonly url: string,
    readonly init: { withCredentials: boolean },
  ) {
    FakeEventSource.opened.push(this);
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  emit(type: string, data: unknown, id = ""): void {
    this.readyState = 1;
    const event = { data: JSON.stringify(data), lastEventId: id } as MessageEvent;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  /** What EventSource does when the server refuses it (a 401): closed for good, then onerror. */
  fail(): void {
    this.readyState = 2;
    this.onerror?.({} as Event);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  static factory = (url: string, init: { withCredentials: boolean }) => new FakeEventSource(url, init);
}

export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
