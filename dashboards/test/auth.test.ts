import { describe, expect, it } from "vitest";
import { makeSessionValue, tokenMatches, verifySessionValue } from "../src/auth.ts";
import { makeApp, NOW, TOKEN } from "./helpers.ts";

const BASE = "http://shop.test";

function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

describe("auth", () => {
  it("redirects an unauthenticated page request to the login form, keeping the target", async () => {
    const { app, calls } = makeApp();
    const res = await app.request(`${BASE}/_dash/?range=6h&country=DE`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(
      `/_dash/login?next=${encodeURIComponent("/_dash/?range=6h&country=DE")}`,
    );
    expect(calls).toHaveLength(0);
  });

  it("shows the login form with the next target", async () => {
    const { app } = makeApp();
    const res = await app.request(`${BASE}/_dash/login?next=%2F_dash%2Fpageviews`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('<form method="post" action="/_dash/login">');
    expect(text).toContain('name="next" value="/_dash/pageviews"');
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(text).not.toContain("<script");
  });

  it("logs in with the right token: HttpOnly, SameSite=Strict, Path=/_dash cookie without the token", async () => {
    const { app } = makeApp();
    const res = await app.request(`${BASE}/_dash/login`, form({ token: TOKEN, next: "/_dash/pageviews" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/_dash/pageviews");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^dash_session=\d+\.[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/_dash");
    expect(cookie).not.toContain(TOKEN);
    expect(cookie).not.toContain("Secure"); // plain http in dev
    const session = cookie.split(";")[0] as string;
    const page = await app.request(`${BASE}/_dash/`, { headers: { cookie: session } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Overview");
  });

  it("marks the cookie Secure over https", async () => {
    const { app } = makeApp();
    const res = await app.request("https://shop.test/_dash/login", form({ token: TOKEN }));
    expect(res.headers.get("set-cookie")).toContain("; Secure");
  });

  it("refuses a wrong token with 401 and the reason", async () => {
    const { app } = makeApp();
    const res = await app.request(`${BASE}/_dash/login`, form({ token: "not-the-token" }));
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("That token does not match DASH_TOKEN");
  });

  it("refuses an empty token with 401 and a non-form body with 400", async () => {
    const { app } = makeApp();
    const empty = await app.request(`${BASE}/_dash/login`, form({ token: "" }));
    expect(empty.status).toBe(401);
    expect(await empty.text()).toContain("No token was entered");
    const json = await app.request(`${BASE}/_dash/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(json.status).toBe(400);
  });

  it("never redirects off the dashboards after login (open redirect)", async () => {
    const { app } = makeApp();
    for (const next of ["https://evil.test/", "//evil.test/_dash/", "/_dash/\\evil", "/other"]) {
      const res = await app.request(`${BASE}/_dash/login`, form({ token: TOKEN, next }));
      expect(res.headers.get("location")).toBe("/_dash/");
    }
  });

  it("accepts Authorization: Bearer for scripts and rejects a wrong one with 401", async () => {
    const { app } = makeApp();
    const ok = await app.request(`${BASE}/_dash/pageviews`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
    const bad = await app.request(`${BASE}/_dash/pageviews`, {
      headers: { authorization: "Bearer nope-nope" },
    });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain("The bearer token does not match DASH_TOKEN");
    const basic = await app.request(`${BASE}/_dash/`, { headers: { authorization: "Basic Zm9vOmJhcg==" } });
    expect(basic.status).toBe(401);
  });

  it("sends an expired or forged cookie back to login", async () => {
    const { app } = makeApp();
    const expired = await makeSessionValue(TOKEN, NOW - 1000);
    const r1 = await app.request(`${BASE}/_dash/`, { headers: { cookie: `dash_session=${expired}` } });
    expect(r1.status).toBe(302);
    const forged = await makeSessionValue("another-token", NOW + 3_600_000);
    const r2 = await app.request(`${BASE}/_dash/`, { headers: { cookie: `dash_session=${forged}` } });
    expect(r2.status).toBe(302);
  });

  it("logout clears the cookie", async () => {
    const { app } = makeApp();
    const res = await app.request(`${BASE}/_dash/logout`, { method: "POST" });
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toContain(
      "dash_session=; Path=/_dash; HttpOnly; SameSite=Strict; Max-Age=0",
    );
  });

  it("serves the stylesheet without auth", async () => {
    const { app } = makeApp();
    const res = await app.request(`${BASE}/_dash/style.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/css");
    expect(await res.text()).toContain(".seg-backend{fill:var(--backend)}");
  });

  it("session values verify only with the same token and before expiry", async () => {
    const v = await makeSessionValue(TOKEN, NOW + 60_000);
    expect(await verifySessionValue(TOKEN, v, NOW)).toBe(true);
    expect(await verifySessionValue(TOKEN, v, NOW + 60_000)).toBe(false);
    expect(await verifySessionValue("other-token", v, NOW)).toBe(false);
    expect(await verifySessionValue(TOKEN, `9${v}`, NOW)).toBe(false);
    expect(await verifySessionValue(TOKEN, "garbage", NOW)).toBe(false);
    expect(await tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(await tokenMatches(TOKEN, `${TOKEN}x`)).toBe(false);
  });
});
