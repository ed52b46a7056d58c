/**
 * Insight routes (mounted under `/_rum` beside the query API, same bearer token):
 * `GET /v1/slo`, `/v1/pageview`, `/v1/slowest`, `/v1/impact`, `/v1/distribution`, `/v1/cache`. Bad parameters
 * → 400 with the reason; documented in rum-collector/README-insights.md.
 */
import { Hono } from "hono";
import type { SloAnswer } from "../../../common/src/insights-contract.ts";
import { bearerToken, tokensEqual } from "../../../common/src/secret-token.ts";
import { alertStates } from "./alerts.ts";
import { parseCacheParams, runCache } from "./cache.ts";
import { parseDistributionParams, runDistribution } from "./distribution.ts";
import { IMPACT_COLUMNS, pageViewColumns, parseImpactParams, runImpact } from "./impact.ts";
import { pageViewDetail, parsePageViewParams, parseSlowestParams, slowestPageViews } from "./pageview.ts";
import { fail, type Parsed, rejectUnknown } from "./params.ts";
import { allSloStatus } from "./slo.ts";
import type { Slo } from "./slo-config.ts";

export interface InsightsDeps {
  db: D1Database;
  /** Bearer token (RUM_QUERY_TOKEN); "" disables the routes (503). */
  queryToken: string;
  /** Why the configured token is refused in this ENVIRONMENT (503 naming the key); null = usable. */
  tokenError?: string | null;
  slos: readonly Slo[];
  /** Clock in ms since epoch. */
  now: () => number;
}

export const INSIGHT_PATHS = [
  "/v1/slo",
  "/v1/pageview",
  "/v1/impact",
  "/v1/distribution",
  "/v1/cache",
] as const;

function parseSloParams(params: URLSearchParams, slos: readonly Slo[]): Parsed<readonly Slo[]> {
  const unknown = rejectUnknown(params, ["slo"]);
  if (unknown) return fail(unknown);
  const id = params.get("slo");
  if (id === null) return { ok: true, value: slos };
  const s = slos.find((x) => x.id === id);
  return s
    ? { ok: true, value: [s] }
    : fail(`unknown slo "${id}" (configured: ${slos.map((x) => x.id).join(", ") || "none"})`);
}

/** Builds the routes; paths are relative to the collector mount. */
export function createInsightsRoutes(deps: InsightsDeps): Hono {
  const app = new Hono();
  for (const path of INSIGHT_PATHS)
    app.use(path, async (c, next) => {
      if (deps.tokenError) return c.json({ error: `query API unavailable: ${deps.tokenError}` }, 503);
      if (!deps.queryToken) return c.json({ error: "query API disabled (RUM_QUERY_TOKEN not set)" }, 503);
      const token = bearerToken(c.req.header("authorization"));
      if (token === null || !tokensEqual(token, deps.queryToken)) {
        c.header(
          "WWW-Authenticate",
          `Bearer realm="rum-query"${token === null ? "" : ', error="invalid_token"'}`,
        );
        return c.json({ error: token === null ? "missing bearer token" : "invalid bearer token" }, 401);
      }
      c.header("Cache-Control", "no-store");
      await next();
    });
  const params = (url: string) => new URL(url).searchParams;

  app.get("/v1/slo", async (c) => {
    const p = parseSloParams(params(c.req.url), deps.slos);
    if (!p.ok) return c.json({ error: p.error }, 400);
    const now = deps.now();
    const [slos, alerts] = await Promise.all([allSloStatus(deps.db, p.value, now), alertStates(deps.db)]);
    const body: SloAnswer = { at: new Date(now).toISOString(), slos, alertStates: alerts };
    return c.json(body);
  });

  app.get("/v1/pageview", async (c) => {
    const p = parsePageViewParams(params(c.req.url));
    if (!p.ok) return c.json({ error: p.error }, 400);
    const pv = await pageViewDetail(deps.db, p.value.site, p.value.pvid);
    if (!pv)
      return c.json(
        { error: `no page view ${p.value.pvid} for site ${p.value.site} (it may be past retention)` },
        404,
      );
    return c.json(pv);
  });

  app.get("/v1/slowest", async (c) => {
    const p = parseSlowestParams(params(c.req.url), deps.now());
    if (!p.ok) return c.json({ error: p.error }, 400);
    return c.json(await slowestPageViews(deps.db, p.value));
  });

  app.get("/v1/impact", async (c) => {
    const p = parseImpactParams(params(c.req.url), deps.now());
    if (!p.ok) return c.json({ error: p.error }, 400);
    const cols = await pageViewColumns(deps.db);
    const missing = IMPACT_COLUMNS.filter((k) => !cols.has(k));
    if (missing.length > 0)
      return c.json(
        {
          error: `rum_page_views has no ${missing.join(", ")} column yet: apply the session/conversion D1 migration`,
        },
        503,
      );
    return c.json(await runImpact(deps.db, p.value));
  });

  app.get("/v1/distribution", async (c) => {
    const p = parseDistributionParams(params(c.req.url), deps.now());
    if (!p.ok) return c.json({ error: p.error }, 400);
    return c.json(await runDistribution(deps.db, p.value));
  });

  app.get("/v1/cache", async (c) => {
    const p = parseCacheParams(params(c.req.url), deps.now());
    if (!p.ok) return c.json({ error: p.error }, 400);
    return c.json(await runCache(deps.db, p.value));
  });

  return app;
}
