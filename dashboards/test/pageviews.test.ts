import { describe, expect, it } from "vitest";
import { createDashboardsApp } from "../src/app.ts";
import { parseDashConfig } from "../src/config.ts";
import { PAGEVIEWS } from "./fake-query-api.ts";
import { getAuthed, makeApp, TOKEN } from "./helpers.ts";

describe("live page views", () => {
  it("lists recent page views with attribution bars and reloads itself without JS", async () => {
    const { app, calls } = makeApp();
    const { res, text } = await getAuthed(app, "/_dash/pageviews?limit=20");
    expect(res.status).toBe(200);
    expect(text).toContain('<meta http-equiv="refresh" content="5">');
    expect(text).not.toContain("<script");
    expect(calls[0]?.pathname).toBe("/_rum/v1/pageviews");
    expect(calls[0]?.searchParams.get("limit")).toBe("20");
    expect(calls[0]?.searchParams.get("site")).toBe("demo");
    const hit = text.match(/<tr class="pv" data-pvid="pv-hit-1">.*?<\/tr>/)?.[0] ?? "";
    expect(hit).toContain('<span class="cache HIT">HIT</span>');
    expect(hit).toContain("/c/:slug");
    expect(hit).toContain("/c/shoes · navigational-prefetch");
    expect(hit).toContain("mobile");
    expect(hit).toContain("DE");
    expect(hit).toContain('data-part="lastMileWire" data-ms="38"');
    expect(hit).not.toContain("seg-backend");
    const miss = text.match(/<tr class="pv" data-pvid="pv-miss-1">.*?<\/tr>/)?.[0] ?? "";
    expect(miss).toContain('<span class="cache MISS">MISS</span>');
    expect(miss).toContain('data-part="middleMile" data-ms="305"');
    expect(miss).toContain("backend unknown");
    expect(miss).toContain('<div class="small muted"><span class="trunc " title="/p/17">/p/17</span></div>'); // a plain navigation says nothing extra
    // The longest page view (the MISS: 424 ms of parts) fills the mini canvas of 240.
    const widths = [...miss.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths.reduce((a, b) => a + b, 0)).toBeCloseTo(240, 6);
  });

  it("shows an empty state that explains how to produce beacons", async () => {
    const { app } = makeApp({ empty: true });
    const { text } = await getAuthed(app, "/_dash/pageviews");
    expect(text).toContain("No page views yet");
    expect(text).toContain("http://shop.test/");
  });

  it("shows API errors readably", async () => {
    const { app } = makeApp({ fail: { status: 503, body: '{"error":"D1 unavailable"}' } });
    const { res, text } = await getAuthed(app, "/_dash/pageviews");
    expect(res.status).toBe(200);
    expect(text).toContain("Could not load page views");
    expect(text).toContain("The query API answered 503: D1 unavailable");
  });

  it("rejects a bad limit or unknown parameter with 400", async () => {
    const { app, calls } = makeApp();
    expect((await getAuthed(app, "/_dash/pageviews?limit=0")).res.status).toBe(400);
    expect((await getAuthed(app, "/_dash/pageviews?limit=abc")).res.status).toBe(400);
    expect((await getAuthed(app, "/_dash/pageviews?country=DE")).res.status).toBe(400);
    expect(calls).toHaveLength(0);
  });

  it("escapes hostile values from beacons (paths come from page URLs) and sends a strict CSP", async () => {
    const evil = {
      ...PAGEVIEWS[0],
      pvid: 'x"><b>',
      path: "/<script>alert(1)</script>",
      pageGroup: '"><img src=x onerror=alert(1)>',
      cacheStatus: 'HIT" onmouseover="alert(1)',
    };
    const app = createDashboardsApp({
      config: parseDashConfig({ DASH_TOKEN: TOKEN }),
      queryApi: async () => Response.json({ pageViews: [evil] }),
    });
    const res = await app.request("http://shop.test/_dash/pageviews", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const text = await res.text();
    expect(text).not.toContain("<script>");
    expect(text).not.toContain("<img");
    expect(text).not.toContain('" onmouseover=');
    expect(text).toContain("/&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(text).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});
