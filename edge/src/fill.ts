/**
 * Misses and refreshes: one origin fetch per key in an isolate (collapse.ts), conditional
 * refresh of stored copies (a 304 updates the stored headers, RFC 9111 §4.3.4), stale-if-error,
 * and the rule that a failed refresh (4xx/5xx, time-out) never evicts a good copy.
 */
import { decideStore } from "../../common/src/http-cache/storability.ts";
import type { CacheStatus } from "../../common/src/rum-types.ts";
import { awaitShared, NO_SETTLE, type Settle } from "./collapse.ts";
import type { RequestContext } from "./context.ts";
import type { Edge } from "./edge.ts";
import { answersNotModified } from "./edge.ts";
import { finish } from "./finish.ts";
import type { CachedMeta } from "./hot-cache.ts";
import { BodyStalled } from "./origin.ts";
import { buildMeta, type PreparedBody, prepare, store, storeBuffer } from "./store.ts";
import { type CachedBody, type Candidate, cancelBody } from "./tiers.ts";

/** The stale candidate when it can be refreshed conditionally (validators, bytes in memory). */
function revalidatable(c: Candidate | null): (Candidate & { body: ArrayBuffer }) | null {
  if (c === null || !(c.body instanceof ArrayBuffer)) return null;
  if (c.meta.etag === null && c.meta.lastModified === null) return null;
  return c as Candidate & { body: ArrayBuffer };
}

/** The stored copy when it may stand in for a failed refresh (within its stale-if-error window). */
function onError(stale: Candidate | null, now: number): Candidate | null {
  return stale !== null && now < stale.meta.sieUntil ? stale : null;
}

/** Error bodies shared with collapsed waiters are read up to this size. */
const ERROR_BODY_MAX = 64 * 1024;

/**
 * True when the origin's answer is an error that must not replace anything: a 4xx/5xx while a
 * stored copy exists, or a 5xx that is not itself storable (RFC 9111 lets a 5xx with explicit
 * freshness be stored; it is then a normal response).
 */
function failedRefresh(
  edge: Edge,
  ctx: RequestContext,
  res: Response,
  stale: Candidate | null,
  now: number,
): boolean {
  if (res.status < 400) return false;
  if (stale !== null) return true;
  if (res.status < 500) return false;
  const rh = res.headers;
  return !decideStore(res.status, (n) => rh.get(n), ctx.rule, edge.config.defaultStaleIfError, now).store;
}

/** Answers with an error a collapsed leader shared (no origin call of our own). */
function sharedError(
  edge: Edge,
  ctx: RequestContext,
  s: { status: number; headers: [string, string][]; body: ArrayBuffer | null; originMs: number },
  status: CacheStatus,
): Response | Promise<Response> {
  ctx.originMs = s.originMs;
  ctx.publicCacheable = false;
  if (s.headers.length === 0)
    return edge.originFailure(ctx, s.status === 504 ? "timeout" : "network", s.originMs, status);
  return finish(edge, ctx, status, {
    status: s.status,
    h: new Headers(s.headers),
    body: s.body,
    html: false,
  });
}

/** Cache miss (or expired / must-revalidate entry): one origin fetch per key in this isolate. */
export async function miss(
  edge: Edge,
  ctx: RequestContext,
  stale: Candidate | null,
  collapse = true,
): Promise<Response> {
  const missStatus: CacheStatus = stale ? "EXPIRED" : "MISS";
  const joined = collapse ? edge.inflight.join(ctx.key, edge.now()) : undefined;
  if (joined !== undefined) {
    const shared = await awaitShared(joined);
    if (shared.kind === "stored" && shared.meta.variant === "") {
      cancelBody(stale?.body);
      ctx.originMs = shared.originMs;
      ctx.appMs = shared.appMs;
      return edge.serveCached(ctx, shared.meta, shared.body, missStatus, edge.now());
    }
    if (shared.kind === "error") {
      const usable = onError(stale, edge.now());
      if (usable !== null) return edge.serveCached(ctx, usable.meta, usable.body, "STALE", edge.now());
      cancelBody(stale?.body);
      return sharedError(edge, ctx, shared, missStatus);
    }
    // Not shareable (or a variant that may not be ours): fetch our own copy.
  }
  const settle = collapse && joined === undefined ? edge.inflight.lead(ctx.key, edge.now()) : NO_SETTLE;
  try {
    const v = revalidatable(stale);
    const o = await edge.origin.fetch(edge.origin.request(ctx, true, v?.meta ?? null));
    const now = edge.now();
    ctx.originMs = o.ms;
    ctx.deadline = o.deadline ?? null;
    if (v !== null && o.res !== null && o.res.status === 304)
      return notModified(edge, ctx, v, o.res, missStatus, settle) as Response;
    if (o.res === null) {
      settle({
        kind: "error",
        status: o.error === "timeout" ? 504 : 502,
        headers: [],
        body: null,
        originMs: o.ms,
      });
      const usable = onError(stale, now);
      if (usable !== null) return edge.serveCached(ctx, usable.meta, usable.body, "STALE", now);
      cancelBody(stale?.body);
      return edge.originFailure(ctx, o.error, o.ms, missStatus);
    }
    const res = o.res;
    if (failedRefresh(edge, ctx, res, stale, now)) {
      // A failed refresh never evicts the stored copy; the error is shared with collapsed waiters.
      const read = res.body === null ? null : await edge.origin.readBody(res.body, ERROR_BODY_MAX);
      const body = read instanceof ArrayBuffer ? read : null;
      const { h } = edge.origin.clientHeaders(res, ctx);
      h.set("age", "0");
      settle({ kind: "error", status: res.status, headers: [...h], body, originMs: o.ms });
      const usable = onError(stale, now);
      if (usable !== null) return edge.serveCached(ctx, usable.meta, usable.body, "STALE", now);
      cancelBody(stale?.body);
      ctx.publicCacheable = false;
      return finish(edge, ctx, missStatus, {
        status: res.status,
        h,
        body,
        html: false,
        statusText: res.statusText,
      });
    }
    cancelBody(stale?.body);
    return await fresh(edge, ctx, o.res, now, settle, missStatus);
  } catch (e) {
    if (e instanceof BodyStalled) {
      // The body stalled while the edge buffered it (beacon injection): answered like a time-out.
      settle({ kind: "error", status: 504, headers: [], body: null, originMs: ctx.originMs ?? 0 });
      return edge.originFailure(ctx, "body-stalled", ctx.originMs ?? 0, missStatus);
    }
    settle({ kind: "pass" });
    throw e;
  }
}

/** A new origin response for a key: stored when allowed, always answered. */
async function fresh(
  edge: Edge,
  ctx: RequestContext,
  res: Response,
  now: number,
  settle: Settle,
  missStatus: CacheStatus,
): Promise<Response> {
  const p = await prepare(edge, ctx, res, now);
  const { h, decision, meta } = p;
  let body: PreparedBody = p.body;
  if (!decision.store) {
    settle({ kind: "pass" });
    if (res.status < 500) edge.rememberPass(ctx.key, now);
    h.set("age", String(decision.initialAge));
    return finish(edge, ctx, missStatus, {
      status: res.status,
      h,
      body,
      html: meta.html,
      statusText: res.statusText,
    });
  }
  edge.hitForPass.delete(ctx.key);
  let storeBody = body;
  if (ctx.method === "HEAD" || body === null) body = null;
  else if (body instanceof ReadableStream) [body, storeBody] = body.tee();
  ctx.exec.waitUntil(
    store(
      edge,
      { ...p, body: storeBody },
      res.headers.get("content-length"),
      ctx.originMs ?? 0,
      ctx.appMs,
      settle,
    ),
  );
  if (answersNotModified(ctx.request, meta)) {
    if (body instanceof ReadableStream) cancelBody(body);
    return edge.serveCached(ctx, meta, null, missStatus, now);
  }
  // The requester's own copy: same as later HITs but keeps its Set-Cookie (force rules).
  h.set("age", String(Math.max(0, Math.floor(meta.initialAge + (now - meta.storedAt) / 1000))));
  return finish(edge, ctx, missStatus, {
    status: meta.status,
    h,
    body: body as BodyInit | null,
    html: meta.html,
  });
}

/**
 * The origin answered 304 to a conditional refresh: the stored bytes get the 304's headers
 * (RFC 9111 §3.2, §4.3.4) and new freshness, are stored again and served (`respond` false:
 * background refresh, nothing served).
 */
export function notModified(
  edge: Edge,
  ctx: RequestContext,
  stale: Candidate & { body: ArrayBuffer },
  res: Response,
  status: CacheStatus,
  settle: Settle,
  respond = true,
): Response | null {
  cancelBody(res.body ?? undefined);
  const h = new Headers(stale.meta.headers);
  for (const [k, v] of res.headers) {
    if (k.startsWith("content-") || k === "set-cookie" || k === "server-timing" || k === "age") continue;
    if (k === "connection" || k === "keep-alive" || k === "transfer-encoding") continue;
    h.set(k, v);
  }
  const now = edge.now();
  const age = res.headers.get("age");
  const decision = decideStore(
    stale.meta.status,
    (n) => (n === "age" ? age : h.get(n)),
    ctx.rule,
    edge.config.defaultStaleIfError,
    now,
  );
  const meta: CachedMeta = {
    ...buildMeta(ctx, stale.meta.status, h, decision, now, stale.meta.tags),
    key: stale.meta.key,
    variant: stale.meta.variant,
  };
  if (decision.store) {
    edge.hitForPass.delete(ctx.key);
    ctx.exec.waitUntil(
      storeBuffer(edge, meta, stale.body, decision, edge.purgeEpoch, {
        originMs: ctx.originMs ?? 0,
        appMs: ctx.appMs,
        settle,
      }),
    );
  } else {
    // The origin stopped allowing storage: answer this once, keep nothing (no error: not a failed refresh).
    settle({ kind: "pass" });
    edge.rememberPass(ctx.key, now);
    ctx.exec.waitUntil(edge.tiers.delete(stale.meta.key));
  }
  if (!respond) return null;
  return edge.serveCached(ctx, meta, stale.body, status, now);
}

/** Background refresh of a stale key (at most one at a time per key in this isolate). */
export function revalidate(
  edge: Edge,
  ctx: RequestContext,
  stale: { meta: CachedMeta; body: CachedBody },
): void {
  const now = edge.now();
  if (edge.inflight.has(ctx.key, now)) return;
  const settle = edge.inflight.lead(ctx.key, now);
  const v = revalidatable(stale);
  const req = edge.origin.request(ctx, true, v?.meta ?? null);
  // The background work gets its own context: timings and status must not touch the answer's.
  const bg = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx) as RequestContext;
  ctx.exec.waitUntil(
    (async () => {
      try {
        const o = await edge.origin.fetch(req);
        bg.originMs = o.ms;
        bg.deadline = o.deadline ?? null;
        if (v !== null && o.res !== null && o.res.status === 304) {
          notModified(edge, bg, v, o.res, "STALE", settle, false);
          return;
        }
        if (o.res === null || o.res.status >= 400) {
          // A failed refresh leaves the stored copy in place.
          cancelBody(o.res?.body ?? undefined);
          settle({ kind: "error", status: o.res?.status ?? 502, headers: [], body: null, originMs: o.ms });
          return;
        }
        const p = await prepare(edge, bg, o.res, edge.now());
        if (!p.decision.store) {
          if (p.body instanceof ReadableStream) cancelBody(p.body);
          settle({ kind: "pass" });
          edge.rememberPass(ctx.key, edge.now());
          await edge.tiers.delete(stale.meta.key);
          return;
        }
        await store(edge, p, o.res.headers.get("content-length"), o.ms, bg.appMs, settle);
      } catch {
        settle({ kind: "pass" });
      } finally {
        bg.deadline?.clear();
      }
    })(),
  );
}
