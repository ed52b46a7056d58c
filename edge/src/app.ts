/**
 * The edge as a Hono app: `/_edge/*` admin routes (purge, health) and everything else proxied.
 * `createEdgeFromEnv` (index.ts) dispatches non-admin paths to `Edge.serve` directly so the
 * cache-HIT path skips the router.
 */
import { Hono } from "hono";
import { formatDuration } from "../../common/src/server-timing.ts";
import { configSummary } from "./config.ts";
import type { Edge } from "./edge.ts";
import { jsonError } from "./http.ts";

const MAX_PURGE_BODY = 1024 * 1024;
const MAX_PURGE_ITEMS = 1000;

/** Constant-time string comparison (token check). */
function safeEqual(a: string, b: string): boolean {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  let diff = ea.length ^ eb.length;
  for (let i = 0; i < Math.max(ea.length, eb.length); i++) diff |= (ea[i] ?? 0) ^ (eb[i] ?? 0);
  return diff === 0;
}

type PurgeBody = { urls: URL[] } | { tags: string[] } | { everything: true };

/** Validates a purge body; returns the reason string when it is bad. */
export function parsePurgeBody(raw: unknown, base: string): PurgeBody | string {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "body must be a JSON object";
  const o = raw as Record<string, unknown>;
  const keys = Object.keys(o);
  const known = keys.filter((k) => k === "urls" || k === "tags" || k === "everything");
  const unknown = keys.filter((k) => k !== "urls" && k !== "tags" && k !== "everything");
  if (unknown.length > 0)
    return `unknown field ${JSON.stringify(unknown[0])} (expected one of urls, tags, everything)`;
  if (known.length !== 1) return 'body must have exactly one of "urls", "tags" or "everything"';
  if ("everything" in o) return o.everything === true ? { everything: true } : '"everything" must be true';
  const name = known[0] as "urls" | "tags";
  const list = o[name];
  if (!Array.isArray(list) || list.length === 0) return `"${name}" must be a non-empty array of strings`;
  if (list.length > MAX_PURGE_ITEMS) return `"${name}" has ${list.length} items (max ${MAX_PURGE_ITEMS})`;
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== "string" || (list[i] as string).trim() === "")
      return `${name}[${i}] must be a non-empty string`;
  }
  if (name === "tags") {
    const tags = (list as string[]).map((t) => t.trim());
    const bad = tags.findIndex((t) => t.length > 1024 || t.includes(","));
    if (bad !== -1) return `tags[${bad}] must be at most 1024 chars without commas`;
    return { tags };
  }
  const urls: URL[] = [];
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as string;
    let u: URL;
    try {
      u = new URL(s, base);
    } catch {
      return `urls[${i}] is not a URL or path (got ${JSON.stringify(s)})`;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:")
      return `urls[${i}] must be http(s) (got ${JSON.stringify(s)})`;
    urls.push(u);
  }
  return { urls };
}

/** Hono app for the edge: admin routes + catch-all proxy (defaults: see edge/README.md). */
export function createEdgeApp(edge: Edge): Hono {
  const app = new Hono();

  // Admin responses carry the same timing headers as proxied ones.
  app.use("/_edge/*", async (c, next) => {
    const t0 = performance.now();
    const rid = edge.nextRid();
    await next();
    const h = c.res.headers;
    h.set(
      "server-timing",
      `cdn-cache;desc=BYPASS, edge;dur=${formatDuration(performance.now() - t0)}, rid;desc=${rid}`,
    );
    h.set("x-request-id", rid);
    h.set("timing-allow-origin", "*");
    h.set("cache-control", "no-store");
  });

  app.get("/_edge/health", (c) =>
    c.json({
      ok: true,
      config: configSummary(edge.config),
      hotCache: { entries: edge.hot.map.size, bytes: edge.hot.bytes },
      purgeGeneration: edge.purge.gen,
    }),
  );

  app.post("/_edge/purge", async (c) => {
    const token = edge.config.adminToken;
    if (token === null) return jsonError(401, "purge is disabled: EDGE_ADMIN_TOKEN is not set");
    const auth = c.req.header("authorization");
    if (!auth) return jsonError(401, "missing Authorization: Bearer <EDGE_ADMIN_TOKEN>");
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (!m || !safeEqual((m[1] as string).trim(), token)) return jsonError(401, "invalid admin token");
    const len = Number(c.req.header("content-length") ?? "0");
    if (len > MAX_PURGE_BODY) return jsonError(400, `body too large (max ${MAX_PURGE_BODY} bytes)`);
    let text: string;
    try {
      text = await c.req.text();
    } catch {
      return jsonError(400, "could not read body");
    }
    if (text.length > MAX_PURGE_BODY) return jsonError(400, `body too large (max ${MAX_PURGE_BODY} bytes)`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return jsonError(400, "body must be JSON");
    }
    const body = parsePurgeBody(raw, c.req.url);
    if (typeof body === "string") return jsonError(400, body);
    try {
      if ("everything" in body)
        return c.json({ ok: true, purged: "everything", generation: await edge.purgeEverything() });
      if ("tags" in body)
        return c.json({ ok: true, purged: "tags", tags: body.tags, keys: await edge.purgeTags(body.tags) });
      return c.json({ ok: true, purged: "urls", keys: await edge.purgeUrls(body.urls) });
    } catch (e) {
      return jsonError(503, `purge storage failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  });

  app.all("/_edge/*", (c) =>
    jsonError(c.req.method === "GET" || c.req.method === "POST" ? 404 : 405, "unknown admin route"),
  );
  app.all("*", (c) => edge.serve(c.req.raw, c.executionCtx as unknown as ExecutionContext));
  return app;
}
