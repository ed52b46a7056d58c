/** Builders for queue messages and a clean D1 state, shared by the store and query tests. */
import { env } from "cloudflare:test";
import { attribute } from "../../common/src/attribution.ts";
import type {
  BeaconPayload,
  EdgeLogMessage,
  ImageLogMessage,
  PageViewMessage,
  RumQueueMessage,
  ServerTimingEntry,
} from "../../common/src/rum-types.ts";

export interface PvOptions {
  pvid: string;
  ts: number;
  seq?: number;
  site?: string;
  pageGroup?: string;
  device?: string;
  country?: string;
  colo?: string;
  browser?: string;
  ect?: string;
  cache?: "HIT" | "MISS" | "STALE";
  lcp?: number;
  inp?: number;
  cls?: number;
  fcp?: number;
  /** Request → first byte in ms (split by the Server-Timing below). */
  server?: number;
  edge?: number;
  origin?: number;
  app?: number;
}

/** A page-view message as the intake would enqueue it (attribution computed by `attribute`). */
export function pageView(o: PvOptions): PageViewMessage {
  const cache = o.cache ?? "MISS";
  const server = o.server ?? 200;
  const serverTiming: ServerTimingEntry[] = [
    { name: "cdn-cache", duration: 0, description: cache },
    { name: "edge", duration: o.edge ?? (cache === "MISS" ? 150 : 5), description: "" },
  ];
  if (cache === "MISS") {
    serverTiming.push({ name: "origin", duration: o.origin ?? 120, description: "" });
    if (o.app !== -1) serverTiming.push({ name: "app", duration: o.app ?? 80, description: "" });
  }
  const beacon: BeaconPayload = {
    v: 1,
    site: o.site ?? "demo",
    pvid: o.pvid,
    seq: o.seq ?? 0,
    url: `https://shop.example/p/${o.pvid}`,
    rid: `rid-${o.pvid}`,
    nav: {
      type: "navigate",
      redirectStart: 0,
      redirectEnd: 0,
      fetchStart: 1,
      domainLookupStart: 5,
      domainLookupEnd: 10,
      connectStart: 10,
      secureConnectionStart: 20,
      connectEnd: 30,
      requestStart: 31,
      responseStart: 31 + server,
      responseEnd: 51 + server,
      domInteractive: 400,
      domContentLoadedEventEnd: 450,
      loadEventEnd: 700,
      transferSize: 5000,
      encodedBodySize: 4800,
      deliveryType: "",
      activationStart: 0,
    },
    serverTiming,
    vitals: { lcp: o.lcp ?? 1200, inp: o.inp, cls: o.cls ?? 0.05, fcp: o.fcp ?? 800, ttfb: 31 + server },
    lcpParts: {
      ttfb: 31 + server,
      resourceLoadDelay: 100,
      resourceLoadDuration: 200,
      elementRenderDelay: Math.max((o.lcp ?? 1200) - 331 - server, 0),
    },
    net: { ect: o.ect ?? "4g", rtt: 50, downlink: 10, saveData: false },
    viewport: { w: 390, h: 844 },
    dpr: 3,
  };
  return {
    kind: "pageview",
    ts: o.ts,
    site: beacon.site,
    pvid: o.pvid,
    seq: beacon.seq,
    pageGroup: o.pageGroup ?? "product",
    path: `/p/${o.pvid}`,
    dims: {
      country: o.country ?? "DE",
      colo: o.colo ?? "FRA",
      asn: 3320,
      device: o.device ?? "mobile",
      browser: o.browser ?? "chrome",
    },
    cacheStatus: cache,
    beacon,
    attribution: attribute(beacon),
  };
}

export function edgeLog(rid: string, ts: number, over: Partial<EdgeLogMessage> = {}): EdgeLogMessage {
  return {
    kind: "edge",
    ts,
    rid,
    site: "demo",
    pageGroup: "product",
    path: "/p/1",
    status: 200,
    cacheStatus: "MISS",
    edgeMs: 150,
    originMs: 120,
    appMs: 80,
    country: "DE",
    colo: "FRA",
    device: "mobile",
    browser: "chrome",
    ...over,
  };
}

/** Empties every RUM table (tests share one D1 per file). */
export async function resetRumTables(): Promise<void> {
  await env.DB.batch(
    [
      "rum_page_views",
      "rum_edge_log",
      "rum_rollups",
      "rum_rollup_state",
      "rum_coverage",
      "rum_write_guard",
      "rum_image_log",
      "rum_image_rollups",
      "rum_image_rollup_state",
    ].map((t) => env.DB.prepare(`DELETE FROM ${t}`)),
  );
}

/** Exact quantile as the sketch defines it: the element of rank ⌊q·(n−1)⌋. */
export function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

/** An image-log message as the edge sends it (a 100 KB source served as a 30 KB WebP by default). */
export function imageLog(rid: string, ts: number, over: Partial<ImageLogMessage> = {}): ImageLogMessage {
  return {
    kind: "image",
    ts,
    rid,
    site: "demo",
    format: "webp",
    device: "mobile",
    width: 480,
    cacheStatus: "HIT",
    originalBytes: 100_000,
    deliveredBytes: 30_000,
    fallback: false,
    ...over,
  };
}

/**
 * The edge log records the edge wrote for these page views (same rid, site, page group and the
 * timings of their Server-Timing), followed by the page views: what a batch looks like when the
 * edge served the pages, so the store verifies every page view's edge split.
 */
export function withEdgeLogs(msgs: readonly RumQueueMessage[]): RumQueueMessage[] {
  const edges: EdgeLogMessage[] = [];
  for (const m of msgs) {
    if (m.kind !== "pageview" || !m.beacon.rid) continue;
    const st = m.beacon.serverTiming ?? [];
    const dur = (name: string) => st.find((e) => e.name === name)?.duration ?? null;
    edges.push(
      edgeLog(m.beacon.rid, m.ts - 1000, {
        site: m.site,
        pageGroup: m.pageGroup,
        cacheStatus: m.cacheStatus,
        edgeMs: dur("edge") ?? 0,
        originMs: dur("origin"),
        appMs: dur("app"),
      }),
    );
  }
  return [...edges, ...msgs];
}
