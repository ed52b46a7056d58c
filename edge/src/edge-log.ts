/**
 * Edge page-view log: one `EdgeLogMessage` per HTML page served (GET, 200, text/html) to the RUM
 * queue, so beacon coverage and server timings are measurable. Messages are buffered per isolate
 * and sent with `sendBatch` from `waitUntil` (flush EDGE_LOG_FLUSH_MS after the first message of a
 * batch, or at 100 messages), so logging never delays a response and never throws into it.
 */

import {
  type BatchSender,
  createBatchSender,
  packNdjson,
  QUEUE_MAX_MESSAGE_BYTES,
} from "../../common/src/batch-sender.ts";
import { type PageGroupRule, pageGroupFor } from "../../common/src/page-group.ts";
import type { CacheStatus, EdgeLogMessage } from "../../common/src/rum-types.ts";
import { classifyUserAgentCached } from "../../common/src/user-agent.ts";

/** The part of a Queue binding the edge's logs use. */
export interface LogQueue {
  /** Called with one NDJSON message per batch (common/src/batch-sender.ts `packNdjson`). */
  sendBatch(messages: Iterable<{ body: string; contentType: "text" }>): Promise<unknown>;
}

/**
 * The batching sender of the edge's logs (page views here, images in images/image-log.ts).
 * Batches leave from the waitUntil of the request that opened or filled them (shared with the
 * collector intake); one retry, then the batch is dropped and counted in a warning
 * (`<what>: dropped <n> <noun> (<error>)`).
 * Records stay objects on the response path; a batch is serialised once, when it leaves, as one
 * NDJSON queue message (one queue write per batch instead of one per record). `owner.queue` is
 * read at send time (null = nothing is sent).
 */
export function createLogSender<T>(
  owner: { queue: LogQueue | null },
  flushMs: number,
  sizeOf: (record: T) => number,
  what: string,
  noun: string,
): BatchSender<T> {
  return createBatchSender<T>({
    sendBatch: async (batch) => {
      const queue = owner.queue;
      if (queue === null) return;
      const lines = new Array<string>(batch.length);
      for (let i = 0; i < batch.length; i++) lines[i] = JSON.stringify(batch[i]);
      await queue.sendBatch([packNdjson(lines)]);
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    maxWaitMs: flushMs,
    retries: 1,
    sizeOf,
    maxBatchBytes: QUEUE_MAX_MESSAGE_BYTES,
    onDropped: (count, error) => console.warn(`${what}: dropped ${count} ${noun} (${String(error)})`),
  });
}

/**
 * Page group from common/src/page-group.ts with `rules` (`RUM_PAGE_GROUPS`, the collector's too),
 * memoised per logger (bounded).
 */
export function memoisedPageGroup(rules: readonly PageGroupRule[] = []): PageGroupFn {
  const memo = new Map<string, string>();
  return (path) => {
    const hit = memo.get(path);
    if (hit !== undefined) return hit;
    const g = pageGroupFor(path, rules);
    if (memo.size >= 2048) memo.clear();
    memo.set(path, g);
    return g;
  };
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

/**
 * Upper bound of a record's JSON bytes (plus its newline) without serialising it on the response
 * path: the fixed fields stay under 400 bytes, the free-text ones count 3 bytes per UTF-16 unit
 * (UTF-8 worst case).
 */
function entryBytes(b: EdgeLogMessage): number {
  return 400 + 3 * (b.path.length + b.pageGroup.length + b.rid.length + b.site.length);
}

export class EdgeLogger {
  queue: LogQueue | null;
  site: string;
  pageGroup: PageGroupFn;
  sender: BatchSender<EdgeLogMessage>;

  constructor(
    queue: LogQueue | null,
    site: string,
    flushMs: number,
    pageGroup: PageGroupFn = memoisedPageGroup(),
  ) {
    this.queue = queue;
    this.site = site;
    this.pageGroup = pageGroup;
    // A dropped batch loses page views the beacons still count.
    this.sender = createLogSender<EdgeLogMessage>(this, flushMs, entryBytes, "edge log", "page-view records");
  }

  /** Queues one record; never throws. */
  log(f: PageViewFacts, ctx: ExecutionContext): void {
    if (this.queue === null) return;
    try {
      const cf = (f.request as { cf?: { country?: unknown; colo?: unknown } }).cf;
      const { device, browser } = classifyUserAgentCached(f.request.headers.get("user-agent"));
      this.sender.add(
        {
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
        (p) => ctx.waitUntil(p),
      );
    } catch {
      // Logging must never affect the response.
    }
  }

  /** Sends the open batch now; resolves when it is sent or dropped. */
  flush(): Promise<void> {
    return this.sender.flush();
  }
}
