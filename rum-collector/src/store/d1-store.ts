/** The embedded `RumStore`: D1 (page views, rollups, raw window) + R2 (archive). */
import { type ImageQuerySpec, runImageQuery } from "../query/images.ts";
import type { CoverageSpec } from "../query/params.ts";
import { runQuery } from "../query/run.ts";
import { runMaintenance } from "./maintenance.ts";
import { replayArchive, replayDeadLetters } from "./replay.ts";
import type { CoverageResult, RumStore } from "./store.ts";
import { parseStoreConfig, type StoreConfig } from "./store-config.ts";
import { storeBatch } from "./write-batch.ts";

const HOUR_MS = 3_600_000;

export interface D1StoreDeps {
  db: D1Database;
  /** R2 archive; null = no archive (query-only use). */
  archive?: R2Bucket | null;
  /** Producer of `rum-events` (replay); null = no replay. */
  queue?: Queue | null;
  /** The Worker env (store config keys and bindings), needed for writes. */
  env?: Env | null;
  config?: StoreConfig;
}

async function coverage(db: D1Database, spec: CoverageSpec): Promise<CoverageResult> {
  const from = Math.floor(spec.from / HOUR_MS) * HOUR_MS;
  const to = Math.ceil(spec.to / HOUR_MS) * HOUR_MS;
  const where = ["ts >= ?1", "ts < ?2"];
  const binds: unknown[] = [from, to];
  for (const [col, values] of [
    ["site", spec.site],
    ["page_group", spec.pageGroup],
    ["browser", spec.browser],
  ] as const) {
    if (!values || values.length === 0) continue;
    // One JSON parameter per list: any number of values stays under D1's bound-parameter limit.
    where.push(`${col} IN (SELECT value FROM json_each(?${binds.push(JSON.stringify(values))}))`);
  }
  const res = await db
    .prepare(
      `SELECT page_group, browser, SUM(beacons) AS beacons, SUM(edge_views) AS edge_views FROM rum_coverage WHERE ${where.join(" AND ")} GROUP BY page_group, browser ORDER BY edge_views DESC, page_group, browser`,
    )
    .bind(...binds)
    .all<{ page_group: string; browser: string; beacons: number; edge_views: number }>();
  const ratio = (b: number, e: number) => (e > 0 ? Math.round((b / e) * 10_000) / 10_000 : null);
  let beacons = 0;
  let edgeViews = 0;
  const groups = res.results.map((r) => {
    beacons += r.beacons;
    edgeViews += r.edge_views;
    return {
      pageGroup: r.page_group,
      browser: r.browser,
      beacons: r.beacons,
      edgeViews: r.edge_views,
      coverage: ratio(r.beacons, r.edge_views),
    };
  });
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    total: { beacons, edgeViews, coverage: ratio(beacons, edgeViews) },
    groups,
  };
}

/** Builds the D1 + R2 store. Writes and maintenance need `env` (config keys, bindings). */
export function createD1Store(deps: D1StoreDeps): RumStore {
  const { db } = deps;
  const bucket = deps.archive ?? null;
  const queue = deps.queue ?? null;
  const needEnv = (): Env => {
    if (!deps.env) throw new Error("this store was built without the Worker env (query-only)");
    return deps.env;
  };
  return {
    writeBatch: (records, batchId, now, lines) => storeBatch(needEnv(), records, batchId, now, lines),
    queryRollups: (spec) => runQuery(db, spec),
    queryImages: (spec: ImageQuerySpec) => runImageQuery(db, spec),
    coverage: (spec) => coverage(db, spec),
    async rawWindow({ limit, site }) {
      const stmt =
        site === null
          ? db.prepare("SELECT * FROM rum_page_views ORDER BY ts DESC, pvid LIMIT ?1").bind(limit)
          : db
              .prepare("SELECT * FROM rum_page_views WHERE site = ?2 ORDER BY ts DESC, pvid LIMIT ?1")
              .bind(limit, site);
      return (await stmt.all<Record<string, unknown>>()).results;
    },
    archive: bucket
      ? {
          async list(prefix, cursor) {
            const page = await bucket.list({ prefix, cursor: cursor ?? undefined, limit: 1000 });
            return {
              objects: page.objects.map((o) => ({ key: o.key, size: o.size })),
              cursor: page.truncated ? page.cursor : null,
            };
          },
          async get(key) {
            const obj = await bucket.get(key);
            return obj
              ? { body: obj.body, contentType: obj.httpMetadata?.contentType ?? "application/octet-stream" }
              : null;
          },
          replayDeadLetters() {
            if (!queue) throw new Error("replay needs the RUM_QUEUE binding");
            return replayDeadLetters(bucket, queue);
          },
          replayHours(from, to, cursor) {
            if (!queue) throw new Error("replay needs the RUM_QUEUE binding");
            return replayArchive(bucket, queue, from, to, cursor);
          },
        }
      : null,
    maintenance(now) {
      const env = needEnv();
      const cfg = deps.config ?? parseStoreConfig(env as unknown as Record<string, unknown>);
      return runMaintenance(db, bucket, cfg, now);
    },
  };
}
