import { describe, expect, it } from "vitest";
import { createDashboardsApp } from "../src/app.ts";
import { parseDashConfig } from "../src/config.ts";
import { fakeQueryApi } from "./fake-query-api.ts";
import { getAuthed, makeApp, NOW, TOKEN } from "./helpers.ts";

const HOUR = 3_600_000;

describe("overview", () => {
  it("renders headline tiles with web.dev rating colours", async () => {
    const { app } = makeApp();
    const { res, text } = await getAuthed(app, "/_dash/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    // p75 = 1.5 × the fake's p50: LCP 2775 ms → "2.77 s" (ni), INP 360 ms (ni), CLS 0.465 (poor), TTFB 450 ms (good).
    expect(text).toMatch(/<div class="tile ni" data-metric="lcp">.*?2\.77 s/);
    expect(text).toMatch(/<div class="tile ni" data-metric="inp">.*?360 ms/);
    expect(text).toMatch(/<div class="tile poor" data-metric="cls">.*?0\.465/);
    expect(text).toMatch(/<div class="tile good" data-metric="ttfb">.*?450 ms/);
    expect(text).not.toContain("<script");
    expect(text).not.toContain("style=");
  });

  it("shows TTFB attribution per page group as stacked segments with the part values", async () => {
    const { app } = makeApp();
    const { text } = await getAuthed(app, "/_dash/");
    const row = text.match(/<tr class="attr-row" data-group="\/p\/:id">.*?<\/tr>/)?.[0] ?? "";
    expect(row).not.toBe("");
    for (const [part, ms] of [
      ["queueing", 3],
      ["lastMileConnect", 41],
      ["lastMileWire", 57],
      ["edge", 6],
      ["middleMile", 88],
      ["backend", 217],
      ["download", 12],
      ["resourceLoadDelay", 140],
      ["resourceLoadDuration", 230],
      ["elementRenderDelay", 95],
    ] as const) {
      expect(row).toContain(`class="seg seg-${part}"`);
      expect(row).toContain(`data-part="${part}" data-ms="${ms}"`);
    }
    expect(row).toContain(">412 ms<"); // TTFB p50 of the group
    // The busiest group's bar is the longest and fills the whole canvas: widths sum to 600.
    const widths = [...row.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths.reduce((a, b) => a + b, 0)).toBeCloseTo(600, 6);
    // A HIT-heavy group without middle mile/backend draws no segments for them.
    const cat = text.match(/<tr class="attr-row" data-group="\/c\/:slug">.*?<\/tr>/)?.[0] ?? "";
    expect(cat).toContain("seg-lastMileWire");
    expect(cat).not.toContain("seg-backend");
  });

  it("zooms into the TTFB parts only with attrScope=ttfb (and asks nothing about the rest)", async () => {
    const { app, calls } = makeApp();
    const { res, text } = await getAuthed(app, "/_dash/?attrScope=ttfb");
    expect(res.status).toBe(200);
    const row = text.match(/<tr class="attr-row" data-group="\/p\/:id">.*?<\/tr>/)?.[0] ?? "";
    expect(row).toContain("seg-backend");
    expect(row).not.toContain("seg-download");
    expect(row).not.toContain("seg-elementRenderDelay");
    expect(row).not.toContain("ttfb-mark");
    expect(row).toContain(">412 ms<"); // sum of the TTFB parts of the fixture: 3+41+57+6+88+217
    const widths = [...row.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths.reduce((a, b) => a + b, 0)).toBeCloseTo(600, 6);
    const attrCall = calls.find((u) => u.searchParams.get("groupBy") === "pageGroup");
    expect(attrCall?.searchParams.get("metric")).toBe(
      "ttfb,queueing,lastMileConnect,lastMileWire,edge,middleMile,backend",
    );
    expect(calls.some((u) => u.searchParams.get("metric")?.split(",").includes("download"))).toBe(false);
    expect(text).toContain('href="/_dash/?site=demo&amp;attrScope=ttfb" class="active"');
  });

  it("shows the percentile table, time series, cache mix and coverage", async () => {
    const { app } = makeApp();
    const { text } = await getAuthed(app, "/_dash/?metric=ttfb&by=pageGroup");
    const row = text.match(/<section class="card percentiles">.*?<\/section>/s)?.[0] ?? "";
    // /p/:id TTFB: p50 412, p75 618, p90 824, p95 1030, p99 1648.
    expect(row).toMatch(
      /data-group="\/p\/:id"><td><a class="drill"[^>]*><span class="trunc " title="\/p\/:id">\/p\/:id<\/span><\/a><\/td><td class="num">130<\/td><td class="num good">412 ms<\/td><td class="num good">618 ms<\/td><td class="num ni">824 ms<\/td><td class="num ni">1.03 s<\/td><td class="num ni">1.65 s<\/td>/,
    );
    expect(text).toContain('<path class="line" d="M');
    expect(text).toMatch(/Hit ratio <strong class="hit-ratio">78\.9 %<\/strong>/); // 150 / (150 + 40)
    expect(text).toMatch(
      /<td><span class="trunc " title="\/p\/:id">\/p\/:id<\/span><\/td><td>chrome<\/td><td class="num">90<\/td><td class="num">120<\/td><td class="num">75 %<\/td>/,
    );
  });

  it("passes the time range and filters through to the query API unchanged", async () => {
    const { app, calls } = makeApp();
    const { res } = await getAuthed(
      app,
      `/_dash/?range=6h&site=shop2&pageGroup=${encodeURIComponent("/p/:id")}&device=mobile&country=DE&connection=3g&cacheStatus=MISS&colo=FRA,AMS&metric=inp&pct=p95&by=country&attrBy=cacheStatus&attrPct=p75`,
    );
    expect(res.status).toBe(200);
    const queries = calls.filter((u) => u.pathname === "/_rum/v1/query");
    // tiles, attribution, percentile table, time series, cache mix: one call each.
    expect(queries).toHaveLength(5);
    for (const u of queries) {
      expect(u.searchParams.get("site")).toBe("shop2");
      expect(u.searchParams.get("pageGroup")).toBe("/p/:id");
      expect(u.searchParams.get("device")).toBe("mobile");
      expect(u.searchParams.get("country")).toBe("DE");
      expect(u.searchParams.get("connection")).toBe("3g");
      expect(u.searchParams.get("cacheStatus")).toBe("MISS");
      expect(u.searchParams.get("colo")).toBe("FRA,AMS");
      expect(u.searchParams.get("from")).toBe(String(NOW - 6 * HOUR));
      expect(u.searchParams.get("to")).toBe(String(NOW));
    }
    const keys = (u: URL) =>
      `${u.searchParams.get("metric")}|${u.searchParams.get("percentiles")}|${u.searchParams.get("groupBy")}|${u.searchParams.get("interval")}`;
    const seen = new Set(queries.map(keys));
    expect(seen).toContain("inp|50,75,90,95,99|country|null"); // percentile table
    expect(seen).toContain("inp|95|null|minute"); // time series, minute buckets for 6 h
    expect(seen).toContain(
      "ttfb,queueing,lastMileConnect,lastMileWire,edge,middleMile,backend,download,resourceLoadDelay,resourceLoadDuration,elementRenderDelay|75|cacheStatus|null",
    ); // attribution: TTFB and every part in one call
    expect(seen).toContain("lcp,inp,cls,ttfb|75|null|null"); // tiles in one call
    const cov = calls.find((u) => u.pathname === "/_rum/v1/coverage");
    expect(cov?.searchParams.get("site")).toBe("shop2");
    expect(cov?.searchParams.get("pageGroup")).toBe("/p/:id");
    expect(cov?.searchParams.has("country")).toBe(false); // coverage has no country dimension
  });

  it("defaults the site from config and the range to 1 h", async () => {
    const { app, calls } = makeApp();
    await getAuthed(app, "/_dash/");
    // tiles, attribution, table, series, cache mix, coverage, images by format and by device.
    expect(calls).toHaveLength(8);
    expect(
      calls
        .filter(
          (u) =>
            u.searchParams.get("metric")?.startsWith("ttfb,") &&
            u.searchParams.get("groupBy") === "pageGroup",
        )[0]
        ?.searchParams.get("percentiles"),
    ).toBe("50");
    const first = calls[0] as URL;
    expect(first.searchParams.get("site")).toBe("demo");
    expect(first.searchParams.get("from")).toBe(String(NOW - HOUR));
    expect(first.searchParams.has("country")).toBe(false);
  });

  it("rejects unknown parameters and bad values with 400 and a reason, without calling the API", async () => {
    const { app, calls } = makeApp();
    for (const [q, reason] of [
      ["?browserz=chrome", 'Unknown parameter "browserz"'],
      ["?range=2h", 'Unknown range "2h": expected one of 15m, 1h, 6h, 24h, 7d'],
      ["?metric=tbt", 'Unknown metric "tbt"'],
      ["?by=ip", 'Unknown by "ip"'],
      ["?country=DE&country=FR", "Parameter country given 2 times"],
      [`?pageGroup=${"x".repeat(201)}`, "longer than 200 characters"],
    ] as const) {
      const { res, text } = await getAuthed(app, `/_dash/${q}`);
      expect(res.status, q).toBe(400);
      expect(text).toContain(reason.replace(/"/g, "&quot;"));
    }
    expect(calls).toHaveLength(0);
  });

  it("treats empty filter fields from the form as 'any'", async () => {
    const { app, calls } = makeApp();
    const { res } = await getAuthed(
      app,
      "/_dash/?site=&pageGroup=&device=&country=&connection=&cacheStatus=",
    );
    expect(res.status).toBe(200);
    expect(calls[0]?.searchParams.get("site")).toBe("demo");
    expect(calls[0]?.searchParams.has("device")).toBe(false);
  });

  it("explains what to do when there is no data yet", async () => {
    const { app } = makeApp({ empty: true });
    const { res, text } = await getAuthed(app, "/_dash/");
    expect(res.status).toBe(200);
    expect(text).toContain("No page views yet");
    expect(text).toContain('Open the shop at <a href="http://shop.test/">http://shop.test/</a>');
    expect(text).not.toContain("attr-row");
  });

  it("suggests clearing filters when filters match nothing", async () => {
    const { app } = makeApp({ empty: true });
    const { text } = await getAuthed(app, "/_dash/?country=ZZ");
    expect(text).toContain("No page views match these filters");
  });

  it("shows an API failure as a readable message, not a 500", async () => {
    const { app } = makeApp({
      fail: { status: 401, body: JSON.stringify({ error: "missing or wrong query token" }) },
    });
    const { res, text } = await getAuthed(app, "/_dash/");
    expect(res.status).toBe(200);
    expect(text).toContain("The query API is not answering");
    expect(text).toContain("The query API answered 401: missing or wrong query token");
  });

  it("survives a non-JSON answer and a throwing caller", async () => {
    const { app } = makeApp({ fail: { status: 200, body: "<html>oops</html>" } });
    const { res, text } = await getAuthed(app, "/_dash/");
    expect(res.status).toBe(200);
    expect(text).toContain("something that is not a JSON object");
    const throwing = createDashboardsApp({
      config: parseDashConfig({ DASH_TOKEN: TOKEN }),
      queryApi: async () => {
        throw new TypeError("fetch failed");
      },
    });
    const res2 = await throwing.request("http://shop.test/_dash/", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res2.status).toBe(200);
    expect(await res2.text()).toContain("The query API could not be reached: fetch failed");
  });

  it("uses hour buckets for 24 h and 7 d", async () => {
    const { app, calls } = makeApp();
    await getAuthed(app, "/_dash/?range=7d");
    const series = calls.find((u) => u.searchParams.has("interval"));
    expect(series?.searchParams.get("interval")).toBe("hour");
    expect(series?.searchParams.get("from")).toBe(String(NOW - 7 * 24 * HOUR));
  });

  it("rejects a filter list with an empty item before asking the API", async () => {
    const { app, calls } = makeApp();
    const { res, text } = await getAuthed(app, "/_dash/?country=DE,,FR");
    expect(res.status).toBe(400);
    expect(text).toContain("Filter country has an empty item");
    expect(calls).toHaveLength(0);
  });

  it("keeps the other charts when one query fails", async () => {
    const { app } = makeApp({ failWhen: (u) => u.searchParams.get("interval") !== null });
    const { res, text } = await getAuthed(app, "/_dash/");
    expect(res.status).toBe(200);
    expect(text).toContain("Time series unavailable");
    expect(text).toContain("The query API answered 500: rollup table is locked");
    expect(text).toContain('class="attr-row"');
  });

  it("links keep the current filters (shareable URLs)", async () => {
    const { app } = makeApp();
    const { text } = await getAuthed(app, "/_dash/?country=DE&range=24h");
    expect(text).toContain('href="/_dash/?range=7d&amp;site=demo&amp;country=DE"');
    expect(text).toContain('href="/_dash/?range=24h&amp;site=demo&amp;country=DE&amp;attrBy=cacheStatus"');
  });

  it("shows image bytes saved per format and per device class", async () => {
    const { app, calls } = makeApp();
    const { text } = await getAuthed(app, "/_dash/?device=mobile&cacheStatus=MISS");
    const card = text.match(/<section class="card images">.*?<\/section>/s)?.[0] ?? "";
    expect(card).toContain("Images: bytes saved");
    const row = (cls: string, key: string) =>
      card.match(new RegExp(`<div class="${cls}">.*?<tr data-group="${key}">(.*?)</tr>`, "s"))?.[1] ?? "";
    // avif: 12 MB → 2.4 MB delivered: 9.6 MB saved, 80 %.
    const avif = row("images-format", "avif");
    expect(avif).toContain(
      '<td class="num">60</td><td class="num saved">9.60 MB</td><td class="num ratio">80.0 %</td>',
    );
    expect(avif).toContain('class="img-original" x="0" y="0" width="300"'); // the largest original fills the bar
    expect(avif).toContain('class="img-delivered" x="0" y="3.5" width="60"'); // 2.4 / 12 of 300 px
    expect(avif).toContain("2.40 MB of 12.00 MB");
    const orig = row("images-format", "original");
    expect(orig).toContain('<td class="num saved">0 B</td><td class="num ratio">0.0 %</td>');
    expect(orig).toContain('<td class="num fallbacks">2</td>');
    // Total over formats: 18.4 MB → 4.9 MB: 13.5 MB saved, 73.4 %.
    expect(card).toMatch(
      /<tr class="total"><td><strong>all<\/strong><\/td><td class="num">92<\/td><td class="num saved">13.50 MB<\/td><td class="num ratio">73.4 %<\/td>/,
    );
    const mobile = row("images-device", "mobile");
    expect(mobile).toContain('<td class="num saved">9.70 MB</td><td class="num ratio">74.6 %</td>');
    expect(mobile).toContain('<td class="num fallbacks">1</td>');
    const imageCalls = calls.filter((u) => u.pathname === "/_rum/v1/images");
    expect(imageCalls.map((u) => u.searchParams.get("groupBy")).sort()).toEqual(["device", "format"]);
    for (const u of imageCalls) {
      expect(u.searchParams.get("site")).toBe("demo");
      expect(u.searchParams.get("device")).toBe("mobile");
      expect(u.searchParams.has("cacheStatus")).toBe(false); // the page's cache status is the HTML's
      expect(u.searchParams.get("from")).toBe(String(NOW - HOUR));
    }
  });

  it("shows the image empty state and keeps the page when the image API fails", async () => {
    const { app } = makeApp({
      failWhen: (u) => u.pathname === "/_rum/v1/images" && u.searchParams.get("groupBy") === "device",
    });
    const { text } = await getAuthed(app, "/_dash/");
    expect(text).toContain("Image savings unavailable");
    expect(text).toContain('data-group="avif"');
    expect(text).toContain('class="attr-row"');
    const fake = fakeQueryApi();
    const noImages = createDashboardsApp({
      config: parseDashConfig({ DASH_TOKEN: TOKEN }),
      queryApi: async (pq) => {
        if (pq.startsWith("/_rum/v1/images"))
          return Response.json({
            total: {
              count: 0,
              samples: 0,
              measured: 0,
              originalBytes: 0,
              deliveredBytes: 0,
              bytesSaved: 0,
              savedRatio: null,
              fallbacks: 0,
            },
            groups: [],
          });
        return fake.api(pq);
      },
      now: () => NOW,
    });
    const { text: empty } = await getAuthed(noImages, "/_dash/");
    expect(empty).toContain("No image variants served yet — open a product page through the edge");
    expect(empty).not.toContain("images-format");
  });

  it("keeps tiles and attribution apart: one failing multi-metric call blanks only its chart", async () => {
    const attrFails = makeApp({
      failWhen: (u) => u.searchParams.get("metric")?.startsWith("ttfb,") === true,
    });
    const a = await getAuthed(attrFails.app, "/_dash/");
    expect(a.text).toContain("Attribution unavailable");
    expect(a.text).toMatch(/<div class="tile good" data-metric="ttfb">.*?450 ms/);
    const tilesFail = makeApp({ failWhen: (u) => u.searchParams.get("metric") === "lcp,inp,cls,ttfb" });
    const t = await getAuthed(tilesFail.app, "/_dash/");
    expect(t.text).toContain("Headline metrics unavailable");
    expect(t.text).toContain('class="attr-row"');
  });

  it("reports a multi-metric answer that lacks a requested metric", async () => {
    const fake = fakeQueryApi();
    const app = createDashboardsApp({
      config: parseDashConfig({ DASH_TOKEN: TOKEN }),
      queryApi: async (pq) => {
        const res = await fake.api(pq);
        if (!pq.includes("metric=lcp%2Cinp")) return res;
        const body = (await res.json()) as { results: Record<string, unknown> };
        delete body.results.cls;
        return Response.json(body);
      },
      now: () => NOW,
    });
    const { text } = await getAuthed(app, "/_dash/");
    expect(text).toContain("The query API answered without &quot;results.cls.total&quot;");
    expect(text).toContain('class="attr-row"');
  });

  it("says when the query API widened the range (resolution.exact false), once per note", async () => {
    const note = "minute rows of the range's edge are past retention: widened to whole hours (or days)";
    const { app } = makeApp({ resolution: { exact: false, note, widenMs: 30 * 60_000 } });
    const { text } = await getAuthed(app, "/_dash/?range=7d");
    expect(text).toContain('class="notice resolution small"');
    expect(text.split("past retention").length - 1).toBe(1);
    const exact = await getAuthed(makeApp().app, "/_dash/?range=7d");
    expect(exact.text).not.toContain("notice resolution");
    // Bounds inside a minute (every live page) are rounded outward by < 1 min: nothing to say.
    const rounded = makeApp({
      resolution: { exact: false, note: "rounded outward to whole minutes", widenMs: 30_000 },
    });
    expect((await getAuthed(rounded.app, "/_dash/")).text).not.toContain("notice resolution");
  });

  it("streams: each chart's card follows its loading line once the tiles have page views", async () => {
    const { app } = makeApp();
    const { res, text } = await getAuthed(app, "/_dash/");
    expect(res.status).toBe(200);
    for (const what of [
      "attribution",
      "time series",
      "percentiles",
      "cache mix",
      "beacon coverage",
      "image savings",
    ])
      expect(text).toContain(`Loading the ${what}…`);
    expect(text.indexOf('class="card attribution"')).toBeGreaterThan(
      text.indexOf("Loading the attribution…"),
    );
  });
});
