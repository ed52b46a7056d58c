/** Helpers for the prefetch Worker tests: a PrefetchEdge with a test clock, a model in KV, calls. */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { toCompactModel } from "../../common/src/prefetch/compact.ts";
import { NextPageModel } from "../../common/src/prefetch/model.ts";
import migration from "../../migrations/0007_prefetch.sql?raw";
import { modelKey, PrefetchEdge, parsePrefetchConfig } from "../src/prefetch/index.ts";

export const SITE_ORIGIN = "https://shop.test";
export const groupOf = (p: string) => (p.startsWith("/p/") ? "/p/:id" : p.startsWith("/c/") ? "/c/:slug" : p);

export interface PrefetchHarness {
  pf: PrefetchEdge;
  t: { now: number };
  warmed: string[];
  rules(path: string, headers?: Record<string, string>): Promise<Response>;
  observe(path: string, headers: Record<string, string>, res?: Response): Promise<void>;
}

/** A PrefetchEdge for site `site` with the given PREFETCH_* vars. */
export function harness(site: string, vars: Record<string, string> = {}): PrefetchHarness {
  const t = { now: Date.parse("2026-12-06T10:00:00Z") };
  const warmed: string[] = [];
  const pf = new PrefetchEdge({
    config: parsePrefetchConfig({ PREFETCH_FLUSH_SECONDS: "0", ...vars }),
    site,
    pageGroup: groupOf,
    kv: env.EDGE_KV,
    db: env.DB,
    warm: async (req) => {
      warmed.push(new URL(req.url).pathname);
      return new Response("<html></html>", {
        headers: {
          "content-type": "text/html",
          "content-length": "13",
          "server-timing": "cdn-cache;desc=MISS",
        },
      });
    },
    now: () => t.now,
  });
  return {
    pf,
    t,
    warmed,
    async rules(path, headers = {}) {
      const ctx = createExecutionContext();
      const url = new URL(`${SITE_ORIGIN}/_edge/prefetch/rules.json?p=${encodeURIComponent(path)}`);
      const res = await pf.handle(new Request(url, { headers }), url, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
    async observe(path, headers, res) {
      const ctx = createExecutionContext();
      const r =
        res ??
        new Response("<html></html>", {
          headers: {
            "content-type": "text/html",
            "cache-control": "public, max-age=60",
            "server-timing": "cdn-cache;desc=HIT",
          },
        });
      pf.observe(new Request(SITE_ORIGIN + path, { headers }), r, SITE_ORIGIN + path, ctx);
      await waitOnExecutionContext(ctx);
    },
  };
}

/** Trains a model on sessions and stores it in KV for `site`. */
export async function storeModel(
  site: string,
  sessions: string[][],
  now = Date.parse("2026-12-06T10:00:00Z"),
) {
  const m = new NextPageModel({ recencyWeight: 0 }, groupOf);
  for (const s of sessions) m.observeSession(s, now);
  await env.EDGE_KV.put(modelKey(site), JSON.stringify(toCompactModel(m, now)));
}

/** Creates the prefetch tables (migrations/0007) if missing. */
export async function applyPrefetchMigration(): Promise<void> {
  const stmts = migration
    .replace(/--.*$/gm, "")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => s.replace(/^CREATE (TABLE|INDEX) /, "CREATE $1 IF NOT EXISTS "));
  await env.DB.batch(stmts.map((s) => env.DB.prepare(s)));
}

let n = 0;
/** A site id no other test uses (KV and D1 are shared within a file). */
export const uniqueSite = (name: string) => `${name}-${++n}-${Math.random().toString(36).slice(2, 7)}`;
