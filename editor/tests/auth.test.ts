import { describe, expect, it } from "vitest";

import { SuiteAiClient } from "../src/api";
import { bearerAuth, cookieAuth } from "../src/auth";
import { fakeFetch } from "./fakes";

describe("authentication", () => {
  it("asks the bearer provider before every request", async () => {
    let token = "first";
    const server = fakeFetch(() => ({ status: 200, body: [] }));
    const client = new SuiteAiClient({ baseUrl: "https://ai.example/api/v1.0/", auth: bearerAuth(() => token), fetch: server.impl });
    await client.catalogue();
    token = "refreshed";
    await client.catalogue();
    expect(server.requests.map((r) => r.headers.Authorization)).toEqual(["Bearer first", "Bearer refreshed"]);
    expect(server.requests[0].url).toBe("https://ai.example/api/v1.0/actions/");
    expect(server.requests[0].credentials).toBe("omit");
  });

  it("sends cookies, and the CSRF token on unsafe methods only", async () => {
    const server = fakeFetch(() => ({ status: 202, body: { id: "j", status: "queued", links: {} } }));
    const auth = cookieAuth({ cookies: () => "sessionid=abc; csrftoken=tok%3D1" });
    const client = new SuiteAiClient({ baseUrl: "/api/v1.0", auth, fetch: server.impl });
    await client.request("GET", "actions/");
    await client.submit("doc", { action: "summarize" });
    expect(server.requests[0].headers["X-CSRFToken"]).toBeUndefined();
    expect(server.requests[1].headers["X-CSRFToken"]).toBe("tok=1");
    expect(server.requests[1].credentials).toBe("same-origin");
    expect(server.requests[1].headers.Authorization).toBeUndefined();
  });
});
