/**
 * Next-page model: which page a visitor opens next, given the recent path of the session.
 *
 * Counts (decayed, weighted) are kept for contexts of increasing specificity and combined by
 * interpolated absolute discounting (the Kneser–Ney family without continuation counts): each
 * level keeps its observed successors minus a discount and hands the discounted mass to the level
 * below, so a sparse context backs off smoothly instead of all-or-nothing. Levels, general first:
 *   1. site popularity of next pages;
 *   2. page group → next page group, spread over the group's popular pages (when groups are known);
 *   3. URL contexts of order 1 … maxOrder (the last k pages, consecutive repeats collapsed);
 *   4. the last two pages plus the unordered set of earlier pages of the session;
 * then a share of the probability goes to pages seen earlier in the session, by recency
 * (visitors return to pages they came through). The current page is never a candidate.
 * Pure: time comes in as arguments, no randomness.
 */
import { DecayedCounts } from "./counts.ts";
import { type ModelOptions, resolveModelOptions } from "./options.ts";

/** Page → page group (route pattern); identity when the click stream is already grouped. */
export type GroupOf = (page: string) => string;

/** A predicted next page and its probability (the current page removed from the candidates). */
export interface Candidate {
  page: string;
  p: number;
}

/** Prediction limits. Defaults: k 3, threshold 0, no extra exclusions, no decay to `now`. */
export interface PredictOptions {
  k?: number;
  threshold?: number;
  /**
   * Pages never proposed (besides the current page), e.g. denied by the speculation policy.
   * Dropped *after* the threshold: the probabilities stay those of the full distribution (the
   * current page removed only), so excluded pages' mass is never renormalised onto the others.
   */
  exclude?: (page: string) => boolean;
  /** Decay weights to this time (ms); omit to use them as stored. */
  now?: number;
}

const SEP = "\n";
/** Context key prefixes (one namespace for all levels, so the compact form is one table). */
export const KEY = { pop: "", group: "g:", inGroup: "i:", url: "u", bag: "b:" } as const;

/** Drops consecutive repeats (reloads): the same page twice is no step on the path. */
export function collapseRepeats(path: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of path) if (out.length === 0 || out[out.length - 1] !== p) out.push(p);
  return out;
}

/** Context key of the last `k` pages of a collapsed path. */
function urlKey(path: readonly string[], k: number): string {
  return `${KEY.url}${k}:${path.slice(path.length - k).join(SEP)}`;
}

/** Most earlier pages in a bag context (the most recent distinct ones), so keys stay bounded. */
export const MAX_BAG = 32;

/** Context key "last two pages | sorted set of earlier pages (not among the last two)". */
function bagKey(path: readonly string[]): string {
  const last = path.slice(-2);
  const earlier = new Set<string>();
  for (let j = path.length - 3; j >= 0 && earlier.size < MAX_BAG; j--) {
    const p = path[j] as string;
    if (!last.includes(p)) earlier.add(p);
  }
  return `${KEY.bag}${last.join(SEP)}|${[...earlier].sort().join(SEP)}`;
}

type Dist = Map<string, number>;

export class NextPageModel {
  readonly options: ModelOptions;
  readonly counts: DecayedCounts;
  private readonly groupOf: GroupOf | undefined;

  /** `groupOf` enables the page-group level; without it the model backs off to popularity. */
  constructor(options: Partial<ModelOptions> = {}, groupOf?: GroupOf, counts?: DecayedCounts) {
    this.options = resolveModelOptions(options);
    this.groupOf = groupOf;
    this.counts = counts ?? new DecayedCounts(this.options.halfLifeMs);
  }

  /**
   * Records one transition: the session's path so far (oldest first, current page last) → next.
   * `weight` (default 1) carries dwell/bounce weighting; `at` is the time in ms (default 0).
   * A transition to the current page (a reload) is not a step and is ignored.
   */
  observe(path: readonly string[], next: string, weight = 1, at = 0): void {
    this.observeCollapsed(collapseRepeats(path), next, weight, at);
  }

  private observeCollapsed(h: readonly string[], next: string, weight: number, at: number): void {
    const cur = h[h.length - 1];
    if (cur === undefined || cur === next) return;
    const c = this.counts;
    c.add(KEY.pop, next, weight, at);
    const top = Math.min(this.options.maxOrder, h.length);
    for (let k = 1; k <= top; k++) c.add(urlKey(h, k), next, weight, at);
    if (this.options.bagContext) c.add(bagKey(h), next, weight, at);
    if (this.groupOf) {
      c.add(KEY.group + this.groupOf(cur), this.groupOf(next), weight, at);
      c.add(KEY.inGroup + this.groupOf(next), next, weight, at);
    }
  }

  /** Records every transition of one session (pages in order); `weights[i]` weighs step i → i+1. */
  observeSession(pages: readonly string[], at = 0, weights?: readonly number[]): void {
    const h: string[] = [];
    for (let i = 0; i + 1 < pages.length; i++) {
      const p = pages[i] as string;
      if (h[h.length - 1] !== p) h.push(p);
      this.observeCollapsed(h, pages[i + 1] as string, weights?.[i] ?? 1, at);
    }
  }

  /**
   * Full next-page distribution without the current page (sums to 1 over the candidates, or
   * empty without data). Only `opts.now` is used: exclusions apply to predictions, not here.
   */
  distribution(path: readonly string[], opts: Pick<PredictOptions, "now"> = {}): Dist {
    const h = collapseRepeats(path);
    const cur = h[h.length - 1];
    if (cur === undefined) return new Map();
    const skip = (p: string) => p === cur;
    const now = opts.now;
    let dist = this.level(new Map(), KEY.pop, skip, now) ?? new Map<string, number>();
    if (dist.size === 0) return dist;
    if (this.groupOf) dist = this.groupLevel(dist, this.groupOf(cur), skip, now);
    const top = Math.min(this.options.maxOrder, h.length);
    for (let k = 1; k <= top; k++) {
      const next = this.level(dist, urlKey(h, k), skip, now);
      if (!next) break; // a longer context that was never seen cannot have been seen either
      dist = next;
    }
    if (this.options.bagContext) dist = this.level(dist, bagKey(h), skip, now) ?? dist;
    return this.recency(dist, h, skip);
  }

  /**
   * The top `k` candidates at or above `threshold`, most probable first (ties by page string):
   * the threshold is applied to the distribution's probabilities, then excluded pages are
   * dropped, then the list is cut to `k`.
   */
  predict(path: readonly string[], opts: PredictOptions = {}): Candidate[] {
    const k = opts.k ?? 3;
    const threshold = opts.threshold ?? 0;
    const out: Candidate[] = [];
    for (const [page, p] of this.distribution(path, opts))
      if (p > 0 && p >= threshold && !(opts.exclude?.(page) ?? false)) out.push({ page, p });
    out.sort((a, b) => b.p - a.p || (a.page < b.page ? -1 : a.page > b.page ? 1 : 0));
    return out.slice(0, k);
  }

  /** Successor weights of a context without the skipped pages, decayed to `now` if given. */
  private weights(
    key: string,
    skip: (p: string) => boolean,
    now: number | undefined,
  ): Array<[string, number]> {
    return this.counts.successors(key, now).filter(([p, w]) => w > 0 && !skip(p));
  }

  /**
   * One interpolation step: q(x) = max(c(x) − d, 0)/c + λ·lower(x), with λ = Σ min(c(x), d)/c
   * (exactly the mass the discount removed). Undefined when the context has no usable data.
   */
  private level(
    lower: Dist,
    key: string,
    skip: (p: string) => boolean,
    now: number | undefined,
  ): Dist | undefined {
    const rows = this.weights(key, skip, now);
    const d = this.options.discount;
    const base = backoffBase(lower, rows, d);
    if (!base) return undefined;
    const { q, total } = base;
    for (const [p, w] of rows) q.set(p, (q.get(p) ?? 0) + Math.max(w - d, 0) / total);
    if (lower.size === 0) return normalise(q);
    return q;
  }

  /** Group level: P(group' | group of current page) spread over group' by its pages' popularity. */
  private groupLevel(
    lower: Dist,
    group: string,
    skip: (p: string) => boolean,
    now: number | undefined,
  ): Dist {
    const rows = this.counts.successors(KEY.group + group, now).filter(([, w]) => w > 0);
    const d = this.options.discount;
    const base = backoffBase(lower, rows, d);
    if (!base) return lower;
    const { q, total } = base;
    for (const [g, w] of rows) {
      const share = Math.max(w - d, 0) / total;
      const pages = this.level(new Map(), KEY.inGroup + g, skip, now);
      if (!pages || share === 0) continue;
      for (const [p, v] of pages) q.set(p, (q.get(p) ?? 0) + share * v);
    }
    return normalise(q);
  }

  /** Mixes in pages seen earlier in the session, the most recent weighing most. */
  private recency(dist: Dist, h: readonly string[], skip: (p: string) => boolean): Dist {
    const rho = this.options.recencyWeight;
    if (rho === 0 || h.length < 2) return dist;
    const seen: Dist = new Map();
    let z = 0;
    let w = 1;
    for (let j = h.length - 2; j >= 0; j--, w *= this.options.recencyDecay) {
      const p = h[j] as string;
      if (skip(p)) continue;
      seen.set(p, (seen.get(p) ?? 0) + w);
      z += w;
    }
    if (!(z > 0)) return dist;
    const q: Dist = new Map();
    for (const [p, v] of dist) q.set(p, (1 - rho) * v);
    for (const [p, v] of seen) q.set(p, (q.get(p) ?? 0) + (rho * v) / z);
    return q;
  }
}

function normalise(d: Dist): Dist {
  let s = 0;
  for (const v of d.values()) s += v;
  if (!(s > 0)) return d;
  for (const [k, v] of d) d.set(k, v / s);
  return d;
}

/**
 * The shared start of one interpolated absolute-discounting level: the rows' total and the
 * lower-order distribution scaled by the mass the discount `d` frees (λ). Undefined when the
 * rows carry no weight, so the caller keeps the lower order as it is.
 */
function backoffBase(
  lower: Dist,
  rows: readonly (readonly [string, number])[],
  d: number,
): { q: Dist; total: number } | undefined {
  let total = 0;
  for (const [, w] of rows) total += w;
  if (!(total > 0)) return undefined;
  let lambda = 0;
  for (const [, w] of rows) lambda += Math.min(w, d);
  lambda /= total;
  const q: Dist = new Map();
  for (const [p, v] of lower) q.set(p, lambda * v);
  return { q, total };
}
