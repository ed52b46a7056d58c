/** Page shell: head, top navigation and the notice boxes every page uses. */
import { type HtmlValue, html, type SafeHtml } from "../html.ts";

export interface LayoutOptions {
  title: string;
  /** Which nav entry is active; omit on the login page to hide navigation. */
  active?: "overview" | "pageviews";
  /** Adds `<meta http-equiv="refresh">` (the live view reloads itself without client JS). */
  refreshSeconds?: number;
}

/** Full HTML document around `body` (stylesheet from `/_dash/style.css`, no inline script/style). */
export function layout(o: LayoutOptions, body: HtmlValue): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${o.refreshSeconds ? html`<meta http-equiv="refresh" content="${o.refreshSeconds}">` : ""}
<title>${o.title} · Edge RUM</title><link rel="stylesheet" href="/_dash/style.css"></head>
<body><header class="top"><span class="brand">Edge RUM</span>${
    o.active
      ? html`<nav><a href="/_dash/" class="${o.active === "overview" ? "active" : ""}">Overview</a><a href="/_dash/pageviews" class="${o.active === "pageviews" ? "active" : ""}">Live page views</a></nav><form method="post" action="/_dash/logout"><button class="link" type="submit">Sign out</button></form>`
      : ""
  }</header><main>${body}</main></body></html>`;
}

/** A red box with a readable reason (API errors, bad parameters). */
export function errorNotice(title: string, message: string): SafeHtml {
  return html`<div class="notice error" role="alert"><strong>${title}</strong><br>${message}</div>`;
}

/** A box that explains what to do when there is no data yet. */
export function emptyNotice(body: HtmlValue): SafeHtml {
  return html`<div class="notice empty">${body}</div>`;
}
