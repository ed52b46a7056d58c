/**
 * HTTP layer of the intake: `/_rum/v1/beacon` (JSON) and `/_rum/v1/boomerang` (boomerang GET/POST).
 * Thin on purpose: validation, mapping, sampling and enrichment live in pure modules. Nothing
 * here touches D1.
 *
 * Enqueueing has two modes (`RUM_INTAKE_BATCH_SIZE`):
 * - batched (> 1, default 100): the page view is appended to this isolate's batch and the 204
 *   goes out at once; the batch leaves with one `sendBatch` from the `waitUntil` of the request
 *   that opened it (after `RUM_INTAKE_BATCH_MS`) or of the one that filled it, with retries
 *   (common/src/batch-sender.ts). A queue outage longer than the retries loses that batch:
 *   counted (`stats().failed`) and logged. Each page view is serialised to JSON once, when it is
 *   added (its size decides the batch split); the batch leaves as ONE queue message of NDJSON
 *   text (`packNdjson`): one queue write per batch instead of one per page view, no second
 *   serialisation by the runtime, and a buffered page view is one string rather than an object
 *   graph the garbage collector has to trace. The consumer splits and parses the lines.
 * - unbatched (1), and any request without an ExecutionContext: one `queue.send`, awaited
 *   before the 204, so a queue failure is a 503 the client may retry.
 */
import { type BatchSender, createNdjsonSender } from "../../../common/src/batch-sender.ts";
import { validateBeacon } from "../../../common/src/beacon-schema.ts";
import type { PageGroupRule } from "../../../common/src/page-group.ts";
import type { BeaconPayload, PageViewMessage } from "../../../common/src/rum-types.ts";
import type { CollectorConfig } from "../config.ts";
import { boomerangToBeacon } from "./boomerang.ts";
import type { ClientKeyer } from "./client-key.ts";
import { checkOrigin, corsHeaders, type OriginCheck, pageOrigin, preflightHeaders } from "./cors.ts";
import { fastValidBeacon } from "./fast-beacon.ts";
import { type CfFacts, serverDimensions, toPageViewMessage } from "./page-view.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { MAX_BEACON_BYTES, readBodyLimited } from "./read-body.ts";
import { isSampledIn } from "./sampling.ts";

/** Where accepted page views go (`env.RUM_QUEUE` in production, a fake in tests). */
export interface PageViewQueue {
  send(message: PageViewMessage): Promise<unknown>;
  /** Bodies are message objects (`json`) or their JSON text (`text`, what the batched intake sends). */
  sendBatch(
    messages: Iterable<{ body: PageViewMessage | string; contentType?: "json" | "text" }>,
  ): Promise<unknown>;
}

/** The calling request's `ctx.waitUntil`. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** One validated beacon on its way to the queue, with the request it came in. */
interface Acceptance {
  request: Request;
  beacon: BeaconPayload;
  /** CORS headers of every answer. */
  cors: Record<string, string>;
  /** The success response (204, or the GIF of a boomerang GET). */
  ok: () => Response;
  waitUntil: WaitUntil | null | undefined;
  /** Invalid fields dropped while mapping (boomerang); default 0. */
  invalidFields?: number;
}

/** Per-isolate intake counters (`accepted = sent + failed + pending`). */
export interface IntakeStats {
  /** "batched" when RUM_INTAKE_BATCH_SIZE > 1. */
  mode: "batched" | "unbatched";
  /** Page views answered 204 and handed to the queue path (sampled-out ones are not counted). */
  accepted: number;
  /** Page views the queue took. */
  sent: number;
  /** Accepted page views lost: their batch failed every retry (batched mode only). */
  failed: number;
  /** Accepted page views waiting in this isolate's buffer or in a send being retried. */
  pending: number;
  /** Beacons answered 503 because the awaited send failed (unbatched mode; not accepted). */
  refused: number;
  /** Queue calls that succeeded (`send` or `sendBatch`). */
  queueCalls: number;
  /** Retried `sendBatch` attempts. */
  retries: number;
}

export interface IntakeDeps {
  config: CollectorConfig;
  queue: PageViewQueue;
  pageGroupRules: readonly PageGroupRule[];
  now: () => number;
  /** null when `RUM_RATE_LIMIT=off`. */
  rateLimiter: RateLimiter | null;
  clientKeyer: ClientKeyer;
  /** Operational log (never receives IPs, UAs or payloads); default console.error. */
  logError?: (message: string) => void;
  /** Resolves after `ms` (batch timer and retry backoff); default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Retries of a failed `sendBatch` (default 3, backoff 100/200/400 ms). */
  batchRetries?: number;
}

export interface Intake {
  /** `waitUntil` of the request; without it the page view is sent unbatched (awaited). */
  beacon(request: Request, waitUntil?: WaitUntil | null): Promise<Response>;
  boomerang(request: Request, waitUntil?: WaitUntil | null): Promise<Response>;
  stats(): IntakeStats;
}

// 1×1 transparent GIF for boomerang image beacons.
const GIF = Uint8Array.from(atob("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"), (c) =>
  c.charCodeAt(0),
);

/** Builds the two intake handlers from their dependencies. */
export function createIntake(deps: IntakeDeps): Intake {
  const { config } = deps;
  const logError = deps.logError ?? ((m: string) => console.error(m));
  const { queue } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const retries = deps.batchRetries ?? 3;
  // One sender per intake, i.e. per isolate (the app is built once per isolate).
  // Messages are buffered as their JSON text (see the file comment).
  const sender: BatchSender<string> | null =
    config.intakeBatchSize > 1
      ? createNdjsonSender({
          send: (message) => queue.sendBatch([message]),
          sleep,
          maxBatchSize: config.intakeBatchSize,
          maxWaitMs: config.intakeBatchMs,
          retries,
          onDropped: (count, err) =>
            logError(
              `rum intake: dropped ${count} accepted page views after ${retries} retries: ${err instanceof Error ? err.message : String(err)}`,
            ),
        })
      : null;
  const direct = { accepted: 0, refused: 0 };

  async function rateLimited(request: Request, cors: Record<string, string>): Promise<Response | null> {
    if (deps.rateLimiter === null) return null;
    const now = deps.now();
    // Only the salted hash is kept; the IP string is dropped with the request.
    const key = await deps.clientKeyer.keyFor(request.headers.get("cf-connecting-ip") ?? "unknown", now);
    const decision = deps.rateLimiter.take(key, now);
    if (decision.ok) return null;
    return json(429, "rate limit exceeded for this client", {
      ...cors,
      "Retry-After": String(decision.retryAfterS),
    });
  }

  /** Samples, enriches and enqueues a validated beacon; `a.ok` is the success response. */
  async function accept(a: Acceptance): Promise<Response> {
    const { request, beacon, cors, ok, waitUntil } = a;
    if (!isSampledIn(beacon.pvid, config.sampleRate)) return ok();
    const message = toPageViewMessage(
      beacon,
      serverDimensions((request as { cf?: CfFacts }).cf, request.headers.get("user-agent")),
      deps.now(),
      {
        rules: deps.pageGroupRules,
        sampleRate: config.sampleRate,
        invalidFields: a.invalidFields ?? 0,
        conversionGroups: config.conversionGroups,
      },
    );
    if (sender !== null && waitUntil) {
      sender.add(JSON.stringify(message), waitUntil);
      return ok();
    }
    try {
      await queue.send(message);
    } catch (err) {
      direct.refused++;
      logError(`rum intake: queue send failed: ${err instanceof Error ? err.message : String(err)}`);
      return json(503, "queue unavailable, retry later", { ...cors, "Retry-After": "1" });
    }
    direct.accepted++;
    return ok();
  }

  /**
   * 400 for an unknown site; 403 when the request's Origin belongs to another site, when it has no
   * Origin and the site does not allow that (`RUM_NO_ORIGIN_SITES`), or when the page URL is not
   * on one of the site's registered origins.
   */
  function siteProblem(
    site: string,
    pageUrl: string,
    origin: OriginCheck,
    cors: Record<string, string>,
  ): Response | null {
    if (!config.sites.has(site)) return json(400, `unknown site ${JSON.stringify(site)}`, cors);
    const quoted = JSON.stringify(site);
    if (origin.kind === "registered" && origin.site !== site) {
      return json(403, `origin ${origin.origin} is not registered for site ${quoted}`, cors);
    }
    if (origin.kind === "absent" && !config.noOriginSites.has(site)) {
      return json(
        403,
        `beacons without an Origin header are not accepted for site ${quoted} (list it in RUM_NO_ORIGIN_SITES to allow server-side senders and image beacons)`,
        cors,
      );
    }
    const page = pageOrigin(pageUrl, config.siteByOrigin);
    if (page === null || config.siteByOrigin.get(page) !== site) {
      return json(
        403,
        `page URL origin ${page ?? "(none)"} is not one of the registered origins of site ${quoted} (RUM_SITES)`,
        cors,
      );
    }
    return null;
  }

  return {
    stats() {
      const s = sender?.stats();
      return {
        mode: sender === null ? "unbatched" : "batched",
        accepted: direct.accepted + (s?.accepted ?? 0),
        sent: direct.accepted + (s?.sent ?? 0),
        failed: s?.failed ?? 0,
        pending: s?.pending ?? 0,
        refused: direct.refused,
        queueCalls: direct.accepted + (s?.batches ?? 0),
        retries: s?.retries ?? 0,
      };
    },

    async beacon(request, waitUntil) {
      const origin = checkOrigin(request, config);
      if (origin.kind === "forbidden") return forbiddenOrigin(origin.origin);
      const cors = corsHeaders(origin);
      const method = request.method;
      if (method === "OPTIONS") {
        return new Response(null, { status: 204, headers: preflightHeaders(origin, "POST, OPTIONS") });
      }
      if (method !== "POST") {
        return json(405, `method ${method} not allowed (use POST)`, { ...cors, Allow: "POST, OPTIONS" });
      }
      if (deps.rateLimiter !== null) {
        const limited = await rateLimited(request, cors);
        if (limited) return limited;
      }
      const type = mediaType(request);
      if (type !== "application/json" && type !== "text/plain") {
        return json(
          415,
          `content type ${JSON.stringify(type)} not accepted (use application/json or text/plain)`,
          cors,
        );
      }
      const body = await readBodyLimited(request, MAX_BEACON_BYTES);
      if (!body.ok) return json(body.status, body.error, cors);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.text);
      } catch {
        return json(400, "body is not valid JSON", cors);
      }
      // The common well-formed beacon passes the cheap check; anything else goes to valibot,
      // which decides and gives the 400 reason (fast-beacon.ts).
      let beacon = fastValidBeacon(parsed);
      if (beacon === null) {
        const result = validateBeacon(parsed);
        if (!result.ok) return json(400, result.error, cors);
        beacon = result.beacon;
      }
      const problem = siteProblem(beacon.site, beacon.url, origin, cors);
      if (problem) return problem;
      return accept({
        request,
        beacon,
        cors,
        ok: () => new Response(null, { status: 204, headers: cors }),
        waitUntil,
      });
    },

    async boomerang(request, waitUntil) {
      const origin = checkOrigin(request, config);
      if (origin.kind === "forbidden") return forbiddenOrigin(origin.origin);
      const cors = corsHeaders(origin);
      const method = request.method;
      if (method === "OPTIONS") {
        return new Response(null, { status: 204, headers: preflightHeaders(origin, "GET, POST, OPTIONS") });
      }
      if (method !== "GET" && method !== "POST") {
        return json(405, `method ${method} not allowed (use GET or POST)`, {
          ...cors,
          Allow: "GET, POST, OPTIONS",
        });
      }
      const limited = await rateLimited(request, cors);
      if (limited) return limited;

      let params: URLSearchParams;
      if (method === "GET") {
        const url = request.url;
        const q = url.indexOf("?");
        if (q !== -1 && url.length - q > MAX_BEACON_BYTES) {
          return json(413, `query larger than ${MAX_BEACON_BYTES} bytes`, cors);
        }
        params = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
      } else {
        const type = mediaType(request);
        if (type !== "application/x-www-form-urlencoded" && type !== "text/plain") {
          return json(
            415,
            `content type ${JSON.stringify(type)} not accepted (use application/x-www-form-urlencoded)`,
            cors,
          );
        }
        const body = await readBodyLimited(request, MAX_BEACON_BYTES);
        if (!body.ok) return json(body.status, body.error, cors);
        params = new URLSearchParams(body.text);
      }

      const site = boomerangSite(params, origin, config);
      if (site === null) {
        return json(
          400,
          "unknown site: add site=<id> to the beacon URL (a site registered in RUM_SITES)",
          cors,
        );
      }
      // `pgu` is the page URL when `u` is not (boomerang's XHR/SPA beacons); see boomerang.ts.
      const pageUrl = params.get("pgu") || params.get("u");
      if (!pageUrl) return json(400, "boomerang: u: required field is missing", cors);
      const problem = siteProblem(site, pageUrl, origin, cors);
      if (problem) return problem;

      const ok =
        method === "GET"
          ? () =>
              new Response(GIF.slice(), {
                status: 200,
                headers: { ...cors, "Content-Type": "image/gif", "Cache-Control": "no-store" },
              })
          : () => new Response(null, { status: 204, headers: cors });
      const mapped = boomerangToBeacon(params, site);
      if (mapped.kind === "ignored") return ok();
      if (mapped.kind === "invalid") return json(400, `boomerang: ${mapped.error}`, cors);
      const result = validateBeacon(mapped.beacon);
      if (!result.ok) return json(400, `boomerang: ${result.error}`, cors);
      return accept({
        request,
        beacon: result.beacon,
        cors,
        ok,
        waitUntil,
        invalidFields: mapped.invalidFields,
      });
    },
  };
}

/** Site of a boomerang beacon: `site=` param, else the registered Origin, else the origin of `u`. */
function boomerangSite(params: URLSearchParams, origin: OriginCheck, config: CollectorConfig): string | null {
  const explicit = params.get("site");
  if (explicit !== null && explicit !== "") return explicit;
  if (origin.kind === "registered") return origin.site;
  const u = params.get("u");
  if (u === null || !URL.canParse(u)) return null;
  return config.siteByOrigin.get(new URL(u).origin) ?? null;
}

function mediaType(request: Request): string {
  const raw = request.headers.get("content-type");
  if (raw === null) return "";
  const semi = raw.indexOf(";");
  return (semi === -1 ? raw : raw.slice(0, semi)).trim().toLowerCase();
}

function forbiddenOrigin(origin: string): Response {
  // No CORS headers: the browser must not let the page read this either.
  return Response.json({ error: `origin ${origin} is not registered (see RUM_SITES)` }, { status: 403 });
}

function json(status: number, error: string, headers: Record<string, string>): Response {
  return Response.json({ error }, { status, headers });
}
