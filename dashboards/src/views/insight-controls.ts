/** Range picker and filter form of the insight pages (plain links and a GET form: shareable URLs). */
import { html, type SafeHtml } from "../html.ts";
import { type InsightParams, insightHref } from "../insight-params.ts";
import { FILTER_DIMENSIONS } from "../metrics.ts";
import { RANGES, type RangeKey } from "../view-params.ts";

const LABELS: Record<string, string> = {
  site: "Site",
  pageGroup: "Page group",
  device: "Device",
  country: "Country",
  connection: "Connection",
  cacheStatus: "Cache status",
  colo: "Colo",
};

/** The page's own query string (for export links: the export sees exactly what the page shows). */
export function queryOf(p: InsightParams): string {
  const href = insightHref(p);
  const i = href.indexOf("?");
  return i === -1 ? "" : href.slice(i + 1);
}

/** Range links plus a filter form with the dimensions the page accepts. */
export function filterBar(p: InsightParams, dims: readonly string[] = FILTER_DIMENSIONS): SafeHtml {
  const ranges = html`<p class="ranges small" role="group" aria-label="time range">${(
    Object.keys(RANGES) as RangeKey[]
  ).map(
    (r) =>
      html`<a href="${insightHref(p, { range: r })}" class="${r === p.range ? "active" : ""}"${r === p.range ? html` aria-current="true"` : ""}>last ${r}</a>`,
  )}</p>`;
  const hidden = [
    p.range !== "1h" ? html`<input type="hidden" name="range" value="${p.range}">` : "",
    p.page === "distribution" && p.metric !== "lcp"
      ? html`<input type="hidden" name="metric" value="${p.metric}">`
      : "",
    p.page === "impact" && p.by !== "lcp" ? html`<input type="hidden" name="by" value="${p.by}">` : "",
  ];
  const shown = dims.filter((d) => insightHref({ ...p, filters: { [d]: "x" } }).includes(`${d}=x`));
  const clear = insightHref({
    ...p,
    filters: Object.fromEntries(shown.filter((d) => d !== "site").map((d) => [d, ""])),
  });
  return html`${ranges}<section class="card"><form class="filters" method="get" action="/_dash/${p.page}">${hidden}${shown.map(
    (d) =>
      html`<label>${LABELS[d] ?? d}<input name="${d}" value="${p.filters[d as keyof typeof p.filters] ?? ""}" size="${d === "pageGroup" ? 14 : d === "site" ? 10 : 6}" placeholder="any"></label>`,
  )}<button type="submit">Apply</button> <a class="small" href="${clear}">clear filters</a></form></section>`;
}
