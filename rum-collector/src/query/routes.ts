/**
 * Query API (mounted under `/_rum`): `GET /v1/query` (percentiles of a metric from the rollups),
 * `GET /v1/coverage` (beacons ÷ edge HTML page views) and `GET /v1/pageviews` (latest page views
 * with their attribution parts), `GET /v1/images` (bytes saved by image variants). Bearer token on every route; bad parameters → 400 with a reason.
 * Documented in rum-collector/README-query.md.
 */
import { Hono } from "hono";
import { AuthThrottle, clientKey } from "../../../common/src/auth-throttle.ts";
import { replayArchive, replayDeadLetters } from "../store/replay.ts";
import { parseImageQuery, runImageQuery } from "./images.ts";
import { parseCoverage, parsePageViews, parseQuery, parseTime } from "./params.ts";
import { runQuery } from "./run.ts";

export interface QueryDeps {
  db: D1Database;
  /** Bearer token clients must send; "" disables the API (503). */
  queryToken: string;
  /** Clock (ms since epoch) for default time ranges and the bad-token throttle. */
  now: () => number;
  /** Set when the configured token may not be used here: every route answers 503 with it. */
  tokenError?: string | null;
  /** Repeated bad tokens per client (CF-Connecting-IP) → 429 (default: 10 per minute, per isolate). */
  throttle?: AuthThrottle;
  /** R2 archive and the events queue for `POST /v1/replay` (absent → 503). */
  replay?: { archive: R2Bucket; queue: Queue } | null;
}

const HOUR_MS = 3_600_000;

/** Constant-time string comparison (the token must not leak through timing). */
function sameToken(a: string, b: string): boolean {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function num(x: unknown): number | null {
  return x === null || x === undefined ? null : Number(x);
}

/** A rum_page_views row as the JSON of `/v1/pageviews`. */
function pageViewJson(r: Record<string, unknown>) {
  const hasRender = r.resource_load_delay !== null || r.element_render_delay !== null;
  return {
    site: r.site,
    pvid: r.pvid,
    seq: r.seq,
    ts: new Date(Number(r.ts)).toISOString(),
    rid: r.rid,
    pageGroup: r.page_group,
    path: r.path,
    dims: {
      country: r.country,
      colo: r.colo,
      asn: r.asn,
      device: r.device,
      browser: r.browser,
      connection: r.connection,
    },
    cacheStatus: r.cache_status,
    navigationType: r.nav_type,
    deliveryType: r.delivery_type,
    vitals: { lcp: num(r.lcp), inp: num(r.inp), cls: num(r.cls), fcp: num(r.fcp) },
    attribution: {
      ttfb: num(r.ttfb),
      queueing: num(r.queueing),
      lastMile: num(r.last_mile),
      lastMileConnect: num(r.last_mile_connect),
      lastMileWire: num(r.last_mile_wire),
      edge: num(r.edge),
      middleMile: num(r.middle_mile),
      backend: num(r.backend),
      originAsOnePart: r.origin_as_one_part === 1,
      edgeMeasured: r.edge_measured === 1,
      download: num(r.download),
      render: hasRender
        ? {
            resourceLoadDelay: num(r.resource_load_delay),
            resourceLoadDuration: num(r.resource_load_duration),
            elementRenderDelay: num(r.element_render_delay),
          }
        : null,
    },
  };
}

/** Builds the query routes; paths are relative to the collector mount (`/v1/query`, …). */
export function createQueryRoutes(deps: QueryDeps): Hono {
  const app = new Hono();
  const throttle = deps.throttle ?? new AuthThrottle();

  app.use("/v1/*", async (c, next) => {
    if (deps.tokenError) return c.json({ error: `query API unavailable: ${deps.tokenError}` }, 503);
    if (!deps.queryToken) return c.json({ error: "query API disabled (RUM_QUERY_TOKEN not set)" }, 503);
    const client = clientKey(c.req.header("cf-connecting-ip") ?? "");
    const verdict = throttle.check(client, deps.now());
    if (!verdict.allowed) {
      c.header("Retry-After", String(verdict.retryAfterSeconds));
      return c.json({ error: "too many bad tokens from this client; retry later" }, 429);
    }
    const auth = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (!m) {
      c.header("WWW-Authenticate", 'Bearer realm="rum-query"');
      return c.json({ error: "missing bearer token" }, 401);
    }
    if (!sameToken((m[1] as string).trim(), deps.queryToken)) {
      throttle.fail(client, deps.now());
      c.header("WWW-Authenticate", 'Bearer realm="rum-query", error="invalid_token"');
      return c.json({ error: "invalid bearer token" }, 401);
    }
    throttle.succeed(client);
    c.header("Cache-Control", "no-store");
    await next();
  });

  app.get("/v1/query", async (c) => {
    const parsed = parseQuery(new URL(c.req.url).searchParams, deps.now());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    return c.json(await runQuery(deps.db, parsed.value));
  });

  // Re-sends parked dead letters (`source=dlq`) or archived NDJSON hours (`source=archive`).
  app.post("/v1/replay", async (c) => {
    if (!deps.replay) return c.json({ error: "replay unavailable: no RUM_ARCHIVE / RUM_QUEUE binding" }, 503);
    const q = new URL(c.req.url).searchParams;
    const source = q.get("source") ?? "dlq";
    if (source === "dlq") return c.json(await replayDeadLetters(deps.replay.archive, deps.replay.queue));
    if (source !== "archive")
      return c.json({ error: `invalid "source": expected dlq or archive (got "${source}")` }, 400);
    const from = parseTime(q.get("from") ?? "");
    const to = parseTime(q.get("to") ?? "");
    if (from === null || to === null || from >= to || to - from > 31 * 86_400_000)
      return c.json(
        { error: 'source=archive needs "from" < "to" (ISO 8601 or epoch ms), at most 31 days apart' },
        400,
      );
    const cursor = q.get("cursor");
    if (cursor !== null && !/^\d{1,15}\|[\x21-\x7e]{0,1024}$/.test(cursor))
      return c.json({ error: `invalid "cursor" (pass back the one the last answer gave)` }, 400);
    return c.json(await replayArchive(deps.replay.archive, deps.replay.queue, from, to, cursor));
  });

  // Archive export (what `npm run rum:sql` syncs from a running Worker): list, then fetch objects.
  app.get("/v1/archive", async (c) => {
    if (!deps.replay) return c.json({ error: "archive unavailable: no RUM_ARCHIVE binding" }, 503);
    const q = new URL(c.req.url).searchParams;
    const prefix = q.get("prefix") ?? "parquet/";
    if (!/^(parquet|raw)\//.test(prefix) || prefix.length > 512)
      return c.json({ error: `invalid "prefix": expected parquet/… or raw/… (got "${prefix}")` }, 400);
    const page = await deps.replay.archive.list({
      prefix,
      cursor: q.get("cursor") ?? undefined,
      limit: 1000,
    });
    return c.json({
      objects: page.objects.map((o) => ({ key: o.key, size: o.size })),
      cursor: page.truncated ? page.cursor : null,
    });
  });
  app.get("/v1/archive/object", async (c) => {
    if (!deps.replay) return c.json({ error: "archive unavailable: no RUM_ARCHIVE binding" }, 503);
    const key = new URL(c.req.url).searchParams.get("key") ?? "";
    if (!/^(parquet|raw)\//.test(key))
      return c.json({ error: `invalid "key" (got "${key.slice(0, 100)}")` }, 400);
    const obj = await deps.replay.archive.get(key);
    if (!obj) return c.json({ error: `no archive object ${key}` }, 404);
    return new Response(obj.body, {
      headers: {
        "Content-Type": obj.httpMetadata?.contentType ?? "application/octet-stream",
        "Cache-Control": "no-store",
      },
    });
  });

  app.get("/v1/images", async (c) => {
    const parsed = parseImageQuery(new URL(c.req.url).searchParams, deps.now());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    return c.json(await runImageQuery(deps.db, parsed.value));
  });

  app.get("/v1/coverage", async (c) => {
    const parsed = parseCoverage(new URL(c.req.url).searchParams, deps.now());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    const spec = parsed.value;
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
      where.push(`${col} IN (${values.map((v) => `?${binds.push(v)}`).join(", ")})`);
    }
    const res = await deps.db
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
    return c.json({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      total: { beacons, edgeViews, coverage: ratio(beacons, edgeViews) },
      groups,
    });
  });

  app.get("/v1/pageviews", async (c) => {
    const parsed = parsePageViews(new URL(c.req.url).searchParams);
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    const { limit, site } = parsed.value;
    const stmt =
      site === null
        ? deps.db.prepare("SELECT * FROM rum_page_views ORDER BY ts DESC, pvid LIMIT ?1").bind(limit)
        : deps.db
            .prepare("SELECT * FROM rum_page_views WHERE site = ?2 ORDER BY ts DESC, pvid LIMIT ?1")
            .bind(limit, site);
    const res = await stmt.all<Record<string, unknown>>();
    return c.json({ pageViews: res.results.map(pageViewJson) });
  });

  return app;
}
