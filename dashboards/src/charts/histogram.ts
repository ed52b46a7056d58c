/** Histogram bars coloured by Core Web Vitals rating (the distribution page). Pure SVG. */
import { html, type SafeHtml } from "../html.ts";

export interface HistogramOptions {
  binWidth: number;
  thresholds: { good: number; poor: number };
  /** Label of a bin's lower edge ("250 ms", "0.05"). */
  format: (v: number) => string;
  label: string;
  width?: number;
  height?: number;
}

/** Rating of the bin [lo, lo + width): thresholds fall on bin edges, so the lower edge decides. */
export function binRating(lo: number, t: { good: number; poor: number }): "good" | "ni" | "poor" {
  return lo < t.good - 1e-9 ? "good" : lo < t.poor - 1e-9 ? "ni" : "poor";
}

/** One bar per bin, heights scaled to the largest bin; the last bin is "≥ its lower edge". */
export function histogramSvg(bins: readonly number[], o: HistogramOptions): SafeHtml {
  const w = o.width ?? 800;
  const h = o.height ?? 200;
  const pad = 22;
  const max = Math.max(...bins, 0);
  const bw = bins.length > 0 ? w / bins.length : w;
  const bars = bins.map((n, i) => {
    const lo = Math.round(i * o.binWidth * 1000) / 1000;
    const bh = max > 0 ? Math.round((n / max) * (h - pad) * 100) / 100 : 0;
    const last = i === bins.length - 1;
    const range = last ? `≥ ${o.format(lo)}` : `${o.format(lo)}–${o.format(lo + o.binWidth)}`;
    return html`<rect class="bin ${binRating(lo, o.thresholds)}" x="${(i * bw + 0.5).toFixed(2)}" y="${(h - pad - bh).toFixed(2)}" width="${Math.max(0, bw - 1).toFixed(2)}" height="${bh.toFixed(2)}" data-n="${n}"><title>${range}: ${Math.round(n * 10) / 10} page views</title></rect>`;
  });
  const ticks = [
    0,
    Math.floor(bins.length / 4),
    Math.floor(bins.length / 2),
    Math.floor((3 * bins.length) / 4),
  ].map(
    (i) =>
      html`<text class="tick" x="${(i * bw + 2).toFixed(1)}" y="${h - 6}">${o.format(i * o.binWidth)}</text>`,
  );
  return html`<svg class="histogram" viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${o.label}">${bars}${ticks}</svg>`;
}

/** A 100 % bar split into good / needs improvement / poor shares. */
export function sharesBarSvg(s: { good: number; ni: number; poor: number }, label: string): SafeHtml {
  const g = s.good * 100;
  const n = s.ni * 100;
  return html`<svg class="shares" viewBox="0 0 100 6" width="100%" height="14" preserveAspectRatio="none" role="img" aria-label="${label}"><rect class="bin good" x="0" y="0" width="${g.toFixed(2)}" height="6"></rect><rect class="bin ni" x="${g.toFixed(2)}" y="0" width="${n.toFixed(2)}" height="6"></rect><rect class="bin poor" x="${(g + n).toFixed(2)}" y="0" width="${Math.max(0, 100 - g - n).toFixed(2)}" height="6"></rect></svg>`;
}
