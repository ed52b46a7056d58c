/**
 * Pure part of HTML image rewriting: decides whether one `<img>` is rewritten and builds its
 * variant `src`, `srcset` (allow-listed widths, `w` descriptors) and `sizes`.
 */
import { snapWidth } from "../../../common/src/image-negotiation.ts";
import { CDN_CGI_IMAGE_PREFIX } from "../../../common/src/image-options.ts";

/** Attributes of one `<img>` as found in the page (null = absent). */
export interface ImgAttributes {
  src: string | null;
  srcset: string | null;
  sizes: string | null;
  width: string | null;
}

export interface ImgRewrite {
  src: string;
  srcset: string;
  sizes: string;
}

/** Variant URL path for a same-origin source path (+ query): `/cdn-cgi/image/<options>/<path>`. */
export function variantPath(options: string, sourcePathAndQuery: string): string {
  return `${CDN_CGI_IMAGE_PREFIX}${options}${sourcePathAndQuery}`;
}

/**
 * Rewrite for one `<img>`, or null to leave it alone: no/empty `src`, an author `srcset`,
 * `data:`/`blob:`, other hosts, non-http(s), SVG, paths already under `/cdn-cgi/`, and paths with
 * spaces or commas (they would break `srcset`). `width` (CSS px, digits only) limits the srcset to
 * widths up to 3× it and sets `sizes` to `(max-width: Wpx) 100vw, Wpx`; an existing `sizes` is kept.
 */
export function imgRewrite(a: ImgAttributes, pageUrl: URL, widths: readonly number[]): ImgRewrite | null {
  const raw = a.src?.trim();
  if (!raw || a.srcset !== null) return null;
  if (/^(data|blob|javascript):/i.test(raw)) return null;
  let u: URL;
  try {
    u = new URL(raw, pageUrl);
  } catch {
    return null;
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || u.host !== pageUrl.host) return null;
  const path = u.pathname;
  if (path.startsWith("/cdn-cgi/") || /\.svgz?$/i.test(path)) return null;
  const pq = path + u.search;
  if (/[\s,]/.test(pq)) return null;
  const w = a.width !== null && /^\s*\d{1,5}\s*$/.test(a.width) ? Number(a.width) : null;
  const layout = w !== null && w > 0 ? w : null;
  const max = layout === null ? Number.POSITIVE_INFINITY : snapWidth(layout * 3, widths);
  const list = widths.filter((x) => x <= max);
  const srcset = list.map((x) => `${variantPath(`width=${x},format=auto`, pq)} ${x}w`).join(", ");
  const src =
    layout === null
      ? variantPath("format=auto", pq)
      : variantPath(`width=${snapWidth(layout, widths)},format=auto`, pq);
  const sizes = a.sizes ?? (layout === null ? "100vw" : `(max-width: ${layout}px) 100vw, ${layout}px`);
  return { src, srcset, sizes };
}
