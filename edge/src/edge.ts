/**
 * The edge CDN layer: caching reverse proxy in front of ORIGIN_URL with two cache tiers (the
 * in-isolate hot-object cache, then `caches.default`), stale-while-revalidate, stale-if-error,
 * request collapsing, conditional answers, purge, RUM beacon injection and the page-view log.
 * The HIT path does no KV/D1 I/O, parses the URL once and builds one Headers object.
 */

import { parseAge } from "../../common/src/cache-control.ts";
import { normalizeQuery } from "../../common/src/cache-key.ts";
import { isSpeculativeRequest } from "../../common/src/prefetch/safety.ts";
import type { CacheStatus } from "../../common/src/rum-types.ts";
import { formatDuration, formatServerTiming, parseServerTiming } from "../../common/src/server-timing.ts";
import { cacheApiRequest, metaFromCacheApi, toCacheApiResponse } from "./cache-api.ts";
import { type EdgeConfig, type PathRule, ruleFor } from "./config.ts";
import { EdgeLogger, type LogQueue, memoisedPageGroup } from "./edge-log.ts";
import { type CachedMeta, entrySize, HotCache, type HotEntry } from "./hot-cache.ts";
import {
  dropHopByHop,
  isNotModified,
  isPersonal,
  jsonError,
  NOT_MODIFIED_HEADERS,
  responseTags,
} from "./http.ts";
import { PurgeState, TagIndex } from "./purge-state.ts";
import { beaconBody, isHtml } from "./rum-inject.ts";
import { decideStore, type StoreDecision } from "./store-policy.ts";
import { type UrlParts, urlParts } from "./url-parts.ts";

/** An origin body ready to serve: a stream, or bytes when the beacon was injected in memory. */
type PreparedBody = ReadableStream | Uint8Array | null;
/** Injected dependencies; everything but `config` has a production default. */
export interface EdgeDeps {
  config: EdgeConfig;
  /** KV for purge state + tag index (binding EDGE_KV); null = no cross-isolate purge, no tags. */
  kv?: KVNamespace | null;
  /** RUM queue (binding RUM_QUEUE); null = no page-view log. */
  queue?: LogQueue | null;
  /** Second tier; default `caches.default` (resolved lazily, per request). */
  cache?: Cache | null;
  /** Wall clock in ms (freshness, Age); default Date.now. */
  now?: () => number;
  /** Origin fetch; default global fetch. */
  fetch?: (req: Request, init?: RequestInit) => Promise<Response>;
  /** Adds headers to 200 HTML answers to GET/HEAD from the origin (e.g. `Accept-CH`); stored with them. */
  htmlHeaders?: ((h: Headers) => void) | null;
}

/** Body of a cached object as a tier returns it: bytes (hot) or the Cache API response (large objects). */
type CachedBody = ArrayBuffer | Response | null;

interface Candidate {
  meta: CachedMeta;
  body: CachedBody;
}

/** What a collapsed miss shares with the requests that waited on it. */
type Shared =
  | { kind: "stored"; meta: CachedMeta; body: ArrayBuffer; originMs: number; appMs: number | null }
  | { kind: "error" }
  | { kind: "pass" };

interface OriginResult {
  res: Response | null;
  error: "timeout" | "network" | null;
  ms: number;
}

interface Timing {
  t0: number;
  rid: string;
  /** The request's method, read once (each read of `request.method` calls into the runtime). */
  method: string;
  /** Arrival time (ms since the epoch) when the caller had it; NaN: the page-view log reads the clock. */
  ts: number;
  originMs: number | null;
  appMs: number | null;
  /** Origin Server-Timing entries to forward (already formatted), "" when none. */
  forward: string;
}

/** Buffer bodies up to this size for collapsed waiters; larger ones stream into the Cache API. */
const MAX_BUFFER_BYTES = 8 * 1024 * 1024;
const RESERVED_TIMING = new Set(["cdn-cache", "edge", "origin", "rid"]);
const NO_BODY_STATUS = new Set([101, 204, 205, 304]);
/** Placeholder until a miss installs its collapsing resolver (module-level: no closure per request). */
const NO_SETTLE = (_s: Shared): void => {};

/** The answer headers of a stored object, built once per object (see `servedHeaders`). */
interface ServedHeaders {
  h: Headers;
  /** The `Age` value `h` holds now. */
  age: string;
}
const SERVED_HEADERS = new WeakMap<CachedMeta, ServedHeaders>();

/**
 * One `Headers` per stored object, reused by every answer served from it: the stored client
 * headers plus `Timing-Allow-Origin`, and the last `Age` set. A HIT only sets what changes
 * (`Age` when the second turns, `Server-Timing`, `X-Request-Id`) and hands it to `new Response`,
 * which copies it: a response never sees a later request's values. On workerd every header that
 * crosses from JS into a Response costs far more than the JS around it (a record of N headers is
 * converted name by name), so this keeps a HIT at two or three `set` calls.
 */
export function servedHeaders(meta: CachedMeta): ServedHeaders {
  let s = SERVED_HEADERS.get(meta);
  if (s === undefined) {
    const h = new Headers(meta.headers);
    h.set("timing-allow-origin", "*");
    s = { h, age: "" };
    SERVED_HEADERS.set(meta, s);
  }
  return s;
}

/**
 * True when a conditional request may be answered 304 from this stored 200. Without a stored
 * validator no condition can match (`isNotModified`), so the request headers are not read at all:
 * each header lookup crosses into the runtime and costs about as much as a few hundred lines of
 * plain JS on the HIT path.
 */
function answersNotModified(request: Request, meta: CachedMeta): boolean {
  if (meta.status !== 200 || (meta.etag === null && meta.lastModified === null)) return false;
  return isNotModified(request.headers, meta.etag, meta.lastModified);
}

function cancelBody(b: CachedBody | ReadableStream | undefined): void {
  try {
    if (b instanceof Response) b.body?.cancel().catch(() => {});
    else if (b instanceof ReadableStream) b.cancel().catch(() => {});
  } catch {
    // Already consumed or locked.
  }
}

/** The stale candidate when it can be refreshed conditionally (a 200 with validators whose bytes are in memory). */
function revalidatable(c: Candidate | null): (Candidate & { body: ArrayBuffer }) | null {
  if (c === null || c.meta.status !== 200 || !(c.body instanceof ArrayBuffer)) return null;
  if (c.meta.etag === null && c.meta.lastModified === null) return null;
  return c as Candidate & { body: ArrayBuffer };
}

/** Reads a stream into one ArrayBuffer, or null (stream cancelled) once it exceeds `max` bytes. */
async function readBounded(stream: ReadableStream, max: number): Promise<ArrayBuffer | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
    n += chunk.byteLength;
    if (n > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out.buffer;
}

export class Edge {
  config: EdgeConfig;
  hot: HotCache;
  purge: PurgeState;
  tags: TagIndex;
  logger: EdgeLogger;
  now: () => number;
  doFetch: (req: Request, init?: RequestInit) => Promise<Response>;
  htmlHeaders: ((h: Headers) => void) | null;
  cacheOverride: Cache | null | undefined;
  inflight = new Map<string, Promise<Shared>>();
  /** Keys whose last origin response was not storable → until when to skip lookup/collapsing (ms). */
  hitForPass = new Map<string, number>();
  /** Bumped by every purge: a store that started before a purge must not re-insert. */
  purgeEpoch = 0;
  ridPrefix = "";
  ridCounter = 0;

  constructor(deps: EdgeDeps) {
    this.config = deps.config;
    this.hot = new HotCache(deps.config.hotCacheBytes, deps.config.hotCacheMaxObjectBytes);
    this.purge = new PurgeState(deps.kv ?? null, deps.config.purgeCheckSeconds, () => {
      this.hot.clear();
      this.purgeEpoch++;
    });
    this.tags = new TagIndex(deps.kv ?? null);
    this.logger = new EdgeLogger(
      deps.config.edgeLog ? (deps.queue ?? null) : null,
      deps.config.rumSiteId,
      deps.config.logFlushMs,
      memoisedPageGroup(deps.config.pageGroupRules),
      deps.config.logCountry,
    );
    this.now = deps.now ?? Date.now;
    this.doFetch = deps.fetch ?? ((req, init) => fetch(req, init));
    this.htmlHeaders = deps.htmlHeaders ?? null;
    this.cacheOverride = deps.cache;
  }

  get cache(): Cache | null {
    if (this.cacheOverride !== undefined) return this.cacheOverride;
    return typeof caches === "undefined" ? null : caches.default;
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
   * Proxies one request (not `/_edge/*`). Never throws: failures become 502/504 with a reason.
   * A hot-cache HIT returns a Response synchronously (no promise hops on the fastest path).
   */
  serve(request: Request, ctx: ExecutionContext, url = request.url): Response | Promise<Response> {
    const t0 = performance.now();
    const rid = this.nextRid();
    try {
      const r = this.route(request, ctx, t0, rid, url);
      return r instanceof Response ? r : r.catch((e: unknown) => this.failure(request, e, t0, rid, ctx));
    } catch (e) {
      return this.failure(request, e, t0, rid, ctx);
    }
  }

  /** `serve` as a promise (for callers that want one API shape). */
  async handle(request: Request, ctx: ExecutionContext): Promise<Response> {
    return this.serve(request, ctx);
  }

  failure(request: Request, e: unknown, t0: number, rid: string, ctx: ExecutionContext): Response {
    const res = jsonError(502, `edge error: ${e instanceof Error ? e.message : String(e)}`);
    return this.finish(
      request,
      res.status,
      new Headers(res.headers),
      res.body,
      "BYPASS",
      this.timing(t0, rid, request.method),
      ctx,
      null,
    );
  }

  timing(t0: number, rid: string, method: string, ts = Number.NaN): Timing {
    return { t0, rid, method, ts, originMs: null, appMs: null, forward: "" };
  }

  route(
    request: Request,
    ctx: ExecutionContext,
    t0: number,
    rid: string,
    rawUrl: string,
  ): Response | Promise<Response> {
    // String slicing, not a URL parse per request (request.url is already normalised).
    const url = urlParts(rawUrl);
    const method = request.method;
    const rule = this.config.rules.length === 0 ? undefined : ruleFor(this.config, url.pathname);
    const h = request.headers;
    if (
      (method !== "GET" && method !== "HEAD") ||
      rule?.bypass === true ||
      isPersonal(h, this.config.bypassCookies) ||
      h.has("range") ||
      h.has("upgrade")
    ) {
      return this.pass(request, url, rule, t0, rid, ctx);
    }
    const now = this.now();
    const wait = this.purge.ready(now, ctx);
    if (wait !== null) return wait.then(() => this.lookup(request, method, url, rule, now, t0, rid, ctx));
    return this.lookup(request, method, url, rule, now, t0, rid, ctx);
  }

  /** Hot tier synchronously; otherwise the Cache API tier and the origin. */
  lookup(
    request: Request,
    method: string,
    url: UrlParts,
    rule: PathRule | undefined,
    now: number,
    t0: number,
    rid: string,
    ctx: ExecutionContext,
  ): Response | Promise<Response> {
    const nq = url.search ? normalizeQuery(url.search, this.config.marketingMatcher) : "";
    const key = this.keyFor(url, nq, rule, request);
    const hot = this.hot.get(key);
    if (hot !== undefined) {
      if (now < hot.freshUntil)
        return this.serveCached(
          request,
          url,
          hot,
          hot.body,
          "HIT",
          now,
          this.timing(t0, rid, method, now),
          ctx,
        );
      if (now < hot.swrUntil) {
        this.revalidate(request, url, nq, rule, key, ctx, { meta: hot, body: hot.body });
        return this.serveCached(
          request,
          url,
          hot,
          hot.body,
          "STALE",
          now,
          this.timing(t0, rid, method, now),
          ctx,
        );
      }
      return this.miss(request, url, nq, rule, key, { meta: hot, body: hot.body }, t0, rid, ctx);
    }
    const passUntil = this.hitForPass.get(key);
    if (passUntil !== undefined) {
      // Recently not storable: skip the Cache API lookup and collapsing (Varnish's hit-for-pass).
      if (now < passUntil) return this.miss(request, url, nq, rule, key, null, t0, rid, ctx, false);
      this.hitForPass.delete(key);
    }
    return this.lookupSlow(request, method, url, nq, rule, key, now, t0, rid, ctx);
  }

  async lookupSlow(
    request: Request,
    method: string,
    url: UrlParts,
    nq: string,
    rule: PathRule | undefined,
    key: string,
    now: number,
    t0: number,
    rid: string,
    ctx: ExecutionContext,
  ): Promise<Response> {
    const found = await this.lookupCacheApi(key);
    if (found === null) return this.miss(request, url, nq, rule, key, null, t0, rid, ctx);
    if (now < found.meta.freshUntil) {
      return this.serveCached(
        request,
        url,
        found.meta,
        found.body,
        "HIT",
        now,
        this.timing(t0, rid, method, now),
        ctx,
      );
    }
    if (now < found.meta.swrUntil) {
      this.revalidate(request, url, nq, rule, key, ctx, found);
      return this.serveCached(
        request,
        url,
        found.meta,
        found.body,
        "STALE",
        now,
        this.timing(t0, rid, method, now),
        ctx,
      );
    }
    return this.miss(request, url, nq, rule, key, found, t0, rid, ctx);
  }

  /**
   * Key: normalised URL; the purge generation and `keyHeaders` values are appended as a marker
   * parameter. The request's headers are read only for `keyHeaders`.
   */
  keyFor(url: UrlParts, nq: string, rule: PathRule | undefined, request: { headers: Headers }): string {
    const base = `${url.protocol}//${url.host}${url.pathname}${nq}`;
    const gen = this.purge.gen ?? 0;
    if (gen === 0 && (rule === undefined || rule.keyHeaders.length === 0)) return base;
    let marker = `__edge=g${gen}`;
    if (rule !== undefined && rule.keyHeaders.length > 0) {
      const h = request.headers;
      for (const name of rule.keyHeaders) {
        marker += `&__edge_${name}=${encodeURIComponent((h.get(name) ?? "").trim().toLowerCase())}`;
      }
    }
    return `${base}${nq ? "&" : "?"}${marker}`;
  }

  /** Looks the key up in `caches.default`; small bodies are read and promoted to the hot cache. */
  async lookupCacheApi(key: string): Promise<Candidate | null> {
    const cache = this.cache;
    if (cache === null) return null;
    let res: Response | undefined;
    try {
      res = await cache.match(cacheApiRequest(key));
    } catch {
      return null;
    }
    if (!res) return null;
    const meta = metaFromCacheApi(res, key);
    if (meta === null) {
      cancelBody(res);
      return null;
    }
    const len = Number(res.headers.get("content-length") ?? Number.NaN);
    if (!Number.isNaN(len) && !this.hot.fits(len)) return { meta, body: res };
    const body = await res.arrayBuffer();
    const entry: HotEntry = { ...meta, body, size: entrySize(meta, body.byteLength) };
    this.hot.set(entry);
    return { meta, body };
  }

  serveCached(
    request: Request,
    url: UrlParts,
    meta: CachedMeta,
    body: CachedBody,
    status: CacheStatus,
    now: number,
    t: Timing,
    ctx: ExecutionContext,
  ): Response {
    const age = Math.max(0, Math.floor(meta.initialAge + (now - meta.storedAt) / 1000));
    if (answersNotModified(request, meta)) {
      cancelBody(body);
      const h = new Headers();
      for (const [k, v] of meta.headers) if (NOT_MODIFIED_HEADERS.has(k)) h.append(k, v);
      h.set("age", String(age));
      return this.finish(request, 304, h, null, status, t, ctx, null);
    }
    const served = servedHeaders(meta);
    const ageText = String(age);
    if (served.age !== ageText) {
      served.h.set("age", ageText);
      served.age = ageText;
    }
    let b: BodyInit | null = null;
    if (t.method !== "HEAD") b = body instanceof Response ? body.body : body;
    else cancelBody(body);
    return this.finish(
      request,
      meta.status,
      served.h,
      b,
      status,
      t,
      ctx,
      meta.html ? url.pathname : null,
      undefined,
      true,
    );
  }

  /**
   * Adds Server-Timing, X-Request-Id, Timing-Allow-Origin and logs HTML page views.
   * `htmlPath` is the path when the body is HTML (page-view log), else null. `shared` marks the
   * reused headers of a stored object (`servedHeaders`), which already hold Timing-Allow-Origin.
   */
  finish(
    request: Request,
    status: number,
    h: Headers,
    body: BodyInit | null,
    cacheStatus: CacheStatus,
    t: Timing,
    ctx: ExecutionContext,
    htmlPath: string | null,
    statusText?: string,
    shared = false,
  ): Response {
    const edgeMs = performance.now() - t.t0;
    let st = `cdn-cache;desc=${cacheStatus}, edge;dur=${formatDuration(edgeMs)}`;
    if (t.originMs !== null) st += `, origin;dur=${formatDuration(t.originMs)}`;
    st += `, rid;desc=${t.rid}`;
    if (t.forward) st += `, ${t.forward}`;
    h.set("server-timing", st);
    h.set("x-request-id", t.rid);
    if (!shared) h.set("timing-allow-origin", "*");
    const method = t.method;
    // A speculative load (Sec-Purpose: prefetch) is no page view (edge/PREFETCH.md).
    if (htmlPath !== null && status === 200 && method === "GET" && !isSpeculativeRequest(request.headers)) {
      this.logger.log(
        {
          rid: t.rid,
          path: htmlPath,
          status,
          cacheStatus,
          edgeMs,
          originMs: t.originMs,
          appMs: t.appMs,
          request,
          ts: Number.isNaN(t.ts) ? this.now() : t.ts,
        },
        ctx,
      );
    }
    const init: ResponseInit = { status, headers: h };
    if (statusText) init.statusText = statusText;
    if (NO_BODY_STATUS.has(status) || method === "HEAD") {
      if (body instanceof ReadableStream) cancelBody(body);
      return new Response(null, init);
    }
    return new Response(body, init);
  }

  /** Request to the origin: hop-by-hop dropped, X-Forwarded-*, Host from ORIGIN_URL; cacheable ones as plain GET. */
  originRequest(
    request: Request,
    url: UrlParts,
    query: string,
    cacheable: boolean,
    rid: string,
    validators: Candidate | null = null,
  ): Request {
    const h = new Headers(request.headers);
    dropHopByHop(h);
    // The origin can log the same id the browser sees in Server-Timing.
    h.set("x-request-id", rid);
    h.delete("host");
    h.set("x-forwarded-host", url.host);
    h.set("x-forwarded-proto", url.protocol === "https:" ? "https" : "http");
    const ip = request.headers.get("cf-connecting-ip");
    if (ip) {
      const prior = h.get("x-forwarded-for");
      h.set("x-forwarded-for", prior ? `${prior}, ${ip}` : ip);
    }
    const method = cacheable ? "GET" : request.method;
    if (cacheable) {
      // The stored copy must be a full 200; the edge answers conditionals itself.
      h.delete("if-none-match");
      h.delete("if-modified-since");
      h.delete("if-match");
      h.delete("if-unmodified-since");
      h.delete("if-range");
      // Conditional refresh of a stored copy whose bytes we hold: a 304 saves the transfer.
      if (validators !== null) {
        if (validators.meta.etag !== null) h.set("if-none-match", validators.meta.etag);
        if (validators.meta.lastModified !== null) h.set("if-modified-since", validators.meta.lastModified);
      }
    }
    const hasBody = method !== "GET" && method !== "HEAD";
    return new Request(this.config.originBase + url.pathname + query, {
      method,
      headers: h,
      body: hasBody ? request.body : null,
      redirect: "manual",
    });
  }

  /** Fetches with a time-to-headers limit (EDGE_ORIGIN_TIMEOUT_MS) unless `limit` is false; measures origin TTFB. */
  async fetchOrigin(req: Request, limit = true): Promise<OriginResult> {
    const start = performance.now();
    if (!limit) {
      try {
        return { res: await this.doFetch(req), error: null, ms: performance.now() - start };
      } catch {
        return { res: null, error: "network", ms: performance.now() - start };
      }
    }
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.config.originTimeoutMs);
    try {
      const res = await this.doFetch(req, { signal: ac.signal });
      return { res, error: null, ms: performance.now() - start };
    } catch {
      return { res: null, error: ac.signal.aborted ? "timeout" : "network", ms: performance.now() - start };
    } finally {
      clearTimeout(timer);
    }
  }

  originFailure(request: Request, o: OriginResult, t: Timing, ctx: ExecutionContext): Response {
    const res =
      o.error === "timeout"
        ? jsonError(504, `origin did not answer within ${this.config.originTimeoutMs} ms`)
        : jsonError(502, "origin unreachable");
    t.originMs = o.ms;
    return this.finish(request, res.status, new Headers(res.headers), res.body, "MISS", t, ctx, null);
  }

  /** Client-facing headers of an origin response; records origin/app timing into `t`. */
  clientHeaders(res: Response, t: Timing | null): Headers {
    const h = new Headers(res.headers);
    dropHopByHop(h);
    const st = h.get("server-timing");
    if (st !== null) {
      h.delete("server-timing");
      if (t !== null) {
        const entries = parseServerTiming(st);
        const fwd = [];
        for (const e of entries) {
          const n = e.name.toLowerCase();
          if (n === "app" && t.appMs === null) t.appMs = e.duration;
          if (!RESERVED_TIMING.has(n)) fwd.push(e);
        }
        t.forward = formatServerTiming(fwd);
      }
    }
    h.delete("age");
    return h;
  }

  /** HTML that should get the beacon (config, rule, GET/HEAD 200 text/html). */
  wantsBeacon(status: number, h: Headers, rule: PathRule | undefined): boolean {
    return this.config.rumInject && rule?.rum !== false && status === 200 && isHtml(h.get("content-type"));
  }

  /** Bypass: straight to the origin, nothing stored (beacon still injected into HTML). */
  async pass(
    request: Request,
    url: UrlParts,
    rule: PathRule | undefined,
    t0: number,
    rid: string,
    ctx: ExecutionContext,
  ): Promise<Response> {
    const t = this.timing(t0, rid, request.method);
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      // WebSocket upgrades go through untouched (the runtime pipes the socket).
      return this.doFetch(new Request(this.config.originBase + url.pathname + url.search, request));
    }
    // Uploads (non-GET/HEAD) may legitimately take longer than the time-to-headers limit.
    const limited = request.method === "GET" || request.method === "HEAD";
    const o = await this.fetchOrigin(this.originRequest(request, url, url.search, false, rid), limited);
    if (o.res === null) return this.originFailure(request, o, t, ctx);
    t.originMs = o.ms;
    const res = o.res;
    const h = this.clientHeaders(res, t);
    h.set("age", String(parseAge(res.headers.get("age"))));
    let body: BodyInit | null = res.body;
    const html = isHtml(h.get("content-type"));
    if (html && res.status === 200 && this.htmlHeaders !== null && limited) this.htmlHeaders(h);
    if (body !== null && request.method === "GET" && this.wantsBeacon(res.status, h, rule)) {
      body = await beaconBody(res, this.config.rumBeaconSrc);
      h.delete("content-length");
    }
    return this.finish(
      request,
      res.status,
      h,
      body,
      "BYPASS",
      t,
      ctx,
      html ? url.pathname : null,
      res.statusText,
    );
  }

  /** Cache miss (or expired entry): one origin fetch per key in this isolate, others wait for it. */
  async miss(
    request: Request,
    url: UrlParts,
    nq: string,
    rule: PathRule | undefined,
    key: string,
    stale: Candidate | null,
    t0: number,
    rid: string,
    ctx: ExecutionContext,
    collapse = true,
  ): Promise<Response> {
    const t = this.timing(t0, rid, request.method);
    const missStatus: CacheStatus = stale ? "EXPIRED" : "MISS";
    const pending = collapse ? this.inflight.get(key) : undefined;
    if (pending !== undefined) {
      // Bounded wait: if the leader's request context dies without settling, fetch our own copy.
      let timer: ReturnType<typeof setTimeout> | null = null;
      const shared = await Promise.race([
        pending,
        new Promise<Shared>((resolve) => {
          timer = setTimeout(() => resolve({ kind: "pass" }), this.config.originTimeoutMs + 5000);
        }),
      ]);
      if (timer !== null) clearTimeout(timer);
      if (shared.kind === "stored") {
        cancelBody(stale?.body);
        t.originMs = shared.originMs;
        t.appMs = shared.appMs;
        return this.serveCached(request, url, shared.meta, shared.body, missStatus, this.now(), t, ctx);
      }
      if (shared.kind === "error" && stale && this.now() < stale.meta.sieUntil) {
        return this.serveCached(request, url, stale.meta, stale.body, "STALE", this.now(), t, ctx);
      }
      // The leader's response could not be shared (not storable): fetch our own copy.
    }
    let settle: (s: Shared) => void = NO_SETTLE;
    if (collapse && pending === undefined) {
      const p = new Promise<Shared>((resolve) => {
        settle = resolve;
      });
      this.inflight.set(key, p);
      p.then(() => {
        if (this.inflight.get(key) === p) this.inflight.delete(key);
      });
    }
    try {
      const v = revalidatable(stale);
      const o = await this.fetchOrigin(this.originRequest(request, url, nq, true, rid, v));
      const now = this.now();
      if (v !== null && o.res !== null && o.res.status === 304) {
        t.originMs = o.ms;
        return this.notModified(
          request,
          url,
          rule,
          key,
          v,
          o.res,
          missStatus,
          now,
          t,
          ctx,
          settle,
        ) as Response;
      }
      if (o.res === null || o.res.status >= 500) {
        settle({ kind: "error" });
        t.originMs = o.ms;
        if (stale && now < stale.meta.sieUntil) {
          cancelBody(o.res?.body ?? undefined);
          return this.serveCached(request, url, stale.meta, stale.body, "STALE", now, t, ctx);
        }
        cancelBody(stale?.body);
        if (o.res === null) return this.originFailure(request, o, t, ctx);
      } else cancelBody(stale?.body);
      const res = o.res as Response;
      t.originMs = o.ms;
      const prepared = await this.prepare(res, rule, key, now, t);
      const { h, decision, meta } = prepared;
      let body = prepared.body;
      if (!decision.store) {
        settle({ kind: "pass" });
        // An origin error says nothing about cacheability: keep collapsing for that key.
        if (res.status < 500) {
          this.rememberPass(key, now);
          if (stale) this.forget(key, ctx);
        }
        h.set("age", String(decision.initialAge));
        return this.finish(
          request,
          res.status,
          h,
          body,
          missStatus,
          t,
          ctx,
          meta.html ? url.pathname : null,
          res.statusText,
        );
      }
      this.hitForPass.delete(key);
      let storeBody = body;
      if (request.method === "HEAD" || body === null) body = null;
      else if (body instanceof ReadableStream) [body, storeBody] = body.tee();
      ctx.waitUntil(this.store(meta, storeBody, decision, res.headers.get("content-length"), t, settle));
      return this.serveFresh(request, url, meta, h, body, missStatus, now, t, ctx);
    } catch (e) {
      settle({ kind: "pass" });
      throw e;
    }
  }

  /** First response of a just-fetched object (Age, 304 handling like a HIT). */
  serveFresh(
    request: Request,
    url: UrlParts,
    meta: CachedMeta,
    h: Headers,
    body: PreparedBody,
    status: CacheStatus,
    now: number,
    t: Timing,
    ctx: ExecutionContext,
  ): Response {
    if (answersNotModified(request, meta)) {
      if (body instanceof ReadableStream) cancelBody(body);
      return this.serveCached(request, url, meta, null, status, now, t, ctx);
    }
    // The requester's own copy: same as later HITs but keeps its Set-Cookie (force rules).
    h.set("age", String(Math.max(0, Math.floor(meta.initialAge + (now - meta.storedAt) / 1000))));
    return this.finish(request, meta.status, h, body, status, t, ctx, meta.html ? url.pathname : null);
  }

  /** Origin response → client headers, (beacon-injected) body, store decision and cache meta. */
  async prepare(
    res: Response,
    rule: PathRule | undefined,
    key: string,
    now: number,
    t: Timing | null,
  ): Promise<{ h: Headers; body: PreparedBody; decision: StoreDecision; meta: CachedMeta }> {
    const h = this.clientHeaders(res, t);
    h.set("timing-allow-origin", "*");
    const decision = decideStore(res.status, res.headers, rule, this.config.defaultStaleIfError, now);
    const html = isHtml(h.get("content-type"));
    if (html && res.status === 200 && this.htmlHeaders !== null) this.htmlHeaders(h);
    let body: PreparedBody = res.body;
    if (body !== null && this.wantsBeacon(res.status, h, rule)) {
      body = await beaconBody(res, this.config.rumBeaconSrc);
      h.delete("content-length");
    }
    const headers: [string, string][] = [];
    if (decision.store) {
      // Stored bodies are decoded bytes; Set-Cookie is never stored (only a `force` rule gets here with one).
      for (const [k, v] of h) {
        if (k === "set-cookie" || k === "content-encoding" || k === "content-length") continue;
        headers.push([k, v]);
      }
    }
    const tags = responseTags(res.headers);
    if (rule !== undefined && rule.keyHeaders.length > 0) {
      // Header variants of one URL share an index entry so purge-by-URL reaches all of them.
      const m = key.search(/[?&]__edge=/);
      tags.push(`__url:${m === -1 ? key : key.slice(0, m)}`);
    }
    const meta: CachedMeta = {
      key,
      status: res.status,
      headers,
      storedAt: now,
      initialAge: decision.initialAge,
      freshUntil: decision.freshUntil,
      swrUntil: decision.swrUntil,
      sieUntil: decision.sieUntil,
      etag: h.get("etag"),
      lastModified: h.get("last-modified"),
      tags,
      html,
    };
    return { h, body, decision, meta };
  }

  /** Reads the body (up to MAX_BUFFER_BYTES; larger bodies stream into the Cache API), stores it in both tiers and indexes tags. */
  async store(
    meta: CachedMeta,
    body: PreparedBody,
    decision: StoreDecision,
    contentLength: string | null,
    t: Timing | null,
    settle: (s: Shared) => void,
  ): Promise<void> {
    const epoch = this.purgeEpoch;
    const cache = this.cache;
    if (body instanceof Uint8Array) {
      // Already in memory (beacon injected from a buffered read).
      const exact =
        body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
          ? body.buffer
          : body.slice().buffer;
      await this.storeBuffer(meta, exact as ArrayBuffer, decision, t, settle, epoch);
      return;
    }
    try {
      const len = contentLength === null ? Number.NaN : Number(contentLength);
      if (!Number.isNaN(len) && len > MAX_BUFFER_BYTES) {
        settle({ kind: "pass" });
        if (cache !== null)
          await cache.put(cacheApiRequest(meta.key), toCacheApiResponse(meta, body, decision.storageTtl));
      } else {
        // Known size: native read; unknown size (chunked): read with a cap so a huge stream is not buffered.
        const buf =
          body === null
            ? new ArrayBuffer(0)
            : Number.isNaN(len)
              ? await readBounded(body, MAX_BUFFER_BYTES)
              : await new Response(body).arrayBuffer();
        if (buf === null) {
          settle({ kind: "pass" });
          return;
        }
        await this.storeBuffer(meta, buf, decision, t, settle, epoch);
        return;
      }
      await this.tags.add(meta.key, meta.tags, decision.storageTtl);
    } catch {
      // Storage is best effort; the client already has its response.
      settle({ kind: "pass" });
    }
  }

  /** Puts a buffered object into both tiers and the tag index (skipped when a purge happened since `epoch`). */
  async storeBuffer(
    meta: CachedMeta,
    buf: ArrayBuffer,
    decision: StoreDecision,
    t: Timing | null,
    settle: (s: Shared) => void,
    epoch: number,
  ): Promise<void> {
    if (epoch !== this.purgeEpoch) {
      settle({ kind: "pass" });
      return;
    }
    this.hot.set({ ...meta, body: buf, size: entrySize(meta, buf.byteLength) });
    settle({ kind: "stored", meta, body: buf, originMs: t?.originMs ?? 0, appMs: t?.appMs ?? null });
    try {
      const cache = this.cache;
      if (cache !== null)
        await cache.put(cacheApiRequest(meta.key), toCacheApiResponse(meta, buf, decision.storageTtl));
      await this.tags.add(meta.key, meta.tags, decision.storageTtl);
    } catch {
      // Best effort: the hot tier already has it.
    }
  }

  /**
   * The origin answered 304 to a conditional refresh: the stored bytes get the 304's headers
   * (RFC 9111 §4.3.4) and new freshness, are stored again and served (`request` null = background).
   */
  notModified(
    request: Request | null,
    url: UrlParts,
    rule: PathRule | undefined,
    key: string,
    stale: Candidate & { body: ArrayBuffer },
    res: Response,
    status: CacheStatus,
    now: number,
    t: Timing,
    ctx: ExecutionContext,
    settle: (s: Shared) => void,
  ): Response | null {
    cancelBody(res.body ?? undefined);
    const h = new Headers(stale.meta.headers);
    for (const [k, v] of res.headers) {
      if (k.startsWith("content-") || k === "set-cookie" || k === "server-timing" || k === "age") continue;
      if (k === "connection" || k === "keep-alive" || k === "transfer-encoding") continue;
      h.set(k, v);
    }
    const fresh = new Headers(h);
    const age = res.headers.get("age");
    if (age !== null) fresh.set("age", age);
    const decision = decideStore(stale.meta.status, fresh, rule, this.config.defaultStaleIfError, now);
    const headers: [string, string][] = [];
    for (const [k, v] of h) headers.push([k, v]);
    const meta: CachedMeta = {
      ...stale.meta,
      headers,
      storedAt: now,
      initialAge: decision.initialAge,
      freshUntil: decision.freshUntil,
      swrUntil: decision.swrUntil,
      sieUntil: decision.sieUntil,
      etag: h.get("etag"),
      lastModified: h.get("last-modified"),
    };
    if (decision.store) {
      this.hitForPass.delete(key);
      ctx.waitUntil(this.storeBuffer(meta, stale.body, decision, t, settle, this.purgeEpoch));
    } else {
      settle({ kind: "pass" });
      this.rememberPass(key, now);
      ctx.waitUntil(this.forget(key, null));
    }
    if (request === null) return null;
    return this.serveCached(request, url, meta, stale.body, status, now, t, ctx);
  }

  /** Background refresh of a stale key, at most one at a time per key in this isolate. */
  revalidate(
    request: Request,
    url: UrlParts,
    nq: string,
    rule: PathRule | undefined,
    key: string,
    ctx: ExecutionContext,
    stale: Candidate,
  ): void {
    if (this.inflight.has(key)) return;
    let settle: (s: Shared) => void = NO_SETTLE;
    const p = new Promise<Shared>((resolve) => {
      settle = resolve;
    });
    this.inflight.set(key, p);
    p.then(() => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    });
    const v = revalidatable(stale);
    const originReq = this.originRequest(request, url, nq, true, this.nextRid(), v);
    ctx.waitUntil(
      (async () => {
        try {
          const o = await this.fetchOrigin(originReq);
          if (v !== null && o.res !== null && o.res.status === 304) {
            const t = this.timing(0, "", "GET");
            t.originMs = o.ms;
            this.notModified(null, url, rule, key, v, o.res, "STALE", this.now(), t, ctx, settle);
            return;
          }
          if (o.res === null || o.res.status >= 500) {
            cancelBody(o.res?.body ?? undefined);
            settle({ kind: "error" });
            return;
          }
          const t = this.timing(0, "", "GET");
          t.originMs = o.ms;
          const { body, decision, meta } = await this.prepare(o.res, rule, key, this.now(), t);
          if (!decision.store) {
            if (body instanceof ReadableStream) cancelBody(body);
            settle({ kind: "pass" });
            this.rememberPass(key, this.now());
            await this.forget(key, null);
            return;
          }
          await this.store(meta, body, decision, o.res.headers.get("content-length"), t, settle);
        } catch {
          settle({ kind: "pass" });
        }
      })(),
    );
  }

  /** Remembers that a key was not storable, for EDGE_HIT_FOR_PASS_SECONDS (bounded map). */
  rememberPass(key: string, now: number): void {
    if (this.config.hitForPassSeconds === 0) return;
    if (this.hitForPass.size >= 10_000) this.hitForPass.clear();
    this.hitForPass.set(key, now + this.config.hitForPassSeconds * 1000);
  }

  /** Drops a key from both tiers (the origin stopped allowing it to be cached). */
  forget(key: string, ctx: ExecutionContext | null): Promise<void> {
    this.hot.delete(key);
    const cache = this.cache;
    const p =
      cache === null
        ? Promise.resolve()
        : cache.delete(cacheApiRequest(key)).then(
            () => {},
            () => {},
          );
    if (ctx) ctx.waitUntil(p);
    return p;
  }

  /** Purges exact URLs (all `keyHeaders` variants via the index); returns the number of keys dropped. */
  async purgeUrls(urls: readonly URL[]): Promise<number> {
    this.purgeEpoch++;
    if (this.purge.gen === null) await this.purge.load(this.now());
    const keys = new Set<string>();
    const variantTags: string[] = [];
    for (const u of urls) {
      const nq = u.search ? normalizeQuery(u.search, this.config.marketingMatcher) : "";
      const rule = ruleFor(this.config, u.pathname);
      const base = `${u.protocol}//${u.host}${u.pathname}${nq}`;
      keys.add(this.keyFor(u, nq, rule, { headers: new Headers() }));
      keys.add(base);
      if (rule && rule.keyHeaders.length > 0) variantTags.push(`__url:${base}`);
    }
    for (const k of await this.tags.take(variantTags)) keys.add(k);
    await this.dropKeys(keys);
    await this.purge.record(false, this.now());
    return keys.size;
  }

  async purgeTags(tags: readonly string[]): Promise<number> {
    this.purgeEpoch++;
    const keys = new Set(await this.tags.take(tags.map((t) => t.toLowerCase())));
    await this.dropKeys(keys);
    await this.purge.record(false, this.now());
    return keys.size;
  }

  async purgeEverything(): Promise<number> {
    this.purgeEpoch++;
    this.hot.clear();
    return this.purge.record(true, this.now());
  }

  async dropKeys(keys: Iterable<string>): Promise<void> {
    const cache = this.cache;
    const work: Promise<unknown>[] = [];
    for (const k of keys) {
      this.hot.delete(k);
      if (cache !== null) work.push(cache.delete(cacheApiRequest(k)).catch(() => false));
    }
    await Promise.all(work);
  }
}
