/**
 * The finish step of every proxied answer: Server-Timing (`cdn-cache`, `edge`, `origin`, `rid`,
 * forwarded origin entries), `X-Request-Id`, `Timing-Allow-Origin` (public cacheable answers
 * only), the page-view log (HTML 200 to GET, prefetches skipped) and the speculation hook.
 */
import type { CacheStatus } from "../../common/src/rum-types.ts";
import { formatDuration } from "../../common/src/server-timing.ts";
import type { RequestContext, SpeculationHook } from "./context.ts";
import type { EdgeLogger } from "./edge-log.ts";
import type { CachedMeta } from "./hot-cache.ts";
import { dropTargetedFields } from "./origin.ts";

const NO_BODY_STATUS = new Set([101, 204, 205, 304]);

/** The answer headers of a stored object, built once per object (see `servedHeaders`). */
interface ServedHeaders {
  h: Headers;
  /** The `Age` value `h` holds now (-1: none yet). */
  age: number;
}
const SERVED_HEADERS = new WeakMap<CachedMeta, ServedHeaders>();

/**
 * One `Headers` per stored object, reused by every answer served from it: the stored headers
 * (CDN-targeted cache fields and `Content-Length` removed) plus `Timing-Allow-Origin`, and the
 * last `Age` set. A HIT
 * only sets what changes (`Age` when the second turns, `Server-Timing`, `X-Request-Id`) and hands
 * it to `new Response`, which copies it: a response never sees a later request's values. On
 * workerd every header that crosses from JS into a Response costs far more than the JS around it,
 * so this keeps a HIT at two or three `set` calls.
 */
export function servedHeaders(meta: CachedMeta): ServedHeaders {
  let s = SERVED_HEADERS.get(meta);
  if (s === undefined) {
    const h = new Headers(meta.headers);
    dropTargetedFields(h);
    // The runtime sends the length of a byte body itself; one header fewer per HIT.
    h.delete("content-length");
    h.set("timing-allow-origin", "*");
    s = { h, age: -1 };
    SERVED_HEADERS.set(meta, s);
  }
  return s;
}

export interface Finisher {
  logger: EdgeLogger;
  now: () => number;
  speculation: SpeculationHook | null;
}

/** What the finish step needs besides the context. */
export interface Answer {
  status: number;
  h: Headers;
  body: BodyInit | null;
  /** HTML body (page-view log, speculation). */
  html: boolean;
  statusText?: string;
  /** `h` is a stored object's shared headers (already hold Timing-Allow-Origin, no targeted fields). */
  shared?: boolean;
}

/** Sets the edge's headers, logs the page view and builds the Response. */
export function finish(
  f: Finisher,
  ctx: RequestContext,
  cacheStatus: CacheStatus,
  a: Answer,
): Response | Promise<Response> {
  ctx.cacheStatus = cacheStatus;
  if (ctx.deadline !== null) {
    ctx.deadline.clear();
    ctx.deadline = null;
  }
  const edgeMs = performance.now() - ctx.t0;
  let st = `cdn-cache;desc=${cacheStatus}, edge;dur=${formatDuration(edgeMs)}`;
  if (ctx.originMs !== null) st += `, origin;dur=${formatDuration(ctx.originMs)}`;
  st += `, rid;desc=${ctx.rid}`;
  if (ctx.forward) st += `, ${ctx.forward}`;
  const h = a.h;
  h.set("server-timing", st);
  h.set("x-request-id", ctx.rid);
  if (a.shared !== true) {
    if (ctx.publicCacheable) h.set("timing-allow-origin", "*");
    else h.delete("timing-allow-origin");
  }
  const status = a.status;
  const method = ctx.method;
  const pageView = a.html && status === 200 && method === "GET";
  // A prefetch is not a page view (the header is read only when a log is kept).
  if (pageView && f.logger.queue !== null && !ctx.prefetch) {
    f.logger.log(
      {
        rid: ctx.rid,
        path: ctx.path,
        status,
        cacheStatus,
        edgeMs,
        originMs: ctx.originMs,
        appMs: ctx.appMs,
        request: ctx.request,
        ts: Number.isNaN(ctx.now) ? f.now() : ctx.now,
      },
      ctx.exec,
    );
  }
  const init: ResponseInit = { status, headers: h };
  if (a.statusText) init.statusText = a.statusText;
  let res: Response;
  if (NO_BODY_STATUS.has(status) || method === "HEAD") {
    if (a.body instanceof ReadableStream) a.body.cancel().catch(() => {});
    res = new Response(null, init);
  } else res = new Response(a.body, init);
  if (pageView && ctx.publicCacheable && f.speculation !== null) return f.speculation.onHtml(ctx, res);
  return res;
}
