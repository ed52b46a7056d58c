/**
 * What did our optimisations buy? The edge's own effects, each against its counterfactual: the
 * page cache (hit ratio, TTFB by cache status, time saved by hits, the page groups with the most
 * misses), prefetch (coverage, precision, wasted bytes and next-navigation LCP p75 per experiment
 * arm against the holdout) and image variants (bytes delivered vs original, by format and device class).
 */

import type { ArmRow, CacheAnswer } from "../../../common/src/insights-contract.ts";
import type { GroupRow, ImageSavings } from "../api-client.ts";
import { formatBytes } from "../charts/bytes-bar.ts";
import { formatMs } from "../charts/stacked-bar.ts";
import { ms, type Table } from "../export.ts";
import { html, type SafeHtml } from "../html.ts";
import type { InsightParams } from "../insight-params.ts";
import type { Section } from "../overview-data.ts";
import { type Part, panel } from "../stream.ts";
import { imagesCard } from "./images.ts";
import { filterBar, queryOf } from "./insight-controls.ts";
import { emptyNotice, errorNotice } from "./layout.ts";
import { exportLinks, tableWrap, trunc } from "./parts.ts";

export interface EffectsData {
  cache: Promise<Section<CacheAnswer>>;
  /** TTFB p50/p75 by cache status as the browser saw it (query API). */
  ttfbByStatus: Promise<Section<GroupRow[]>>;
  images: Promise<{ byFormat: Section<ImageSavings>; byDevice: Section<ImageSavings> }>;
  prefetch: Promise<Section<ArmRow[]>>;
}

export function prefetchTable(rows: readonly ArmRow[]): Table {
  return {
    columns: [
      "arm",
      "nextNavigations",
      "prefetchHits",
      "coverage",
      "speculations",
      "precision",
      "speculatedBytes",
      "wastedBytes",
      "extraOriginRequests",
      "lcpP75",
      "lcpP75DiffVsHoldout",
      "ciLow",
      "ciHigh",
    ],
    rows: rows.map((r) => [
      r.arm,
      r.nextNavigations,
      r.prefetchHits,
      r.coverage,
      r.speculations,
      r.precision,
      r.speculatedBytes,
      r.wastedBytes,
      r.extraOriginRequests,
      ms(r.lcpP75),
      ms(r.lcpP75DiffVsHoldout?.diff),
      ms(r.lcpP75DiffVsHoldout?.ci95[0]),
      ms(r.lcpP75DiffVsHoldout?.ci95[1]),
    ]),
  };
}

function share(v: number | null): string {
  return v === null ? "–" : `${(v * 100).toFixed(0)} %`;
}

/** The LCP p75 difference from the holdout: green when its whole 95 % interval is below 0. */
function verdict(r: ArmRow): SafeHtml {
  const d = r.lcpP75DiffVsHoldout;
  if (!d || d.diff === null)
    return html`<span class="muted">${r.arm === "holdout" ? "baseline" : "–"}</span>`;
  const [lo, hi] = d.ci95;
  const known = lo !== null && hi !== null;
  const cls = known && hi < 0 ? "good" : known && lo > 0 ? "poor" : "muted";
  const word = !known ? "" : hi < 0 ? " · faster" : lo > 0 ? " · slower" : " · not significant";
  return html`<span class="${cls}">${d.diff < 0 ? "−" : "+"}${formatMs(Math.abs(d.diff))}</span><div class="small muted">95 % CI ${formatMs(lo)} … ${formatMs(hi)}${word}</div>`;
}

async function prefetchBody(p: InsightParams, d: EffectsData): Promise<SafeHtml> {
  const s = await d.prefetch;
  if (!s.ok) return errorNotice("Prefetch effect unavailable", s.error);
  if (s.value.every((r) => r.nextNavigations === 0 && r.speculations === 0))
    return emptyNotice(
      "No next navigations with a prefetch arm in this range: the beacon reports the arm once the edge runs the prefetch experiment.",
    );
  return html`${exportLinks("arms", "effects", "prefetch-arms", queryOf(p))}${tableWrap(
    "The prefetch experiment per arm",
    html`<table class="prefetch-arms"><thead><tr><th>arm</th><th class="num">next navigations</th><th class="num">coverage</th><th class="num">speculations</th><th class="num">precision</th><th class="num">wasted bytes</th><th class="num">extra origin requests</th><th class="num">LCP p75</th><th>vs holdout</th></tr></thead><tbody>${s.value.map(
      (r) =>
        html`<tr data-arm="${r.arm}"><td>${r.arm}</td><td class="num">${r.nextNavigations}</td><td class="num">${share(r.coverage)}</td><td class="num">${r.speculations}</td><td class="num">${share(r.precision)}</td><td class="num">${formatBytes(r.wastedBytes)}</td><td class="num">${r.extraOriginRequests}</td><td class="num">${formatMs(r.lcpP75)}</td><td>${verdict(r)}</td></tr>`,
    )}</tbody></table>`,
  )}`;
}

/** Time hits saved: hits × (MISS TTFB p50 − HIT TTFB p50), null without both. */
export function timeSaved(hits: number, ttfb: readonly GroupRow[]): { perHit: number; total: number } | null {
  const hit = ttfb.find((g) => g.key === "HIT")?.values.p50;
  const miss = ttfb.find((g) => g.key === "MISS")?.values.p50;
  if (typeof hit !== "number" || typeof miss !== "number") return null;
  const perHit = Math.max(0, miss - hit);
  return { perHit, total: perHit * hits };
}

export function cacheGroupsTable(a: CacheAnswer): Table {
  return {
    columns: ["pageGroup", "responses", "misses", "hits", "missRatio", "avgMissOriginMs"],
    rows: a.topMissGroups.map((g) => [
      g.pageGroup,
      g.responses,
      g.misses,
      g.hits,
      g.missRatio,
      ms(g.avgMissOriginMs),
    ]),
  };
}

async function cacheBody(p: InsightParams, d: EffectsData): Promise<SafeHtml> {
  const [c, t] = await Promise.all([d.cache, d.ttfbByStatus]);
  if (!c.ok) return errorNotice("Cache effects unavailable", c.error);
  const a = c.value;
  if (a.total.responses === 0) return emptyNotice("The edge served no HTML page in this range.");
  const ttfb = t.ok ? t.value : [];
  const saved = timeSaved(a.total.hits, ttfb);
  const ratio = a.total.hitRatio;
  const statusRow = (s: CacheAnswer["byStatus"][number]) => {
    const g = ttfb.find((x) => x.key === s.cacheStatus);
    return html`<tr><td><span class="cache ${s.cacheStatus}">${s.cacheStatus}</span></td><td class="num">${s.responses}</td><td class="num">${formatMs(s.avgEdgeMs)}</td><td class="num">${formatMs(s.avgOriginMs)}</td><td class="num">${formatMs(g?.values.p50)}</td><td class="num">${formatMs(g?.values.p75)}</td></tr>`;
  };
  return html`<div class="tiles"><div class="tile ${ratio === null ? "" : ratio >= 0.8 ? "good" : ratio >= 0.5 ? "ni" : "poor"}"><div class="name">hit ratio</div><div class="value hit-ratio">${ratio === null ? "–" : `${(ratio * 100).toFixed(1)} %`}</div><div class="small muted">${a.total.hits} of ${a.total.hits + a.total.misses} cacheable</div></div><div class="tile"><div class="name">TTFB saved per hit (p50)</div><div class="value">${saved ? formatMs(saved.perHit) : "–"}</div><div class="small muted">MISS p50 − HIT p50</div></div><div class="tile"><div class="name">time saved by hits</div><div class="value">${saved ? formatMs(saved.total) : "–"}</div><div class="small muted">counterfactual: every hit a miss</div></div></div>
${t.ok ? "" : errorNotice("TTFB by cache status unavailable", t.error)}
${tableWrap(
  "Responses by cache status",
  html`<table><thead><tr><th>status</th><th class="num">responses</th><th class="num">edge (avg)</th><th class="num">origin (avg)</th><th class="num">TTFB p50</th><th class="num">TTFB p75</th></tr></thead><tbody>${a.byStatus.map(statusRow)}</tbody></table>`,
)}
<h3>Page groups with the most misses</h3>${exportLinks("page groups", "effects", "cache-groups", queryOf(p))}
${
  a.topMissGroups.length === 0
    ? html`<p class="muted">No misses in this range.</p>`
    : tableWrap(
        "Page groups with the most misses",
        html`<table class="miss-groups"><thead><tr><th>page group</th><th class="num">responses</th><th class="num">misses</th><th class="num">miss ratio</th><th class="num">origin per miss</th></tr></thead><tbody>${a.topMissGroups.map(
          (g) =>
            html`<tr><td>${trunc(g.pageGroup)}</td><td class="num">${g.responses}</td><td class="num">${g.misses}</td><td class="num">${g.missRatio === null ? "–" : `${(g.missRatio * 100).toFixed(0)} %`}</td><td class="num">${formatMs(g.avgMissOriginMs)}</td></tr>`,
        )}</tbody></table>`,
      )
}`;
}

export function effectsParts(p: InsightParams, d: EffectsData): Part[] {
  return [
    html`<h1>What did our optimisations buy? <span class="small muted">site ${p.filters.site}</span></h1>`,
    filterBar(p, ["site"]),
    panel(
      "cache-effects",
      html`<h2>Page cache</h2><p class="small muted">From the edge's own log (every HTML response, BYPASS excluded from the ratio) and the beacons' TTFB by cache status. The counterfactual is a miss: what each hit would have cost without the cache.</p>`,
      "cache effects",
      cacheBody(p, d),
    ),
    panel(
      "prefetch-effects",
      html`<h2>Prefetch: what speculation bought and cost, per arm</h2><p class="small muted">Tabs are split into arms: holdout (no speculation), ours (our predictions) and press (the browser's own). A next navigation is a page view that followed another in the same tab; coverage = those served from a prefetch or prerender; precision = served ÷ speculative requests the edge answered; wasted bytes = speculated bytes × (1 − precision). LCP p75 of next navigations against the holdout, with a 95 % bootstrap interval (significant when it excludes 0). From the query API's <code>/_rum/v1/prefetch</code>.</p>`,
      "prefetch arms",
      prefetchBody(p, d),
    ),
    {
      open: html`<div class="deferred"><p class="loading muted small" role="status">Loading image savings…</p>`,
      body: d.images.then((i) => imagesCard(i)),
      close: html`</div>`,
    },
  ];
}
