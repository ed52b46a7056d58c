/**
 * One page view end to end: its waterfall (queueing, last mile, edge, middle mile, backend,
 * download, LCP render sub-parts), the edge's own record for the same request id beside it, and
 * the five-element profile (browser request, request transport, backend, response transport,
 * browser response/render) as a second reading of the same numbers.
 */

import type { PageViewDetail, PageViewPartName } from "../../../common/src/insights-contract.ts";
import { formatMs } from "../charts/stacked-bar.ts";
import { layoutPhases, type Phase, waterfallBarSvg } from "../charts/waterfall.ts";
import { ms, type Table } from "../export.ts";
import { html, type SafeHtml } from "../html.ts";
import { ATTRIBUTION_PARTS, formatMetric, rate } from "../metrics.ts";
import type { Section } from "../overview-data.ts";
import { type Part, panel } from "../stream.ts";
import { errorNotice } from "./layout.ts";
import { exportLinks, tableWrap, trunc } from "./parts.ts";

/** The attribution parts in the order they happen. */
export function phasesOf(pv: PageViewDetail): Phase[] {
  const a = pv.attribution;
  return ATTRIBUTION_PARTS.map((p) => ({
    key: p.key,
    label: p.key === "middleMile" && a.originAsOnePart ? "Origin (middle mile + backend)" : p.label,
    ms: typeof a[p.key] === "number" ? (a[p.key] as number) : null,
  }));
}

/**
 * The five-element profile. One-way times are not observable from the browser, so the last-mile
 * wire time and the middle mile (both round trips) are split evenly between the two directions.
 */
export function fiveElements(pv: PageViewDetail): { label: string; ms: number | null; from: string }[] {
  const a = pv.attribution;
  const v = (k: PageViewPartName) => a[k] ?? 0;
  const known = (k: PageViewPartName) => typeof a[k] === "number";
  return [
    { label: "Browser request", ms: known("queueing") ? v("queueing") : null, from: "queueing" },
    {
      label: "Request transport",
      ms: v("lastMileConnect") + v("lastMileWire") / 2 + v("middleMile") / 2,
      from: "connect + ½ wire + ½ middle mile",
    },
    {
      label: "Backend",
      ms: known("backend") || known("edge") ? v("edge") + v("backend") : null,
      from: "edge + backend",
    },
    {
      label: "Response transport",
      ms: v("lastMileWire") / 2 + v("middleMile") / 2 + v("download"),
      from: "½ wire + ½ middle mile + download",
    },
    {
      label: "Browser response / render",
      ms: (["resourceLoadDelay", "resourceLoadDuration", "elementRenderDelay"] as const).some(known)
        ? v("resourceLoadDelay") + v("resourceLoadDuration") + v("elementRenderDelay")
        : null,
      from: "LCP render sub-parts",
    },
  ];
}

export function pageViewTable(pv: PageViewDetail): Table {
  const rows = layoutPhases(phasesOf(pv));
  return { columns: ["phase", "startMs", "ms"], rows: rows.map((r) => [r.label, ms(r.start), ms(r.ms)]) };
}

function summary(pv: PageViewDetail): SafeHtml {
  const d = pv.dims;
  const item = (k: string, v: string | number | null | undefined) =>
    html`<div><dt>${k}</dt><dd>${v === null || v === undefined || v === "" ? "–" : trunc(String(v))}</dd></div>`;
  return html`<dl class="facts">${item("time (UTC)", pv.ts.replace("T", " ").slice(0, 19))}${item("page group", pv.pageGroup)}${item("path", pv.path)}${item("country", d.country)}${item("colo", d.colo)}${item("ASN", d.asn)}${item("device", d.device)}${item("browser", d.browser)}${item("connection", d.connection)}${item("cache", pv.cacheStatus)}${item("navigation", [pv.navigationType, pv.deliveryType].filter(Boolean).join(" · "))}${item("edge split", pv.edgeVerified === null ? null : pv.edgeVerified ? "verified by the edge's record" : "unverified (browser timings only)")}${item("session", pv.sessionId)}${item("converted", pv.converted === null ? null : pv.converted ? `yes${pv.conversionValue !== null ? ` (${pv.conversionValue})` : ""}` : "no")}</dl>
<div class="tiles">${(["lcp", "ttfb", "inp", "cls"] as const).map((m) => {
    const v = m === "ttfb" ? pv.attribution.ttfb : pv.vitals[m];
    return html`<div class="tile ${rate(m, v)}" data-metric="${m}"><div class="name">${m.toUpperCase()}</div><div class="value">${formatMetric(m, v)}</div></div>`;
  })}</div>`;
}

function waterfall(pv: PageViewDetail): SafeHtml {
  const rows = layoutPhases(phasesOf(pv));
  const total = Math.max(1, ...rows.map((r) => r.start + (r.ms ?? 0)));
  return tableWrap(
    "Waterfall",
    html`<table class="waterfall-table"><thead><tr><th>phase</th><th class="num">starts</th><th class="num">takes</th><th>timeline (0 – ${formatMs(total)})</th></tr></thead><tbody>${rows.map(
      (r) =>
        html`<tr data-phase="${r.key}"><td>${r.label}</td><td class="num">${formatMs(r.start)}</td><td class="num">${r.ms === null ? "unknown" : formatMs(r.ms)}</td><td class="bar">${waterfallBarSvg(r, total)}</td></tr>`,
    )}</tbody></table>`,
  );
}

function edgeCard(pv: PageViewDetail): SafeHtml {
  const e = pv.edgeRecord;
  if (!e)
    return html`<p class="muted">${pv.rid ? `The edge log has no record for request ${pv.rid} (sampled out, or past retention).` : "This page view carried no request id: it was not served through the edge."}</p>`;
  const row = (k: string, v: string) => html`<tr><th scope="row">${k}</th><td class="num">${v}</td></tr>`;
  return tableWrap(
    "Edge record",
    html`<table class="edge-record">${row("request id", e.rid)}${row("status", String(e.status ?? "–"))}${row("cache", e.cacheStatus)}${row("colo", e.colo)}${row("edge total", formatMs(e.edgeMs))}${row("origin fetch (to first byte)", formatMs(e.originMs))}${row("origin app time", formatMs(e.appMs))}${row("middle mile = origin − app", e.originMs !== null && e.appMs !== null ? formatMs(e.originMs - e.appMs) : "–")}${row("edge work = edge − origin", e.edgeMs !== null ? formatMs(e.edgeMs - (e.originMs ?? 0)) : "–")}</table>`,
  );
}

function profile(pv: PageViewDetail): SafeHtml {
  return tableWrap(
    "Five-element profile",
    html`<table><thead><tr><th>element</th><th class="num">ms</th><th>from the parts</th></tr></thead><tbody>${fiveElements(
      pv,
    ).map(
      (e) =>
        html`<tr><td>${e.label}</td><td class="num">${e.ms === null ? "unknown" : formatMs(e.ms)}</td><td class="small muted">${e.from}</td></tr>`,
    )}</tbody></table>`,
  );
}

export function pageViewParts(
  q: { site: string; pvid: string },
  data: Promise<Section<PageViewDetail>>,
): Part[] {
  const query = new URLSearchParams(q).toString();
  const ok = data.then((d) => (d.ok ? d.value : null));
  const err = data.then((d) => (d.ok ? null : d.error));
  const or = (f: (pv: PageViewDetail) => SafeHtml, what: string) =>
    Promise.all([ok, err]).then(([pv, e]) =>
      pv ? f(pv) : errorNotice(`${what} unavailable`, e ?? "unknown error"),
    );
  return [
    html`<h1>Page view <code>${trunc(q.pvid)}</code></h1>`,
    panel("pv-summary", html`<h2>What it was</h2>`, "the page view", or(summary, "Page view")),
    html`<div class="grid2">`,
    panel(
      "pv-waterfall",
      html`<h2>Waterfall</h2>${exportLinks("phases", "pageview", "phases", query)}`,
      "the waterfall",
      or(waterfall, "Waterfall"),
    ),
    panel(
      "pv-edge",
      html`<h2>The edge's record of the same request</h2>`,
      "the edge record",
      or(edgeCard, "Edge record"),
    ),
    html`</div>`,
    panel(
      "pv-profile",
      html`<h2>Five-element profile</h2><p class="small muted">The same numbers grouped as browser request, request transport, backend, response transport and browser response/render. One-way times cannot be measured from the browser, so the last-mile wire time and the middle mile are split evenly between request and response.</p>`,
      "the profile",
      or(profile, "Profile"),
    ),
  ];
}
