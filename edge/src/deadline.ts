/**
 * One timer for one origin exchange: the time-to-headers limit (EDGE_ORIGIN_TIMEOUT_MS) and then
 * the deadline of the body read that follows (EDGE_ORIGIN_BODY_TIMEOUT_MS). On workerd a timer
 * costs more CPU than the JS around a miss's body read, and the common miss needs two (headers,
 * then the page read for injection), so the headers' timer is kept when the headers arrive and
 * serves the body read too: when it fires before the body deadline while the read is pending,
 * it is set again for the time left; when the body deadline comes first, a new timer replaces it.
 * Either way the body read gets its full deadline, measured from when it starts.
 */
export class OriginDeadline {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending timer fires (performance.now() time). */
  private due: number;
  /** When the current phase ends. */
  private until: number;
  /** What expiry does now (null: nothing waits on this deadline). */
  private onExpire: (() => void) | null;

  /** Starts the headers' limit: `onExpire` runs after `ms` unless `headersArrived` comes first. */
  constructor(ms: number, onExpire: () => void) {
    const now = performance.now();
    this.due = now + ms;
    this.until = this.due;
    this.onExpire = onExpire;
    this.timer = setTimeout(() => this.fired(), ms);
  }

  private fired(): void {
    this.timer = undefined;
    const f = this.onExpire;
    if (f === null) return;
    const left = this.until - performance.now();
    if (left >= 1) {
      this.due = this.until;
      this.timer = setTimeout(() => this.fired(), left);
      return;
    }
    this.onExpire = null;
    f();
  }

  /** The headers came in time: nothing fires until a body read is raced. */
  headersArrived(): void {
    this.onExpire = null;
  }

  /**
   * `p`'s value, or `onTimeout()` when `p` takes longer than `ms` from now. One body read per
   * deadline; the timer is cleared once `p` settles.
   */
  race<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
    const until = performance.now() + ms;
    this.until = until;
    if (this.timer === undefined || this.due > until) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.due = until;
      this.timer = setTimeout(() => this.fired(), ms);
    }
    return new Promise<T>((resolve, reject) => {
      this.onExpire = () => {
        try {
          resolve(onTimeout());
        } catch (e) {
          reject(e);
        }
      };
      p.then(
        (v) => {
          this.clear();
          resolve(v);
        },
        (e: unknown) => {
          this.clear();
          reject(e);
        },
      );
    });
  }

  /** Stops the timer (the exchange is over, or its body is not read under this deadline). */
  clear(): void {
    this.onExpire = null;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
