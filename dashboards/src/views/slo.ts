/** The SLO page: every objective with its error budget, its four burn-rate windows and its alerts. */

import type { SloAnswer, SloStatus as SloRow } from "../../../common/src/insights-contract.ts";
import type { Table } from "../export.ts";
import { html, type SafeHtml } from "../html.ts";
import type { InsightParams } from "../insight-params.ts";
import type { Section } from "../overview-data.ts";
import { type Part, panel } from "../stream.ts";
import { emptyNotice, errorNotice } from "./layout.ts";
import { exportLinks, tableWrap, trunc } from "./parts.ts";

const WINDOWS = ["5m", "30m", "1h", "6h"] as const;

function pct(v: number | null, digits = 1): string {
  return v === null ? "–" : `${(v * 100).toFixed(digits)} %`;
}

function burn(v: number | null): string {
  return v === null ? "–" : `${v.toFixed(1)}×`;
}

/** Budget left as a bar: green above 50 %, amber above 0, red when spent. */
function budgetBar(v: number | null): SafeHtml {
  if (v === null) return html`<span class="muted">no page views</span>`;
  const w = Math.max(0, Math.min(1, v)) * 100;
  const cls = v > 0.5 ? "good" : v > 0 ? "ni" : "poor";
  return html`<svg class="budget" viewBox="0 0 100 8" width="100%" height="10" preserveAspectRatio="none" role="img" aria-label="error budget left ${pct(v, 0)}"><rect class="track" x="0" y="0" width="100" height="8"></rect><rect class="bin ${cls}" x="0" y="0" width="${w.toFixed(2)}" height="8"></rect></svg><span class="${cls}">${pct(v, 0)}</span>`;
}

/** Whether an alert fires: its rule now, or (no page views in a window) the state last sent. */
function isFiring(a: SloRow["alerts"][number], st: SloAnswer["alertStates"][number] | undefined): boolean {
  return a.firing ?? st !== undefined;
}

function alertBadges(s: SloRow, states: SloAnswer["alertStates"]): SafeHtml {
  return html`${s.alerts.map((a) => {
    const st = states.find((x) => x.sloId === s.id && x.severity === a.severity && x.state === "firing");
    const since = st ? ` since ${new Date(st.since).toISOString().slice(11, 16)} UTC` : "";
    const on = isFiring(a, st);
    const noData = a.firing === null ? " (no data)" : "";
    const title = `${a.severity}: burn ${a.long} and ${a.short} both ≥ ${a.burnRate}×${a.clamped ? " (clamped to a reachable rate)" : ""}${a.firing === null ? "; a window has no page views, the alert keeps its state" : ""}`;
    return html`<span class="badge ${on ? "firing" : "ok"}" title="${title}">${a.severity} ${on ? `FIRING${since}` : "ok"}${noData}</span> `;
  })}`;
}

function row(s: SloRow, states: SloAnswer["alertStates"]): SafeHtml {
  const scope =
    [s.site && `site ${s.site}`, s.pageGroup && `page group ${s.pageGroup}`].filter(Boolean).join(" · ") ||
    "all page views";
  return html`<tr data-slo="${s.id}"><td data-label="objective"><a href="/_dash/slo?slo=${s.id}">${trunc(s.name, "wide")}</a><div class="small muted">${s.objective} · ${scope}</div></td><td class="num" data-label="good share">${pct(s.compliance, 2)}<div class="small muted">target ${pct(s.target, 2)}</div></td><td class="budget-cell" data-label="error budget left">${budgetBar(s.budgetRemaining)}<div class="small muted">${Math.round(s.budgetWindow.total)} views / ${s.windowDays} d</div></td>${WINDOWS.map(
    (w) => {
      const b = s.windows[w].burnRate;
      const hot = s.alerts.some((a) => (a.long === w || a.short === w) && b !== null && b >= a.burnRate);
      return html`<td class="num ${hot ? "poor" : ""}" data-label="burn ${w}">${burn(b)}<div class="small muted">${Math.round(s.windows[w].total)} views</div></td>`;
    },
  )}<td data-label="alerts">${alertBadges(s, states)}</td></tr>`;
}

/** Rows of the SLO table as plain values (CSV/JSON export). */
export function sloTable(a: SloAnswer): Table {
  return {
    columns: [
      "id",
      "name",
      "objective",
      "site",
      "pageGroup",
      "target",
      "compliance",
      "budgetRemaining",
      "views",
      "burn5m",
      "burn30m",
      "burn1h",
      "burn6h",
      "pageFiring",
      "ticketFiring",
    ],
    rows: a.slos.map((s) => [
      s.id,
      s.name,
      s.objective,
      s.site,
      s.pageGroup,
      s.target,
      s.compliance,
      s.budgetRemaining,
      s.budgetWindow.total,
      ...WINDOWS.map((w) => s.windows[w].burnRate),
      ...(["page", "ticket"] as const).map((sev) => {
        const rule = s.alerts.find((x) => x.severity === sev);
        const st = a.alertStates.find((x) => x.sloId === s.id && x.severity === sev && x.state === "firing");
        return rule ? isFiring(rule, st) : false;
      }),
    ]),
  };
}

async function body(p: InsightParams, data: Promise<Section<SloAnswer>>): Promise<SafeHtml> {
  const d = await data;
  if (!d.ok) return errorNotice("SLO status unavailable", d.error);
  if (d.value.slos.length === 0)
    return emptyNotice(
      html`<strong>No objectives configured.</strong> Set <code>RUM_SLOS</code> in the Worker config, e.g. <code>[{"id":"lcp-p75","metric":"lcp","threshold":2500,"target":0.75,"pageGroup":"/p/:id"}]</code>.`,
    );
  if (d.value.slos.every((s) => s.budgetWindow.total === 0))
    return emptyNotice(
      html`<strong>No page views</strong> in any objective's window yet: the burn rates appear once beacons arrive.`,
    );
  const q = p.slo ? `slo=${encodeURIComponent(p.slo)}` : "";
  return html`${exportLinks("objectives", "slo", "objectives", q)}${tableWrap(
    "Service-level objectives",
    html`<table class="slo-table reflow"><thead><tr><th>objective</th><th class="num">good share</th><th>error budget left</th>${WINDOWS.map((w) => html`<th class="num">burn ${w}</th>`)}<th>alerts</th></tr></thead><tbody>${d.value.slos.map((s) => row(s, d.value.alertStates))}</tbody></table>`,
  )}`;
}

/** The SLO page parts (the table streams in when the SLO query answers). */
export function sloParts(p: InsightParams, data: Promise<Section<SloAnswer>>): Part[] {
  const head = html`<h2>Service-level objectives${p.slo ? html` <span class="small muted">· ${p.slo} · <a href="/_dash/slo">all</a></span>` : ""}</h2><p class="small muted">A page view is good when its metric is at or under the threshold; a p75 objective asks that 75 % are. Burn rate = bad share ÷ allowed bad share (1× spends the budget exactly over the window). Alerts follow the SRE workbook: <strong>page</strong> when the 1 h and 5 min burn rates both spend 2 % of the budget in an hour (14.4× for a 30-day window), <strong>ticket</strong> when the 6 h and 30 min rates both spend 5 % in 6 hours (6×); a low target that cannot burn that fast pages at 90 % bad page views. Hover an alert for its threshold. A window without page views keeps the alert as it was.</p>`;
  return [html`<h1>SLOs and burn rates</h1>`, panel("slo", head, "objectives", body(p, data))];
}
