/** The overview's "Images: bytes saved" panel: per delivered format and per device class. */
import type { ImageSavings, ImageStatsRow } from "../api-client.ts";
import { bytesBarSvg, formatBytes } from "../charts/bytes-bar.ts";
import { html, type SafeHtml } from "../html.ts";
import type { Section } from "../overview-data.ts";
import { emptyNotice, errorNotice } from "./layout.ts";
import { tableWrap } from "./parts.ts";

function savedPercent(r: ImageStatsRow): string {
  return r.savedRatio === null ? "–" : `${(r.savedRatio * 100).toFixed(1)} %`;
}

/** Responses are weighted by 1 / sample rate, so they may be fractional: shown rounded. */
function countText(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function table(title: string, keyLabel: string, section: Section<ImageSavings>, cls: string): SafeHtml {
  if (!section.ok)
    return html`<div class="${cls}"><h3>${title}</h3>${errorNotice("Image savings unavailable", section.error)}</div>`;
  const rows = section.value.groups;
  const max = Math.max(1, ...rows.map((r) => Math.max(r.originalBytes, r.deliveredBytes)));
  const row = (r: ImageStatsRow, total: boolean) =>
    html`<tr${total ? html` class="total"` : html` data-group="${r.key}"`}><td>${total ? html`<strong>all</strong>` : r.key || "(none)"}</td><td class="num">${countText(r.count)}</td><td class="num saved${r.bytesSaved < 0 ? " saved-neg" : ""}">${formatBytes(r.bytesSaved)}</td><td class="num ratio">${savedPercent(r)}</td><td class="bar">${total ? "" : bytesBarSvg(r.originalBytes, r.deliveredBytes, max, { label: `${r.key}: ${formatBytes(r.deliveredBytes)} delivered of ${formatBytes(r.originalBytes)}` })}<div class="small muted">${formatBytes(r.deliveredBytes)} of ${formatBytes(r.originalBytes)}${r.measured < r.count ? ` (bytes of ${countText(r.measured)} measured)` : ""}</div></td><td class="num fallbacks">${countText(r.fallbacks)}</td></tr>`;
  return html`<div class="${cls}"><h3>${title}</h3>${tableWrap(`Images ${title}`, html`<table><thead><tr><th>${keyLabel}</th><th class="num">responses</th><th class="num">bytes saved</th><th class="num">saved</th><th>delivered vs original</th><th class="num">fallbacks</th></tr></thead><tbody>${rows.map((r) => row(r, false))}${row(section.value.total, true)}</tbody></table>`)}</div>`;
}

/** The panel; the empty state shows when neither call found an image response. */
export function imagesCard(images: {
  byFormat: Section<ImageSavings>;
  byDevice: Section<ImageSavings>;
}): SafeHtml {
  const head = html`<h2>Images: bytes saved</h2><p class="small muted">Image responses the edge served in this range (only the site and device filters apply): bytes of the source images vs the bytes of the variants delivered. "original" rows are fallbacks that served the source. Sampled logs are weighted by 1 / sample rate.</p><div class="legend"><span class="key-img-original">original</span><span class="key-img-delivered">delivered</span></div>`;
  const empty = [images.byFormat, images.byDevice].every((s) => s.ok && s.value.total.count === 0);
  if (empty)
    return html`<section class="card images">${head}${emptyNotice(
      html`No image variants served yet — open a product page through the edge, so its images are requested through the image service.`,
    )}</section>`;
  return html`<section class="card images">${head}${table("By format", "format", images.byFormat, "images-format")}${table("By device class", "device", images.byDevice, "images-device")}</section>`;
}
