/**
 * Rate-limit keys: SHA-256 of the client IP with a random salt that changes every UTC day.
 * The salt lives only in this isolate's memory, so keys cannot be reversed or joined across
 * days or isolates; the IP itself is never stored, logged or enqueued. IPv6 clients are keyed
 * on their /64 (`clientKey`): one subscriber usually holds a whole /64 and can rotate within it.
 */
import { clientKey } from "../../../common/src/auth-throttle.ts";

const DAY_MS = 86_400_000;

export interface ClientKeyer {
  /** Salted hash (32 hex chars) of `ip` (an IPv6 address cut to its /64) for the UTC day of `now` (ms). */
  keyFor(ip: string, now: number): Promise<string>;
}

/** Builds a keyer; `randomBytes` fills the daily salt (default `crypto.getRandomValues`). */
export function createClientKeyer(
  randomBytes: (buf: Uint8Array) => void = (buf) => {
    crypto.getRandomValues(buf);
  },
): ClientKeyer {
  let day = Number.NaN;
  let salt = "";
  const encoder = new TextEncoder();
  return {
    async keyFor(ip, now) {
      const d = Math.floor(now / DAY_MS);
      if (d !== day) {
        const buf = new Uint8Array(16);
        randomBytes(buf);
        salt = toHex(buf);
        day = d;
      }
      const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`${salt}|${clientKey(ip)}`));
      // 128 bits are plenty for a bucket key.
      return toHex(new Uint8Array(digest, 0, 16));
    },
  };
}

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
