/**
 * Edge facts (cache status, edge, origin and app time of one response) as the edge's own log
 * recorded them, and the attribution that trusts only those: the browser's copy of
 * `Server-Timing` can be forged, the edge log record (joined by request id) cannot.
 * Pure.
 */
import { attribute } from "./attribution.ts";
import type { Attribution, BeaconPayload, CacheStatus, ServerTimingEntry } from "./rum-types.ts";

/** What the edge logged for one request id (`rum_edge_log`). */
export interface EdgeFacts {
  site: string;
  cacheStatus: CacheStatus;
  edgeMs: number;
  originMs: number | null;
  appMs: number | null;
}

/** The edge facts as the `Server-Timing` entries the edge sent with the response. */
export function edgeServerTiming(f: EdgeFacts): ServerTimingEntry[] {
  const out: ServerTimingEntry[] = [
    { name: "cdn-cache", duration: 0, description: f.cacheStatus },
    { name: "edge", duration: f.edgeMs, description: "" },
  ];
  if (f.originMs !== null) out.push({ name: "origin", duration: f.originMs, description: "" });
  if (f.appMs !== null) out.push({ name: "app", duration: f.appMs, description: "" });
  return out;
}

/**
 * Attribution of a beacon with the edge's facts in place of the browser's `Server-Timing` copy;
 * with `facts` null (unverified) the beacon's server timings are ignored altogether: browser
 * timings only, `edgeMeasured: false`, `backend: null`.
 */
export function attributeVerified(
  beacon: Pick<BeaconPayload, "nav" | "vitals" | "lcpParts">,
  facts: EdgeFacts | null,
): Attribution {
  return attribute({
    nav: beacon.nav,
    vitals: beacon.vitals,
    lcpParts: beacon.lcpParts,
    serverTiming: facts ? edgeServerTiming(facts) : [],
  });
}
