/**
 * The origin client: builds the origin request under the request-header policy
 * (common/src/http-cache/request-policy.ts), fetches with a time-to-headers deadline, reads
 * bodies with a deadline, and turns origin headers into client headers (Server-Timing split).
 */

import { concatBytes } from "../../common/src/bytes.ts";
import {
  CACHEABLE_FORWARD_HEADERS,
  DROPPED_REQUEST_HEADERS,
  keepCookies,
} from "../../common/src/http-cache/request-policy.ts";
import { TARGETED_FIELDS } from "../../common/src/http-cache/storability.ts";
import { formatServerTiming, parseServerTiming } from "../../common/src/server-timing.ts";
import type { EdgeConfig } from "./config.ts";
import type { RequestContext } from "./context.ts";
import { OriginDeadline } from "./deadline.ts";
import type { CachedMeta } from "./hot-cache.ts";
import { htmlAdditions } from "./html-additions.ts";
import { HOP_BY_HOP } from "./http.ts";

export type FetchFn = (req: Request, init?: RequestInit) => Promise<Response>;

export interface OriginResult {
  res: Response | null;
  error: "timeout" | "network" | null;
  ms: number;
  /**
   * The headers' timer, kept for the body read that may follow (`bodyDeadline`); set it on the
   * request context (`ctx.deadline`), whose finish step clears it.
   */
  deadline?: OriginDeadline;
}

const RESERVED_TIMING = new Set(["cdn-cache", "edge", "origin", "rid"]);
/** Forwarded on cacheable requests (conditionals never: the edge stores full answers). */
const FORWARD: ReadonlySet<string> = new Set(CACHEABLE_FORWARD_HEADERS);
/** Never forwarded: overrides, client forwarding headers, hop-by-hop, Host. */
const DROPPED: ReadonlySet<string> = new Set([...DROPPED_REQUEST_HEADERS, ...HOP_BY_HOP, "host"]);

/**
 * `withDeadline` on the request's origin deadline when it has one (one timer for headers and body,
 * deadline.ts), else on a timer of its own. The context's deadline is used once.
 */
export function bodyDeadline<T>(
  ctx: { deadline: OriginDeadline | null },
  p: Promise<T>,
  ms: number,
  onTimeout: () => T,
): Promise<T> {
  const d = ctx.deadline;
  if (d === null) return withDeadline(p, ms, onTimeout);
  ctx.deadline = null;
  return d.race(p, ms, onTimeout);
}

/** Resolves with `p`'s value, or with `onTimeout()` after `ms` (the timer is cleared either way). */
export async function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a guarded origin body fails with when the origin sends nothing for too long. */
export class BodyStalled extends Error {
  constructor(ms: number) {
    super(`origin body stalled: no data for ${ms} ms`);
    this.name = "BodyStalled";
  }
}

/**
 * `body` with an idle deadline: whenever its reader waits for the origin, no chunk within `ms`
 * errors the stream with BodyStalled and cancels the origin body. Only time spent waiting on the
 * origin counts (the stream pulls on demand), so a slow client is never cut.
 */
export function idleDeadline(body: ReadableStream, ms: number): ReadableStream {
  const reader = body.getReader();
  return new ReadableStream(
    {
      async pull(c) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), ms);
        });
        try {
          const r = await Promise.race([reader.read(), stalled]);
          if (r === null) {
            reader.cancel().catch(() => {});
            c.error(new BodyStalled(ms));
          } else if (r.done) c.close();
          else c.enqueue(r.value);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

export class OriginClient {
  config: EdgeConfig;
  doFetch: FetchFn;
  /** Headers forwarded on cacheable requests: the allow-list plus the deps' `forwardHeaders`. */
  forward: ReadonlySet<string>;

  constructor(config: EdgeConfig, doFetch: FetchFn, extraForward: readonly string[] = []) {
    this.config = config;
    this.doFetch = doFetch;
    this.forward = extraForward.length === 0 ? FORWARD : new Set([...FORWARD, ...extraForward]);
  }

  /**
   * The origin request. Cacheable requests become a plain GET with the allow-listed headers only
   * (plus the rule's `keyHeaders`/`forwardHeaders`, cookies only as the rule's `forwardCookies`
   * allow) and, when refreshing a stored copy, its validators. Other requests keep their headers
   * minus hop-by-hop and DROPPED_REQUEST_HEADERS. `X-Forwarded-For` is the connecting IP only.
   */
  request(ctx: RequestContext, cacheable: boolean, validators: CachedMeta | null = null): Request {
    // One pass over the request's headers (each `get` is a call into the runtime).
    const h = new Headers();
    const rule = ctx.rule;
    let ip: string | null = null;
    let connection: string | null = null;
    for (const [k, v] of ctx.request.headers) {
      if (k === "cf-connecting-ip") ip = v;
      if (cacheable) {
        if (
          this.forward.has(k) ||
          (rule !== undefined && (rule.keyHeaders.includes(k) || rule.forwardHeaders.includes(k)))
        )
          h.append(k, v);
        else if (k === "cookie" && rule !== undefined && rule.forwardCookies !== null) {
          const c = keepCookies(v, rule.forwardCookies);
          if (c !== null) h.set("cookie", c);
        }
      } else if (!DROPPED.has(k)) {
        if (k === "connection") connection = v;
        h.append(k, v);
      }
    }
    if (connection !== null) for (const n of connection.split(",")) if (n.trim()) h.delete(n.trim());
    if (validators !== null) {
      if (validators.etag !== null) h.set("if-none-match", validators.etag);
      if (validators.lastModified !== null) h.set("if-modified-since", validators.lastModified);
    }
    h.set("x-request-id", ctx.rid);
    h.set("x-forwarded-host", ctx.url.host);
    h.set("x-forwarded-proto", ctx.url.protocol === "https:" ? "https" : "http");
    if (ip !== null && ip !== "") h.set("x-forwarded-for", ip);
    const method = cacheable ? "GET" : ctx.method;
    const hasBody = method !== "GET" && method !== "HEAD";
    const query = cacheable ? ctx.nq : ctx.url.search;
    return new Request(this.config.originBase + ctx.path + query, {
      method,
      headers: h,
      body: hasBody ? ctx.request.body : null,
      redirect: "manual",
    });
  }

  /** Fetches with a time-to-headers limit (EDGE_ORIGIN_TIMEOUT_MS) unless `limit` is false; measures origin TTFB. */
  async fetch(req: Request, limit = true): Promise<OriginResult> {
    const start = performance.now();
    if (!limit) {
      try {
        return { res: await this.doFetch(req), error: null, ms: performance.now() - start };
      } catch {
        return { res: null, error: "network", ms: performance.now() - start };
      }
    }
    const ac = new AbortController();
    const deadline = new OriginDeadline(this.config.originTimeoutMs, () => ac.abort());
    try {
      const res = await this.doFetch(req, { signal: ac.signal });
      deadline.headersArrived();
      return { res, error: null, ms: performance.now() - start, deadline };
    } catch {
      deadline.clear();
      return { res: null, error: ac.signal.aborted ? "timeout" : "network", ms: performance.now() - start };
    }
  }

  /**
   * Reads a body into one ArrayBuffer within EDGE_ORIGIN_BODY_TIMEOUT_MS: null when it exceeds
   * `max` bytes, "timeout" when the origin stalls (the stream is cancelled either way).
   */
  async readBody(stream: ReadableStream, max: number): Promise<ArrayBuffer | null | "timeout"> {
    const reader = stream.getReader();
    const read = (async (): Promise<ArrayBuffer | null | "timeout"> => {
      const chunks: Uint8Array[] = [];
      let n = 0;
      for (;;) {
        let r: ReadableStreamReadResult<unknown>;
        try {
          r = await reader.read();
        } catch (e) {
          // A body under an idle deadline (idleDeadline) that stalled: the same as our own deadline.
          if (e instanceof BodyStalled) return "timeout";
          throw e;
        }
        const { done, value } = r;
        if (done) break;
        const chunk = value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
        n += chunk.byteLength;
        if (n > max) {
          await reader.cancel();
          return null;
        }
        chunks.push(chunk);
      }
      return concatBytes(chunks, n).buffer;
    })();
    return withDeadline<ArrayBuffer | null | "timeout">(read, this.config.originBodyTimeoutMs, () => {
      reader.cancel().catch(() => {});
      return "timeout";
    });
  }

  /**
   * Client-facing headers of an origin response, and the response's own header values: one
   * copy plus one pass over it (each `get`/`delete` is a call into the runtime, so the store
   * decision reads `raw` instead). Dropped for the client: hop-by-hop, `Age`, the CDN-targeted
   * cache fields (RFC 9213: for this cache only; kept in `raw` for storing), `Content-Length`
   * of an encoded body, and the origin's Server-Timing, split into `app` (recorded) and
   * entries to forward.
   */
  clientHeaders(res: Response, ctx: RequestContext | null): ResponseHead {
    const h = new Headers(res.headers);
    const add = htmlAdditions(res);
    if (add !== undefined) for (const [k, v] of add.headers) h.set(k, v);
    const raw = new Map<string, string>();
    for (const [k, v] of h) raw.set(k, k === "set-cookie" && raw.has(k) ? `${raw.get(k)}, ${v}` : v);
    const conn = raw.get("connection");
    if (conn !== undefined) for (const name of conn.split(",")) if (name.trim()) h.delete(name.trim());
    for (const name of DROPPED_RESPONSE) if (raw.has(name)) h.delete(name);
    // The runtime hands over an encoded body decoded (and encodes the answer again), so the
    // origin's Content-Length (the encoded length) does not describe the bytes passed on.
    const ce = raw.get("content-encoding");
    if (ce !== undefined && raw.has("content-length") && ce.trim().toLowerCase() !== "identity")
      h.delete("content-length");
    const st = raw.get("server-timing");
    if (st !== undefined && ctx !== null) {
      const fwd = [];
      for (const e of parseServerTiming(st)) {
        const n = e.name.toLowerCase();
        if (n === "app" && ctx.appMs === null) ctx.appMs = e.duration;
        if (!RESERVED_TIMING.has(n)) fwd.push(e);
      }
      ctx.forward = formatServerTiming(fwd);
    }
    return { h, raw };
  }
}

/** Client headers of an origin response plus its raw header values (lower-case names). */
export interface ResponseHead {
  h: Headers;
  raw: ReadonlyMap<string, string>;
}

/**
 * Response fields meant for this CDN only, never sent to a client: the CDN-targeted cache fields
 * (RFC 9213) and the purge tags (`Cache-Tag`, which Cloudflare removes before a response reaches
 * the visitor, and Fastly's `Surrogate-Key`). Tags are read from the origin's raw headers when
 * an object is stored (`CachedMeta.tags`), so purge by tag does not need them in the answer.
 */
export const CDN_ONLY_FIELDS: readonly string[] = [...TARGETED_FIELDS, "cache-tag", "surrogate-key"];

/** Response headers never passed to a client as they are. */
const DROPPED_RESPONSE: readonly string[] = [...HOP_BY_HOP, "age", "server-timing", ...CDN_ONLY_FIELDS];

/** Removes the fields meant for this CDN only (CDN_ONLY_FIELDS) from headers sent to a client. */
export function dropTargetedFields(h: Headers): void {
  for (const f of CDN_ONLY_FIELDS) h.delete(f);
}
