/**
 * Cron step: rebuilds each site's next-page model from the transitions the edge learned
 * (prefetch_transitions, migrations/0007_prefetch.sql) and stores its compact form in KV
 * (`prefetch:model:<site>`), where the edge reads it into the isolate. Bounded work per run:
 * at most `maxRows` transition rows of the last `windowHours` (newest first) and at most
 * `maxDelete` expired rows removed. Weights decay from each row's hour to the build time.
 *
 * Dwell: the beacon's page views of the same window (at most `maxPageViews`, newest first) give
 * the dwell on each transition's target page (common/src/prefetch/dwell.ts); a transition with at
 * least `dwellMinSamples` beacon observations has its edge counts scaled by their mean
 * `transitionWeight` (bounce 0.25, short dwell 0.6, else 1), any other keeps weight 1.
 */

import { type PageGroupRule, pageGroupFor, parsePageGroupRules } from "../../../common/src/page-group.ts";
import { toCompactModel } from "../../../common/src/prefetch/compact.ts";
import { dwellWeights, transitionKey } from "../../../common/src/prefetch/dwell.ts";
import { NextPageModel } from "../../../common/src/prefetch/model.ts";

/**
 * Rebuild limits. Defaults: 50,000 rows, 7 days of window, rows kept 14 days, 5,000 deletes,
 * half-life 6 h, 50,000 beacon page views for dwell, 5 dwell observations per transition at least.
 */
export interface RebuildOptions {
  maxRows: number;
  maxPageViews: number;
  dwellMinSamples: number;
  windowHours: number;
  retainHours: number;
  maxDelete: number;
  halfLifeMs: number;
  pageGroupRules: readonly PageGroupRule[];
}

export const DEFAULT_REBUILD: Readonly<RebuildOptions> = Object.freeze({
  maxRows: 50_000,
  maxPageViews: 50_000,
  dwellMinSamples: 5,
  windowHours: 7 * 24,
  retainHours: 14 * 24,
  maxDelete: 5000,
  halfLifeMs: 6 * 3600_000,
  pageGroupRules: [],
});

const HOUR = 3600_000;
export const modelKey = (site: string) => `prefetch:model:${site}`;

export interface RebuildResult {
  site: string;
  transitions: number;
  rows: number;
  bytes: number;
}

/** One rebuild run at time `now` (ms). */
export async function rebuildPrefetchModels(
  db: D1Database,
  kv: KVNamespace,
  now: number,
  options: Partial<RebuildOptions> = {},
): Promise<RebuildResult[]> {
  const o = { ...DEFAULT_REBUILD, ...options };
  await db
    .prepare(
      "DELETE FROM prefetch_transitions WHERE rowid IN (SELECT rowid FROM prefetch_transitions WHERE hour < ? LIMIT ?)",
    )
    .bind(now - o.retainHours * HOUR, o.maxDelete)
    .run();
  const { results } = await db
    .prepare(
      "SELECT site, hour, from_path, to_path, n FROM prefetch_transitions WHERE hour >= ? ORDER BY hour DESC LIMIT ?",
    )
    .bind(now - o.windowHours * HOUR, o.maxRows)
    .all<{ site: string; hour: number; from_path: string; to_path: string; n: number }>();
  const dwell = await beaconDwellWeights(db, now - o.windowHours * HOUR, o);
  const groups = new Map<string, string>();
  const groupOf = (p: string) => {
    let g = groups.get(p);
    if (g === undefined) {
      g = pageGroupFor(p, o.pageGroupRules);
      groups.set(p, g);
    }
    return g;
  };
  const models = new Map<string, { model: NextPageModel; n: number }>();
  for (const r of results) {
    let m = models.get(r.site);
    if (!m) {
      // The edge knows one page of context (the Referer), so no session recency here.
      m = {
        model: new NextPageModel(
          { halfLifeMs: o.halfLifeMs, recencyWeight: 0, maxOrder: 1, bagContext: false },
          groupOf,
        ),
        n: 0,
      };
      models.set(r.site, m);
    }
    // Observed through the hour: weigh it at the hour's middle.
    const w = dwell.get(transitionKey(r.site, r.from_path, r.to_path))?.weight ?? 1;
    m.model.observe([r.from_path], r.to_path, r.n * w, Math.min(now, r.hour + HOUR / 2));
    m.n++;
  }
  const out: RebuildResult[] = [];
  for (const [site, { model, n }] of models) {
    const compact = toCompactModel(model, now);
    const json = JSON.stringify(compact);
    await kv.put(modelKey(site), json);
    await db
      .prepare(
        "INSERT INTO prefetch_model_builds (site, built_ts, transitions, rows, bytes) VALUES (?, ?, ?, ?, ?) " +
          "ON CONFLICT (site) DO UPDATE SET built_ts = excluded.built_ts, transitions = excluded.transitions, rows = excluded.rows, bytes = excluded.bytes",
      )
      .bind(site, now, n, compact.rows.length, json.length)
      .run();
    out.push({ site, transitions: n, rows: compact.rows.length, bytes: json.length });
  }
  return out;
}

/** Dwell weights per transition from the beacon's recent page views (bounded, newest first). */
async function beaconDwellWeights(db: D1Database, since: number, o: RebuildOptions) {
  const { results } = await db
    .prepare(
      "SELECT site, session_id, pvid, prev_pvid, ts, path FROM rum_page_views " +
        "WHERE ts >= ? AND session_id IS NOT NULL ORDER BY ts DESC LIMIT ?",
    )
    .bind(since, o.maxPageViews)
    .all<{
      site: string;
      session_id: string;
      pvid: string;
      prev_pvid: string | null;
      ts: number;
      path: string;
    }>();
  return dwellWeights(
    results.map((r) => ({
      site: r.site,
      sessionId: r.session_id,
      pvid: r.pvid,
      prevPvid: r.prev_pvid,
      ts: r.ts,
      path: r.path,
    })),
    { minSamples: o.dwellMinSamples },
  );
}

/** Page-group rules from `RUM_PAGE_GROUPS` (the edge's and collector's); [] when unset or invalid (the collector's config reports it). */
export function rulesFromEnv(env: { RUM_PAGE_GROUPS?: string }): PageGroupRule[] {
  try {
    return env.RUM_PAGE_GROUPS ? parsePageGroupRules(env.RUM_PAGE_GROUPS) : [];
  } catch {
    return [];
  }
}
