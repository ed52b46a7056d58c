import { describe, expect, it } from "vitest";
import { getAuthed, makeApp } from "./helpers.ts";

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
    expect(hit).toContain("mobile");
    expect(hit).toContain("DE");
    expect(hit).toContain('data-part="lastMileWire" data-ms="38"');
    expect(hit).not.toContain("seg-backend");
    const miss = text.match(/<tr class="pv" data-pvid="pv-miss-1">.*?<\/tr>/)?.[0] ?? "";
    expect(miss).toContain('<span class="cache MISS">MISS</span>');
    expect(miss).toContain('data-part="middleMile" data-ms="305"');
    expect(miss).toContain("backend unknown");
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
});
