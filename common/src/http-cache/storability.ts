/**
 * Whether and for how long a shared cache stores a response (RFC 9111 §3, §4.2, RFC 9213),
 * before any edge rule: which status codes, which `Cache-Control` field targets this cache, and
 * the freshness/stale windows. Pure: headers arrive as a lookup function, the clock as a number.
 */
import { type CacheControl, sharedFreshness } from "../cache-control.ts";
import { parseVary } from "./vary.ts";

/** Status codes cacheable by default (RFC 9110 §15.1), without explicit freshness. */
export const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([
  200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501,
]);

/** Status codes a rule's own TTL applies to (others need the origin's explicit freshness). */
export const RULE_TTL_STATUSES: ReadonlySet<number> = new Set([200, 203, 301, 404, 410]);

/** Response fields that carry cache policy for this cache, most specific first (RFC 9213 §2.2). */
export const TARGETED_FIELDS = ["cloudflare-cdn-cache-control", "cdn-cache-control"] as const;

type Get = (name: string) => string | null;

/** The cache policy that applies to this cache: the first present targeted field, else `Cache-Control`. */
export function targetedCacheControl(get: Get): { value: string | null; targeted: boolean } {
  for (const f of TARGETED_FIELDS) {
    const v = get(f);
    if (v !== null && v.trim() !== "") return { value: v, targeted: true };
  }
  return { value: get("cache-control"), targeted: false };
}

/** What a rule may say about storing (a subset of the edge's path rule). */
export interface StoreRule {
  ttl?: number;
  swr?: number;
  sie?: number;
  force: boolean;
}

export interface StoreDecision {
  store: boolean;
  /** Why not ("" when stored). */
  reason: string;
  initialAge: number;
  freshUntil: number;
  swrUntil: number;
  sieUntil: number;
  /** Seconds the storage tiers keep the object (fresh + longest stale window, or a day when it must be revalidated on use). */
  storageTtl: number;
  /** Request headers the response varies on (lower-case, sorted; Accept-Encoding left out). */
  vary: string[];
  /** Must be validated with the origin before every use (`no-cache`). */
  revalidateAlways: boolean;
}

/** Storage kept for objects that are revalidated on every use. */
const REVALIDATE_STORAGE_SECONDS = 86_400;

function notStored(reason: string, initialAge: number): StoreDecision {
  return {
    store: false,
    reason,
    initialAge,
    freshUntil: 0,
    swrUntil: 0,
    sieUntil: 0,
    storageTtl: 0,
    vary: [],
    revalidateAlways: false,
  };
}

/** True when the response states its own freshness (s-maxage, max-age or Expires). */
function explicitFreshness(cc: CacheControl, expires: string | null): boolean {
  return cc.sMaxage !== undefined || cc.maxAge !== undefined || expires !== null;
}

/**
 * Decides storage for a response received at `now` (ms). `defaultSie` applies when neither the
 * response nor the rule sets stale-if-error. Stored: a heuristically cacheable status, or any
 * final status with explicit freshness; never `no-store`, `private`, `Set-Cookie` (unless the
 * rule forces), `Vary: *`, 1xx or 206. `no-cache` responses with a validator are stored and
 * revalidated on every use; `must-revalidate`/`proxy-revalidate`/`no-cache` are never served stale.
 */
export function decideStore(
  status: number,
  get: Get,
  rule: StoreRule | undefined,
  defaultSie: number,
  now: number,
): StoreDecision {
  const policy = targetedCacheControl(get);
  const expires = get("expires");
  const f = sharedFreshness({ cacheControl: policy.value, expires, date: get("date"), age: get("age") }, now);
  if (status < 200 || status === 206 || status > 599) return notStored(`status ${status}`, f.age);
  const ruleTtl = rule?.ttl !== undefined && RULE_TTL_STATUSES.has(status) ? rule.ttl : undefined;
  if (!HEURISTIC_STATUSES.has(status) && !explicitFreshness(f.cc, expires))
    return notStored(`status ${status}`, f.age);
  const force = rule?.force === true;
  if (!force) {
    if (f.cc.noStore) return notStored("no-store", f.age);
    if (f.cc.private) return notStored("private", f.age);
    if (get("set-cookie") !== null) return notStored("set-cookie", f.age);
  }
  const vary = parseVary(get("vary"));
  if (vary.star) return notStored("vary *", f.age);
  let freshMs: number;
  let revalidateAlways = false;
  if (ruleTtl !== undefined) freshMs = ruleTtl * 1000;
  else if (f.cc.noCache) {
    if (get("etag") === null && get("last-modified") === null)
      return notStored("no-cache without a validator", f.age);
    revalidateAlways = true;
    freshMs = 0;
  } else if (f.lifetime === null) return notStored("no freshness information", f.age);
  else freshMs = (f.lifetime - f.age) * 1000;
  if (freshMs <= 0 && !revalidateAlways) return notStored("already stale", f.age);
  const noStale = f.cc.mustRevalidate || f.cc.proxyRevalidate || revalidateAlways;
  const swr = noStale ? 0 : (rule?.swr ?? f.staleWhileRevalidate);
  const sie = noStale ? 0 : (rule?.sie ?? (f.cc.staleIfError !== undefined ? f.staleIfError : defaultSie));
  const freshUntil = now + freshMs;
  const swrUntil = freshUntil + swr * 1000;
  const sieUntil = freshUntil + sie * 1000;
  const storageTtl = revalidateAlways
    ? REVALIDATE_STORAGE_SECONDS
    : Math.max(1, Math.ceil((Math.max(swrUntil, sieUntil) - now) / 1000));
  return {
    store: true,
    reason: "",
    initialAge: f.age,
    freshUntil,
    swrUntil,
    sieUntil,
    storageTtl,
    vary: vary.names,
    revalidateAlways,
  };
}
