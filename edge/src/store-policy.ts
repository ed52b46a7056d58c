/**
 * Whether and for how long the edge stores an origin response: the origin's freshness
 * (common/src/cache-control.ts) unless a path rule overrides it. Never stores `Set-Cookie`,
 * `private`, `no-store`, `no-cache` or responses without freshness information unless a rule says
 * so (`ttl` for no freshness/no-cache, `force` for private/no-store/Set-Cookie); `Vary` on anything
 * but `Accept-Encoding` needs the header normalised into the key (`keyHeaders`).
 */
import { sharedFreshness } from "../../common/src/cache-control.ts";
import type { PathRule } from "./config.ts";

/** Status codes a shared cache may store (RFC 9110 §15.1 "heuristically cacheable", minus 206). */
const STORABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

export interface StoreDecision {
  store: boolean;
  /** Why not (for debugging headers/tests); "" when stored. */
  reason: string;
  initialAge: number;
  freshUntil: number;
  swrUntil: number;
  sieUntil: number;
  /** Seconds the Cache API should keep the object (fresh + longest stale window). */
  storageTtl: number;
}

/** A "do not store" decision (module-level: no closure per origin response). */
function notStored(reason: string, initialAge: number): StoreDecision {
  return { store: false, reason, initialAge, freshUntil: 0, swrUntil: 0, sieUntil: 0, storageTtl: 0 };
}

/** Decides storage for a response received at `now` (ms); `defaultSie` applies when neither origin nor rule sets stale-if-error. */
export function decideStore(
  status: number,
  h: Headers,
  rule: PathRule | undefined,
  defaultSie: number,
  now: number,
): StoreDecision {
  const f = sharedFreshness(
    {
      cacheControl: h.get("cache-control"),
      expires: h.get("expires"),
      date: h.get("date"),
      age: h.get("age"),
    },
    now,
  );
  if (!STORABLE_STATUS.has(status)) return notStored(`status ${status}`, f.age);
  const force = rule?.force === true;
  if (!force) {
    if (f.cc.noStore) return notStored("no-store", f.age);
    if (f.cc.private) return notStored("private", f.age);
    if (h.has("set-cookie")) return notStored("set-cookie", f.age);
  }
  const vary = h.get("vary");
  if (vary) {
    for (const v of vary.split(",")) {
      const name = v.trim().toLowerCase();
      if (!name || name === "accept-encoding") continue;
      if (name === "*" || !rule?.keyHeaders.includes(name)) return notStored(`vary ${name}`, f.age);
    }
  }
  let freshMs: number;
  if (rule?.ttl !== undefined) {
    freshMs = rule.ttl * 1000;
  } else {
    if (f.cc.noCache) return notStored("no-cache", f.age);
    if (f.lifetime === null) return notStored("no freshness information", f.age);
    freshMs = (f.lifetime - f.age) * 1000;
  }
  if (freshMs <= 0) return notStored("already stale", f.age);
  const swr = rule?.swr ?? f.staleWhileRevalidate;
  const noStale = f.cc.mustRevalidate || f.cc.proxyRevalidate;
  const sie = rule?.sie ?? (f.cc.staleIfError !== undefined || noStale ? f.staleIfError : defaultSie);
  const freshUntil = now + freshMs;
  const swrUntil = freshUntil + swr * 1000;
  const sieUntil = freshUntil + sie * 1000;
  return {
    store: true,
    reason: "",
    initialAge: f.age,
    freshUntil,
    swrUntil,
    sieUntil,
    storageTtl: Math.max(1, Math.ceil((Math.max(swrUntil, sieUntil) - now) / 1000)),
  };
}
