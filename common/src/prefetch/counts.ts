/**
 * Transition counts with exponential time decay: context key → next page → weight. A weight
 * halves every `halfLifeMs`, so a sale or a new catalogue outweighs last week's paths within a
 * few half-lives. Decay is lazy (each entry keeps the time it was last brought up to date), so
 * adding an observation costs one map lookup and one `2 ** x`. Pure: times are passed in.
 */

/** One successor's decayed weight and the time (ms) it was last decayed to. */
interface Entry {
  w: number;
  t: number;
}

/** Decay factor from `from` to `to` for a half-life; 1 when the half-life is infinite. */
export function decayFactor(from: number, to: number, halfLifeMs: number): number {
  if (!Number.isFinite(halfLifeMs) || to <= from) return 1;
  return 2 ** (-(to - from) / halfLifeMs);
}

/** Decayed successor weights per context key. Default half-life: none (plain counts). */
export class DecayedCounts {
  readonly halfLifeMs: number;
  private readonly rows = new Map<string, Map<string, Entry>>();

  constructor(halfLifeMs = Number.POSITIVE_INFINITY) {
    if (!(halfLifeMs > 0)) throw new RangeError(`Expected halfLifeMs > 0 but received ${halfLifeMs}`);
    this.halfLifeMs = halfLifeMs;
  }

  /** Adds `weight` for context → next observed at time `at` (ms). */
  add(context: string, next: string, weight: number, at: number): void {
    if (!(weight > 0) || !Number.isFinite(weight)) return;
    let row = this.rows.get(context);
    if (!row) {
      row = new Map();
      this.rows.set(context, row);
    }
    const e = row.get(next);
    if (!e) row.set(next, { w: weight, t: at });
    else if (at >= e.t) {
      e.w = e.w * decayFactor(e.t, at, this.halfLifeMs) + weight;
      e.t = at;
    } else e.w += weight * decayFactor(at, e.t, this.halfLifeMs);
  }

  /** Successors of a context with their weights decayed to `now` (undecayed when omitted). */
  successors(context: string, now?: number): Array<[string, number]> {
    const row = this.rows.get(context);
    if (!row) return [];
    const out: Array<[string, number]> = [];
    for (const [next, e] of row) {
      const w = now === undefined ? e.w : e.w * decayFactor(e.t, now, this.halfLifeMs);
      out.push([next, w]);
    }
    return out;
  }

  /** Raw access for the model's hot path: the row itself (weights as of each entry's `t`). */
  row(context: string): ReadonlyMap<string, { readonly w: number; readonly t: number }> | undefined {
    return this.rows.get(context);
  }

  /** Every context key. */
  contexts(): IterableIterator<string> {
    return this.rows.keys();
  }

  get size(): number {
    return this.rows.size;
  }
}
