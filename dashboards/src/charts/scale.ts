/** Pure scale helpers for the server-rendered SVG charts. */

/** A function from data space to pixel space. */
export type Scale = (value: number) => number;

/**
 * Linear map from `domain` to `range`. A zero-width domain maps every value to `range[0]`
 * (one data point or all zeros must still draw, not divide by zero). No clamping by default.
 */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  if (!Number.isFinite(span) || span === 0) return () => r0;
  const k = (r1 - r0) / span;
  return (value: number) => r0 + (value - d0) * k;
}

/** The 1-2-5 step (× a power of ten) that splits `span` into about `count` intervals (default 5). */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0) || !Number.isFinite(span) || count < 1) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  const factor = unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10;
  return factor * power;
}

/**
 * Ticks from 0 to a "nice" maximum ≥ `max` (about `count` of them, default 5). Returns `[0, 1]`
 * for a non-positive or non-finite max so empty charts still have an axis.
 */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const step = niceStep(max, count);
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  // Rounding each tick to the step's precision avoids 0.30000000000000004-style labels.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toFixed(decimals)));
  return ticks;
}
