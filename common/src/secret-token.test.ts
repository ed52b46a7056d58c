import { describe, expect, it } from "vitest";
import { bearerToken, checkSecretToken, isLocalDevelopment, tokensEqual } from "./secret-token.js";

describe("checkSecretToken", () => {
  const long = "k".repeat(32);
  it("accepts any non-empty token in local development", () => {
    expect(checkSecretToken("EDGE_ADMIN_TOKEN", "dev-x", "development")).toEqual({
      ok: true,
      token: "dev-x",
    });
  });
  it("refuses missing, short and dev- tokens elsewhere, naming the key", () => {
    expect(checkSecretToken("DASH_TOKEN", undefined, "production")).toMatchObject({
      ok: false,
      reason: "DASH_TOKEN is not set",
    });
    expect(checkSecretToken("DASH_TOKEN", "short", undefined)).toMatchObject({
      ok: false,
      key: "DASH_TOKEN",
    });
    expect(checkSecretToken("DASH_TOKEN", `dev-${long}`, "production")).toMatchObject({ ok: false });
    expect(checkSecretToken("DASH_TOKEN", long, "production")).toEqual({ ok: true, token: long });
  });
  it("treats an unset ENVIRONMENT as deployed", () => {
    expect(isLocalDevelopment(undefined)).toBe(false);
    expect(isLocalDevelopment("development")).toBe(true);
  });
});

describe("bearerToken and tokensEqual", () => {
  it("parses the bearer scheme case-insensitively", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer  abc ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });
  it("compares exactly", () => {
    expect(tokensEqual("abc", "abc")).toBe(true);
    expect(tokensEqual("abc", "abd")).toBe(false);
    expect(tokensEqual("abc", "abcd")).toBe(false);
  });
});
