import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

import { ApiError } from "../src/api";
import { ERRORS, describeError, errorMessage } from "../src/messages";

/** The codes of the README's "Error codes" table (the API's own list, checked against its source). */
function documentedCodes(): string[] {
  const readme = readFileSync(resolve(import.meta.dirname, "../../README.md"), "utf-8");
  const section = readme.split("### Error codes")[1].split("\n### ")[0];
  const codes: string[] = [];
  for (const line of section.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const first = line.split("|")[1];
    codes.push(...[...first.matchAll(/`([a-z0-9_]+)`/g)].map((match) => match[1]));
  }
  return codes;
}

describe("error messages", () => {
  it("has a French and an English message for every documented code", () => {
    const codes = documentedCodes();
    expect(codes.length).toBeGreaterThan(50);
    const missing = codes.filter((code) => !ERRORS[code]?.fr || !ERRORS[code]?.en);
    expect(missing).toEqual([]);
  });

  it("says how long to wait when throttled", () => {
    const error = { code: "throttled", message: "Request was throttled.", retry_after: 12.2 };
    expect(errorMessage(error, "fr")).toBe("Trop de demandes. Réessayez dans 13 s.");
    expect(errorMessage(error, "en")).toBe("Too many requests. Try again in 13 s.");
  });

  it("falls back to the API's message for a field it does not have, and for a code it does not know", () => {
    expect(errorMessage({ code: "quota_exceeded", message: "Quota: resets at 00:00 UTC." }, "en")).toBe(
      "Quota: resets at 00:00 UTC.",
    );
    expect(errorMessage({ code: "some_future_code", message: "Le message du service." }, "fr")).toBe("Le message du service.");
    expect(errorMessage({ code: "some_future_code" }, "fr")).toBe(ERRORS.internal_error.fr);
  });

  it("describes an API error for a person, never a stack trace", () => {
    const described = describeError(new ApiError("model_unavailable", "upstream 503", 0), "fr");
    expect(described).toEqual({ code: "model_unavailable", message: ERRORS.model_unavailable.fr });
    expect(describeError(new TypeError("x is undefined"), "en").message).toBe(ERRORS.internal_error.en);
  });
});
