/** Page shell: head, top navigation and the notice boxes every page uses. */
import { type HtmlValue, html, type SafeHtml } from "../html.ts";

export interface LayoutOptions {
  title: string;
  /** Which nav entry is active; omit on the login page to hide navigation. */
  active?: "overview" | "pageviews" | "slo" | "distribution" | "impact" | "effects";
  /** Adds `<meta http-equiv="refresh">` (the live view reloads itself without client JS). */
  refreshSeconds?: number;
}

const NAV = [
  ["overview", "/_dash/", "Overview"],
  ["pageviews", "/_dash/pageviews", "Live page views"],
  ["slo", "/_dash/slo", "SLOs"],
  ["distribution", "/_dash/distribution", "Distribution"],
  ["impact", "/_dash/impact", "Business impact"],
  ["effects", "/_dash/effects", "Optimisations"],
] as const;

/** The document around a page's body, split so a streamed page can send the head first. */
export function layoutShell(o: LayoutOptions): { head: SafeHtml; tail: SafeHtml } {
  const head = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${o.refreshSeconds ? html`<meta http-equiv="refresh" content="${o.refreshSeconds}">` : ""}
<title>${o.title} · Edge RUM</title><link rel="stylesheet" href="/_dash/style.css"></head>
<body><a class="skip" href="#main">Skip to content</a><header class="top"><span class="brand">Edge RUM</span>${
    o.active
      ? html`<nav aria-label="Dashboards">${NAV.map(
          ([k, href, label]) =>
            html`<a href="${href}" class="${o.active === k ? "active" : ""}"${o.active === k ? html` aria-current="page"` : ""}>${label}</a>`,
        )}</nav><form method="post" action="/_dash/logout"><button class="link" type="submit">Sign out</button></form>`
      : ""
  }</header><main id="main" tabindex="-1">`;
  return { head, tail: html`</main></body></html>` };
}

/** Full HTML document around `body` (stylesheet from `/_dash/style.css`, no inline script/style). */
export function layout(o: LayoutOptions, body: HtmlValue): SafeHtml {
  const { head, tail } = layoutShell(o);
  return html`${head}${body}${tail}`;
}

/** A red box with a readable reason (API errors, bad parameters). */
export function errorNotice(title: string, message: string): SafeHtml {
  return html`<div class="notice error" role="alert"><strong>${title}</strong><br>${message}</div>`;
}

/** A box that explains what to do when there is no data yet. */
export function emptyNotice(body: HtmlValue): SafeHtml {
  return html`<div class="notice empty">${body}</div>`;
}
