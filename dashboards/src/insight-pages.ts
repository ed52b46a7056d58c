/**
 * The SLO, distribution, impact, optimisation and page-view pages and the CSV/JSON export of every
 * table, registered on the dashboards app behind its auth. Each page starts all of its query-API
 * calls at once and streams its panels as they answer (see stream.ts).
 */
import type { Hono } from "hono";
import { ApiError, imageSavings, type QueryApi, query, recentPageViews } from "./api-client.ts";
import type { DashConfig } from "./config.ts";
import { exportResponse, ms, type Table } from "./export.ts";
import {
  type InsightPage,
  type InsightParams,
  parseInsightParams,
  parsePageViewParams,
  rangeOf,
} from "./insight-params.ts";
import {
  cacheEffects,
  distribution,
  impact,
  pageViewDetail,
  prefetchArms,
  sloStatus,
  slowest,
} from "./insights-client.ts";
import { ATTRIBUTION_PARTS, PERCENTILES } from "./metrics.ts";
import { loadOverview, type Section, settle } from "./overview-data.ts";
import { type Part, renderParts, streamParts } from "./stream.ts";
import { BadRequest, parseLiveParams, parseOverviewParams } from "./view-params.ts";
import {
  type DistributionData,
  distributionParts,
  distributionTable,
  slowestTable,
} from "./views/distribution.ts";
import { cacheGroupsTable, type EffectsData, effectsParts, prefetchTable } from "./views/effects.ts";
import { impactParts, impactTable } from "./views/impact.ts";
import { layoutShell } from "./views/layout.ts";
import { pageViewParts, pageViewTable } from "./views/pageview-detail.ts";
import { sloParts, sloTable } from "./views/slo.ts";

export interface PagesDeps {
  config: DashConfig;
  queryApi: QueryApi;
  now: () => number;
  headers: Record<string, string>;
  /** Renders a 400 page with the reason. */
  badRequest: (reason: string) => Response;
}

function loadDistribution(api: QueryApi, p: InsightParams, now: number): DistributionData {
  const r = rangeOf(p.range, now);
  const len = r.to - r.from;
  const p75 = (from: number, to: number) =>
    query(api, { metrics: [p.metric], percentiles: ["p75"], from, to, filters: p.filters }).then(
      (x) => x.values.p75 ?? null,
    );
  return {
    dist: settle(distribution(api, { ...r, metric: p.metric, filters: p.filters })),
    p75: settle(
      Promise.all([p75(r.from, r.to), p75(r.from - len, r.from)]).then(([current, previous]) => ({
        current,
        previous,
      })),
    ),
    slowest: settle(slowest(api, { ...r, metric: p.metric, filters: p.filters, limit: 20 })),
  };
}

function loadEffects(api: QueryApi, p: InsightParams, now: number): EffectsData {
  const r = rangeOf(p.range, now);
  const site = p.filters.site ?? "";
  return {
    cache: settle(cacheEffects(api, { ...r, site })),
    ttfbByStatus: settle(
      query(api, {
        metrics: ["ttfb"],
        percentiles: ["p50", "p75"],
        ...r,
        filters: { site },
        groupBy: "cacheStatus",
      }).then((x) => x.groups),
    ),
    images: Promise.all([
      settle(imageSavings(api, { ...r, site, groupBy: "format" })),
      settle(imageSavings(api, { ...r, site, groupBy: "device" })),
    ]).then(([byFormat, byDevice]) => ({ byFormat, byDevice })),
    prefetch: settle(prefetchArms(api, { ...r, site })),
  };
}

const TITLES: Record<InsightPage, string> = {
  slo: "SLOs",
  distribution: "Distribution",
  impact: "Business impact",
  effects: "Optimisations",
};

function partsFor(api: QueryApi, p: InsightParams, now: number): Part[] {
  switch (p.page) {
    case "slo":
      return sloParts(p, settle(sloStatus(api, p.slo || undefined)));
    case "distribution":
      return distributionParts(p, loadDistribution(api, p, now));
    case "impact":
      return impactParts(p, settle(impact(api, { ...rangeOf(p.range, now), by: p.by, filters: p.filters })));
    case "effects":
      return effectsParts(p, loadEffects(api, p, now));
  }
}

/** Unwraps a section for an export (a failed query is a 502 with its reason). */
async function value<T>(s: Promise<Section<T>>): Promise<T> {
  const r = await s;
  if (!r.ok) throw new ExportFailed(r.error);
  return r.value;
}

class ExportFailed extends Error {}

/** Tables by page and name: each runs the same loader as the page, so the file matches the page. */
const TABLES: Record<
  string,
  Record<string, (api: QueryApi, search: URLSearchParams, cfg: DashConfig, now: number) => Promise<Table>>
> = {
  slo: {
    objectives: async (api, s, cfg) =>
      sloTable(
        await value(settle(sloStatus(api, parseInsightParams("slo", s, cfg.defaultSite).slo || undefined))),
      ),
  },
  distribution: {
    histogram: async (api, s, cfg, now) =>
      distributionTable(
        await value(loadDistribution(api, parseInsightParams("distribution", s, cfg.defaultSite), now).dist),
      ),
    slowest: async (api, s, cfg, now) =>
      slowestTable(
        await value(
          loadDistribution(api, parseInsightParams("distribution", s, cfg.defaultSite), now).slowest,
        ),
      ),
  },
  impact: {
    buckets: async (api, s, cfg, now) => {
      const p = parseInsightParams("impact", s, cfg.defaultSite);
      return impactTable(
        await value(settle(impact(api, { ...rangeOf(p.range, now), by: p.by, filters: p.filters }))),
      );
    },
  },
  effects: {
    "cache-groups": async (api, s, cfg, now) =>
      cacheGroupsTable(
        await value(loadEffects(api, parseInsightParams("effects", s, cfg.defaultSite), now).cache),
      ),
    "prefetch-arms": async (api, s, cfg, now) =>
      prefetchTable(
        await value(loadEffects(api, parseInsightParams("effects", s, cfg.defaultSite), now).prefetch),
      ),
  },
  pageview: {
    phases: async (api, s, cfg) => {
      const q = parsePageViewParams(s, cfg.defaultSite);
      return pageViewTable(await value(settle(pageViewDetail(api, q.site, q.pvid))));
    },
  },
  overview: {
    percentiles: async (api, s, cfg, now) => {
      const p = parseOverviewParams(s, cfg.defaultSite);
      const t = await value(Promise.resolve((await loadOverview(api, p, now)).table));
      return {
        columns: [p.by, "views", ...PERCENTILES],
        rows: t.groups.map((g) => [g.key, g.count, ...PERCENTILES.map((q) => ms(g.values[q]))]),
      };
    },
    attribution: async (api, s, cfg, now) => {
      const p = parseOverviewParams(s, cfg.defaultSite);
      const a = await value(Promise.resolve((await loadOverview(api, p, now)).attribution));
      const parts = ATTRIBUTION_PARTS.map((x) => x.key);
      return {
        columns: [p.attrBy, "views", `ttfb_${p.attrPct}`, ...parts],
        rows: a.map((g) => [g.key, g.count, ms(g.ttfb), ...parts.map((k) => ms(g.parts[k]))]),
      };
    },
  },
  pageviews: {
    pageviews: async (api, s, cfg) => {
      const p = parseLiveParams(s, cfg.defaultSite);
      const rows = await recentPageViews(api, p.site, p.limit);
      const parts = ATTRIBUTION_PARTS.map((x) => x.key);
      return {
        columns: [
          "ts",
          "pvid",
          "pageGroup",
          "path",
          "cacheStatus",
          "device",
          "browser",
          "country",
          "connection",
          "ttfb",
          "lcp",
          "inp",
          "cls",
          ...parts,
        ],
        rows: rows.map((r) => [
          new Date(r.ts).toISOString(),
          r.pvid,
          r.pageGroup,
          r.path,
          r.cacheStatus,
          r.device,
          r.browser,
          r.country,
          r.connection,
          ms(r.vitals.ttfb),
          ms(r.vitals.lcp),
          ms(r.vitals.inp),
          r.vitals.cls,
          ...parts.map((k) => ms(r.parts[k])),
        ]),
      };
    },
  },
};

/** Registers the pages and `/export/:page/:table.(csv|json)` on `app` (already behind auth). */
export function registerInsightPages(app: Hono, deps: PagesDeps): void {
  const stream = (
    title: string,
    active: Parameters<typeof layoutShell>[0]["active"],
    parts: Part[],
    whole: boolean,
  ) => {
    const { head, tail } = layoutShell({ title, active });
    const all: Part[] = [head, ...parts, tail];
    // HEAD and clients without streaming still get the same bytes.
    return whole
      ? renderParts(all).then((body) => new Response(body, { headers: deps.headers }))
      : new Response(streamParts(all), { headers: deps.headers });
  };
  const guard = async (f: () => Response | Promise<Response>) => {
    try {
      return await f();
    } catch (err) {
      if (err instanceof BadRequest) return deps.badRequest(err.message);
      throw err;
    }
  };

  for (const page of ["slo", "distribution", "impact", "effects"] as const)
    app.get(`/${page}`, (c) =>
      guard(() => {
        const p = parseInsightParams(page, new URL(c.req.url).searchParams, deps.config.defaultSite);
        return stream(TITLES[page], page, partsFor(deps.queryApi, p, deps.now()), c.req.method === "HEAD");
      }),
    );

  app.get("/pageview", (c) =>
    guard(() => {
      const q = parsePageViewParams(new URL(c.req.url).searchParams, deps.config.defaultSite);
      return stream(
        "Page view",
        "pageviews",
        pageViewParts(q, settle(pageViewDetail(deps.queryApi, q.site, q.pvid))),
        c.req.method === "HEAD",
      );
    }),
  );

  app.get("/export/:page/:file", (c) =>
    guard(async () => {
      const page = c.req.param("page");
      const m = /^([a-z-]+)\.(csv|json)$/.exec(c.req.param("file"));
      const build = m ? TABLES[page]?.[m[1] as string] : undefined;
      if (!m || !build) {
        const known = Object.entries(TABLES).flatMap(([p, t]) => Object.keys(t).map((n) => `${p}/${n}`));
        return deps.badRequest(
          `Unknown export "${page}/${c.req.param("file")}": expected one of ${known.join(", ")} as .csv or .json`,
        );
      }
      try {
        const table = await build(deps.queryApi, new URL(c.req.url).searchParams, deps.config, deps.now());
        return exportResponse(table, `${page}-${m[1]}`, m[2] as "csv" | "json");
      } catch (err) {
        if (err instanceof ExportFailed || err instanceof ApiError)
          return new Response(`The query API failed: ${err.message}`, {
            status: 502,
            headers: { "content-type": "text/plain; charset=utf-8" },
          });
        throw err;
      }
    }),
  );
}
