/**
 * `/_edge/*` admin routes: `GET /_edge/health` (anonymous: `{ok:true}` only; with the admin
 * token: config summary and cache state) and `POST /_edge/purge` (admin token). The token is
 * EDGE_ADMIN_TOKEN under common/src/secret-token.ts's policy: unusable → 503 naming the key;
 * repeated bad tokens from one client → 429 with Retry-After (common/src/auth-throttle.ts).
 */
import { Hono } from "hono";
import { AuthThrottle, clientKey } from "../../common/src/auth-throttle.ts";
import { checkBearer, jsonError } from "../../common/src/http-response.ts";
import { formatDuration } from "../../common/src/server-timing.ts";
import { configSummary } from "./config.ts";
import type { Edge } from "./edge.ts";

const MAX_PURGE_BODY = 1024 * 1024;
const MAX_PURGE_ITEMS = 1000;

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

/** Admin routes of one edge; `now` is the throttle's clock (default Date.now). */
export function createAdminRoutes(
  edge: Edge,
  throttle = new AuthThrottle(),
  now: () => number = Date.now,
): Hono {
  const app = new Hono();
  const token = edge.config.adminToken;

  /** null when the request carries the admin token; else the error answer. */
  const authorize = (req: Request): Response | null => {
    if (!token.ok) return jsonError(503, `admin endpoints disabled: ${token.reason}`);
    const client = clientKey(req.headers.get("cf-connecting-ip") ?? "unknown");
    const t = now();
    const verdict = throttle.check(client, t);
    if (!verdict.allowed)
      return jsonError(429, "too many bad admin tokens; try later", {
        "retry-after": String(verdict.retryAfterSeconds),
      });
    const r = checkBearer(req.headers.get("authorization"), token.token);
    if (r === "ok") {
      throttle.succeed(client);
      return null;
    }
    if (r === "invalid") throttle.fail(client, t);
    return jsonError(
      401,
      r === "missing" ? "missing Authorization: Bearer <EDGE_ADMIN_TOKEN>" : "invalid admin token",
      {
        "www-authenticate": 'Bearer realm="edge-admin"',
      },
    );
  };

  // Admin responses carry the same timing headers as proxied ones; never stored anywhere.
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
    h.set("cache-control", "no-store");
  });

  app.get("/_edge/health", (c) => {
    if (c.req.header("authorization") === undefined) return c.json({ ok: true });
    const denied = authorize(c.req.raw);
    if (denied !== null) return denied;
    return c.json({
      ok: true,
      config: configSummary(edge.config),
      hotCache: { entries: edge.hot.map.size, bytes: edge.hot.bytes },
      purge: {
        all: edge.purge.all,
        urls: edge.purge.urls.size,
        tags: edge.purge.tags.size,
        loaded: edge.purge.loaded,
        version: edge.purge.version,
        writer: edge.purge.kv === null ? "none" : edge.purge.writer !== null ? "coordinator" : "direct",
        lastWrite: edge.purge.lastWrite,
        writerError: edge.purge.writerError,
      },
    });
  });

  app.post("/_edge/purge", async (c) => {
    const denied = authorize(c.req.raw);
    if (denied !== null) return denied;
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
        return c.json({ ok: true, purged: "everything", at: await edge.purgeEverything() });
      if ("tags" in body)
        return c.json({ ok: true, purged: "tags", tags: body.tags, keys: await edge.purgeTags(body.tags) });
      return c.json({ ok: true, purged: "urls", keys: await edge.purgeUrls(body.urls) });
    } catch (e) {
      console.error(`edge purge: storage failed: ${e instanceof Error ? e.message : String(e)}`);
      return jsonError(503, "purge storage unavailable; the purge applied here only, retry");
    }
  });

  app.all("/_edge/*", (c) =>
    jsonError(c.req.method === "GET" || c.req.method === "POST" ? 404 : 405, "unknown admin route"),
  );
  app.onError((e) => {
    console.error(`edge admin: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return jsonError(500, "internal error");
  });
  return app;
}
