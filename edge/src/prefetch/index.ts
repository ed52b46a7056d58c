/**
 * Predictive prefetch at the edge (edge/PREFETCH.md). A narrow interface for the edge:
 *   - `wrapOriginFetch(fetch)`: origin HTML gets the rules header and arm script before it is stored;
 *   - `observe(request, response, url, ctx)`: for each public HTML answer (the edge's speculation hook; sync):
 *     learns Referer transitions, counts speculative requests per arm, flushes to D1 when due;
 *   - `handle(request, ctx)`: `/_edge/prefetch/rules.json` and `/_edge/prefetch/arm.js`.
 * Speculative requests (`Sec-Purpose: prefetch`) are never learned from and never get rules.
 */
import type { NextPageModel } from "../../../common/src/prefetch/model.ts";
import {
  clientDenyReason,
  isPrerenderRequest,
  isSpeculativePurpose,
  isSpeculativeRequest,
  responseDenyReason,
  urlDenyReason,
} from "../../../common/src/prefetch/safety.ts";
import type { RequestContext } from "../context.ts";
import type { UrlParts } from "../url-parts.ts";
import { ARM_SCRIPT, ARM_SCRIPT_PATH, RULES_PATH } from "./arm-script.ts";
import type { PrefetchConfig } from "./config.ts";
import { PrefetchCounters } from "./counters.ts";
import { MAX_PAGE_PATH, withSpeculationHtml } from "./html.ts";
import { ModelHolder, modelKey } from "./model-holder.ts";
import { buildRulesDocument, denyPatterns, type RulesDocument } from "./rules.ts";
import { WarmLimiter } from "./warm.ts";

export { type PrefetchConfig, parsePrefetchConfig } from "./config.ts";
export { modelKey } from "./model-holder.ts";

type FetchFn = (req: Request, init?: RequestInit) => Promise<Response>;

export interface PrefetchDeps {
  config: PrefetchConfig;
  site: string;
  /** Page path → page group (the edge's page-group rules). */
  pageGroup: (path: string) => string;
  kv: KVNamespace | null;
  db: D1Database | null;
  /** Serves a warming request through the edge's own cache (lookup, origin on MISS, store). */
  warm: ((request: Request, ctx: ExecutionContext) => Response | Promise<Response>) | null;
  now?: () => number;
}

/** Model and learning state of this isolate (no personal data). */
export const STATUS_PATH = "/_edge/prefetch/status";
/** Prefix of the prefetch routes. */
export const PREFETCH_ROUTE_PREFIX = "/_edge/prefetch/";
/** Pages seen answering private/uncacheable responses, remembered per isolate (most). */
const MAX_UNSAFE = 2000;

const RULES_HEADERS = {
  "content-type": "application/speculationrules+json",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** Path of a same-origin Referer (`ref`, the header's value), or null. */
function refererPath(ref: string | null, origin: string): string | null {
  if (!ref?.startsWith(origin)) return null;
  const rest = ref.slice(origin.length);
  if (rest !== "" && rest[0] !== "/") return null; // https://shop.example.evil
  const cut = rest.search(/[?#]/);
  const path = (cut === -1 ? rest : rest.slice(0, cut)) || "/";
  return path.length <= MAX_PAGE_PATH ? path : null;
}

/** Cache status from the edge's Server-Timing `cdn-cache;desc=…`. */
function cacheStatus(res: Response): string {
  const st = res.headers.get("server-timing") ?? "";
  return /cdn-cache;desc="?([A-Z]+)/.exec(st)?.[1] ?? "NONE";
}

/** What a response allows: HTML or not, and why it may not be speculated (null = it may). */
interface ResponseFacts {
  html: boolean;
  deny: string | null;
}

/**
 * Per stored object (the edge's stored metadata): its answers differ only in `Age`,
 * `Server-Timing` and `X-Request-Id`, so what they allow is read from the first one.
 */
const FACTS = new WeakMap<object, ResponseFacts>();

function responseFacts(res: Response): ResponseFacts {
  const html = (res.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html");
  return { html, deny: html ? responseDenyReason(res.status, res.headers) : null };
}

function originOf(o: string | UrlParts): string {
  return typeof o === "string" ? o : `${o.protocol}//${o.host}`;
}

/** One proxied answer as `learn` sees it (no closures: the bundle names each one it creates). */
interface Observed {
  pathname: string;
  /** `scheme://host` of the request, or the URL parts it is built from when a Referer is compared with it. */
  origin: string | UrlParts;
  /** `Sec-Purpose`, else `Purpose` (null: neither). */
  purpose: string | null;
  facts: ResponseFacts;
  exec: ExecutionContext;
}

export class PrefetchEdge {
  readonly config: PrefetchConfig;
  readonly counters: PrefetchCounters;
  readonly holder: ModelHolder;
  private readonly deps: PrefetchDeps;
  private readonly now: () => number;
  private readonly limiter: WarmLimiter;
  private readonly pressDeny: string[];
  /** Pages whose last response was personal or uncacheable: never speculated or learned. */
  readonly unsafe = new Set<string>();

  constructor(deps: PrefetchDeps) {
    this.deps = deps;
    this.config = deps.config;
    this.now = deps.now ?? Date.now;
    this.counters = new PrefetchCounters(deps.site, deps.config.flushMs, this.now());
    this.holder = new ModelHolder(deps.kv, modelKey(deps.site), deps.config.modelRefreshMs, deps.pageGroup);
    this.limiter = new WarmLimiter(deps.config.warmPerSecond, this.now());
    this.pressDeny = denyPatterns(deps.config.policy.denyPaths, deps.config.policy.queryDenyPaths);
  }

  /**
   * The origin fetch with speculation prepared in HTML (unchanged when prefetch is disabled);
   * `defer`: leave the header and arm script for the edge to apply in its single pass over the
   * page (html-additions.ts), as the edge's own fetch does.
   */
  wrapOriginFetch(originBase: string, inner: FetchFn, defer = false): FetchFn {
    if (!this.config.enabled) return inner;
    return withSpeculationHtml(
      originBase,
      inner,
      this.config.rulesDelivery === "inline" ? (req, page) => this.inlineRules(req, page) : null,
      defer,
    );
  }

  /**
   * Inline delivery: rules from the held model, none for a personal request. Runs on the origin
   * fetch (a MISS), which waits anyway: a fresh isolate reads the model alongside it. HITs keep
   * the model fresh in the background (`observe`).
   */
  private async inlineRules(req: Request, page: string): Promise<RulesDocument | null> {
    if (clientDenyReason(req.headers, this.config.policy) !== null) return null;
    const model = await this.holder.ensure(this.now());
    return model === null ? null : this.document(this.predict(model, page));
  }

  private predict(model: NextPageModel, path: string): Array<{ page: string; p: number }> {
    if (this.config.maxPerPage === 0) return [];
    const policy = this.config.policy;
    return model.predict([path], {
      k: this.config.maxPerPage,
      threshold: this.config.threshold,
      now: this.now(),
      exclude: (p) => this.unsafe.has(p) || urlDenyReason(p, "http://edge.invalid", policy) !== null,
    });
  }

  private document(cands: Array<{ page: string; p: number }>): RulesDocument {
    const prerender = this.config.prerender
      ? cands
          .filter((c) => c.p >= this.config.prerenderThreshold)
          .slice(0, 1)
          .map((c) => c.page)
      : [];
    const prefetch = cands.map((c) => c.page).filter((pg) => !prerender.includes(pg));
    return buildRulesDocument({
      prefetch,
      prerender,
      pressDeny: this.config.pressRules ? this.pressDeny : null,
    });
  }

  /** Learns and counts from one proxied response; never throws, never delays the response. */
  observe(request: Request, res: Response, url: string, ctx: ExecutionContext): void {
    try {
      if (request.method !== "GET") return;
      const slash = url.indexOf("/", url.indexOf("//") + 2);
      const rest = slash === -1 ? "/" : url.slice(slash);
      const cut = rest.search(/[?#]/);
      const h = request.headers;
      this.learn(request, res, {
        pathname: cut === -1 ? rest : rest.slice(0, cut),
        origin: slash === -1 ? url : url.slice(0, slash),
        purpose: h.get("sec-purpose") ?? h.get("purpose"),
        facts: responseFacts(res),
        exec: ctx,
      });
    } catch {
      // Learning must never break serving.
    }
  }

  /**
   * `observe` for an answer of the edge (its speculation hook): the path, origin and purpose come
   * from the request context, and what the response allows is read once per stored object (a
   * HIT then reads one request header, `Referer`, and builds no string without one).
   */
  observeServed(ctx: RequestContext, res: Response): void {
    try {
      if (ctx.method !== "GET") return;
      const stored = ctx.stored;
      let facts = stored === null ? undefined : FACTS.get(stored);
      if (facts === undefined) {
        facts = responseFacts(res);
        if (stored !== null) FACTS.set(stored, facts);
      }
      this.learn(ctx.request, res, {
        pathname: ctx.path,
        origin: ctx.url,
        purpose: ctx.purpose,
        facts,
        exec: ctx.exec,
      });
    } catch {
      // Learning must never break serving.
    }
  }

  private learn(request: Request, res: Response, o: Observed): void {
    const pathname = o.pathname;
    const now = this.now();
    // Inline delivery has no rules request to load the model: refresh it here (waitUntil, no wait).
    if (this.config.rulesDelivery === "inline" && this.config.enabled) this.holder.refresh(now, o.exec);
    const page = o.facts.html && res.status === 200;
    if (page) this.remember(pathname, o.facts.deny !== null);
    if (isSpeculativePurpose(o.purpose)) {
      const tags = request.headers.get("sec-speculation-tags") ?? "";
      const arm = /"press"/.test(tags)
        ? "press"
        : /"ours"/.test(tags)
          ? "ours"
          : request.headers.get("x-prefetch-warm")
            ? "edge"
            : "unknown";
      const kind = request.headers.get("x-prefetch-warm")
        ? "warm"
        : isPrerenderRequest(request.headers)
          ? "prerender"
          : "prefetch";
      const st = cacheStatus(res);
      const origin = st === "MISS" || st === "BYPASS" || st === "EXPIRED";
      this.counters.speculation(arm, kind, Number(res.headers.get("content-length") ?? 0) || 0, origin, now);
    } else if (this.config.learn && page && !this.unsafe.has(pathname)) {
      const ref = request.headers.get("referer");
      const from = ref === null ? null : refererPath(ref, originOf(o.origin));
      if (from !== null && from !== pathname && pathname.length <= MAX_PAGE_PATH)
        this.counters.transition(from, pathname, now);
    }
    if (this.deps.db !== null && this.counters.due(now))
      o.exec.waitUntil(this.counters.flush(this.deps.db, now));
  }

  private remember(path: string, bad: boolean): void {
    if (bad) {
      if (this.unsafe.size >= MAX_UNSAFE) this.unsafe.clear();
      this.unsafe.add(path);
    } else if (this.unsafe.size > 0) this.unsafe.delete(path);
  }

  /** `/_edge/prefetch/*` routes. */
  async handle(request: Request, url: URL, ctx: ExecutionContext): Promise<Response> {
    if (request.method !== "GET" && request.method !== "HEAD")
      return Response.json(
        { error: "method not allowed (GET or HEAD)" },
        { status: 405, headers: { allow: "GET, HEAD" } },
      );
    if (url.pathname === ARM_SCRIPT_PATH)
      return new Response(ARM_SCRIPT, {
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "public, max-age=3600",
        },
      });
    if (url.pathname === RULES_PATH) return this.rules(request, url, ctx);
    if (url.pathname === STATUS_PATH) {
      await this.holder.get(this.now(), ctx);
      return Response.json(
        {
          enabled: this.config.enabled,
          learn: this.config.learn,
          model: {
            loaded: this.holder.model !== null,
            builtAt: this.holder.builtAt,
            error: this.holder.error,
          },
          pendingCounts: this.counters.pending,
          droppedCounts: this.counters.dropped,
          flushError: this.counters.lastError,
          unsafePages: this.unsafe.size,
        },
        { headers: { "cache-control": "no-store" } },
      );
    }
    return Response.json({ error: "unknown prefetch route" }, { status: 404 });
  }

  /** Candidates for a page: model prediction minus denied, unsafe and personal pages. */
  async candidates(path: string, ctx: ExecutionContext): Promise<Array<{ page: string; p: number }>> {
    const model: NextPageModel | null = await this.holder.get(this.now(), ctx);
    return model === null ? [] : this.predict(model, path);
  }

  private async rules(request: Request, url: URL, ctx: ExecutionContext): Promise<Response> {
    const empty = (reason: string) =>
      new Response("{}", { headers: { ...RULES_HEADERS, "x-prefetch-skip": reason } });
    const p = url.searchParams.get("p");
    if (p === null || !p.startsWith("/") || p.startsWith("//") || p.length > MAX_PAGE_PATH)
      return Response.json(
        {
          error: `query parameter p must be a page path starting with / (at most ${MAX_PAGE_PATH} characters)`,
        },
        { status: 400 },
      );
    if (!this.config.enabled) return empty("disabled");
    if (isSpeculativeRequest(request.headers)) return empty("speculative request");
    const denied = clientDenyReason(request.headers, this.config.policy);
    if (denied !== null) return empty(denied);
    const cands = await this.candidates(p, ctx);
    const doc = this.document(cands);
    if (this.deps.warm !== null) for (const c of cands) this.warm(c.page, url, ctx);
    return new Response(request.method === "HEAD" ? null : JSON.stringify(doc), { headers: RULES_HEADERS });
  }

  /** Warms one page through the edge cache, within the per-second cap. */
  private warm(page: string, url: URL, ctx: ExecutionContext): void {
    if (!this.limiter.take(this.now())) return;
    const req = new Request(new URL(page, url.origin), {
      headers: { accept: "text/html", "sec-purpose": "prefetch", "x-prefetch-warm": "1" },
    });
    const warm = this.deps.warm as NonNullable<PrefetchDeps["warm"]>;
    ctx.waitUntil(
      Promise.resolve()
        .then(() => warm(req, ctx))
        .then((res) => {
          // Counted by the edge's speculation hook (public pages); a private answer only marks the page.
          this.remember(page, responseDenyReason(res.status, res.headers) !== null);
          return res.body?.cancel();
        })
        .catch(() => {}),
    );
  }
}
