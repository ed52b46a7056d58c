/**
 * Per-client token bucket, kept in the isolate's memory. Each Worker isolate counts on its
 * own, so the effective limit across a deployment is the configured limit × isolates a client
 * reaches (acceptable for abuse damping; a Durable Object would be the exact option).
 */
import type { RateLimit } from "../config.ts";

export type RateDecision = { ok: true } | { ok: false; retryAfterS: number };

export interface RateLimiter {
  /** Takes one token for `key` at time `now` (ms). */
  take(key: string, now: number): RateDecision;
}

interface Bucket {
  tokens: number;
  last: number;
}

/** Token bucket of `limit` tokens refilled evenly over `windowMs`; tracks ≤ `maxClients` keys (default 50 000). */
export function createRateLimiter(rate: RateLimit, maxClients = 50_000): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const perMs = rate.limit / rate.windowMs;
  return {
    take(key, now) {
      let b = buckets.get(key);
      if (b === undefined) {
        if (buckets.size >= maxClients) evict(buckets, now, rate.windowMs, maxClients);
        b = { tokens: rate.limit, last: now };
        buckets.set(key, b);
      } else {
        b.tokens = Math.min(rate.limit, b.tokens + Math.max(0, now - b.last) * perMs);
        b.last = now;
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) };
    },
  };
}

// Drops buckets idle for a whole window (they would be full again anyway); if that frees
// nothing, drops the oldest-inserted tenth, so memory stays bounded under many distinct clients.
function evict(buckets: Map<string, Bucket>, now: number, windowMs: number, maxClients: number): void {
  for (const [k, b] of buckets) if (now - b.last >= windowMs) buckets.delete(k);
  if (buckets.size < maxClients) return;
  let n = Math.ceil(maxClients / 10);
  for (const k of buckets.keys()) {
    if (n-- <= 0) break;
    buckets.delete(k);
  }
}
