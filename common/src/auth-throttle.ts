// Throttles repeated bad tokens per client (purge, query API, dashboard login). Pure: the
// caller passes the clock. Memory is bounded: past `maxClients` entries the oldest are dropped.

export interface AuthThrottleOptions {
  /** Failures allowed per client within `windowMs` before it is refused. Default 10. */
  maxFailures?: number;
  /** Window over which failures count, ms. Default 60 000. */
  windowMs?: number;
  /** Clients tracked at once. Default 10 000. */
  maxClients?: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Entry {
  failures: number;
  windowStart: number;
}

/** Counts failed token checks per client key (an IP, or an IPv6 /64) within a fixed window. */
export class AuthThrottle {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: AuthThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
  }

  /** Whether `client` may try a token now; refused clients get the seconds until the window ends. */
  check(client: string, now: number): ThrottleVerdict {
    const e = this.entries.get(client);
    if (!e) return { allowed: true };
    if (now - e.windowStart >= this.windowMs) {
      this.entries.delete(client);
      return { allowed: true };
    }
    if (e.failures < this.maxFailures) return { allowed: true };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((e.windowStart + this.windowMs - now) / 1000)),
    };
  }

  /** Records a failed attempt by `client`. */
  fail(client: string, now: number): void {
    const e = this.entries.get(client);
    if (e && now - e.windowStart < this.windowMs) {
      e.failures++;
      return;
    }
    if (e) this.entries.delete(client);
    if (this.entries.size >= this.maxClients) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(client, { failures: 1, windowStart: now });
  }

  /** Forgets `client`'s failures after a successful check. */
  succeed(client: string): void {
    this.entries.delete(client);
  }
}

/**
 * The key a client is throttled or rate-limited under: an IPv4 address as is, an IPv6 address
 * cut to its /64 (one subscriber usually holds a whole /64). Unparseable input is returned as is.
 */
export function clientKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [head = "", tail] = ip.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined ? [] : tail === "" ? [] : tail.split(":");
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(Math.max(0, missing)).fill("0"), ...right];
  if (groups.length < 4) return ip;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
