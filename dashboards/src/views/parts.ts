/** Small building blocks every page shares: scrollable table regions, export links, truncation. */
import { type HtmlValue, html, type SafeHtml } from "../html.ts";

/**
 * A table inside a focusable, labelled scroll region: a wide table scrolls inside its card
 * (keyboard users scroll it with the arrow keys once it has focus) instead of running out of it.
 */
export function tableWrap(label: string, table: HtmlValue): SafeHtml {
  return html`<div class="table-wrap" role="region" aria-label="${label}" tabindex="0">${table}</div>`;
}

/** "Export CSV · JSON" links for a table; `href` is `/_dash/export/...` without the extension. */
export function exportLinks(label: string, page: string, table: string, query: string): SafeHtml {
  const base = `/_dash/export/${page}/${table}`;
  const q = query ? `?${query}` : "";
  return html`<span class="export small">Export ${label}: <a href="${base}.csv${q}" download>CSV</a> · <a href="${base}.json${q}" download>JSON</a></span>`;
}

/** Text cut with an ellipsis by CSS when too long, the full value on hover (title) and for screen readers. */
export function trunc(text: string, cls = ""): SafeHtml {
  return html`<span class="trunc ${cls}" title="${text}">${text}</span>`;
}
