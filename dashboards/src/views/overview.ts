/** The overview page: filters, headline tiles, TTFB attribution, time series, percentile table. */
import type { CoverageRow, GroupRow, QueryResult } from "../api-client.ts";
import { fillGaps, lineChartSvg } from "../charts/line-chart.ts";
import { formatMs, stackedBarSvg, stackSegments } from "../charts/stacked-bar.ts";
import { type HtmlValue, html, type SafeHtml } from "../html.ts";
import {
  ATTRIBUTION_GROUP_BY,
  ATTRIBUTION_PARTS,
  DIMENSION_LABELS,
  formatMetric,
  GROUP_BY_DIMENSIONS,
  METRIC_LABELS,
  PERCENTILES,
  rate,
  THRESHOLDS,
  VITALS,
} from "../metrics.ts";
import type { AttributionGroup, OverviewData, PendingOverview, Section, Tile } from "../overview-data.ts";
import type { Part } from "../stream.ts";
import { type OverviewParams, overviewHref, RANGES, type RangeKey } from "../view-params.ts";
import { imagesCard } from "./images.ts";
import { emptyNotice, errorNotice, layout } from "./layout.ts";
import { exportLinks, tableWrap, trunc } from "./parts.ts";

const RANGE_LABELS: Record<RangeKey, string> = {
  "15m": "15 min",
  "1h": "1 h",
  "6h": "6 h",
  "24h": "24 h",
  "7d": "7 d",
};
const DEVICES = ["mobile", "tablet", "desktop", "bot", "other"];
const CONNECTIONS = ["4g", "3g", "2g", "slow-2g", "unknown"];
const CACHE_STATUSES = ["HIT", "MISS", "STALE", "EXPIRED", "BYPASS", "NONE"];
const BAR_CANVAS = 600;

function choice(
  label: string,
  options: readonly string[],
  current: string,
  href: (v: string) => string,
  names: (v: string) => string = (v) => v,
): SafeHtml {
  return html`<span class="ranges small" aria-label="${label}">${options.map(
    (o) => html`<a href="${href(o)}" class="${o === current ? "active" : ""}">${names(o)}</a>`,
  )}</span>`;
}

function selectField(
  name: string,
  label: string,
  options: readonly string[],
  current: string | undefined,
): SafeHtml {
  return html`<label>${label}<select name="${name}"><option value="">any</option>${options.map(
    (o) => html`<option value="${o}"${o === current ? html` selected` : ""}>${o}</option>`,
  )}</select></label>`;
}

function filterForm(p: OverviewParams, pageGroups: readonly string[] | null): SafeHtml {
  const f = p.filters;
  const keep: HtmlValue[] = (
    [
      ["range", p.range, "1h"],
      ["metric", p.metric, "lcp"],
      ["pct", p.pct, "p75"],
      ["by", p.by, "pageGroup"],
      ["attrBy", p.attrBy, "pageGroup"],
      ["attrPct", p.attrPct, "p50"],
      ["attrScope", p.attrScope, "all"],
    ] as const
  )
    .filter(([, v, def]) => v !== def)
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  return html`<form class="filters" method="get" action="/_dash/">${keep}
<label>Site<input name="site" value="${f.site ?? ""}" size="10"></label>
<label>Page group<input name="pageGroup" value="${f.pageGroup ?? ""}" list="page-groups" size="16" placeholder="any"></label>
${pageGroups === null ? "" : pageGroupList(pageGroups)}
${selectField("device", "Device", DEVICES, f.device)}
<label>Country<input name="country" value="${f.country ?? ""}" size="4" placeholder="any"></label>
${selectField("connection", "Connection", CONNECTIONS, f.connection)}
${selectField("cacheStatus", "Cache status", CACHE_STATUSES, f.cacheStatus)}
<label>Colo<input name="colo" value="${f.colo ?? ""}" size="4" placeholder="any"></label>
<button type="submit">Apply</button> <a class="small" href="${overviewHref(p, { filters: { pageGroup: "", device: "", country: "", connection: "", cacheStatus: "", colo: "" } })}">clear filters</a></form>`;
}

/** A group's key as a link that filters the overview to it (the drill-down); full value on hover. */
function drill(p: OverviewParams, dim: string, key: string): SafeHtml {
  if (!key) return html`(none)`;
  const filters = { [dim]: key } as OverviewParams["filters"];
  return html`<a class="drill" href="${overviewHref(p, { filters })}" title="Filter to ${DIMENSION_LABELS[dim] ?? dim} ${key}">${trunc(key)}</a>`;
}

/** The overview's own query string (export links export exactly what the page shows). */
function queryOf(p: OverviewParams): string {
  const h = overviewHref(p);
  return h.includes("?") ? h.slice(h.indexOf("?") + 1) : "";
}

/** Suggestions for the page-group filter (a datalist may follow the form: it is found by id). */
function pageGroupList(groups: readonly string[]): SafeHtml {
  return html`<datalist id="page-groups">${groups.map((g) => html`<option value="${g}"></option>`)}</datalist>`;
}

function tiles(section: Section<Tile[]>): SafeHtml {
  if (!section.ok) return errorNotice("Headline metrics unavailable", section.error);
  return html`<div class="tiles">${section.value.map(
    (t) =>
      html`<div class="tile ${rate(t.metric, t.p75)}" data-metric="${t.metric}"><div class="name">${METRIC_LABELS[t.metric]} p75</div><div class="value">${formatMetric(t.metric, t.p75)}</div><div class="small muted">${t.count} page views · ${ratingWord(rate(t.metric, t.p75))}</div></div>`,
  )}</div>`;
}

function ratingWord(r: ReturnType<typeof rate>): string {
  return r === "good" ? "good" : r === "ni" ? "needs improvement" : r === "poor" ? "poor" : "no data";
}

/** The parts a scope shows, in page-view order. */
function scopeParts(scope: OverviewParams["attrScope"]) {
  return ATTRIBUTION_PARTS.filter((p) => scope === "all" || p.phase === "ttfb");
}

/** Sum of a group's shown parts (unknown parts count as 0): the bar's length. */
function partsTotal(g: AttributionGroup, scope: OverviewParams["attrScope"]): number {
  return scopeParts(scope).reduce((sum, p) => sum + (g.parts[p.key] ?? 0), 0);
}

function partsText(g: AttributionGroup, backendUnknown: boolean, scope: OverviewParams["attrScope"]): string {
  const items = scopeParts(scope)
    .filter((part) => (g.parts[part.key] ?? 0) > 0)
    .map((part) => `${part.label.replace(/^.*: /, "")} ${formatMs(g.parts[part.key])}`);
  if (backendUnknown) items.push("backend unknown (the origin sent no app timing)");
  return items.join(" · ");
}

function attribution(p: OverviewParams, section: Section<AttributionGroup[]>): SafeHtml {
  const head = html`<h2>Where the time goes: TTFB attribution by ${DIMENSION_LABELS[p.attrBy] ?? p.attrBy}</h2>
<p class="small muted">${
    p.attrScope === "all"
      ? `Each bar stacks the ${p.attrPct} of every part, from the browser's queueing to the last render step; the black line marks the end of TTFB.`
      : `Each bar stacks the ${p.attrPct} of the parts of TTFB only: queueing, last mile, edge, middle mile and backend.`
  } Percentiles of parts need not add up to the TTFB percentile exactly.</p>
<div>${choice(
    "group by",
    ATTRIBUTION_GROUP_BY,
    p.attrBy,
    (v) => overviewHref(p, { attrBy: v as OverviewParams["attrBy"] }),
    (v) => DIMENSION_LABELS[v] ?? v,
  )}
${choice("percentile", ["p50", "p75"], p.attrPct, (v) => overviewHref(p, { attrPct: v as "p50" | "p75" }))}
${choice(
  "parts",
  ["all", "ttfb"],
  p.attrScope,
  (v) => overviewHref(p, { attrScope: v as "all" | "ttfb" }),
  (v) => (v === "all" ? "whole page view" : "TTFB only"),
)}</div>
<div class="legend">${scopeParts(p.attrScope).map((part) => html`<span class="key-${part.key}">${part.label}</span>`)}</div>`;
  if (!section.ok)
    return html`<section class="card attribution">${head}${errorNotice("Attribution unavailable", section.error)}</section>`;
  if (section.value.length === 0)
    return html`<section class="card attribution">${head}<p class="muted">No attribution data for this selection.</p></section>`;
  const shown = scopeParts(p.attrScope);
  const max = Math.max(...section.value.map((g) => partsTotal(g, p.attrScope)), 1);
  const rows = section.value.map((g) => {
    const total = partsTotal(g, p.attrScope);
    const segs = stackSegments(
      shown.map((part) => ({ key: part.key, label: part.label, value: g.parts[part.key] ?? 0 })),
      (total / max) * BAR_CANVAS,
    );
    // The TTFB boundary line only means something when parts after TTFB follow it.
    const ttfbEnd =
      p.attrScope === "all"
        ? segs.filter((_s, i) => shown[i]?.phase === "ttfb").reduce((a, s) => a + s.width, 0)
        : undefined;
    const backendUnknown = g.parts.backend === null || g.parts.backend === undefined;
    return html`<tr class="attr-row" data-group="${g.key}"><td>${drill(p, p.attrBy, g.key)}</td><td class="num">${g.count}</td><td class="num">${formatMs(g.ttfb)}</td><td class="num">${formatMs(total)}</td><td class="bar">${stackedBarSvg(segs, { height: 18, canvasWidth: BAR_CANVAS, markAt: ttfbEnd, label: `${g.key}: ${formatMs(total)}` })}<div class="small muted">${partsText(g, backendUnknown, p.attrScope)}</div></td></tr>`;
  });
  return html`<section class="card attribution">${head}${exportLinks("attribution", "overview", "attribution", queryOf(p))}${tableWrap("TTFB attribution", html`<table><thead><tr><th>${DIMENSION_LABELS[p.attrBy]}</th><th class="num">views</th><th class="num">TTFB ${p.attrPct}</th><th class="num">sum of parts</th><th>parts</th></tr></thead><tbody>${rows}</tbody></table>`)}</section>`;
}

function formatTime(range: RangeKey): (t: number) => string {
  return (t) => {
    const iso = new Date(t).toISOString();
    return range === "7d" ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
  };
}

function series(
  p: OverviewParams,
  data: Pick<OverviewData, "series" | "interval" | "from" | "to">,
): SafeHtml {
  const head = html`<h2>${METRIC_LABELS[p.metric]} ${p.pct} over time <span class="small muted">(UTC, per ${data.interval})</span></h2>
<div>${choice(
    "metric",
    VITALS,
    p.metric,
    (v) => overviewHref(p, { metric: v as OverviewParams["metric"] }),
    (v) => METRIC_LABELS[v as keyof typeof METRIC_LABELS],
  )}
${choice("percentile", PERCENTILES, p.pct, (v) => overviewHref(p, { pct: v as OverviewParams["pct"] }))}</div>`;
  const s = data.series;
  if (!s.ok)
    return html`<section class="card series">${head}${errorNotice("Time series unavailable", s.error)}</section>`;
  const step = data.interval === "hour" ? 3_600_000 : 60_000;
  const points = fillGaps(
    s.value.series.map((r) => ({ t: r.t, v: r.values[p.pct] ?? null })),
    data.from,
    data.to,
    step,
  );
  if (!points.some((pt) => pt.v !== null))
    return html`<section class="card series">${head}<p class="muted">No data points in this range.</p></section>`;
  return html`<section class="card series">${head}${lineChartSvg(points, {
    width: 900,
    height: 240,
    from: data.from,
    to: data.to,
    format: (v) => formatMetric(p.metric, v),
    formatTime: formatTime(p.range),
    thresholds: THRESHOLDS[p.metric],
    label: `${METRIC_LABELS[p.metric]} ${p.pct} over time`,
  })}</section>`;
}

function percentileTable(p: OverviewParams, section: Section<QueryResult>): SafeHtml {
  const head = html`<h2>${METRIC_LABELS[p.metric]} percentiles by ${DIMENSION_LABELS[p.by] ?? p.by}</h2>
<div>${choice(
    "dimension",
    GROUP_BY_DIMENSIONS,
    p.by,
    (v) => overviewHref(p, { by: v as OverviewParams["by"] }),
    (v) => DIMENSION_LABELS[v] ?? v,
  )}</div>`;
  if (!section.ok)
    return html`<section class="card percentiles">${head}${errorNotice("Percentiles unavailable", section.error)}</section>`;
  const groups = [...section.value.groups].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  if (groups.length === 0)
    return html`<section class="card percentiles">${head}<p class="muted">No data for this selection.</p></section>`;
  const cell = (v: number | null | undefined) =>
    html`<td class="num ${rate(p.metric, v)}">${formatMetric(p.metric, v)}</td>`;
  return html`<section class="card percentiles">${head}${exportLinks("percentiles", "overview", "percentiles", queryOf(p))}${tableWrap(
    `${METRIC_LABELS[p.metric]} percentiles`,
    html`<table><thead><tr><th>${DIMENSION_LABELS[p.by]}</th><th class="num">views</th>${PERCENTILES.map((q) => html`<th class="num">${q}</th>`)}</tr></thead><tbody>${groups.map(
      (g) =>
        html`<tr data-group="${g.key}"><td>${drill(p, p.by, g.key)}</td><td class="num">${g.count}</td>${PERCENTILES.map((q) => cell(g.values[q]))}</tr>`,
    )}<tr class="total"><td><strong>all</strong></td><td class="num">${section.value.count}</td>${PERCENTILES.map((q) => cell(section.value.values[q]))}</tr></tbody></table>`,
  )}</section>`;
}

/** Share of cacheable responses served from cache: (HIT + STALE) ÷ (HIT + STALE + MISS + EXPIRED). */
export function hitRatio(rows: readonly GroupRow[]): number | null {
  const c = (k: string) => rows.find((r) => r.key === k)?.count ?? 0;
  const served = c("HIT") + c("STALE");
  const cacheable = served + c("MISS") + c("EXPIRED");
  return cacheable > 0 ? served / cacheable : null;
}

function cacheMix(section: Section<GroupRow[]>): SafeHtml {
  const head = html`<h2>Cache status mix</h2>`;
  if (!section.ok)
    return html`<section class="card cache-mix">${head}${errorNotice("Cache mix unavailable", section.error)}</section>`;
  const rows = [...section.value].sort((a, b) => b.count - a.count);
  const total = rows.reduce((a, r) => a + r.count, 0);
  if (total === 0)
    return html`<section class="card cache-mix">${head}<p class="muted">No page views in this range.</p></section>`;
  const ratio = hitRatio(rows);
  const segs = stackSegments(
    rows.map((r) => ({ key: r.key, label: r.key, value: r.count })),
    BAR_CANVAS,
  );
  return html`<section class="card cache-mix">${head}<p>Hit ratio <strong class="hit-ratio">${ratio === null ? "–" : `${(ratio * 100).toFixed(1)} %`}</strong> <span class="small muted">(HIT + STALE of cacheable page views, from beacons)</span></p>
${stackedBarSvg(segs, { height: 18, canvasWidth: BAR_CANVAS, format: (v) => `${v} views`, label: "cache status mix" })}
${tableWrap(
  "Cache status mix",
  html`<table><thead><tr><th>status</th><th class="num">views</th><th class="num">share</th><th class="num">TTFB p75</th></tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr><td><span class="cache ${r.key}">${r.key}</span></td><td class="num">${r.count}</td><td class="num">${((r.count / total) * 100).toFixed(1)} %</td><td class="num">${formatMs(r.values.p75)}</td></tr>`,
  )}</tbody></table>`,
)}</section>`;
}

function coverageCard(section: Section<CoverageRow[]>): SafeHtml {
  const head = html`<h2>Beacon coverage</h2><p class="small muted">Beacons received ÷ HTML page views the edge served, per page group and browser over whole hours (only the site and page-group filters apply). Low coverage means users left before a beacon was sent, blocked it, or did not consent.</p>`;
  if (!section.ok)
    return html`<section class="card coverage">${head}${errorNotice("Coverage unavailable", section.error)}</section>`;
  if (section.value.length === 0)
    return html`<section class="card coverage">${head}<p class="muted">No edge page views in this range.</p></section>`;
  return html`<section class="card coverage">${head}${tableWrap(
    "Beacon coverage",
    html`<table><thead><tr><th>page group</th><th>browser</th><th class="num">beacons</th><th class="num">page views</th><th class="num">coverage</th></tr></thead><tbody>${section.value.map(
      (r) =>
        html`<tr><td>${trunc(r.pageGroup)}</td><td>${r.browser}</td><td class="num">${r.beacons}</td><td class="num">${r.pageViews}</td><td class="num">${r.pageViews > 0 ? `${((r.beacons / r.pageViews) * 100).toFixed(0)} %` : "–"}</td></tr>`,
    )}</tbody></table>`,
  )}</section>`;
}

/** Says when the rows read do not cover the chosen range exactly (widened or rounded by the API). */
function resolutionNotice(notes: readonly string[]): SafeHtml | "" {
  if (notes.length === 0) return "";
  return html`<div class="notice resolution small" role="note"><strong>Range not exact:</strong> ${notes.join("; ")}. The numbers cover the range the query API read.</div>`;
}

function hasFilters(p: OverviewParams): boolean {
  return Object.entries(p.filters).some(([k, v]) => k !== "site" && v);
}

/** The whole overview document; `shopUrl` is where the empty state sends people. */
export function overviewPage(p: OverviewParams, data: OverviewData, shopUrl: string): SafeHtml {
  const pageGroups =
    data.attribution.ok && p.attrBy === "pageGroup" ? data.attribution.value.map((g) => g.key) : [];
  const top = overviewTop(p, pageGroups);
  const sections = [data.tiles, data.attribution, data.table, data.series, data.cacheMix];
  if (sections.every((s) => !s.ok)) {
    const first = sections[0];
    return layout(
      { title: "Overview", active: "overview" },
      html`${top}${errorNotice("The query API is not answering", first && !first.ok ? first.error : "unknown error")}<p class="muted">Check that the RUM collector is running and that the dashboards are wired to it with the query token.</p>`,
    );
  }
  const total = data.tiles.ok ? Math.max(0, ...data.tiles.value.map((t) => t.count)) : null;
  if (total === 0) {
    const msg = hasFilters(p)
      ? html`No page views match these filters in the last ${RANGE_LABELS[p.range]}. <a href="${overviewHref(p, { filters: { pageGroup: "", device: "", country: "", connection: "", cacheStatus: "", colo: "" } })}">Clear the filters</a> or pick a longer time range.`
      : html`<strong>No page views yet</strong> for site “${p.filters.site}” in the last ${RANGE_LABELS[p.range]}. Open the shop at <a href="${shopUrl}">${shopUrl}</a>, click through a few pages and then navigate away or switch tabs, so the browser sends its beacons (they are sent when a page is hidden). Then reload this page.`;
    return layout({ title: "Overview", active: "overview" }, html`${top}${emptyNotice(msg)}`);
  }
  return layout(
    { title: "Overview", active: "overview" },
    html`${top}${resolutionNotice(data.resolutionNotes)}${tiles(data.tiles)}${attribution(p, data.attribution)}${series(p, data)}${percentileTable(p, data.table)}<div class="grid2">${cacheMix(data.cacheMix)}${coverageCard(data.coverage)}</div>${imagesCard(data.images)}`,
  );
}

function overviewTop(p: OverviewParams, pageGroups: readonly string[] | null): SafeHtml {
  return html`<h1>Overview <span class="small muted">site ${p.filters.site}</span></h1>
<p>${choice(
    "time range",
    Object.keys(RANGES),
    p.range,
    (v) => overviewHref(p, { range: v as RangeKey }),
    (v) => `last ${RANGE_LABELS[v as RangeKey]}`,
  )}</p>
<section class="card">${filterForm(p, pageGroups)}</section>`;
}

/** A panel that shows "Loading <label>…" where it will be until its card arrives (streamed). */
function deferred(label: string, body: Promise<SafeHtml>): Part {
  return {
    open: html`<div class="deferred"><p class="loading muted small" role="status">Loading ${label}…</p>`,
    body,
    close: html`</div>`,
  };
}

/**
 * The overview streamed once its headline tiles have page views: each chart's card follows as
 * soon as its own call answers. (No page views, or failing tiles, render whole via `overviewPage`.)
 */
export function overviewParts(p: OverviewParams, d: PendingOverview, tileSection: Section<Tile[]>): Part[] {
  const groups = d.attribution.then((a) =>
    a.ok && p.attrBy === "pageGroup" ? pageGroupList(a.value.map((g) => g.key)) : html``,
  );
  return [
    overviewTop(p, null),
    resolutionNotice([...d.notes]) || html``,
    tiles(tileSection),
    deferred(
      "the attribution",
      Promise.all([d.attribution, groups]).then(([a, g]) => html`${attribution(p, a)}${g}`),
    ),
    deferred(
      "the time series",
      d.series.then((s) => series(p, { ...d, series: s })),
    ),
    deferred(
      "the percentiles",
      d.table.then((t) => percentileTable(p, t)),
    ),
    html`<div class="grid2">`,
    deferred("the cache mix", d.cacheMix.then(cacheMix)),
    deferred("the beacon coverage", d.coverage.then(coverageCard)),
    html`</div>`,
    deferred("the image savings", d.images.then(imagesCard)),
  ];
}
