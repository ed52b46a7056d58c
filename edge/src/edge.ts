/**
 * The edge CDN layer: a caching reverse proxy in front of ORIGIN_URL. This file routes a request
 * (bypass or cacheable), looks it up in the cache tiers (tiers.ts) and serves stored objects;
 * misses and refreshes are in fill.ts, the origin client in origin.ts, storing in store.ts,
 * purge in purge.ts, the finish step in finish.ts. Every step takes the per-request context
 * (context.ts). The HIT path does no KV/Cache API I/O, parses the URL once and builds one
 * Headers object.
 */

import { parseAge } from "../../common/src/cache-control.ts";
import { normalizeQuery } from "../../common/src/cache-key.ts";
import { normalizePath } from "../../common/src/http-cache/path.ts";
import { hasMatchingCookie } from "../../common/src/http-cache/request-policy.ts";
import { jsonError } from "../../common/src/http-response.ts";
import type { CacheStatus } from "../../common/src/rum-types.ts";
import { Inflight } from "./collapse.ts";
import { type EdgeConfig, ruleFor } from "./config.ts";
import { RequestContext, type SpeculationHook } from "./context.ts";
import { EdgeLogger, type LogQueue, memoisedPageGroup } from "./edge-log.ts";
import { miss, revalidate } from "./fill.ts";
import { type Finisher, finish, servedHeaders } from "./finish.ts";
import { type CachedMeta, HotCache } from "./hot-cache.ts";
import { isNotModified, NOT_MODIFIED_HEADERS } from "./http.ts";
import { type FetchFn, idleDeadline, OriginClient } from "./origin.ts";
import { invalidateAfterUnsafe, purgeEverything, purgeTags, purgeUrls } from "./purge.ts";
import { PurgeState, type PurgeWriter } from "./purge-state.ts";
import { isHtml, pageTags } from "./rum-inject.ts";
import { injectPage, STALLED, wantsBeacon } from "./store.ts";
import { TagIndex } from "./tag-index.ts";
import { type CachedBody, CacheTiers, cancelBody, freshness } from "./tiers.ts";
import { urlParts } from "./url-parts.ts";

/** Injected dependencies; everything but `config` has a production default. */
export interface EdgeDeps {
  config: EdgeConfig;
  /** KV for purge times + tag index (binding EDGE_KV); null = purges stay in this isolate, no tags. */
  kv?: KVNamespace | null;
  /** Single writer of the purge document in KV (binding PURGE_COORDINATOR); default none (direct writes). */
  purgeWriter?: PurgeWriter | null;
  /** RUM queue (binding RUM_QUEUE); null = no page-view log. */
  queue?: LogQueue | null;
  /** Second tier; default `caches.default` (resolved lazily, per request). */
  cache?: Cache | null;
  /** Wall clock in ms (freshness, Age, purge times); default Date.now. */
  now?: () => number;
  /** Origin fetch; default global fetch. */
  fetch?: FetchFn;
  /** Adds headers to 200 HTML answers from the origin (e.g. `Accept-CH`); stored with them. */
  htmlHeaders?: ((h: Headers) => void) | null;
  /** Speculation step for public, cacheable HTML (edge/src/prefetch/); default none. */
  speculation?: SpeculationHook | null;
  /**
   * Extra request headers this edge forwards on cacheable requests (lower-case), for an edge
   * whose requests come from a trusted wrapper (the image route's variant cache); default none.
   */
  forwardHeaders?: readonly string[];
}

/**
 * True when a conditional request may be answered 304 from this stored 200. Without a stored
 * validator no condition can match, so the request headers are not read at all.
 */
export function answersNotModified(request: Request, meta: CachedMeta): boolean {
  if (meta.status !== 200 || (meta.etag === null && meta.lastModified === null)) return false;
  return isNotModified(request.headers, meta.etag, meta.lastModified);
}

export class Edge implements Finisher {
  config: EdgeConfig;
  hot: HotCache;
  purge: PurgeState;
  tiers: CacheTiers;
  tags: TagIndex;
  origin: OriginClient;
  logger: EdgeLogger;
  now: () => number;
  htmlHeaders: ((h: Headers) => void) | null;
  speculation: SpeculationHook | null;
  inflight: Inflight;
  /** Keys whose last origin response was not storable → until when to skip lookup/collapsing (ms). */
  hitForPass = new Map<string, number>();
  /** Per URL key, the variant ids stored in this isolate. */
  variants = new Map<string, Set<string>>();
  /** Bumped by every purge: a store that started before a purge must not re-insert. */
  purgeEpoch = 0;
  doFetch: FetchFn;
  ridPrefix = "";
  ridCounter = 0;

  constructor(deps: EdgeDeps) {
    const config = deps.config;
    this.config = config;
    this.hot = new HotCache(config.hotCacheBytes, config.hotCacheMaxObjectBytes);
    this.purge = new PurgeState(
      deps.kv ?? null,
      config.purgeCheckSeconds,
      config.purgeReadTimeoutMs,
      deps.purgeWriter ?? null,
    );
    this.tiers = new CacheTiers(this.hot, this.purge, deps.cache);
    this.tags = new TagIndex(deps.kv ?? null);
    this.doFetch = deps.fetch ?? ((req, init) => fetch(req, init));
    this.origin = new OriginClient(config, this.doFetch, deps.forwardHeaders ?? []);
    this.logger = new EdgeLogger(
      config.edgeLog ? (deps.queue ?? null) : null,
      config.rumSiteId,
      config.logFlushMs,
      memoisedPageGroup(config.pageGroupRules),
      config.logCountry,
    );
    this.now = deps.now ?? Date.now;
    this.htmlHeaders = deps.htmlHeaders ?? null;
    this.speculation = deps.speculation ?? null;
    this.inflight = new Inflight(config.originTimeoutMs + config.originBodyTimeoutMs);
  }

  /** Request id: random per-isolate prefix + counter (cheaper than a UUID per request). */
  nextRid(): string {
    if (this.ridPrefix === "") {
      const b = new Uint8Array(6);
      crypto.getRandomValues(b);
      this.ridPrefix = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    }
    return `${this.ridPrefix}-${(this.ridCounter++).toString(36)}`;
  }

  /**
   * Proxies one request. Never throws: a fault becomes a generic 500 (details in the log line).
   * A hot-cache HIT returns a Response synchronously (no promise hops on the fastest path).
   */
  serve(request: Request, exec: ExecutionContext, url = request.url): Response | Promise<Response> {
    const t0 = performance.now();
    const rid = this.nextRid();
    try {
      const r = this.route(request, exec, t0, rid, url);
      return r instanceof Response ? r : r.catch((e: unknown) => this.failure(request, exec, e, t0, rid));
    } catch (e) {
      return this.failure(request, exec, e, t0, rid);
    }
  }

  /** `serve` as a promise (for callers that want one API shape). */
  async handle(request: Request, exec: ExecutionContext): Promise<Response> {
    return this.serve(request, exec);
  }

  failure(request: Request, exec: ExecutionContext, e: unknown, t0: number, rid: string): Response {
    console.error(
      `edge: internal error rid=${rid} ${request.method} ${request.url}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
    );
    const res = jsonError(500, "internal error");
    const ctx = new RequestContext(request, urlParts(request.url), "/", undefined, exec, rid, t0);
    return finish(this, ctx, "BYPASS", {
      status: 500,
      h: new Headers(res.headers),
      body: res.body,
      html: false,
    }) as Response;
  }

  route(
    request: Request,
    exec: ExecutionContext,
    t0: number,
    rid: string,
    rawUrl: string,
  ): Response | Promise<Response> {
    const url = urlParts(rawUrl);
    const norm = normalizePath(url.pathname);
    if (!norm.ok) {
      const ctx = new RequestContext(request, url, url.pathname, undefined, exec, rid, t0);
      const res = jsonError(400, norm.reason);
      return finish(this, ctx, "BYPASS", {
        status: 400,
        h: new Headers(res.headers),
        body: res.body,
        html: false,
      });
    }
    const rule = this.config.rules.length === 0 ? undefined : ruleFor(this.config, norm.path);
    const ctx = new RequestContext(request, url, norm.path, rule, exec, rid, t0);
    if (this.speculation !== null) {
      const own = this.speculation.handles(ctx);
      if (own !== null) return own;
    }
    const method = ctx.method;
    const h = request.headers;
    if (
      (method !== "GET" && method !== "HEAD") ||
      rule?.bypass === true ||
      h.has("authorization") ||
      hasMatchingCookie(h.get("cookie"), this.config.bypassCookies) ||
      h.has("range") ||
      h.has("upgrade")
    ) {
      return this.pass(ctx);
    }
    const now = this.now();
    ctx.now = now;
    ctx.nq = url.search ? normalizeQuery(url.search, this.config.marketingMatcher) : "";
    ctx.key = `${url.protocol}//${url.host}${norm.path}${ctx.nq}`;
    const wait = this.purge.ready(now, exec);
    if (wait !== null) return wait.then(() => this.lookup(ctx));
    return this.lookup(ctx);
  }

  /** Hot tier synchronously; otherwise hit-for-pass, the Cache API tier and the origin. */
  lookup(ctx: RequestContext): Response | Promise<Response> {
    const hot = this.tiers.hotFind(ctx);
    if (hot !== undefined) return this.serveFound(ctx, { meta: hot, body: hot.body });
    const passUntil = this.hitForPass.get(ctx.key);
    if (passUntil !== undefined) {
      // Recently not storable: skip the Cache API lookup and collapsing (Varnish's hit-for-pass).
      if (ctx.now < passUntil) return miss(this, ctx, null, false);
      this.hitForPass.delete(ctx.key);
    }
    return this.tiers
      .apiFind(ctx)
      .then((found) => (found === null ? miss(this, ctx, null) : this.serveFound(ctx, found)));
  }

  /** One decision for a stored object from either tier: HIT, STALE (refresh in background) or refresh now. */
  serveFound(ctx: RequestContext, c: { meta: CachedMeta; body: CachedBody }): Response | Promise<Response> {
    const f = freshness(c.meta, ctx.now);
    if (f === "HIT") return this.serveCached(ctx, c.meta, c.body, "HIT");
    if (f === "STALE") {
      revalidate(this, ctx, c);
      return this.serveCached(ctx, c.meta, c.body, "STALE");
    }
    return miss(this, ctx, c);
  }

  /** Answers from a stored object (304 when the request's condition matches). */
  serveCached(
    ctx: RequestContext,
    meta: CachedMeta,
    body: CachedBody,
    status: CacheStatus,
    now = ctx.now,
  ): Response {
    ctx.publicCacheable = true;
    ctx.stored = meta;
    const age = Math.max(0, Math.floor(meta.initialAge + (now - meta.storedAt) / 1000));
    if (answersNotModified(ctx.request, meta)) {
      cancelBody(body);
      const h = new Headers();
      for (const [k, v] of meta.headers) if (NOT_MODIFIED_HEADERS.has(k)) h.append(k, v);
      h.set("age", String(age));
      return finish(this, ctx, status, { status: 304, h, body: null, html: false }) as Response;
    }
    const served = servedHeaders(meta);
    if (served.age !== age) {
      served.h.set("age", String(age));
      served.age = age;
    }
    if (ctx.method === "HEAD") {
      // HEAD: the stored length, on a copy (the shared headers leave it to the runtime).
      cancelBody(body);
      const h = new Headers(served.h);
      const len = meta.headers.find(([k]) => k === "content-length");
      if (len !== undefined) h.set("content-length", len[1]);
      return finish(this, ctx, status, {
        status: meta.status,
        h,
        body: null,
        html: meta.html,
        shared: true,
      }) as Response;
    }
    const b = body instanceof Response ? body.body : body;
    const a = { status: meta.status, h: served.h, body: b, html: meta.html, shared: true };
    return finish(this, ctx, status, a) as Response;
  }

  /** Bypass: straight to the origin, nothing stored (beacon still injected into HTML). */
  async pass(ctx: RequestContext): Promise<Response> {
    const request = ctx.request;
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      // WebSocket upgrades go through untouched (the runtime pipes the socket).
      return this.doFetch(new Request(this.config.originBase + ctx.path + ctx.url.search, request));
    }
    // Uploads (non-GET/HEAD) may legitimately take longer than the time-to-headers limit.
    const limited = ctx.method === "GET" || ctx.method === "HEAD";
    const o = await this.origin.fetch(this.origin.request(ctx, false), limited);
    if (o.res === null) return this.originFailure(ctx, o.error, o.ms, "BYPASS");
    ctx.originMs = o.ms;
    ctx.deadline = o.deadline ?? null;
    const res = o.res;
    const { h, raw } = this.origin.clientHeaders(res, ctx);
    h.set("age", String(parseAge(raw.get("age"))));
    let body: BodyInit | null = res.body;
    const html = isHtml(raw.get("content-type") ?? null);
    if (html && res.status === 200 && this.htmlHeaders !== null && limited) this.htmlHeaders(h);
    const tags =
      body !== null && html && ctx.method === "GET"
        ? pageTags(res, wantsBeacon(this.config, ctx, res.status) ? this.config.rumBeaconSrc : null)
        : [];
    const ms = this.config.originBodyTimeoutMs;
    if (tags.length > 0) {
      // The page is read within the body deadline (an origin that stalls mid-page gets a 504).
      const injected = await injectPage(ctx, res, tags, ms);
      if (injected === STALLED) {
        cancelBody(res.body ?? undefined);
        return this.originFailure(ctx, "body-stalled", o.ms, "BYPASS");
      }
      body = injected;
      h.delete("content-length");
    } else if (
      res.body !== null &&
      limited &&
      !raw.get("content-type")?.toLowerCase().startsWith("text/event-stream")
    )
      body = idleDeadline(res.body, ms);
    if (res.status < 400) invalidateAfterUnsafe(this, ctx, raw);
    return finish(this, ctx, "BYPASS", { status: res.status, h, body, html, statusText: res.statusText });
  }

  /** Origin unreachable or too slow: a generic 502/504 (the reason goes to the log). */
  originFailure(
    ctx: RequestContext,
    error: "timeout" | "body-stalled" | "network" | null,
    ms: number,
    status: CacheStatus,
  ): Response {
    const timeout = error === "timeout" || error === "body-stalled";
    const why =
      error === "body-stalled"
        ? `body stalled (no data for ${this.config.originBodyTimeoutMs} ms)`
        : timeout
          ? `timed out after ${this.config.originTimeoutMs} ms`
          : "unreachable";
    console.warn(`edge: origin ${why} rid=${ctx.rid} ${ctx.method} ${ctx.path}`);
    const res = timeout ? jsonError(504, "origin timeout") : jsonError(502, "origin unreachable");
    ctx.originMs = ms;
    ctx.publicCacheable = false;
    return finish(this, ctx, status, {
      status: res.status,
      h: new Headers(res.headers),
      body: res.body,
      html: false,
    }) as Response;
  }

  /** Remembers that a key was not storable, for EDGE_HIT_FOR_PASS_SECONDS (bounded map). */
  rememberPass(key: string, now: number): void {
    if (this.config.hitForPassSeconds === 0) return;
    if (this.hitForPass.size >= 10_000) this.hitForPass.clear();
    this.hitForPass.set(key, now + this.config.hitForPassSeconds * 1000);
  }

  purgeUrls(urls: readonly URL[]): Promise<number> {
    return purgeUrls(this, urls);
  }

  purgeTags(tags: readonly string[]): Promise<number> {
    return purgeTags(this, tags);
  }

  purgeEverything(): Promise<number> {
    return purgeEverything(this);
  }
}
