/**
 * Storing: an origin response becomes client headers, a (beacon-injected) body, a store decision
 * (common/src/http-cache/storability.ts) and one `CachedMeta` built in one place; the body is
 * read within its deadline and put into both tiers, with a Vary marker under the URL key when the
 * response varies, then the tag index is updated.
 */
import type { InjectTag } from "../../common/src/beacon-inject.ts";
import { decideStore, type StoreDecision, TARGETED_FIELDS } from "../../common/src/http-cache/storability.ts";
import { hash64 } from "../../common/src/http-cache/vary.ts";
import type { Settle } from "./collapse.ts";
import type { EdgeConfig } from "./config.ts";
import type { RequestContext } from "./context.ts";
import type { CachedMeta } from "./hot-cache.ts";
import { responseTags } from "./http.ts";
import { BodyStalled, bodyDeadline, idleDeadline, type OriginClient } from "./origin.ts";
import { addBodyRead, injectHtml, isHtml, pageTags } from "./rum-inject.ts";
import type { TagIndex } from "./tag-index.ts";
import { type CacheTiers, requestVariant, variantKey } from "./tiers.ts";

/** An origin body ready to serve: a stream, or bytes when the beacon was injected in memory. */
export type PreparedBody = ReadableStream | Uint8Array | null;

/** Buffer bodies up to this size for collapsed waiters; larger ones stream into the Cache API. */
export const MAX_BUFFER_BYTES = 8 * 1024 * 1024;

/** What storing needs from the edge. */
export interface StoreHost {
  config: EdgeConfig;
  tiers: CacheTiers;
  tags: TagIndex;
  origin: OriginClient;
  htmlHeaders: ((h: Headers) => void) | null;
  /** Bumped by every purge: a store that started before a purge must not re-insert into the hot tier. */
  purgeEpoch: number;
  /** Per URL key, the variants stored in this isolate (bounded by EDGE_VARY_MAX_VARIANTS). */
  variants: Map<string, Set<string>>;
}

export interface Prepared {
  h: Headers;
  body: PreparedBody;
  decision: StoreDecision;
  meta: CachedMeta;
}

/**
 * Headers as stored: end-to-end ones without Set-Cookie and Content-Length (the stored body's
 * length is added when stored), plus the CDN-targeted cache fields a later 304 may need.
 */
function storedHeaders(h: Headers, raw: ReadonlyMap<string, string> | null): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of h) if (k !== "set-cookie" && k !== "content-length") out.push([k, v]);
  if (raw !== null)
    for (const f of TARGETED_FIELDS) {
      const v = raw.get(f);
      if (v !== undefined && !h.has(f)) out.push([f, v]);
    }
  return out;
}

/** The one builder of stored metadata (fresh responses and 304 refreshes). */
export function buildMeta(
  ctx: RequestContext,
  status: number,
  h: Headers,
  decision: StoreDecision,
  now: number,
  tags: string[],
  raw: ReadonlyMap<string, string> | null = null,
): CachedMeta {
  const get = (n: string): string | null => (raw === null ? h.get(n) : (raw.get(n) ?? null));
  const variant =
    decision.vary.length > 0 || (ctx.rule?.keyHeaders.length ?? 0) > 0
      ? requestVariant(ctx, decision.vary)
      : "";
  return {
    key: variant === "" ? ctx.key : variantKey(ctx, variant),
    base: ctx.key,
    variant,
    vary: null,
    status,
    // Only a stored object needs its headers as a list.
    headers: decision.store ? storedHeaders(h, raw) : [],
    storedAt: now,
    initialAge: decision.initialAge,
    freshUntil: decision.freshUntil,
    swrUntil: decision.swrUntil,
    sieUntil: decision.sieUntil,
    etag: get("etag"),
    lastModified: get("last-modified"),
    tags,
    html: isHtml(get("content-type")),
    revalidateAlways: decision.revalidateAlways,
  };
}

/** True when a 200 HTML answer should get the beacon (config, rule). */
export function wantsBeacon(config: EdgeConfig, ctx: RequestContext, status: number): boolean {
  return config.rumInject && ctx.rule?.rum !== false && status === 200;
}

/** What `injectPage` answers when the origin stalled before the page was read. */
export const STALLED: unique symbol = Symbol("stalled");

/**
 * Origin page `res` with `tags` injected, under the body deadline `ms` (on the request's origin
 * deadline when it has one): bytes when it was read whole (the wait counted as origin time),
 * else a stream with an idle deadline; STALLED when the origin stalled before the page was read.
 */
export async function injectPage(
  ctx: RequestContext,
  res: Response,
  tags: readonly InjectTag[],
  ms: number,
): Promise<PreparedBody | typeof STALLED> {
  const t = performance.now();
  const injected = await bodyDeadline<Awaited<ReturnType<typeof injectHtml>> | typeof STALLED>(
    ctx,
    injectHtml(res, tags),
    ms,
    () => STALLED,
  );
  if (injected === STALLED) return STALLED;
  addBodyRead(ctx, injected, t);
  return injected instanceof ReadableStream ? idleDeadline(injected, ms) : injected;
}

/** Origin response → client headers, (beacon-injected) body, store decision and metadata. */
export async function prepare(
  host: StoreHost,
  ctx: RequestContext,
  res: Response,
  now: number,
): Promise<Prepared> {
  const { h, raw } = host.origin.clientHeaders(res, ctx);
  const get = (n: string): string | null => raw.get(n) ?? null;
  const decision = decideStore(res.status, get, ctx.rule, host.config.defaultStaleIfError, now);
  if (decision.store && decision.vary.length > 0 && !roomForVariant(host, ctx, decision)) {
    decision.store = false;
    decision.reason = "too many variants";
  }
  ctx.publicCacheable = decision.store;
  const html = isHtml(get("content-type"));
  if (html && res.status === 200 && host.htmlHeaders !== null) host.htmlHeaders(h);
  // The body under the body deadline whether it is buffered or streamed to the client: an idle
  // deadline on streams (an event stream may legitimately be quiet for long: left alone), an
  // overall one on the bytes read for beacon injection.
  const ms = host.config.originBodyTimeoutMs;
  let body: PreparedBody = res.body;
  const tags =
    body !== null && html
      ? pageTags(res, wantsBeacon(host.config, ctx, res.status) ? host.config.rumBeaconSrc : null)
      : [];
  if (tags.length > 0) {
    const injected = await injectPage(ctx, res, tags, ms);
    if (injected === STALLED) throw new BodyStalled(ms);
    body = injected;
    h.delete("content-length");
  } else if (body !== null && !get("content-type")?.toLowerCase().startsWith("text/event-stream"))
    body = idleDeadline(body, ms);
  const meta = buildMeta(ctx, res.status, h, decision, now, responseTags(get), raw);
  return { h, body, decision, meta };
}

/** True when this isolate may store one more variant of the URL (or already holds this one). */
function roomForVariant(host: StoreHost, ctx: RequestContext, d: StoreDecision): boolean {
  const id = hash64(requestVariant(ctx, d.vary));
  let set = host.variants.get(ctx.key);
  if (set === undefined) {
    if (host.variants.size >= 10_000) host.variants.clear();
    set = new Set();
    host.variants.set(ctx.key, set);
  }
  if (set.has(id)) return true;
  if (set.size >= host.config.varyMaxVariants) return false;
  set.add(id);
  return true;
}

/** The Vary marker stored under the URL key of a varying object. */
function markerFor(meta: CachedMeta, vary: string[]): CachedMeta {
  return {
    ...meta,
    key: meta.base,
    variant: "",
    vary,
    headers: [],
    etag: null,
    lastModified: null,
    html: false,
  };
}

/**
 * Reads the body (up to MAX_BUFFER_BYTES within the body deadline; larger known-size bodies
 * stream into the Cache API), stores it in both tiers, then indexes tags. Settles collapsed
 * waiters: stored, the stall as an error, or pass.
 */
export async function store(
  host: StoreHost,
  p: Prepared,
  contentLength: string | null,
  originMs: number,
  appMs: number | null,
  settle: Settle,
): Promise<void> {
  const { meta, body, decision } = p;
  const epoch = host.purgeEpoch;
  try {
    let buf: ArrayBuffer;
    if (body instanceof Uint8Array) {
      buf = (
        body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
          ? body.buffer
          : body.slice().buffer
      ) as ArrayBuffer;
    } else if (body === null) buf = new ArrayBuffer(0);
    else {
      const len = contentLength === null ? Number.NaN : Number(contentLength);
      if (!Number.isNaN(len) && len > MAX_BUFFER_BYTES) {
        settle({ kind: "pass" });
        await putMarker(host, meta, decision);
        await host.tiers.putStream(meta, body, decision.storageTtl);
        await host.tags.add(meta.key, meta.tags, decision.storageTtl);
        return;
      }
      const read = await host.origin.readBody(body, MAX_BUFFER_BYTES);
      if (read === "timeout") {
        settle({ kind: "error", status: 504, headers: [], body: null, originMs });
        return;
      }
      if (read === null) {
        settle({ kind: "pass" });
        return;
      }
      buf = read;
    }
    await storeBuffer(host, meta, buf, decision, epoch, { originMs, appMs, settle });
  } catch {
    // Storage is best effort; the client already has its response.
    settle({ kind: "pass" });
  }
}

async function putMarker(host: StoreHost, meta: CachedMeta, decision: StoreDecision): Promise<void> {
  if (meta.variant === "") return;
  const marker = markerFor(meta, decision.vary);
  await host.tiers.put(marker, new ArrayBuffer(0), decision.storageTtl);
}

/** Puts buffered bytes into both tiers (hot tier skipped when a purge happened since `epoch`). */
export async function storeBuffer(
  host: StoreHost,
  meta: CachedMeta,
  buf: ArrayBuffer,
  decision: StoreDecision,
  epoch: number,
  w: { originMs: number; appMs: number | null; settle: Settle },
): Promise<void> {
  if (epoch !== host.purgeEpoch) {
    w.settle({ kind: "pass" });
    return;
  }
  // The stored body's own length (decoded bytes: only when the runtime does not re-encode it).
  if (!meta.headers.some(([k]) => k === "content-encoding"))
    meta.headers.push(["content-length", String(buf.byteLength)]);
  const marker = meta.variant === "" ? null : markerFor(meta, decision.vary);
  const put = Promise.all([
    host.tiers.put(meta, buf, decision.storageTtl),
    marker === null ? null : host.tiers.put(marker, new ArrayBuffer(0), decision.storageTtl),
  ]);
  w.settle({ kind: "stored", meta, body: buf, originMs: w.originMs, appMs: w.appMs });
  try {
    await put;
    await host.tags.add(meta.key, meta.tags, decision.storageTtl);
  } catch {
    // Best effort: the hot tier already has it.
  }
}
