/**
 * The per-request context: everything the edge knows about one request, created once when it
 * arrives and passed (instead of long parameter lists) through lookup, origin, storing and the
 * finish step. The speculation hook (`EdgeDeps.speculation`) receives it too.
 */
import { isPrefetchPurpose } from "../../common/src/http-cache/request-policy.ts";
import type { CacheStatus } from "../../common/src/rum-types.ts";
import type { PathRule } from "./config.ts";
import type { OriginDeadline } from "./deadline.ts";
import type { UrlParts } from "./url-parts.ts";

export class RequestContext {
  readonly request: Request;
  /** The request URL's parts as received. */
  readonly url: UrlParts;
  /** The normalised path (common/src/http-cache/path.ts): what rules, keys and the origin see. */
  readonly path: string;
  /** `request.method`, read once. */
  readonly method: string;
  /** The first matching path rule (case-insensitive unless EDGE_RULES_CASE_SENSITIVE). */
  readonly rule: PathRule | undefined;
  readonly exec: ExecutionContext;
  /** `performance.now()` at arrival (edge duration). */
  readonly t0: number;
  /** Request id (Server-Timing `rid`, `X-Request-Id`, sent to the origin). */
  readonly rid: string;
  /** Wall clock at arrival (ms since the epoch); NaN until a cacheable lookup reads it. */
  now = Number.NaN;
  /** Normalised query ("" or "?…", marketing parameters dropped, sorted). */
  nq = "";
  /** URL cache key (`scheme://host/path?query`); "" for requests that bypass the cache. */
  key = "";
  /** How the response was produced (Server-Timing `cdn-cache`). */
  cacheStatus: CacheStatus = "MISS";
  /** Origin time to first byte, ms (null: the origin was not asked). */
  originMs: number | null = null;
  /** The origin's own `app` Server-Timing duration, ms. */
  appMs: number | null = null;
  /** Origin Server-Timing entries to forward (formatted), "" when none. */
  forward = "";
  /** The origin exchange's timer (deadline.ts) while a body read may still use it; finish clears it. */
  deadline: OriginDeadline | null = null;
  /** True when the response is a public, cacheable one (stored or served from storage). */
  publicCacheable = false;
  /** The stored object served (HIT/STALE), null otherwise: identity for facts memoised per stored object. */
  stored: object | null = null;
  private purposeValue: string | null | undefined = undefined;
  private prefetchFlag: boolean | null = null;

  constructor(
    request: Request,
    url: UrlParts,
    path: string,
    rule: PathRule | undefined,
    exec: ExecutionContext,
    rid: string,
    t0: number,
  ) {
    this.request = request;
    this.url = url;
    this.path = path;
    this.method = request.method;
    this.rule = rule;
    this.exec = exec;
    this.rid = rid;
    this.t0 = t0;
  }

  /** `Sec-Purpose`, else the legacy `Purpose` (null when neither is sent); read on first use, once. */
  get purpose(): string | null {
    if (this.purposeValue === undefined) {
      const h = this.request.headers;
      this.purposeValue = h.get("sec-purpose") ?? h.get("purpose");
    }
    return this.purposeValue;
  }

  /** True when the request is a prefetch (`Sec-Purpose: prefetch` or `Purpose: prefetch`); read on first use. */
  get prefetch(): boolean {
    if (this.prefetchFlag === null) this.prefetchFlag = isPrefetchPurpose(this.purpose, null);
    return this.prefetchFlag;
  }
}

/** Optional speculation step (edge/src/prefetch/): sees public, cacheable HTML answers. */
export interface SpeculationHook {
  /** Answers a request itself (e.g. a speculation-rules resource), or null to let the edge serve it. */
  handles(ctx: RequestContext): Response | null;
  /** Called with each public, cacheable 200 HTML answer to GET; returns the answer to send. */
  onHtml(ctx: RequestContext, response: Response): Response | Promise<Response>;
  /** Path prefix (e.g. `/_edge/prefetch/`) whose requests `route` answers, before the admin routes. */
  routePrefix?: string;
  route?(request: Request, url: string, exec: ExecutionContext): Response | Promise<Response>;
  /** Sees every proxied answer once it exists (a synchronous HIT stays synchronous). */
  observe?(request: Request, response: Response, url: string, exec: ExecutionContext): void;
}
