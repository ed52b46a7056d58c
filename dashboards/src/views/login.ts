/** The login form and the 401/400 pages. */
import { html, type SafeHtml } from "../html.ts";
import { errorNotice, layout } from "./layout.ts";

/** Login form; `reason` (when set) explains why the last attempt failed. */
export function loginPage(next: string, reason?: string): SafeHtml {
  return layout(
    { title: "Sign in" },
    html`<div class="login"><h1>Sign in to the dashboards</h1>${reason ? errorNotice("Not signed in", reason) : ""}
<form method="post" action="/_dash/login"><input type="hidden" name="next" value="${next}">
<label>Dashboard token<br><input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form>
<p class="small muted">The token is <code>DASH_TOKEN</code> from the Worker config. Scripts can send <code>Authorization: Bearer &lt;token&gt;</code> instead.</p></div>`,
  );
}

/** A page for a request we refuse, with the reason. */
export function problemPage(title: string, reason: string, loggedIn: boolean): SafeHtml {
  return layout(
    loggedIn ? { title, active: "overview" } : { title },
    html`<h1>${title}</h1>${errorNotice(title, reason)}<p><a href="/_dash/">Back to the overview</a></p>`,
  );
}
