/**
 * The prediction model held in the isolate: read from KV (`prefetch:model:<site>`, written by
 * the collector's cron) at most once per `refreshMs`, in the background once a model is held,
 * so no page request ever waits for storage. A missing or corrupt value keeps the model held.
 */
import { parseCompactModel } from "../../../common/src/prefetch/compact.ts";
import type { GroupOf, NextPageModel } from "../../../common/src/prefetch/model.ts";

const NO_MODEL_RECHECK_MS = 5000;

/** KV key of a site's model. */
export const modelKey = (site: string) => `prefetch:model:${site}`;

export class ModelHolder {
  model: NextPageModel | null = null;
  /** Time (ms) the held model was built, from its compact form. */
  builtAt: number | null = null;
  error: string | null = null;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;

  private readonly kv: KVNamespace | null;
  private readonly key: string;
  private readonly refreshMs: number;
  private readonly groupOf: GroupOf;

  constructor(kv: KVNamespace | null, key: string, refreshMs: number, groupOf: GroupOf) {
    this.kv = kv;
    this.key = key;
    this.refreshMs = refreshMs;
    this.groupOf = groupOf;
  }

  /** The held model; refreshes it in `waitUntil` when due (waits only when none was ever loaded). */
  async get(now: number, ctx: ExecutionContext): Promise<NextPageModel | null> {
    // Until a first model exists (a new site, a cron not run yet), look again at least every 5 s.
    const every = this.model === null ? Math.min(this.refreshMs, NO_MODEL_RECHECK_MS) : this.refreshMs;
    if (this.kv !== null && this.loading === null && now - this.checkedAt >= every) {
      this.checkedAt = now;
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
      if (this.model !== null) ctx.waitUntil(this.loading);
      else await this.loading;
    }
    return this.model;
  }

  /** Starts a refresh in `waitUntil` when due; never waits. */
  refresh(now: number, ctx: ExecutionContext): void {
    if (this.kv === null || this.loading !== null) return;
    const every = this.model === null ? Math.min(this.refreshMs, NO_MODEL_RECHECK_MS) : this.refreshMs;
    if (now - this.checkedAt < every) return;
    this.checkedAt = now;
    this.loading = this.load().finally(() => {
      this.loading = null;
    });
    ctx.waitUntil(this.loading);
  }

  /**
   * The held model; when none is held yet, waits for the load in flight or starts one (at most
   * once per the no-model recheck interval). For a path that already waits (an origin fetch).
   */
  async ensure(now: number): Promise<NextPageModel | null> {
    if (this.model !== null || this.kv === null) return this.model;
    if (this.loading === null && now - this.checkedAt >= Math.min(this.refreshMs, NO_MODEL_RECHECK_MS)) {
      this.checkedAt = now;
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
    }
    if (this.loading !== null) await this.loading;
    return this.model;
  }

  private async load(): Promise<void> {
    try {
      const raw = await (this.kv as KVNamespace).get(this.key, "json");
      if (raw === null) return;
      const model = parseCompactModel(raw, this.groupOf);
      this.model = model;
      this.builtAt = (raw as { at: number }).at;
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }
}
