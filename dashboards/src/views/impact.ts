/**
 * Business impact: conversion and bounce rate by the landing page view's LCP (or TTFB) bucket,
 * with sample sizes, and the revenue at stake in the buckets slower than "good".
 */

import type { ImpactAnswer, ImpactBucket } from "../../../common/src/insights-contract.ts";
import { formatMs } from "../charts/stacked-bar.ts";
import { ms, type Table } from "../export.ts";
import { html, type SafeHtml } from "../html.ts";
import { type InsightParams, insightHref } from "../insight-params.ts";
import type { Section } from "../overview-data.ts";
import { type Part, panel } from "../stream.ts";
import { filterBar, queryOf } from "./insight-controls.ts";
import { emptyNotice, errorNotice } from "./layout.ts";
import { exportLinks, tableWrap } from "./parts.ts";

function pct(v: number | null): string {
  return v === null ? "–" : `${(v * 100).toFixed(1)} %`;
}

function money(v: number | null): string {
  return v === null ? "–" : v.toLocaleString("en-US", { maximumFractionDigits: 0 });
}

function bucketName(b: ImpactBucket): string {
  return b.to === null ? `≥ ${formatMs(b.from)}` : `${formatMs(b.from)} – ${formatMs(b.to)}`;
}

export function impactTable(a: ImpactAnswer): Table {
  return {
    columns: [
      "fromMs",
      "toMs",
      "rating",
      "sessions",
      "bounces",
      "bounceRate",
      "conversions",
      "conversionRate",
      "revenue",
      "revenueAtStake",
      "lowSample",
    ],
    rows: a.buckets.map((b) => [
      b.from,
      b.to,
      b.rating,
      b.sessions,
      b.bounces,
      b.bounceRate,
      b.conversions,
      b.conversionRate,
      ms(b.revenue),
      ms(b.revenueAtStake),
      b.lowSample,
    ]),
  };
}

function rateBar(v: number | null, max: number, cls: string, label: string): SafeHtml {
  const w = v === null || max <= 0 ? 0 : (v / max) * 100;
  return html`<svg class="rate-bar" viewBox="0 0 100 8" width="100%" height="10" preserveAspectRatio="none" role="img" aria-label="${label}"><rect class="bin ${cls}" x="0" y="0" width="${w.toFixed(2)}" height="8"></rect></svg>`;
}

async function body(p: InsightParams, data: Promise<Section<ImpactAnswer>>): Promise<SafeHtml> {
  const d = await data;
  if (!d.ok) return errorNotice("Business impact unavailable", d.error);
  const a = d.value;
  if (a.total.sessions === 0)
    return emptyNotice(
      html`<strong>No sessions in this range.</strong> Sessions come from the beacon's per-tab session id; conversions from <code>rum.conversion(value?)</code> or a page group listed in <code>RUM_CONVERSION_GROUPS</code>.`,
    );
  const maxConv = Math.max(0, ...a.buckets.map((b) => b.conversionRate ?? 0));
  const maxBounce = Math.max(0, ...a.buckets.map((b) => b.bounceRate ?? 0));
  const name = a.metric.toUpperCase();
  return html`<div class="tiles"><div class="tile poor"><div class="name">revenue at stake</div><div class="value" data-at-stake="${a.revenueAtStake}">${money(a.revenueAtStake)}</div><div class="small muted">if slower sessions converted like good ones</div></div><div class="tile"><div class="name">conversion rate when ${name} is good</div><div class="value">${pct(a.baselineConversionRate)}</div></div><div class="tile"><div class="name">sessions · conversions</div><div class="value">${a.total.sessions} · ${a.total.conversions}</div><div class="small muted">average value ${money(a.averageConversionValue)}</div></div></div>
${exportLinks("buckets", "impact", "buckets", queryOf(p))}
${tableWrap(
  `Conversion and bounce by ${name} bucket`,
  html`<table class="impact"><thead><tr><th>landing ${name}</th><th class="num">sessions</th><th class="num">bounce</th><th>bounce rate</th><th class="num">conversion</th><th>conversion rate</th><th class="num">revenue</th><th class="num">at stake</th></tr></thead><tbody>${a.buckets.map(
    (b) =>
      html`<tr class="${b.rating}" data-bucket="${b.from}"><td><span class="${b.rating}">${bucketName(b)}</span></td><td class="num">${b.sessions}${b.lowSample && b.sessions > 0 ? html` <abbr class="small muted" title="fewer than ${a.minSessions} sessions: too few to act on">low n</abbr>` : ""}</td><td class="num">${pct(b.bounceRate)}</td><td class="bar">${rateBar(b.bounceRate, maxBounce, "ni", `bounce rate ${pct(b.bounceRate)}`)}</td><td class="num">${pct(b.conversionRate)}</td><td class="bar">${rateBar(b.conversionRate, maxConv, "good", `conversion rate ${pct(b.conversionRate)}`)}</td><td class="num">${money(b.revenue)}</td><td class="num ${b.revenueAtStake > 0 ? "poor" : ""}">${b.revenueAtStake > 0 ? money(b.revenueAtStake) : "–"}</td></tr>`,
  )}</tbody></table>`,
)}`;
}

export function impactParts(p: InsightParams, data: Promise<Section<ImpactAnswer>>): Part[] {
  const by = html`<p class="ranges small" role="group" aria-label="bucket sessions by">${(
    ["lcp", "ttfb"] as const
  ).map(
    (m) =>
      html`<a href="${insightHref(p, { by: m })}" class="${m === p.by ? "active" : ""}"${m === p.by ? html` aria-current="true"` : ""}>by ${m.toUpperCase()}</a>`,
  )}</p>`;
  return [
    html`<h1>What is speed worth? <span class="small muted">site ${p.filters.site}</span></h1>`,
    filterBar(p, ["site", "pageGroup", "device", "country", "connection", "colo"]),
    by,
    panel(
      "impact",
      html`<h2>Conversion and bounce by landing ${p.by.toUpperCase()}</h2><p class="small muted">Each per-tab session counts once, in the bucket of its first page view. Bounce = a session of one page view. Revenue at stake for a bucket slower than good = sessions × (conversion rate of the good buckets − its rate) × average conversion value: an estimate, not a measured loss.</p>`,
      "sessions",
      body(p, data),
    ),
  ];
}
