/** A fake query API that records every call and answers from a small in-memory data set. */
// The query API's own parameter parsers (common/, the contract both sides use) keep this fake honest.

import type {
  CoverageResult,
  ImageQueryResult,
  MetricResult,
  PageViewJson,
  PageViewsResult,
  QueryFrame,
  Resolution,
} from "../../common/src/query-contract.ts";
import {
  parseCoverage,
  parseImageQuery,
  parsePageViews,
  parseQuery,
} from "../../common/src/query-params-contract.ts";
import type { QueryApi } from "../src/api-client.ts";

/** The fake's own clock for default ranges (tests always send from/to). */
const FAKE_NOW = Date.UTC(2026, 10, 25, 12, 0, 30);

export interface FakeApi {
  api: QueryApi;
  calls: URL[];
}

type Pcts = Record<string, number | null>;

/** p50 of each attribution part per page group (p75 is 1.5× p50 to keep the fixture small). */
export const PARTS_BY_GROUP: Record<string, Record<string, number>> = {
  "/p/:id": {
    ttfb: 412,
    queueing: 3,
    lastMileConnect: 41,
    lastMileWire: 57,
    edge: 6,
    middleMile: 88,
    backend: 217,
    download: 12,
    resourceLoadDelay: 140,
    resourceLoadDuration: 230,
    elementRenderDelay: 95,
  },
  "/c/:slug": {
    ttfb: 64,
    queueing: 2,
    lastMileConnect: 20,
    lastMileWire: 38,
    edge: 4,
    middleMile: 0,
    backend: 0,
    download: 9,
    resourceLoadDelay: 60,
    resourceLoadDuration: 120,
    elementRenderDelay: 40,
  },
};

const COUNTS: Record<string, number> = { "/p/:id": 130, "/c/:slug": 70 };

function pcts(p50: number, wanted: string[]): Pcts {
  const all: Pcts = { p50, p75: p50 * 1.5, p90: p50 * 2, p95: p50 * 2.5, p99: p50 * 4 };
  return Object.fromEntries(wanted.map((w) => [w, all[w] ?? 0]));
}

const OVERALL: Record<string, number> = { lcp: 1850, inp: 240, cls: 0.31, ttfb: 300, fcp: 900 };

/** Recent page views in the shape of `GET /_rum/v1/pageviews`. */
export const PAGEVIEWS: PageViewJson[] = [
  {
    site: "demo",
    pvid: "pv-hit-1",
    seq: 0,
    ts: "2026-11-25T12:00:05.000Z",
    rid: "r1",
    pageGroup: "/c/:slug",
    path: "/c/shoes",
    dims: { country: "DE", colo: "FRA", asn: 3320, device: "mobile", browser: "chrome", connection: "4g" },
    cacheStatus: "HIT",
    navigationType: "navigate",
    deliveryType: "navigational-prefetch",
    edgeVerified: true,
    pending: false,
    sessionId: null,
    prevPvid: null,
    arm: null,
    converted: false,
    conversionValue: null,
    invalidFields: 0,
    vitals: { lcp: 610, inp: 80, cls: 0.01, fcp: 300 },
    attribution: {
      ttfb: 64,
      queueing: 2,
      lastMile: 58,
      lastMileConnect: 20,
      lastMileWire: 38,
      edge: 4,
      middleMile: 0,
      backend: 0,
      originAsOnePart: false,
      edgeMeasured: true,
      download: 9,
      render: { resourceLoadDelay: 60, resourceLoadDuration: 120, elementRenderDelay: 40 },
    },
  },
  {
    site: "demo",
    pvid: "pv-miss-1",
    seq: 0,
    ts: "2026-11-25T12:00:01.000Z",
    rid: "r2",
    pageGroup: "/p/:id",
    path: "/p/17",
    dims: {
      country: "US",
      colo: "IAD",
      asn: 7922,
      device: "desktop",
      browser: "firefox",
      connection: "unknown",
    },
    cacheStatus: "MISS",
    navigationType: "navigate",
    deliveryType: "",
    edgeVerified: true,
    pending: false,
    sessionId: null,
    prevPvid: null,
    arm: null,
    converted: false,
    conversionValue: null,
    invalidFields: 0,
    vitals: { lcp: 2480, inp: null, cls: 0, fcp: null },
    attribution: {
      ttfb: 412,
      queueing: 3,
      lastMile: 98,
      lastMileConnect: 41,
      lastMileWire: 57,
      edge: 6,
      middleMile: 305,
      backend: null,
      originAsOnePart: true,
      edgeMeasured: true,
      download: 12,
      render: null,
    },
  },
];

/** Image byte counters per delivered format and per device class (`GET /_rum/v1/images`). */
export const IMAGE_GROUPS: Record<"format" | "device", Array<[string, number, number, number, number]>> = {
  // key, responses, original bytes, delivered bytes, fallbacks
  format: [
    ["avif", 60, 12_000_000, 2_400_000, 0],
    ["webp", 30, 6_000_000, 2_100_000, 0],
    ["original", 2, 400_000, 400_000, 2],
  ],
  device: [
    ["mobile", 70, 13_000_000, 3_300_000, 1],
    ["desktop", 22, 5_400_000, 1_600_000, 1],
  ],
};

function imageStats(key: string, count: number, original: number, delivered: number, fallbacks: number) {
  return {
    key,
    count,
    samples: count,
    measured: count,
    originalBytes: original,
    deliveredBytes: delivered,
    bytesSaved: original - delivered,
    savedRatio: original > 0 ? Math.round(((original - delivered) / original) * 10_000) / 10_000 : null,
    fallbacks,
  };
}

export interface FakeOptions {
  /** Answer every call with this status and body instead. */
  fail?: { status: number; body: string };
  /** No data at all (empty site). */
  empty?: boolean;
  /** Fail only calls whose path+query matches. */
  failWhen?: (url: URL) => boolean;
  /** `resolution` of every `/v1/query` and `/v1/images` answer (default exact), with `from` read `widenMs` earlier. */
  resolution?: { exact: boolean; note: string | null; widenMs: number };
}

function stats(count: number, p: Pcts) {
  return { count, views: count, mean: null, min: null, max: null, percentiles: p };
}

/**
 * Builds the fake; `calls` lists the URLs it was asked for, in order. Query parameters are
 * checked by the collector's own parser, so a request the real API would refuse fails here too.
 */
export function fakeQueryApi(opts: FakeOptions = {}): FakeApi {
  const calls: URL[] = [];
  const resolutionOf = (from: number, to: number): Resolution => ({
    requestedFrom: new Date(from).toISOString(),
    requestedTo: new Date(to).toISOString(),
    exact: opts.resolution?.exact ?? true,
    startGranularity: "minute",
    endGranularity: "minute",
    note: opts.resolution?.note ?? null,
  });
  const api: QueryApi = async (pathAndQuery) => {
    const url = new URL(pathAndQuery, "http://collector.internal");
    calls.push(url);
    if (opts.fail) return new Response(opts.fail.body, { status: opts.fail.status });
    if (opts.failWhen?.(url)) return Response.json({ error: "rollup table is locked" }, { status: 500 });
    if (url.pathname === "/_rum/v1/pageviews") {
      const parsed = parsePageViews(url.searchParams);
      if (!parsed.ok) return Response.json({ error: parsed.error }, { status: 400 });
      const body: PageViewsResult = { pageViews: opts.empty ? [] : PAGEVIEWS.slice(0, parsed.value.limit) };
      return Response.json(body);
    }
    if (url.pathname === "/_rum/v1/coverage") {
      const parsed = parseCoverage(url.searchParams, FAKE_NOW);
      if (!parsed.ok) return Response.json({ error: parsed.error }, { status: 400 });
      const groups = opts.empty
        ? []
        : [{ pageGroup: "/p/:id", browser: "chrome", beacons: 90, edgeViews: 120, coverage: 0.75 }];
      const body: CoverageResult = {
        from: new Date(parsed.value.from).toISOString(),
        to: new Date(parsed.value.to).toISOString(),
        total: opts.empty
          ? { beacons: 0, edgeViews: 0, coverage: null }
          : { beacons: 90, edgeViews: 120, coverage: 0.75 },
        groups,
      };
      return Response.json(body);
    }
    if (url.pathname === "/_rum/v1/images") {
      const parsed = parseImageQuery(url.searchParams, FAKE_NOW);
      if (!parsed.ok) return Response.json({ error: parsed.error }, { status: 400 });
      const g = parsed.value.groupBy;
      const rows = opts.empty || (g !== "format" && g !== "device") ? [] : IMAGE_GROUPS[g];
      const groups = rows.map((r) => imageStats(...r));
      const sum = (i: 1 | 2 | 3 | 4) => rows.reduce((a, r) => a + r[i], 0);
      const { key: _k, ...total } = imageStats("", sum(1), sum(2), sum(3), sum(4));
      const body: ImageQueryResult = {
        from: new Date(parsed.value.from - (opts.resolution?.widenMs ?? 0)).toISOString(),
        to: new Date(parsed.value.to).toISOString(),
        filters: parsed.value.filters,
        groupBy: g,
        interval: null,
        sources: [],
        resolution: resolutionOf(parsed.value.from, parsed.value.to),
        total,
        ...(g ? { groups } : {}),
      };
      return Response.json(body);
    }
    if (url.pathname !== "/_rum/v1/query") return Response.json({ error: "not found" }, { status: 404 });
    const parsed = parseQuery(url.searchParams, FAKE_NOW);
    if (!parsed.ok) return Response.json({ error: parsed.error }, { status: 400 });
    const spec = parsed.value;
    const wanted = spec.percentiles.map((p) => `p${p}`);
    /** What the real API answers per metric: `metric`, `unit`, `total`, `groups` or `series`. */
    const answer = (metric: string): MetricResult => {
      const unit = metric === "cls" ? "score" : "ms";
      if (opts.empty) {
        const body: MetricResult = {
          metric,
          unit,
          total: stats(0, Object.fromEntries(wanted.map((w) => [w, null]))),
        };
        if (spec.groupBy) body.groups = [];
        else if (spec.interval) body.series = [];
        return body;
      }
      const body: MetricResult = { metric, unit, total: stats(200, pcts(OVERALL[metric] ?? 10, wanted)) };
      if (spec.groupBy === "pageGroup")
        body.groups = Object.entries(PARTS_BY_GROUP).map(([key, parts]) => ({
          key,
          ...stats(COUNTS[key] ?? 0, pcts(parts[metric] ?? OVERALL[metric] ?? 10, wanted)),
        }));
      else if (spec.groupBy === "cacheStatus")
        body.groups = [
          { key: "HIT", ...stats(150, pcts(60, wanted)) },
          { key: "MISS", ...stats(40, pcts(400, wanted)) },
          { key: "BYPASS", ...stats(10, pcts(380, wanted)) },
        ];
      else if (spec.groupBy)
        body.groups = [{ key: "DE", ...stats(200, pcts(OVERALL[metric] ?? 10, wanted)) }];
      else if (spec.interval) {
        const step = spec.interval === "hour" ? 3_600_000 : 60_000;
        const first = Math.floor(spec.from / step) * step;
        body.series = [0, 1, 2, 3].map((i) => ({
          ts: new Date(first + i * step).toISOString(),
          ...stats(50, pcts((OVERALL[metric] ?? 10) + i * 100, wanted)),
        }));
      }
      return body;
    };
    const common: QueryFrame = {
      from: new Date(spec.from - (opts.resolution?.widenMs ?? 0)).toISOString(),
      to: new Date(spec.to).toISOString(),
      percentiles: spec.percentiles,
      filters: spec.filters,
      groupBy: spec.groupBy,
      // The real API answers "auto" with the granularity it chose; the fake picks minute.
      interval: spec.interval === "auto" ? "minute" : spec.interval,
      sources: [],
      resolution: resolutionOf(spec.from, spec.to),
    };
    // One metric keeps the single-metric shape; 2+ answer under `results`, as the real API does.
    if (spec.metrics.length === 1) return Response.json({ ...common, ...answer(spec.metric.name) });
    return Response.json({
      metrics: spec.metrics.map((m) => m.name),
      ...common,
      results: Object.fromEntries(spec.metrics.map((m) => [m.name, answer(m.name)])),
    });
  };
  return { api, calls };
}
