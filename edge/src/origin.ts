/**
 * The origin client: builds the origin request under the request-header policy
 * (common/src/http-cache/request-policy.ts), fetches with a time-to-headers deadline, reads
 * bodies with a deadline, and turns origin headers into client headers (Server-Timing split).
 */
import {
  CACHEABLE_FORWARD_HEADERS,
  DROPPED_REQUEST_HEADERS,
  keepCookies,
} from "../../common/src/http-cache/request-policy.ts";
import { TARGETED_FIELDS } from "../../common/src/http-cache/storability.ts";
import { formatServerTiming, parseServerTiming } from "../../common/src/server-timing.ts";
import type { EdgeConfig } from "./config.ts";
import type { RequestContext } from "./context.ts";
import type { CachedMeta } from "./hot-cache.ts";
import { dropHopByHop } from "./http.ts";

export type FetchFn = (req: Request, init?: RequestInit) => Promise<Response>;

export interface OriginResult {
  res: Response | null;
  error: "timeout" | "network" | null;
  ms: number;
}

const RESERVED_TIMING = new Set(["cdn-cache", "edge", "origin", "rid"]);
const CONDITIONAL = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range"];

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

export class OriginClient {
  config: EdgeConfig;
  doFetch: FetchFn;

  constructor(config: EdgeConfig, doFetch: FetchFn) {
    this.config = config;
    this.doFetch = doFetch;
  }

  /**
   * The origin request. Cacheable requests become a plain GET with the allow-listed headers only
   * (plus the rule's `keyHeaders`/`forwardHeaders`, cookies only as the rule's `forwardCookies`
   * allow) and, when refreshing a stored copy, its validators. Other requests keep their headers
   * minus hop-by-hop and DROPPED_REQUEST_HEADERS. `X-Forwarded-For` is the connecting IP only.
   */
  request(ctx: RequestContext, cacheable: boolean, validators: CachedMeta | null = null): Request {
    const src = ctx.request.headers;
    let h: Headers;
    if (cacheable) {
      h = new Headers();
      for (const n of CACHEABLE_FORWARD_HEADERS) {
        const v = src.get(n);
        if (v !== null) h.set(n, v);
      }
      const rule = ctx.rule;
      if (rule !== undefined) {
        for (const n of rule.keyHeaders) {
          const v = src.get(n);
          if (v !== null) h.set(n, v);
        }
        for (const n of rule.forwardHeaders) {
          const v = src.get(n);
          if (v !== null) h.set(n, v);
        }
        if (rule.forwardCookies !== null) {
          const c = keepCookies(src.get("cookie"), rule.forwardCookies);
          if (c !== null) h.set("cookie", c);
        }
      }
      if (validators !== null) {
        if (validators.etag !== null) h.set("if-none-match", validators.etag);
        if (validators.lastModified !== null) h.set("if-modified-since", validators.lastModified);
      }
    } else {
      h = new Headers(src);
      dropHopByHop(h);
      for (const n of DROPPED_REQUEST_HEADERS) h.delete(n);
      h.delete("host");
    }
    for (const n of CONDITIONAL) if (cacheable && validators === null) h.delete(n);
    h.set("x-request-id", ctx.rid);
    h.set("x-forwarded-host", ctx.url.host);
    h.set("x-forwarded-proto", ctx.url.protocol === "https:" ? "https" : "http");
    const ip = src.get("cf-connecting-ip");
    if (ip) h.set("x-forwarded-for", ip);
    else h.delete("x-forwarded-for");
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

  /**
   * Reads a body into one ArrayBuffer within EDGE_ORIGIN_BODY_TIMEOUT_MS: null when it exceeds
   * `max` bytes, "timeout" when the origin stalls (the stream is cancelled either way).
   */
  async readBody(stream: ReadableStream, max: number): Promise<ArrayBuffer | null | "timeout"> {
    const reader = stream.getReader();
    const read = (async (): Promise<ArrayBuffer | null> => {
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
    })();
    return withDeadline<ArrayBuffer | null | "timeout">(read, this.config.originBodyTimeoutMs, () => {
      reader.cancel().catch(() => {});
      return "timeout";
    });
  }

  /**
   * Client-facing headers of an origin response: hop-by-hop, `Age` and the CDN-targeted
   * cache fields dropped (RFC 9213: they are for this cache only); origin Server-Timing split
   * into `app` (recorded) and entries to forward.
   */
  clientHeaders(res: Response, ctx: RequestContext | null): Headers {
    const h = new Headers(res.headers);
    dropHopByHop(h);
    const st = h.get("server-timing");
    if (st !== null) {
      h.delete("server-timing");
      if (ctx !== null) {
        const fwd = [];
        for (const e of parseServerTiming(st)) {
          const n = e.name.toLowerCase();
          if (n === "app" && ctx.appMs === null) ctx.appMs = e.duration;
          if (!RESERVED_TIMING.has(n)) fwd.push(e);
        }
        ctx.forward = formatServerTiming(fwd);
      }
    }
    h.delete("age");
    return h;
  }
}

/** Removes the CDN-targeted cache fields from headers sent to a client. */
export function dropTargetedFields(h: Headers): void {
  for (const f of TARGETED_FIELDS) h.delete(f);
}
