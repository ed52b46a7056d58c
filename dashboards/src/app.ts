/**
 * The dashboards Worker part: `/_dash/*` pages for SREs and frontend teams, rendered on the
 * server from the RUM query API. Auth is a login cookie (HMAC of the token) or a bearer token.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie } from "hono/cookie";
import { AuthThrottle, clientKey } from "../../common/src/auth-throttle.ts";
import { bearerToken } from "../../common/src/secret-token.ts";
import { type QueryApi, recentPageViews } from "./api-client.ts";
import { COOKIE_NAME, makeSessionValue, tokenMatches, verifySessionValue } from "./auth.ts";
import type { DashConfig } from "./config.ts";
import type { SafeHtml } from "./html.ts";
import { registerInsightPages } from "./insight-pages.ts";
import { finishOverview, settle, startOverview } from "./overview-data.ts";
import { streamParts } from "./stream.ts";
import { BadRequest, parseLiveParams, parseOverviewParams } from "./view-params.ts";
import { layoutShell } from "./views/layout.ts";
import { loginPage, problemPage } from "./views/login.ts";
import { overviewPage, overviewParts } from "./views/overview.ts";
import { pageViewsParts } from "./views/pageviews.ts";
import { STYLESHEET } from "./views/styles.ts";

export interface DashboardsDeps {
  config: DashConfig;
  /** In-process call into the query API (already authorised with the query token). */
  queryApi: QueryApi;
  /** Clock in ms since epoch (default `Date.now`). */
  now?: () => number;
  /** Repeated bad tokens per client (CF-Connecting-IP) on login and bearer → 429 (default: 10 per minute, per isolate). */
  throttle?: AuthThrottle;
}

const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Only same-part relative targets, so the login form cannot become an open redirect. */
function safeNext(next: unknown): string {
  if (typeof next !== "string") return "/_dash/";
  if (!(next === "/_dash/" || next.startsWith("/_dash/") || next.startsWith("/_dash?"))) return "/_dash/";
  if (/[\\\s]/.test(next) || next.includes("//")) return "/_dash/";
  return next;
}

function pathAndQuery(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** Builds the dashboards Hono app (mounted at `/_dash`); `now` defaults to `Date.now`. */
export function createDashboardsApp(deps: DashboardsDeps): Hono {
  const { config, queryApi } = deps;
  const now = deps.now ?? Date.now;
  // strict: false so "/_dash" and "/_dash/" are the same overview page.
  const app = new Hono({ strict: false }).basePath("/_dash");

  const headers = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
  };
  const page = (body: SafeHtml, status: 200 | 400 | 401 | 404 | 429 | 500 | 502 = 200) =>
    new Response(body.value, { status, headers });

  const throttle = deps.throttle ?? new AuthThrottle();
  const clientOf = (req: Request) => clientKey(req.headers.get("cf-connecting-ip") ?? "");
  /** The 429 page for a throttled client, or null when it may try a token now. */
  const throttled = (client: string) => {
    const verdict = throttle.check(client, now());
    if (verdict.allowed) return null;
    const res = page(
      problemPage(
        "Too many attempts",
        "Too many wrong tokens from this address. Wait a minute and try again.",
        false,
      ),
      429,
    );
    res.headers.set("retry-after", String(verdict.retryAfterSeconds));
    return res;
  };

  const cookieAttrs = (url: string, maxAge: number) =>
    `Path=/_dash; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${url.startsWith("https:") ? "; Secure" : ""}`;

  // The reader gets a plain statement; the details (which may name internals) go to the log.
  app.onError((err) => {
    console.error(`dashboards: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return page(
      problemPage(
        "Something went wrong",
        "The dashboards hit an internal error; the Worker log has the details.",
        false,
      ),
      500,
    );
  });
  app.notFound((c) =>
    page(
      problemPage("Not found", `There is no dashboard page at ${new URL(c.req.url).pathname}.`, false),
      404,
    ),
  );

  app.get(
    "/style.css",
    () =>
      new Response(STYLESHEET, {
        headers: { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" },
      }),
  );

  app.get("/login", (c) => page(loginPage(safeNext(c.req.query("next")))));

  app.post(
    "/login",
    bodyLimit({ maxSize: 4096, onError: () => page(loginPage("/_dash/", "The form was too large."), 400) }),
    async (c) => {
      const type = c.req.header("content-type") ?? "";
      if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data"))
        return page(loginPage("/_dash/", "Send the login form as application/x-www-form-urlencoded."), 400);
      const form = await c.req.parseBody();
      const next = safeNext(form.next);
      const token = typeof form.token === "string" ? form.token : "";
      if (token === "") return page(loginPage(next, "No token was entered."), 401);
      const client = clientOf(c.req.raw);
      const refused = throttled(client);
      if (refused) return refused;
      if (!(await tokenMatches(config.token, token))) {
        throttle.fail(client, now());
        return page(loginPage(next, "That token does not match DASH_TOKEN. Check the Worker config."), 401);
      }
      throttle.succeed(client);
      const value = await makeSessionValue(config.token, now() + config.sessionSeconds * 1000);
      return new Response(null, {
        status: 303,
        headers: {
          location: next,
          "set-cookie": `${COOKIE_NAME}=${value}; ${cookieAttrs(c.req.url, config.sessionSeconds)}`,
        },
      });
    },
  );

  app.post(
    "/logout",
    (c) =>
      new Response(null, {
        status: 303,
        headers: { location: "/_dash/login", "set-cookie": `${COOKIE_NAME}=; ${cookieAttrs(c.req.url, 0)}` },
      }),
  );

  // Everything below needs a session cookie or a bearer token.
  app.use("*", async (c, next) => {
    const authz = c.req.header("authorization");
    if (authz !== undefined) {
      const bearer = bearerToken(authz.trim());
      if (bearer === null)
        return page(
          problemPage("Unauthorized", 'The Authorization header must be "Bearer <DASH_TOKEN>".', false),
          401,
        );
      const client = clientOf(c.req.raw);
      const refused = throttled(client);
      if (refused) return refused;
      if (!(await tokenMatches(config.token, bearer))) {
        throttle.fail(client, now());
        return page(problemPage("Unauthorized", "The bearer token does not match DASH_TOKEN.", false), 401);
      }
      throttle.succeed(client);
      return next();
    }
    const cookie = getCookie(c, COOKIE_NAME);
    if (cookie && (await verifySessionValue(config.token, cookie, now()))) {
      return next();
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD")
      return page(problemPage("Unauthorized", "Sign in first.", false), 401);
    const target = `/_dash/login?next=${encodeURIComponent(safeNext(pathAndQuery(c.req.url)))}`;
    return new Response(null, { status: 302, headers: { location: target, "cache-control": "no-store" } });
  });

  app.get("/", async (c) => {
    const url = new URL(c.req.url);
    let params: ReturnType<typeof parseOverviewParams>;
    try {
      params = parseOverviewParams(url.searchParams, config.defaultSite);
    } catch (err) {
      if (err instanceof BadRequest) return page(problemPage("Bad request", err.message, true), 400);
      throw err;
    }
    const pending = startOverview(queryApi, params, now());
    const tileSection = await pending.tiles;
    // With page views, stream: every chart's card follows as soon as its own call answers.
    if (tileSection.ok && tileSection.value.some((t) => t.count > 0)) {
      const { head, tail } = layoutShell({ title: "Overview", active: "overview" });
      const parts = [head, ...overviewParts(params, pending, tileSection), tail];
      return new Response(streamParts(parts), { headers });
    }
    // No page views (the empty state) or the query API failing: one page once every call answered.
    return page(overviewPage(params, await finishOverview(pending), `${url.origin}/`));
  });

  registerInsightPages(app, {
    config,
    queryApi,
    now,
    headers,
    badRequest: (reason) => page(problemPage("Bad request", reason, true), 400),
  });

  app.get("/pageviews", async (c) => {
    const url = new URL(c.req.url);
    let params: ReturnType<typeof parseLiveParams>;
    try {
      params = parseLiveParams(url.searchParams, config.defaultSite);
    } catch (err) {
      if (err instanceof BadRequest) return page(problemPage("Bad request", err.message, true), 400);
      throw err;
    }
    const result = settle(recentPageViews(queryApi, params.site, params.limit)).then((r) =>
      r.ok ? { ok: true as const, rows: r.value } : { ok: false as const, error: r.error },
    );
    const { head, tail } = layoutShell({
      title: "Live page views",
      active: "pageviews",
      refreshSeconds: config.liveRefreshSeconds,
    });
    const parts = [
      head,
      ...pageViewsParts(params, result, config.liveRefreshSeconds, `${url.origin}/`),
      tail,
    ];
    return new Response(streamParts(parts), { headers });
  });

  return app;
}
