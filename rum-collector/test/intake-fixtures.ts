/** Shared fixtures for the intake tests: config, a fake queue, request builders, a sample beacon. */

import type { BeaconPayload, PageViewMessage } from "../../common/src/rum-types.ts";
import { sampleBeacon as baseBeacon } from "../../common/src/sample-beacon.ts";
import { type CollectorDeps, createCollectorApp } from "../src/app.ts";
import { parseCollectorConfig } from "../src/config.ts";

export const SITE_ORIGIN = "https://shop.example";
export const OTHER_SITE_ORIGIN = "https://blog.example";
export const CHROME_ANDROID_UA =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
export const CLIENT_IP = "203.0.113.77";

export function testConfig(env: Record<string, unknown> = {}) {
  return parseCollectorConfig({
    RUM_SITES: `shop=${SITE_ORIGIN},http://localhost:8000;blog=${OTHER_SITE_ORIGIN}`,
    RUM_RATE_LIMIT: "off",
    ...env,
  });
}

export interface FakeQueue {
  sent: PageViewMessage[];
  /** Every successful queue call: 1 per `send`, the page views it carried per `sendBatch`. */
  calls: number[];
  /** Failed queue calls (while `fail` was set). */
  failedCalls: number;
  fail: boolean;
  send(message: PageViewMessage): Promise<void>;
  sendBatch(
    messages: Iterable<{ body: PageViewMessage | string; contentType?: "json" | "text" }>,
  ): Promise<void>;
  /** Content types of every message handed to `sendBatch`, in order. */
  contentTypes: string[];
}

export function fakeQueue(): FakeQueue {
  const q: FakeQueue = {
    sent: [],
    calls: [],
    contentTypes: [],
    failedCalls: 0,
    fail: false,
    async send(message) {
      if (q.fail) {
        q.failedCalls++;
        throw new Error("queue down");
      }
      // Round-trip like a real queue does, so tests see exactly what would be stored.
      q.sent.push(JSON.parse(JSON.stringify(message)));
      q.calls.push(1);
    },
    async sendBatch(messages) {
      if (q.fail) {
        q.failedCalls++;
        throw new Error("queue down");
      }
      let records = 0;
      for (const m of messages) {
        q.contentTypes.push(m.contentType ?? "json");
        // A text body is NDJSON, one page view per line (what the consumer parses); an object round-trips.
        const parsed =
          m.contentType === "text"
            ? (m.body as string).split("\n").map((line) => JSON.parse(line) as PageViewMessage)
            : [JSON.parse(JSON.stringify(m.body)) as PageViewMessage];
        q.sent.push(...parsed);
        records += parsed.length;
      }
      q.calls.push(records);
    },
  };
  return q;
}

export function testApp(env: Record<string, unknown> = {}, deps: Partial<CollectorDeps> = {}) {
  const queue = fakeQueue();
  const app = createCollectorApp({
    config: testConfig(env),
    queue,
    now: () => Date.UTC(2026, 10, 25, 12, 0, 0),
    logError: () => {},
    ...deps,
  });
  return { app, queue };
}

export interface SendOptions {
  method?: string;
  contentType?: string | null;
  origin?: string | null;
  ip?: string;
  cf?: Record<string, unknown>;
  ua?: string;
  headers?: Record<string, string>;
}

/** A request to the collector as a browser on `SITE_ORIGIN` would send it. */
export function intakeRequest(path: string, body: BodyInit | null, opts: SendOptions = {}): Request {
  const headers = new Headers(opts.headers);
  const contentType = opts.contentType === undefined ? "text/plain;charset=UTF-8" : opts.contentType;
  if (contentType !== null) headers.set("content-type", contentType);
  const origin = opts.origin === undefined ? SITE_ORIGIN : opts.origin;
  if (origin !== null) headers.set("origin", origin);
  headers.set("cf-connecting-ip", opts.ip ?? CLIENT_IP);
  headers.set("user-agent", opts.ua ?? CHROME_ANDROID_UA);
  const init: RequestInit & { cf?: unknown } = { method: opts.method ?? "POST", headers, body };
  if (opts.cf) init.cf = opts.cf;
  return new Request(`${SITE_ORIGIN}${path}`, init as RequestInit);
}

export function beaconRequest(payload: unknown, opts: SendOptions = {}): Request {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return intakeRequest("/_rum/v1/beacon", body, opts);
}

/** A complete, plausible beacon for site "shop" (a MISS through the edge, with app timing). */
export function sampleBeacon(overrides: Partial<BeaconPayload> = {}): BeaconPayload {
  return baseBeacon({
    site: "shop",
    url: `${SITE_ORIGIN}/p/12345?utm_source=mail&email=a@b.c#reviews`,
    ...overrides,
  });
}
