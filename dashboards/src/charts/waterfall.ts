/**
 * One page view as a waterfall: each phase a bar starting where the previous ended, on a shared
 * time axis, so queueing, last mile, edge, middle mile, backend, download and render read in the
 * order they happened. Pure SVG; colours by phase key from the stylesheet (`.seg-<key>`).
 */
import { html, type SafeHtml } from "../html.ts";
import { formatMs } from "./stacked-bar.ts";

export interface Phase {
  key: string;
  label: string;
  /** ms; null = unknown (drawn as a note, not a bar). */
  ms: number | null;
}

/** Rows with `start` (ms from navigation start) and `ms`; unknown phases take no time. */
export function layoutPhases(phases: readonly Phase[]): (Phase & { start: number })[] {
  let t = 0;
  return phases.map((p) => {
    const start = t;
    t += p.ms !== null && p.ms > 0 ? p.ms : 0;
    return { ...p, start };
  });
}

/** The bar of one row on a `total`-ms axis (a 600-unit canvas stretched to the cell). */
export function waterfallBarSvg(row: Phase & { start: number }, total: number): SafeHtml {
  const w = 600;
  const x = (ms: number) => (total > 0 ? (ms / total) * w : 0);
  const width = row.ms !== null && row.ms > 0 ? Math.max(1, x(row.start + row.ms) - x(row.start)) : 0;
  return html`<svg class="waterfall" viewBox="0 0 ${w} 12" width="100%" height="12" preserveAspectRatio="none" role="img" aria-label="${row.label}: ${row.ms === null ? "unknown" : formatMs(row.ms)}, from ${formatMs(row.start)}"><rect class="seg-${row.key}" x="${x(row.start).toFixed(2)}" y="0" width="${width.toFixed(2)}" height="12"></rect></svg>`;
}
