/**
 * Cap on the origin requests that warming may cause: a token bucket per isolate refilled at
 * `perSecond` (burst = perSecond). A warm that finds no token is skipped, not queued.
 */
export class WarmLimiter {
  private tokens: number;
  private at: number;

  private readonly perSecond: number;

  constructor(perSecond: number, now: number) {
    this.perSecond = perSecond;
    this.tokens = perSecond;
    this.at = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    if (this.perSecond <= 0) return false;
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = Math.max(this.at, now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
