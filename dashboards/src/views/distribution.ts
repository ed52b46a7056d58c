/**
 * The distribution page: histogram of the chosen metric with the Core Web Vitals good / needs
 * improvement / poor shares, the previous period beside it, and the slowest page views behind
 * the tail (each opens the page view end to end; a country or page group filters the view).
 */

import type { DistPeriod, DistributionAnswer, SlowRow } from "../../../common/src/insights-contract.ts";
import { histogramSvg, sharesBarSvg } from "../charts/histogram.ts";
import { ms, type Table } from "../export.ts";
import { html, type SafeHtml } from "../html.ts";
import { type InsightParams, insightHref } from "../insight-params.ts";
import { formatMetric, METRIC_LABELS, rate, VITALS } from "../metrics.ts";
import type { Section } from "../overview-data.ts";
import { type Part, panel } from "../stream.ts";
import { filterBar, queryOf } from "./insight-controls.ts";
import { emptyNotice, errorNotice } from "./layout.ts";
import { exportLinks, tableWrap, trunc } from "./parts.ts";

export interface DistributionData {
  dist: Promise<Section<DistributionAnswer>>;
  /** p75 of the metric for the range and the previous period (query API sketches). */
  p75: Promise<Section<{ current: number | null; previous: number | null }>>;
  slowest: Promise<Section<SlowRow[]>>;
}

function share(v: number | undefined): string {
  return v === undefined ? "–" : `${(v * 100).toFixed(1)} %`;
}

function delta(cur: number | undefined, prev: number | undefined, betterUp: boolean): SafeHtml | "" {
  if (cur === undefined || prev === undefined) return "";
  const d = (cur - prev) * 100;
  if (Math.abs(d) < 0.05) return html` <span class="small muted">±0</span>`;
  const good = d > 0 === betterUp;
  return html` <span class="small ${good ? "good" : "poor"}">${d > 0 ? "+" : "−"}${Math.abs(d).toFixed(1)} pt</span>`;
}

export function distributionTable(a: DistributionAnswer): Table {
  const rows = (name: string, p: DistPeriod | null) =>
    p
      ? p.bins.map((n, i) => [
          name,
          Math.round(i * a.binWidth * 1000) / 1000,
          i === p.bins.length - 1 ? null : Math.round((i + 1) * a.binWidth * 1000) / 1000,
          Math.round(n * 100) / 100,
        ])
      : [];
  return {
    columns: ["period", "from", "to", "pageViews"],
    rows: [...rows("current", a.current), ...rows("previous", a.previous)],
  };
}

export function slowestTable(rows: readonly SlowRow[]): Table {
  return {
    columns: [
      "ts",
      "pvid",
      "pageGroup",
      "path",
      "country",
      "colo",
      "device",
      "cacheStatus",
      "value",
      "ttfb",
      "lcp",
      "middleMile",
      "backend",
    ],
    rows: rows.map((r) => [
      r.ts,
      r.pvid,
      r.pageGroup,
      r.path,
      r.country,
      r.colo,
      r.device,
      r.cacheStatus,
      ms(r.value),
      ms(r.ttfb),
      ms(r.lcp),
      ms(r.middleMile),
      ms(r.backend),
    ]),
  };
}

async function histogram(p: InsightParams, d: DistributionData): Promise<SafeHtml> {
  const [s, p75] = await Promise.all([d.dist, d.p75]);
  if (!s.ok) return errorNotice("Distribution unavailable", s.error);
  const a = s.value;
  if (a.current.count === 0)
    return emptyNotice(
      html`No page views with ${METRIC_LABELS[p.metric]} in this range and selection. Pick a longer range or clear a filter.`,
    );
  const fmt = (v: number) => formatMetric(p.metric, v);
  const cur = a.current.shares ?? undefined;
  const prev = a.previous?.shares ?? undefined;
  const pv = p75.ok ? p75.value : null;
  const periodRow = (name: string, per: DistPeriod | null, sh: typeof cur, p75v: number | null | undefined) =>
    html`<tr><td>${name}</td><td class="num">${per ? Math.round(per.count) : "–"}</td><td class="num good">${share(sh?.good)}${name === "this period" ? delta(cur?.good, prev?.good, true) : ""}</td><td class="num ni">${share(sh?.ni)}</td><td class="num poor">${share(sh?.poor)}${name === "this period" ? delta(cur?.poor, prev?.poor, false) : ""}</td><td class="num ${rate(p.metric, p75v)}">${formatMetric(p.metric, p75v)}</td><td class="bar">${sh ? sharesBarSvg(sh, `${name}: ${share(sh.good)} good, ${share(sh.ni)} needs improvement, ${share(sh.poor)} poor`) : ""}</td></tr>`;
  return html`${histogramSvg(a.current.bins, { binWidth: a.binWidth, thresholds: a.thresholds, format: fmt, label: `${METRIC_LABELS[p.metric]} histogram` })}
<div class="legend"><span class="key-good">good (≤ ${fmt(a.thresholds.good)})</span><span class="key-ni">needs improvement</span><span class="key-poor">poor (&gt; ${fmt(a.thresholds.poor)})</span></div>
${exportLinks("histogram", "distribution", "histogram", queryOf(p))}
${tableWrap("This period against the previous one", html`<table class="compare"><thead><tr><th>period</th><th class="num">views</th><th class="num">good</th><th class="num">needs impr.</th><th class="num">poor</th><th class="num">p75</th><th>shares</th></tr></thead><tbody>${periodRow("this period", a.current, cur, pv?.current)}${periodRow("previous period", a.previous, prev, pv?.previous)}</tbody></table>`)}
${p75.ok ? "" : errorNotice("p75 unavailable", p75.error)}`;
}

async function slowestBody(p: InsightParams, d: DistributionData): Promise<SafeHtml> {
  const s = await d.slowest;
  if (!s.ok) return errorNotice("Slowest page views unavailable", s.error);
  if (s.value.length === 0) return emptyNotice("No page views in this range and selection.");
  const filterLink = (dim: "country" | "pageGroup" | "colo", v: string) =>
    html`<a href="${insightHref(p, { filters: { [dim]: v } })}" title="Filter this view to ${dim} ${v}">${trunc(v)}</a>`;
  return html`${exportLinks("page views", "distribution", "slowest", queryOf(p))}${tableWrap(
    "Slowest page views",
    html`<table class="slowest"><thead><tr><th>page view</th><th>page group</th><th>country</th><th>colo</th><th>cache</th><th class="num">${METRIC_LABELS[p.metric]}</th><th class="num">${p.metric === "ttfb" ? "LCP" : "TTFB"}</th><th class="num">middle mile</th><th class="num">backend</th></tr></thead><tbody>${s.value.map(
      (r) =>
        html`<tr data-pvid="${r.pvid}"><td><a href="/_dash/pageview?${new URLSearchParams({ site: r.site, pvid: r.pvid }).toString()}">${r.ts.slice(11, 19)}</a></td><td>${filterLink("pageGroup", r.pageGroup)}<div class="small muted">${trunc(r.path)}</div></td><td>${filterLink("country", r.country)}</td><td>${filterLink("colo", r.colo)}</td><td><span class="cache ${r.cacheStatus}">${r.cacheStatus}</span></td><td class="num ${rate(p.metric, r.value)}">${formatMetric(p.metric, r.value)}</td><td class="num">${p.metric === "ttfb" ? formatMetric("lcp", r.lcp) : formatMetric("ttfb", r.ttfb)}</td><td class="num">${formatMetric("ttfb", r.middleMile)}</td><td class="num">${formatMetric("ttfb", r.backend)}</td></tr>`,
    )}</tbody></table>`,
  )}`;
}

export function distributionParts(p: InsightParams, d: DistributionData): Part[] {
  const metricPicker = html`<p class="ranges small" role="group" aria-label="metric">${VITALS.map(
    (m) =>
      html`<a href="${insightHref(p, { metric: m })}" class="${m === p.metric ? "active" : ""}"${m === p.metric ? html` aria-current="true"` : ""}>${METRIC_LABELS[m]}</a>`,
  )}</p>`;
  return [
    html`<h1>Distribution <span class="small muted">${METRIC_LABELS[p.metric]} · site ${p.filters.site}</span></h1>`,
    filterBar(p),
    metricPicker,
    panel(
      "distribution",
      html`<h2>${METRIC_LABELS[p.metric]}: how page views spread</h2>`,
      "the histogram",
      histogram(p, d),
    ),
    panel(
      "slowest",
      html`<h2>The slowest page views behind the tail</h2><p class="small muted">Open one to see it end to end; a page group, country or colo filters this view.</p>`,
      "the slowest page views",
      slowestBody(p, d),
    ),
  ];
}
