/**
 * The collector's Hono app, mounted by the root Worker at `/_rum`: beacon intake, boomerang
 * intake, the beacon script and the query API. Built once per isolate from injected deps, so
 * tests drive it with `app.request()` and a fake queue.
 */
import { type Context, Hono } from "hono";
import type { CollectorConfig } from "./config.ts";
import { createClientKeyer } from "./intake/client-key.ts";
import { createIntake, type IntakeStats, type PageViewQueue, type WaitUntil } from "./intake/handlers.ts";
import { createRateLimiter } from "./intake/rate-limiter.ts";

export interface CollectorDeps {
  config: CollectorConfig;
  queue: PageViewQueue;
  /** Clock in ms since epoch (default `Date.now`). */
  now?: () => number;
  /** Fills the daily rate-limit salt (default `crypto.getRandomValues`). */
  randomBytes?: (buf: Uint8Array) => void;
  /** Query API routes (`/v1/query`, `/v1/pageviews`, …) relative to `/_rum`; absent → 503. */
  queryRoutes?: Hono | null;
  /** Insight routes (`/v1/slo`, `/v1/pageview`, …, see src/insights); absent → 404. */
  insightsRoutes?: Hono | null;
  /** Serves `/_rum/beacon.js` and `/_rum/beacon.<version>.js`; absent → 404. */
  beaconAsset?: ((request: Request) => Response) | null;
  logError?: (message: string) => void;
  /** Resolves after `ms`: intake batch timer and retry backoff (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** Retries of a failed intake `sendBatch` (default 3). */
  batchRetries?: number;
  /** Receives the intake's counters getter (for tests and operational endpoints). */
  onIntakeStats?: (stats: () => IntakeStats) => void;
}

/** The request's `ctx.waitUntil`, or null when the app is called without an ExecutionContext. */
function waitUntilOf(c: Context): WaitUntil | null {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    // Hono throws when no ExecutionContext was passed (e.g. app.fetch(request) in tests).
    return null;
  }
}

/**
 * The collector app. Paths are absolute (`/_rum/v1/beacon`, …). Defaults: `now` Date.now,
 * no query routes (query paths answer 503), no beacon script (404).
 */
export function createCollectorApp(deps: CollectorDeps): Hono {
  const now = deps.now ?? Date.now;
  const { config } = deps;
  const intake = createIntake({
    config,
    queue: deps.queue,
    pageGroupRules: config.pageGroupRules,
    now,
    rateLimiter: config.rateLimit ? createRateLimiter(config.rateLimit) : null,
    clientKeyer: createClientKeyer(deps.randomBytes),
    logError: deps.logError,
    sleep: deps.sleep,
    batchRetries: deps.batchRetries,
  });
  deps.onIntakeStats?.(() => intake.stats());

  const app = new Hono().basePath("/_rum");
  app.all("/v1/beacon", (c) => intake.beacon(c.req.raw, waitUntilOf(c)));
  app.all("/v1/boomerang", (c) => intake.boomerang(c.req.raw, waitUntilOf(c)));

  const asset = deps.beaconAsset;
  if (asset) {
    app.all("/beacon.js", (c) => asset(c.req.raw));
    app.all("/:file{beacon\\.[0-9a-z]{1,64}\\.js}", (c) => asset(c.req.raw));
  }

  // The query routes first: their /v1/* middleware (token policy, bad-token throttle, bearer
  // check) then also guards every insight route registered after them.
  if (deps.queryRoutes) app.route("/", deps.queryRoutes);
  if (deps.insightsRoutes) app.route("/", deps.insightsRoutes);
  if (!deps.queryRoutes) {
    const disabled = () =>
      Response.json(
        { error: "query API disabled: set RUM_QUERY_TOKEN to enable it" },
        { status: 503, headers: { "Retry-After": "3600" } },
      );
    app.all("/v1/query", disabled);
    app.all("/v1/pageviews", disabled);
    app.all("/v1/coverage", disabled);
  }

  app.notFound((c) => c.json({ error: `no collector endpoint at ${c.req.path}` }, 404));
  const logError = deps.logError ?? console.error;
  app.onError((err, c) => {
    logError(`rum collector: ${err instanceof Error ? err.stack : String(err)}`);
    return c.json({ error: "internal error" }, 500);
  });

  // Fast path for the one hot request, `POST /_rum/v1/beacon`: straight to the intake, without
  // Hono's routing, Context and middleware composition (a few % of the intake's CPU per beacon in
  // a workerd profile). Same handler, same responses; a thrown error still becomes the same 500.
  // Every other request (other methods, preflights, other paths) goes through Hono as before.
  const routed = app.fetch;
  app.fetch = (request, env, executionCtx) => {
    if (request.method !== "POST" || !isBeaconPath(request.url)) return routed(request, env, executionCtx);
    const waitUntil = executionCtx ? (promise: Promise<unknown>) => executionCtx.waitUntil(promise) : null;
    return intake.beacon(request, waitUntil).catch((err: unknown) => {
      logError(`rum collector: ${err instanceof Error ? err.stack : String(err)}`);
      return Response.json({ error: "internal error" }, { status: 500 });
    });
  };
  return app;
}

const BEACON_PATH = "/_rum/v1/beacon";

/** True when the URL's path is exactly `/_rum/v1/beacon` (any query string), without parsing the URL. */
export function isBeaconPath(url: string): boolean {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1 || !url.startsWith(BEACON_PATH, start)) return false;
  const end = start + BEACON_PATH.length;
  return end === url.length || url.charCodeAt(end) === 63 /* ? */ || url.charCodeAt(end) === 35 /* # */;
}
