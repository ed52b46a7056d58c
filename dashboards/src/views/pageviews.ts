/** The live page-view list: newest first, each with its attribution parts as a small stacked bar. */
import type { PageViewRow } from "../api-client.ts";
import { formatMs, stackedBarSvg, stackSegments } from "../charts/stacked-bar.ts";
import { html, type SafeHtml } from "../html.ts";
import { ATTRIBUTION_PARTS, formatMetric, rate } from "../metrics.ts";
import type { Part } from "../stream.ts";
import type { LiveParams } from "../view-params.ts";
import { emptyNotice, errorNotice, layout } from "./layout.ts";
import { exportLinks, tableWrap, trunc } from "./parts.ts";

const MINI_CANVAS = 240;

/** Bar length of one page view: the sum of its known parts (ms). */
export function pageViewTotal(pv: PageViewRow): number {
  return ATTRIBUTION_PARTS.reduce((a, p) => a + (pv.parts[p.key] ?? 0), 0);
}

function row(pv: PageViewRow, max: number, site: string): SafeHtml {
  const total = pageViewTotal(pv);
  const originOnePart = pv.parts.backend === null;
  const segs = stackSegments(
    ATTRIBUTION_PARTS.map((p) => ({
      key: p.key,
      // Without the origin's app timing the middle-mile part holds the whole origin time.
      label: originOnePart && p.key === "middleMile" ? "Origin (middle mile + backend)" : p.label,
      value: pv.parts[p.key] ?? 0,
    })),
    max > 0 ? (total / max) * MINI_CANVAS : 0,
  );
  const ttfbEnd = segs
    .filter((_, i) => ATTRIBUTION_PARTS[i]?.phase === "ttfb")
    .reduce((a, s) => a + s.width, 0);
  const time = new Date(pv.ts).toISOString().slice(11, 19);
  const lcp = pv.vitals.lcp ?? null;
  const ttfb = pv.vitals.ttfb ?? null;
  const open = `/_dash/pageview?${new URLSearchParams({ site, pvid: pv.pvid })}`;
  return html`<tr class="pv" data-pvid="${pv.pvid}"><td class="num"><a href="${open}" title="Open page view ${pv.pvid} end to end">${time}</a></td><td>${trunc(pv.pageGroup)}<div class="small muted">${trunc(`${pv.path}${howDelivered(pv)}`)}</div></td><td><span class="cache ${pv.cacheStatus}">${pv.cacheStatus}</span></td><td>${pv.device}<div class="small muted">${pv.browser}</div></td><td>${pv.country}</td><td>${pv.connection || "–"}</td><td class="num ${rate("ttfb", ttfb)}">${formatMetric("ttfb", ttfb)}</td><td class="num ${rate("lcp", lcp)}">${formatMetric("lcp", lcp)}</td><td class="bar">${stackedBarSvg(segs, { height: 12, canvasWidth: MINI_CANVAS, markAt: ttfbEnd, label: `attribution ${formatMs(total)}` })}<div class="small muted">${pv.edgeMeasured ? "" : "no edge timing (not served by the edge) · "}${pv.parts.backend === null ? "backend unknown · " : ""}${partsText(pv)}</div></td></tr>`;
}

/** " · prerender", " · back_forward · cache": only what differs from a plain network navigation. */
function howDelivered(pv: PageViewRow): string {
  const bits = [pv.navigationType === "navigate" ? "" : pv.navigationType, pv.deliveryType].filter((b) => b);
  return bits.length ? ` · ${bits.join(" · ")}` : "";
}

function partsText(pv: PageViewRow): string {
  const short: Record<string, string> = {
    queueing: "queue",
    lastMileConnect: "connect",
    lastMileWire: "wire",
    edge: "edge",
    middleMile: "middle",
    backend: "backend",
    download: "download",
  };
  const render =
    (pv.parts.resourceLoadDelay ?? 0) +
    (pv.parts.resourceLoadDuration ?? 0) +
    (pv.parts.elementRenderDelay ?? 0);
  const parts = Object.entries(short)
    .filter(([k]) => (pv.parts[k] ?? 0) > 0)
    .map(
      ([k, name]) =>
        `${k === "middleMile" && pv.parts.backend === null ? "origin" : name} ${formatMs(pv.parts[k])}`,
    );
  if (render > 0) parts.push(`render ${formatMs(render)}`);
  return parts.join(" · ");
}

/** The live page document; `error` replaces the table with a readable message. */
type LiveResult = { ok: true; rows: PageViewRow[] } | { ok: false; error: string };

function liveHead(p: LiveParams, refreshSeconds: number): SafeHtml {
  return html`<h1>Live page views <span class="small muted">site ${p.site} · newest ${p.limit} · reloads every ${refreshSeconds} s</span></h1>
<div class="legend">${ATTRIBUTION_PARTS.map((part) => html`<span class="key-${part.key}">${part.label}</span>`)}</div>`;
}

function liveBody(p: LiveParams, result: LiveResult, shopUrl: string): SafeHtml {
  if (!result.ok) return errorNotice("Could not load page views", result.error);
  if (result.rows.length === 0)
    return emptyNotice(
      html`<strong>No page views yet</strong> for site “${p.site}”. Open the shop at <a href="${shopUrl}">${shopUrl}</a> and navigate between pages (or switch tabs), so the browser sends a beacon when each page is hidden. This list reloads by itself.`,
    );
  const max = Math.max(...result.rows.map(pageViewTotal), 1);
  return html`<section class="card">${exportLinks("page views", "pageviews", "pageviews", new URLSearchParams({ site: p.site, limit: String(p.limit) }).toString())}${tableWrap("Live page views", html`<table><thead><tr><th class="num">time (UTC)</th><th>page</th><th>cache</th><th>device</th><th>country</th><th>conn.</th><th class="num">TTFB</th><th class="num">LCP</th><th>attribution</th></tr></thead><tbody>${result.rows.map((r) => row(r, max, p.site))}</tbody></table>`)}</section>`;
}

/** The live page document; `error` replaces the table with a readable message. */
export function pageViewsPage(
  p: LiveParams,
  result: LiveResult,
  refreshSeconds: number,
  shopUrl: string,
): SafeHtml {
  return layout(
    { title: "Live page views", active: "pageviews", refreshSeconds },
    html`${liveHead(p, refreshSeconds)}${liveBody(p, result, shopUrl)}`,
  );
}

/** The live page streamed: heading and legend first, the list (with a loading line until then) when it arrives. */
export function pageViewsParts(
  p: LiveParams,
  result: Promise<LiveResult>,
  refreshSeconds: number,
  shopUrl: string,
): Part[] {
  return [
    liveHead(p, refreshSeconds),
    {
      open: html`<div class="deferred"><p class="loading muted small" role="status">Loading page views…</p>`,
      body: result.then((r) => liveBody(p, r, shopUrl)),
      close: html`</div>`,
    },
  ];
}
