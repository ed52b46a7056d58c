/** The "delivered vs original" bar of the image panel, and byte formatting. */
import { html, type SafeHtml } from "../html.ts";

/** Formats bytes in decimal SI units: "812 B", "48.2 kB", "3.41 MB", "1.20 GB" (negative keeps its sign). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "–";
  const a = Math.abs(bytes);
  const sign = bytes < 0 ? "−" : "";
  if (a < 1000) return `${sign}${Math.round(a)} B`;
  if (a < 1e6) return `${sign}${(a / 1e3).toFixed(1)} kB`;
  if (a < 1e9) return `${sign}${(a / 1e6).toFixed(2)} MB`;
  return `${sign}${(a / 1e9).toFixed(2)} GB`;
}

/**
 * Two overlaid bars on a `canvasWidth` px canvas (default 300) scaled so `max` bytes fill it: the
 * original bytes as a light track, the delivered bytes on top. Widths are clamped to the canvas;
 * colours come from the stylesheet (`.img-original`, `.img-delivered`).
 */
export function bytesBarSvg(
  original: number,
  delivered: number,
  max: number,
  opts: { height?: number; canvasWidth?: number; label?: string } = {},
): SafeHtml {
  const h = opts.height ?? 14;
  const canvas = opts.canvasWidth ?? 300;
  const w = (v: number) =>
    max > 0 && Number.isFinite(v) && v > 0 ? Math.round(Math.min(v / max, 1) * canvas * 100) / 100 : 0;
  return html`<svg class="bytes-bar" width="100%" height="${h}" viewBox="0 0 ${canvas} ${h}" preserveAspectRatio="none" role="img" aria-label="${opts.label ?? "delivered vs original bytes"}"><rect class="img-original" x="0" y="0" width="${w(original)}" height="${h}" data-bytes="${original}"><title>original ${formatBytes(original)}</title></rect><rect class="img-delivered" x="0" y="${h / 4}" width="${w(delivered)}" height="${h / 2}" data-bytes="${delivered}"><title>delivered ${formatBytes(delivered)}</title></rect></svg>`;
}
