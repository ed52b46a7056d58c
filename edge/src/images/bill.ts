/**
 * The transform bill's bounds, checked only on a variant cache miss (the only time the service
 * works): a per-client limit on misses (`IMAGE_CLIENT_MISSES` per minute, client keyed by
 * `clientKey` so an IPv6 /64 is one client) and a per-source budget of produced variants
 * (`IMAGE_VARIANT_BUDGET` per `IMAGE_BUDGET_WINDOW_S`). Both are fixed-window counters per isolate
 * (`AuthThrottle`), so one attacker cannot make the service transform one image thousands of ways.
 */
import { AuthThrottle } from "../../../common/src/auth-throttle.ts";
import type { ImageConfig } from "./config.ts";

/** Internal request header: the client key of the request that caused a miss (set by the route). */
export const CLIENT_HEADER = "x-image-client";
/** Internal request header: the client asked with HEAD (the miss must not produce the variant). */
export const HEAD_HEADER = "x-image-head";

export type BillVerdict = { ok: true } | { ok: false; retryAfterSeconds: number; error: string };

export class ImageBill {
  readonly clients: AuthThrottle;
  readonly sources: AuthThrottle;

  constructor(cfg: Pick<ImageConfig, "clientMisses" | "variantBudget" | "budgetWindowMs">) {
    this.clients = new AuthThrottle({ maxFailures: cfg.clientMisses, windowMs: 60_000, maxClients: 50_000 });
    this.sources = new AuthThrottle({
      maxFailures: cfg.variantBudget,
      windowMs: cfg.budgetWindowMs,
      maxClients: 50_000,
    });
  }

  /**
   * Admits one miss (a transform) for `client` (null = the edge's own warm-up) and `source`, and
   * counts it; a refused miss is not counted.
   */
  admit(client: string | null, source: string, now: number): BillVerdict {
    if (client !== null) {
      const c = this.clients.check(client, now);
      if (!c.allowed) {
        return {
          ok: false,
          retryAfterSeconds: c.retryAfterSeconds,
          error: "Too many new image variants requested by this client; retry later",
        };
      }
    }
    const s = this.sources.check(source, now);
    if (!s.allowed) {
      return {
        ok: false,
        retryAfterSeconds: s.retryAfterSeconds,
        error: "This image has reached its budget of new variants; retry later or use an existing size",
      };
    }
    if (client !== null) this.clients.fail(client, now);
    this.sources.fail(source, now);
    return { ok: true };
  }
}
