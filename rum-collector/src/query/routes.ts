/**
 * Query API (mounted under `/_rum`): `GET /v1/query` (percentiles of a metric from the rollups),
 * `GET /v1/coverage` (beacons ÷ edge HTML page views) and `GET /v1/pageviews` (latest page views
 * with their attribution parts), `GET /v1/images` (bytes saved by image variants). Bearer token on every route; bad parameters → 400 with a reason.
 * Documented in rum-collector/README-query.md.
 */
import { Hono } from "hono";
import { METRIC_PARTS, type MetricPart } from "../../../common/src/attribution-parts.ts";
import { AuthThrottle, clientKey } from "../../../common/src/auth-throttle.ts";
import { checkBearer } from "../../../common/src/http-response.ts";
import type { PageViewJson, PageViewsResult } from "../../../common/src/query-contract.ts";
import { createD1Store } from "../store/d1-store.ts";
import type { RumStore } from "../store/store.ts";
import { parseImageQuery } from "./images.ts";
import { parseCoverage, parsePageViews, parseQuery, parseTime } from "./params.ts";
import { parsePrefetchQuery, runPrefetchQuery } from "./prefetch.ts";

export interface QueryDeps {
  /** The store the routes read; default: the D1 store over `db` (+ `replay`'s archive and queue). */
  store?: RumStore;
  db?: D1Database;
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

function num(x: unknown): number | null {
  return x === null || x === undefined ? null : Number(x);
}

/** A rum_page_views row as the JSON of `/v1/pageviews` (metric fields from the table of parts). */
function pageViewJson(r: Record<string, unknown>): PageViewJson {
  const part = (kind: MetricPart["kind"]) =>
    Object.fromEntries(METRIC_PARTS.filter((p) => p.kind === kind).map((p) => [p.name, num(r[p.column])]));
  const render = part("render");
  const hasRender = Object.values(render).some((v) => v !== null);
  return {
    site: String(r.site),
    pvid: String(r.pvid),
    seq: Number(r.seq),
    ts: new Date(Number(r.ts)).toISOString(),
    rid: (r.rid as string | null) ?? null,
    pageGroup: String(r.page_group),
    path: String(r.path),
    dims: {
      country: String(r.country),
      colo: String(r.colo),
      asn: Number(r.asn),
      device: String(r.device),
      browser: String(r.browser),
      connection: String(r.connection),
    },
    cacheStatus: String(r.cache_status),
    navigationType: (r.nav_type as string | null) ?? null,
    deliveryType: (r.delivery_type as string | null) ?? null,
    edgeVerified: r.edge_verified === 1,
    pending: r.pending !== null && r.pending !== undefined,
    sessionId: (r.session_id as string | null) ?? null,
    prevPvid: (r.prev_pvid as string | null) ?? null,
    arm: (r.arm as string | null) ?? null,
    converted: r.converted === 1,
    conversionValue: num(r.conversion_value),
    invalidFields: Number(r.invalid_fields ?? 0),
    vitals: part("vital"),
    attribution: {
      ...part("ttfb"),
      originAsOnePart: r.origin_as_one_part === 1,
      edgeMeasured: r.edge_measured === 1,
      render: hasRender ? render : null,
    },
  };
}

/** Builds the query routes; paths are relative to the collector mount (`/v1/query`, …). */
export function createQueryRoutes(deps: QueryDeps): Hono {
  const app = new Hono();
  const throttle = deps.throttle ?? new AuthThrottle();
  const store =
    deps.store ??
    createD1Store({
      db: deps.db as D1Database,
      archive: deps.replay?.archive ?? null,
      queue: deps.replay?.queue ?? null,
    });

  app.use("/v1/*", async (c, next) => {
    if (deps.tokenError) return c.json({ error: `query API unavailable: ${deps.tokenError}` }, 503);
    if (!deps.queryToken) return c.json({ error: "query API disabled (RUM_QUERY_TOKEN not set)" }, 503);
    const client = clientKey(c.req.header("cf-connecting-ip") ?? "");
    const verdict = throttle.check(client, deps.now());
    if (!verdict.allowed) {
      c.header("Retry-After", String(verdict.retryAfterSeconds));
      return c.json({ error: "too many bad tokens from this client; retry later" }, 429);
    }
    const auth = checkBearer(c.req.header("authorization"), deps.queryToken);
    if (auth === "missing") {
      c.header("WWW-Authenticate", 'Bearer realm="rum-query"');
      return c.json({ error: "missing bearer token" }, 401);
    }
    if (auth === "invalid") {
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
    return c.json(await store.queryRollups(parsed.value));
  });

  // Re-sends parked dead letters (`source=dlq`) or archived NDJSON hours (`source=archive`).
  app.post("/v1/replay", async (c) => {
    const archive = store.archive;
    if (!archive || !deps.replay)
      return c.json({ error: "replay unavailable: no RUM_ARCHIVE / RUM_QUEUE binding" }, 503);
    const q = new URL(c.req.url).searchParams;
    const source = q.get("source") ?? "dlq";
    if (source === "dlq") return c.json(await archive.replayDeadLetters());
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
    return c.json(await archive.replayHours(from, to, cursor));
  });

  // Archive export (what `npm run rum:sql` syncs from a running Worker): list, then fetch objects.
  app.get("/v1/archive", async (c) => {
    const archive = store.archive;
    if (!archive) return c.json({ error: "archive unavailable: no RUM_ARCHIVE binding" }, 503);
    const q = new URL(c.req.url).searchParams;
    const prefix = q.get("prefix") ?? "parquet/";
    if (!/^(parquet|raw)\//.test(prefix) || prefix.length > 512)
      return c.json({ error: `invalid "prefix": expected parquet/… or raw/… (got "${prefix}")` }, 400);
    return c.json(await archive.list(prefix, q.get("cursor")));
  });
  app.get("/v1/archive/object", async (c) => {
    const archive = store.archive;
    if (!archive) return c.json({ error: "archive unavailable: no RUM_ARCHIVE binding" }, 503);
    const key = new URL(c.req.url).searchParams.get("key") ?? "";
    if (!/^(parquet|raw)\//.test(key))
      return c.json({ error: `invalid "key" (got "${key.slice(0, 100)}")` }, 400);
    const obj = await archive.get(key);
    if (!obj) return c.json({ error: `no archive object ${key}` }, 404);
    return new Response(obj.body, {
      headers: { "Content-Type": obj.contentType, "Cache-Control": "no-store" },
    });
  });

  app.get("/v1/images", async (c) => {
    const parsed = parseImageQuery(new URL(c.req.url).searchParams, deps.now());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    return c.json(await store.queryImages(parsed.value));
  });

  // Prefetch experiment per arm (query/prefetch.ts).
  app.get("/v1/prefetch", async (c) => {
    const parsed = parsePrefetchQuery(new URL(c.req.url).searchParams, deps.now());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    if (!deps.db) return c.json({ error: "prefetch query unavailable: no DB binding" }, 503);
    return c.json(await runPrefetchQuery(deps.db, parsed.value));
  });

  app.get("/v1/coverage", async (c) => {
    const parsed = parseCoverage(new URL(c.req.url).searchParams, deps.now());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    return c.json(await store.coverage(parsed.value));
  });

  app.get("/v1/pageviews", async (c) => {
    const parsed = parsePageViews(new URL(c.req.url).searchParams);
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    const rows = await store.rawWindow(parsed.value);
    const body: PageViewsResult = { pageViews: rows.map(pageViewJson) };
    return c.json(body);
  });

  return app;
}
