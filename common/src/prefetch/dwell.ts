/**
 * Dwell weights of transitions from the beacon's per-tab sessions (rum_page_views: `session_id`,
 * `prev_pvid`, `pvid`, `ts`, `path`). The beacon sends a page view's first record when the page
 * is hidden (rum-collector/beacon/start-rum.ts), so `ts` (the collector's receive time of that
 * record) marks when the visitor left the page. For a page view V whose previous page view P
 * (`V.prev_pvid = P.pvid`, same site and session) is among the rows, the transition is
 * P.path → V.path and the dwell on V is `V.ts − P.ts`: from leaving P (navigating to V) to
 * leaving V. A negative difference (a held record, e.g. pending consent) is unknown (weight 1).
 *
 * Rule: a transition seen at least `minSamples` times gets the mean `transitionWeight` of its
 * dwells; with fewer observations its weight is 1 (too little evidence to discount it).
 */

import { DEFAULT_DWELL_WEIGHTS, type DwellWeights, transitionWeight } from "./weight.ts";

/** One beacon page view (a rum_page_views row). */
export interface SessionPageView {
  site: string;
  sessionId: string | null;
  pvid: string;
  prevPvid: string | null;
  ts: number;
  path: string;
}

/** Options. Defaults: 5 observations at least, `DEFAULT_DWELL_WEIGHTS`. */
export interface DwellOptions {
  minSamples: number;
  weights: DwellWeights;
}

export const DEFAULT_DWELL_OPTIONS: Readonly<DwellOptions> = Object.freeze({
  minSamples: 5,
  weights: DEFAULT_DWELL_WEIGHTS,
});

/** Per transition: how many dwells were observed, their mean weight, and the weight to apply. */
export interface TransitionDwell {
  samples: number;
  meanWeight: number;
  weight: number;
}

/** Map key of one transition of one site. */
export const transitionKey = (site: string, from: string, to: string) => `${site}\u0000${from}\u0000${to}`;

/** Dwell weights per transition (keyed by `transitionKey`) from the given page views. */
export function dwellWeights(
  rows: readonly SessionPageView[],
  options: Partial<DwellOptions> = {},
): Map<string, TransitionDwell> {
  const o = { ...DEFAULT_DWELL_OPTIONS, ...options };
  const byId = new Map<string, SessionPageView>();
  for (const r of rows) if (r.sessionId) byId.set(`${r.site}\u0000${r.pvid}`, r);
  const sums = new Map<string, { n: number; sum: number }>();
  for (const v of rows) {
    if (!v.sessionId || !v.prevPvid) continue;
    const p = byId.get(`${v.site}\u0000${v.prevPvid}`);
    if (!p || p.sessionId !== v.sessionId || p === v) continue;
    const key = transitionKey(v.site, p.path, v.path);
    const s = sums.get(key) ?? { n: 0, sum: 0 };
    s.n++;
    s.sum += transitionWeight(v.ts - p.ts, o.weights);
    sums.set(key, s);
  }
  const out = new Map<string, TransitionDwell>();
  for (const [key, { n, sum }] of sums) {
    const meanWeight = sum / n;
    out.set(key, { samples: n, meanWeight, weight: n >= o.minSamples ? meanWeight : 1 });
  }
  return out;
}
