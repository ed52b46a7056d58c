/** Helpers for the image tests: a page edge + image route on the test servers, service control. */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import type { ImageLogMessage } from "../../../common/src/rum-types.ts";
import { parseServerTiming } from "../../../common/src/server-timing.ts";
import { parseEdgeConfig } from "../../src/config.ts";
import { Edge } from "../../src/edge.ts";
import {
  createImageRoute,
  type ImageRoute,
  pageEdgeDeps,
  parseImageEdgeConfig,
} from "../../src/images/index.ts";

declare module "vitest" {
  interface ProvidedContext {
    imgOrigin: string;
    imgService: string;
    imgSigningKey: string;
  }
}

export const IMG_ORIGIN = inject("imgOrigin");
export const IMG_SERVICE = inject("imgService");
export const SIGNING_KEY = inject("imgSigningKey");

export const CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
export const WEBP_ACCEPT = "image/webp,*/*";
export const OLD_ACCEPT = "image/png,image/*;q=0.8,*/*;q=0.5";
export const DESKTOP_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
export const MOBILE_UA =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36";

let seq = 0;
/** A source directory no other test uses (Cache API, counters and service modes are per path). */
export function uniqueDir(name: string): string {
  seq++;
  return `/img/${name}-${seq}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestImages {
  route: ImageRoute;
  page: Edge;
  logged: ImageLogMessage[];
  /** GET (default) through the image route; waits for its waitUntil work (warm-ups, log). */
  get(path: string, headers?: Record<string, string>, method?: string): Promise<Response>;
  /** A page through the page edge (HTML wrapper applied), waiting for waitUntil work. */
  page_(path: string, headers?: Record<string, string>): Promise<Response>;
}

/** Page edge on the image origin + image route with the real service behind the test front. */
export function makeImages(
  overrides: Record<string, string> = {},
  opts: { pageFetch?: (req: Request) => Promise<Response>; now?: () => number; random?: () => number } = {},
): TestImages {
  const raw = {
    ...(env as unknown as Record<string, unknown>),
    ORIGIN_URL: IMG_ORIGIN,
    IMAGE_SERVICE_URL: IMG_SERVICE,
    IMAGE_SIGNING_KEY: SIGNING_KEY,
    EDGE_LOG_FLUSH_MS: "0",
    ...overrides,
  };
  const config = parseEdgeConfig(raw);
  const images = parseImageEdgeConfig(raw);
  const pageFetch = opts.pageFetch;
  const page = new Edge({
    config,
    kv: env.EDGE_KV,
    queue: null,
    ...pageEdgeDeps(config, images, pageFetch ? (r) => pageFetch(r) : undefined),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const logged: ImageLogMessage[] = [];
  const route = createImageRoute(config, images, page, {
    kv: env.EDGE_KV,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    queue: {
      async sendBatch(msgs) {
        // One NDJSON message per batch: unpack it as the consumer does.
        for (const m of msgs) for (const line of m.body.split("\n")) logged.push(JSON.parse(line));
      },
    },
  });
  const run = async (fn: (ctx: ExecutionContext) => Response | Promise<Response>): Promise<Response> => {
    const ctx = createExecutionContext();
    const res = await fn(ctx);
    // Read the body before waiting, as a client would (a tee'd store waits for both branches).
    const body = await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    return new Response(res.status === 304 ? null : body, res);
  };
  return {
    route,
    page,
    logged,
    get(path, headers = {}, method = "GET") {
      return run((ctx) => route.handle(new Request(`https://shop.test${path}`, { method, headers }), ctx));
    },
    page_(path, headers = {}) {
      return run((ctx) => page.handle(new Request(`https://shop.test${path}`, { headers }), ctx));
    },
  };
}

/** Switches the service (front) for one source path: up, down (503), close (network error), slow. */
export async function serviceMode(source: string, mode: "up" | "down" | "close" | "slow", delayMs = 0) {
  const r = await fetch(`${IMG_SERVICE}/__ctl/mode`, {
    method: "POST",
    body: JSON.stringify({ source, mode, delayMs }),
  });
  await r.text();
}

/** Requests the service saw for one source (`url` value) and the last query string. */
export async function serviceCount(source: string): Promise<{ count: number; last: string | null }> {
  const r = await fetch(`${IMG_SERVICE}/__ctl/count?source=${encodeURIComponent(source)}`);
  return r.json();
}

export async function originCount(path: string): Promise<number> {
  const r = await fetch(`${IMG_ORIGIN}/__ctl/count?path=${encodeURIComponent(path)}`);
  return ((await r.json()) as { count: number }).count;
}

export function st(res: Response): Map<string, { duration: number; description: string }> {
  const m = new Map<string, { duration: number; description: string }>();
  for (const e of parseServerTiming(res.headers.get("server-timing"))) if (!m.has(e.name)) m.set(e.name, e);
  return m;
}

export function cache(res: Response): string {
  return st(res).get("cdn-cache")?.description ?? "";
}

/** A test clock (ms) for freshness, purge checks and the service pause. */
export class TestClock {
  t = Date.parse("2026-11-25T12:00:00Z");
  now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}
