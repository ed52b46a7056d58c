/**
 * Edge page-view log: one `EdgeLogMessage` per HTML page served (GET, 200, text/html) to the RUM
 * queue, so beacon coverage and server timings are measurable. Messages are buffered per isolate
 * and sent with `sendBatch` from `waitUntil` (flush EDGE_LOG_FLUSH_MS after the first message of a
 * batch, or at 100 messages), so logging never delays a response and never throws into it.
 */

import { pageGroupFor } from "../../common/src/page-group.ts";
import type { CacheStatus, EdgeLogMessage } from "../../common/src/rum-types.ts";
import { classifyUserAgent, type UserAgentClass } from "../../common/src/user-agent.ts";

/** The part of a Queue binding the log uses. */
export interface LogQueue {
  sendBatch(messages: Iterable<{ body: EdgeLogMessage; contentType?: "json" }>): Promise<unknown>;
}

const uaMemo = new Map<string, UserAgentClass>();

/** UA classification shared with the collector (common/src/user-agent.ts), memoised per isolate (bounded). */
export function classifyUserAgentCached(ua: string | null): UserAgentClass {
  if (!ua) return classifyUserAgent(ua);
  const hit = uaMemo.get(ua);
  if (hit) return hit;
  const r = classifyUserAgent(ua);
  if (uaMemo.size >= 512) uaMemo.clear();
  uaMemo.set(ua, r);
  return r;
}

const groupMemo = new Map<string, string>();

/** Page group from common/src/page-group.ts (default rules), memoised per isolate (bounded). */
export function pageGroupCached(path: string): string {
  const hit = groupMemo.get(path);
  if (hit !== undefined) return hit;
  const g = pageGroupFor(path);
  if (groupMemo.size >= 2048) groupMemo.clear();
  groupMemo.set(path, g);
  return g;
}

/** Inputs for one log record. */
export interface PageViewFacts {
  rid: string;
  path: string;
  status: number;
  cacheStatus: CacheStatus;
  edgeMs: number;
  originMs: number | null;
  appMs: number | null;
  request: Request;
  ts: number;
}

export type PageGroupFn = (path: string) => string;

export class EdgeLogger {
  queue: LogQueue | null;
  site: string;
  flushMs: number;
  pageGroup: PageGroupFn;
  buffer: { body: EdgeLogMessage; contentType: "json" }[] = [];
  timerSet = false;

  constructor(
    queue: LogQueue | null,
    site: string,
    flushMs: number,
    pageGroup: PageGroupFn = pageGroupCached,
  ) {
    this.queue = queue;
    this.site = site;
    this.flushMs = flushMs;
    this.pageGroup = pageGroup;
  }

  /** Queues one record; never throws. */
  log(f: PageViewFacts, ctx: ExecutionContext): void {
    if (this.queue === null) return;
    try {
      const cf = (f.request as { cf?: { country?: unknown; colo?: unknown } }).cf;
      const { device, browser } = classifyUserAgentCached(f.request.headers.get("user-agent"));
      this.buffer.push({
        body: {
          kind: "edge",
          ts: f.ts,
          rid: f.rid,
          site: this.site,
          pageGroup: this.pageGroup(f.path),
          path: f.path,
          status: f.status,
          cacheStatus: f.cacheStatus,
          edgeMs: f.edgeMs,
          originMs: f.originMs,
          appMs: f.appMs,
          country: typeof cf?.country === "string" ? cf.country : "XX",
          colo: typeof cf?.colo === "string" ? cf.colo : "LOCAL",
          device,
          browser,
        },
        // Plain JSON: cheaper to encode than the default v8 serialisation, same object for the consumer.
        contentType: "json",
      });
      if (this.buffer.length >= 100) {
        ctx.waitUntil(this.flush());
      } else if (!this.timerSet) {
        // One timer per batch, owned by the request that opened the batch: other requests only
        // append plain data (no promise shared across request contexts, which workerd penalises).
        this.timerSet = true;
        ctx.waitUntil(
          new Promise<void>((resolve) => setTimeout(resolve, this.flushMs)).then(() => this.flush()),
        );
      }
    } catch {
      // Logging must never affect the response.
    }
  }

  async flush(): Promise<void> {
    this.timerSet = false;
    const batch = this.buffer;
    if (batch.length === 0 || this.queue === null) return;
    this.buffer = [];
    try {
      await this.queue.sendBatch(batch);
    } catch {
      // Best effort: a failed send drops this batch (page views are also counted by beacons).
    }
  }
}
