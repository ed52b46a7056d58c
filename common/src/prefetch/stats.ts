/**
 * Statistics for the prefetch experiment, pure (randomness injected): quantiles and a
 * percentile-bootstrap confidence interval for the difference of a quantile between two arms.
 */

/** The q-quantile (0–1) of values, linear interpolation between order statistics; null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/** A difference with its confidence interval. */
export interface DiffCI {
  diff: number;
  lo: number;
  hi: number;
  level: number;
  resamples: number;
}

/**
 * Percentile bootstrap CI of quantile(a) − quantile(b): `resamples` (default 1000) resamples of
 * each arm with replacement, `random` returns uniform [0, 1). Null when an arm is empty.
 */
export function bootstrapQuantileDiff(
  a: readonly number[],
  b: readonly number[],
  q: number,
  random: () => number,
  resamples = 1000,
  level = 0.95,
): DiffCI | null {
  const qa = quantile(a, q);
  const qb = quantile(b, q);
  if (qa === null || qb === null) return null;
  const diffs: number[] = [];
  const ra = new Array<number>(a.length);
  const rb = new Array<number>(b.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < a.length; i++) ra[i] = a[Math.floor(random() * a.length)] as number;
    for (let i = 0; i < b.length; i++) rb[i] = b[Math.floor(random() * b.length)] as number;
    diffs.push((quantile(ra, q) as number) - (quantile(rb, q) as number));
  }
  diffs.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return {
    diff: qa - qb,
    lo: quantile(diffs, tail) as number,
    hi: quantile(diffs, 1 - tail) as number,
    level,
    resamples,
  };
}

export { seededRandom } from "../seeded-random.ts";
