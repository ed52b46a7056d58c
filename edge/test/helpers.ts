/** Shared helpers for the edge Worker tests: origin control, edge construction, calls. */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import type { EdgeLogMessage, RumQueueMessage } from "../../common/src/rum-types.ts";
import { parseServerTiming } from "../../common/src/server-timing.ts";
import { readMessageBody } from "../../rum-collector/src/store/consumer.ts";
import { createEdgeApp, type EdgeAppDeps } from "../src/app.ts";
import { parseEdgeConfig } from "../src/config.ts";
import type { Edge } from "../src/edge.ts";

export const ORIGIN = inject("originUrl");
export const TOKEN = "dev-admin-token";

let seq = 0;
/** A path no other test uses (the Cache API and KV are shared within a test file). */
export function uniquePath(name: string): string {
  seq++;
  return `/t/${name}-${seq}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface RouteSpec {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string;
  /** Exact body bytes (base64), sent as they are instead of `body`. */
  bodyBase64?: string;
  delayMs?: number;
  /** Headers and the first half of the body at once, the rest this many ms later. */
  bodyDelayMs?: number;
  mode?: "ok" | "5xx" | "close" | "stall";
}

export async function route(path: string, spec: RouteSpec): Promise<void> {
  const r = await fetch(`${ORIGIN}/__ctl/route`, { method: "POST", body: JSON.stringify({ path, ...spec }) });
  await r.text();
}

export async function originCount(path: string): Promise<number> {
  const r = await fetch(`${ORIGIN}/__ctl/count?path=${encodeURIComponent(path)}`);
  return ((await r.json()) as { count: number }).count;
}

export async function originLast(path: string): Promise<{
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  bodyBytes: number;
} | null> {
  const r = await fetch(`${ORIGIN}/__ctl/last?path=${encodeURIComponent(path)}`);
  return r.json();
}

/** A test clock (ms) the edge reads for freshness and Age. */
export class Clock {
  t = Date.parse("2026-11-25T12:00:00Z");
  now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

export interface TestEdge {
  edge: Edge;
  clock: Clock;
  logged: EdgeLogMessage[];
  /** Calls the edge (admin routes included) and waits for its waitUntil work. */
  call(pathOrUrl: string, init?: RequestInit): Promise<Response>;
  /** Starts a call; `done` resolves after its waitUntil work. */
  start(pathOrUrl: string, init?: RequestInit): { res: Promise<Response>; done: Promise<void> };
}

const isEdgeLog = (m: RumQueueMessage): m is EdgeLogMessage => m.kind === "edge";

/**
 * A fresh edge (own hot cache = another isolate) through `createEdgeApp`, the production entry,
 * with test clock, fake log queue, env overrides and optional extra deps.
 */
export function makeEdge(
  overrides: Record<string, string> = {},
  clock = new Clock(),
  extra: Partial<EdgeAppDeps> = {},
): TestEdge {
  const config = parseEdgeConfig({ ...(env as unknown as Record<string, unknown>), ...overrides });
  const logged: EdgeLogMessage[] = [];
  const app = createEdgeApp({
    config,
    kv: env.EDGE_KV,
    queue: {
      async sendBatch(msgs) {
        // One columnar batch per message: unpack it as the consumer does.
        for (const m of msgs) logged.push(...readMessageBody(m.body).messages.filter(isEdgeLog));
      },
    },
    now: clock.now,
    ...extra,
  });
  const edge = app.edge;
  const start = (pathOrUrl: string, init?: RequestInit) => {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `https://shop.test${pathOrUrl}`;
    const ctx = createExecutionContext();
    const res = Promise.resolve(app.fetch(new Request(url, init), env, ctx));
    const done = res.then(() => waitOnExecutionContext(ctx));
    return { res, done };
  };
  return {
    edge,
    clock,
    logged,
    start,
    async call(pathOrUrl, init) {
      const { res, done } = start(pathOrUrl, init);
      const r = await res;
      await done;
      return r;
    },
  };
}

/** `cdn-cache` description of a response. */
export function cacheStatus(res: Response): string {
  return (
    parseServerTiming(res.headers.get("server-timing")).find((e) => e.name === "cdn-cache")?.description ?? ""
  );
}

export function timing(res: Response): Map<string, { duration: number; description: string }> {
  const m = new Map<string, { duration: number; description: string }>();
  for (const e of parseServerTiming(res.headers.get("server-timing"))) if (!m.has(e.name)) m.set(e.name, e);
  return m;
}

export function purge(t: TestEdge, body: unknown, token: string | null = TOKEN): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return t.call("/_edge/purge", {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
