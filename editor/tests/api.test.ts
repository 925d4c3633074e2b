import { beforeEach, describe, expect, it } from "vitest";

import { ApiError, SuiteAiClient, type JobHandlers } from "../src/api";
import { bearerAuth } from "../src/auth";
import { FakeEventSource, fakeFetch, flush, type Route } from "./fakes";

const LINKS = {
  self: "http://ai.test/api/v1.0/jobs/j1/",
  events: "http://ai.test/api/v1.0/jobs/j1/events/?ticket=t1",
  cancel: "http://ai.test/api/v1.0/jobs/j1/cancel/",
};

function client(route: Route) {
  const server = fakeFetch(route);
  const api = new SuiteAiClient({
    baseUrl: "http://ai.test/api/v1.0",
    auth: bearerAuth(() => "tok"),
    locale: "en",
    fetch: server.impl,
    eventSource: FakeEventSource.factory,
  });
  return { api, server };
}

function recorder() {
  const seen: Array<[string, unknown]> = [];
  const handlers: JobHandlers = {};
  for (const name of ["status", "progress", "delta", "discard", "done", "failed", "cancelled", "error"] as const) {
    (handlers as Record<string, (data: unknown) => void>)[name] = (data) => seen.push([name, data]);
  }
  return { seen, handlers };
}

beforeEach(() => {
  FakeEventSource.opened = [];
});

describe("the API client", () => {
  it("submits the blocks as input.blocks, with its idempotency key and language", async () => {
    const { api, server } = client(() => ({ status: 202, body: { id: "j1", status: "queued", links: LINKS } }));
    const blocks = [{ id: "b1", type: "paragraph", content: [{ type: "text", text: "Bonjour", styles: { bold: true } }] }];
    const job = await api.submit("5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5", { action: "rephrase", input: { blocks } }, "key-1");
    expect(job.links.events).toBe(LINKS.events);
    const [request] = server.requests;
    expect(request.method).toBe("POST");
    expect(request.url).toBe("http://ai.test/api/v1.0/documents/5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5/actions/");
    expect(request.body).toEqual({ action: "rephrase", input: { blocks } });
    expect(request.headers).toMatchObject({
      "Idempotency-Key": "key-1",
      "Accept-Language": "en",
      "Content-Type": "application/json",
      Authorization: "Bearer tok",
    });
  });

  it("turns an error answer into an ApiError with its code and wait", async () => {
    const { api } = client(() => ({
      status: 429,
      body: { code: "throttled", message: "Request was throttled." },
      headers: { "Retry-After": "7" },
    }));
    const error = await api.submit("d", { action: "summarize" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("throttled");
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).retryAfter).toBe(7);
  });

  it("reports a service that does not answer as network_error, and a non-JSON error by its status", async () => {
    const down = client(() => new TypeError("Failed to fetch"));
    await expect(down.api.catalogue()).rejects.toMatchObject({ code: "network_error", status: 0 });
    const proxy = client(() => ({ status: 502 }));
    await expect(proxy.api.catalogue()).rejects.toMatchObject({ code: "http_502", status: 502 });
  });

  it("cancels through the job's cancel link", async () => {
    const { api, server } = client(() => ({ status: 200, body: { id: "j1", status: "cancelled" } }));
    await api.cancel(LINKS.cancel);
    expect(server.requests[0]).toMatchObject({ method: "POST", url: LINKS.cancel });
  });

  it("follows links.events until the final event, then closes the stream", () => {
    const { api } = client(() => ({ status: 500 }));
    const { seen, handlers } = recorder();
    api.follow({ id: "j1", status: "queued", links: LINKS }, handlers);
    const [source] = FakeEventSource.opened;
    expect(source.url).toBe(LINKS.events);
    source.emit("status", { status: "running", attempt: 1 }, "1");
    source.emit("delta", { text: "Bon" }, "2");
    source.emit("discard", { reason: "model_unavailable", attempt: 1 }, "3");
    source.emit("progress", { done: 1, total: 3 }, "4");
    source.emit("delta", { text: "Bonjour" }, "5");
    source.emit("done", { status: "succeeded", result: { markdown: "Bonjour" } }, "6");
    source.emit("delta", { text: "late" }, "7");
    expect(source.closed).toBe(true);
    expect(seen.map(([name]) => name)).toEqual(["status", "delta", "discard", "progress", "delta", "done"]);
  });

  it("reads the job when the stream is refused, and follows its fresh link after the last event", async () => {
    const fresh = { ...LINKS, events: "http://ai.test/api/v1.0/jobs/j1/events/?ticket=t2" };
    let status = "running";
    const { api, server } = client(() => ({ status: 200, body: { id: "j1", status, links: fresh, result: { markdown: "fin" } } }));
    const { seen, handlers } = recorder();
    api.follow({ id: "j1", status: "queued", links: LINKS }, handlers);
    FakeEventSource.opened[0].emit("delta", { text: "a" }, "12");
    FakeEventSource.opened[0].fail();
    await flush();
    expect(server.requests[0].url).toBe(LINKS.self);
    expect(FakeEventSource.opened[1].url).toBe("http://ai.test/api/v1.0/jobs/j1/events/?ticket=t2&last_event_id=12");
    status = "succeeded";
    FakeEventSource.opened[1].fail();
    await flush();
    expect(seen.at(-1)).toEqual(["done", { status: "succeeded", result: { markdown: "fin" } }]);
  });
});
