/** Stacked horizontal bars: the attribution chart and the per-page-view mini bars. */
import { type HtmlValue, html, type SafeHtml } from "../html.ts";

/** One part of a stacked bar (value in data units, e.g. ms). */
export interface StackPart {
  key: string;
  label: string;
  value: number;
}

/** One laid-out segment: `x` and `width` in pixels. */
export interface StackSegment extends StackPart {
  x: number;
  width: number;
}

/**
 * Lays parts side by side so their widths sum to `width` exactly (positions are rounded to
 * 1/100 px on the cumulative sum, so rounding never accumulates). Negative or non-finite
 * values count as 0. When every part is 0 all segments have width 0.
 */
export function stackSegments(parts: readonly StackPart[], width: number): StackSegment[] {
  const values = parts.map((p) => (Number.isFinite(p.value) && p.value > 0 ? p.value : 0));
  const sum = values.reduce((a, b) => a + b, 0);
  const totalHundredths = Math.round(width * 100);
  const out: StackSegment[] = [];
  let cum = 0;
  let prev = 0;
  for (let i = 0; i < parts.length; i++) {
    cum += values[i] ?? 0;
    const pos =
      sum > 0 ? (i === parts.length - 1 ? totalHundredths : Math.round((cum / sum) * totalHundredths)) : 0;
    const part = parts[i] as StackPart;
    out.push({ ...part, value: values[i] ?? 0, x: prev / 100, width: (pos - prev) / 100 });
    prev = pos;
  }
  return out;
}

/** Formats milliseconds for labels: "0 ms", "87 ms", "1.24 s" (defaults to whole ms below 1 s). */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Math.abs(ms) >= 10) return `${Math.round(ms)} ms`;
  return `${Number(ms.toFixed(1))} ms`;
}

/**
 * SVG for one stacked bar `height` px tall on a canvas `canvasWidth` px wide (default: the
 * segments' own extent); it stretches to its container (`width="100%"`). Each segment is a
 * `<rect class="seg seg-<key>">` with a `<title>` tooltip; colours come from the stylesheet, so
 * no inline style is needed. `markAt` draws a thin vertical line (the TTFB boundary).
 */
export function stackedBarSvg(
  segments: readonly StackSegment[],
  opts: {
    height: number;
    canvasWidth?: number;
    label?: string;
    markAt?: number;
    format?: (v: number) => string;
  },
): SafeHtml {
  const last = segments[segments.length - 1];
  const canvas = opts.canvasWidth ?? (last ? last.x + last.width : 0);
  const fmt = opts.format ?? formatMs;
  const rects: HtmlValue[] = segments
    .filter((s) => s.width > 0)
    .map(
      (s) =>
        html`<rect class="seg seg-${s.key}" x="${s.x}" y="0" width="${s.width}" height="${opts.height}" data-part="${s.key}" data-ms="${round2(s.value)}"><title>${s.label}: ${fmt(s.value)}</title></rect>`,
    );
  const mark =
    opts.markAt !== undefined && opts.markAt > 0
      ? html`<line class="ttfb-mark" vector-effect="non-scaling-stroke" x1="${opts.markAt}" x2="${opts.markAt}" y1="0" y2="${opts.height}"/>`
      : "";
  return html`<svg class="stack" width="100%" height="${opts.height}" viewBox="0 0 ${Math.max(canvas, 1)} ${opts.height}" preserveAspectRatio="none" role="img" aria-label="${opts.label ?? "stacked bar"}">${rects}${mark}</svg>`;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
