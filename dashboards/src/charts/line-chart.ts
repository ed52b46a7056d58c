/** Server-rendered SVG line chart for a metric's percentile over time. */
import { type HtmlValue, html, type SafeHtml } from "../html.ts";
import { linearScale, niceTicks, type Scale } from "./scale.ts";

/** One point of a series; `v` null means "no data in this interval" (drawn as a gap). */
export interface SeriesPoint {
  t: number;
  v: number | null;
}

/**
 * SVG path data through the points; a null value ends the current run so gaps stay visible.
 * Coordinates are rounded to 0.1 px. Returns "" when no point has a value.
 */
export function linePath(points: readonly SeriesPoint[], x: Scale, y: Scale): string {
  const parts: string[] = [];
  let penDown = false;
  for (const p of points) {
    if (p.v === null || !Number.isFinite(p.v)) {
      penDown = false;
      continue;
    }
    parts.push(`${penDown ? "L" : "M"}${r1(x(p.t))} ${r1(y(p.v))}`);
    penDown = true;
  }
  return parts.join(" ");
}

/**
 * Puts `points` on a regular grid of `step` ms buckets covering [from, to): buckets without a
 * point get `v: null`, so the chart shows a gap instead of a line across missing data.
 */
export function fillGaps(
  points: readonly SeriesPoint[],
  from: number,
  to: number,
  step: number,
): SeriesPoint[] {
  if (!(step > 0) || !(to > from)) return [...points];
  const byBucket = new Map<number, number | null>();
  for (const p of points) byBucket.set(Math.floor(p.t / step) * step, p.v);
  const out: SeriesPoint[] = [];
  for (let t = Math.floor(from / step) * step; t < to; t += step) out.push({ t, v: byBucket.get(t) ?? null });
  return out;
}

/** Options of `lineChartSvg`; `thresholds` draws dashed good/poor reference lines. */
export interface LineChartOptions {
  width: number;
  height: number;
  from: number;
  to: number;
  format: (v: number) => string;
  formatTime: (t: number) => string;
  thresholds?: { good: number; poor: number };
  label: string;
}

/** Above this many points the line alone is drawn (dots would merge into a band). */
export const MAX_DOTS = 120;

const PAD = { left: 64, right: 12, top: 10, bottom: 26 };

/**
 * Line chart from `from` to `to` (ms since epoch) with a y axis from 0 to a nice maximum above
 * the largest value (and above the "good" threshold, so the reference line stays in view).
 */
export function lineChartSvg(points: readonly SeriesPoint[], o: LineChartOptions): SafeHtml {
  const values = points.map((p) => p.v).filter((v): v is number => v !== null && Number.isFinite(v));
  const maxV = Math.max(0, ...values, o.thresholds?.good ?? 0);
  const ticks = niceTicks(maxV, 4);
  const top = ticks[ticks.length - 1] ?? 1;
  const x = linearScale([o.from, o.to], [PAD.left, o.width - PAD.right]);
  const y = linearScale([0, top], [o.height - PAD.bottom, PAD.top]);
  const grid: HtmlValue[] = ticks.map(
    (t) =>
      html`<line class="grid" x1="${PAD.left}" x2="${o.width - PAD.right}" y1="${r1(y(t))}" y2="${r1(y(t))}"/><text class="tick" x="${PAD.left - 6}" y="${r1(y(t)) + 4}" text-anchor="end">${o.format(t)}</text>`,
  );
  const xTicks: HtmlValue[] = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const t = o.from + (o.to - o.from) * f;
    return html`<text class="tick" x="${r1(x(t))}" y="${o.height - 8}" text-anchor="${f === 0 ? "start" : f === 1 ? "end" : "middle"}">${o.formatTime(t)}</text>`;
  });
  const refs: HtmlValue[] = [];
  if (o.thresholds) {
    for (const [cls, v] of [
      ["ref-good", o.thresholds.good],
      ["ref-poor", o.thresholds.poor],
    ] as const) {
      if (v <= top)
        refs.push(
          html`<line class="${cls}" x1="${PAD.left}" x2="${o.width - PAD.right}" y1="${r1(y(v))}" y2="${r1(y(v))}"/>`,
        );
    }
  }
  const d = linePath(points, x, y);
  // Single isolated points would be invisible as a path: mark points with a small dot (and a
  // tooltip) while there are few enough of them to tell apart.
  const valued = points.filter((p) => p.v !== null && Number.isFinite(p.v));
  const dots: HtmlValue[] = (valued.length <= MAX_DOTS ? valued : []).map(
    (p) =>
      html`<circle class="dot" cx="${r1(x(p.t))}" cy="${r1(y(p.v as number))}" r="2"><title>${o.formatTime(p.t)}: ${o.format(p.v as number)}</title></circle>`,
  );
  return html`<svg class="line-chart" viewBox="0 0 ${o.width} ${o.height}" width="100%" role="img" aria-label="${o.label}">${grid}${refs}${xTicks}${d ? html`<path class="line" d="${d}"/>` : ""}${dots}</svg>`;
}

function r1(v: number): number {
  return Math.round(v * 10) / 10;
}
