/**
 * Edge page-view log: one `EdgeLogMessage` per HTML page served (GET, 200, text/html) to the RUM
 * queue, so beacon coverage and server timings are measurable. Messages are buffered per isolate
 * and sent with `sendBatch` from `waitUntil` (flush EDGE_LOG_FLUSH_MS after the first message of a
 * batch, or once the batch fills a queue message), so logging never delays a response and never
 * throws into it.
 */

import { type BatchSender, createNdjsonSender } from "../../common/src/batch-sender.ts";
import { type PageGroupRule, pageGroupFor } from "../../common/src/page-group.ts";
import type { CacheStatus, EdgeLogMessage } from "../../common/src/rum-types.ts";
import { classifyUserAgentCached } from "../../common/src/user-agent.ts";

/** The part of a Queue binding the edge's logs use. */
export interface LogQueue {
  /** Called with one NDJSON message per batch (common/src/batch-sender.ts `packNdjson`). */
  sendBatch(messages: Iterable<{ body: string; contentType: "text" }>): Promise<unknown>;
}

/** Records per packed log message at most; in practice the byte cap (QUEUE_MAX_MESSAGE_BYTES) binds first. */
export const LOG_MAX_RECORDS = 2000;

/** The edge's log senders: records in, one NDJSON queue message per batch out. */
export interface LogSender<T> {
  /** Buffers one record (serialised now); never throws, never awaits. */
  add(record: T, waitUntil: (promise: Promise<unknown>) => void): void;
  /** Sends the open batch now; resolves when it is sent or dropped. */
  flush(): Promise<void>;
}

/**
 * The batching sender of the edge's logs (page views here, images in images/image-log.ts).
 * Batches leave from the waitUntil of the request that opened or filled them (shared with the
 * collector intake); one retry, then the batch is dropped and counted in a warning
 * (`<what>: dropped <n> <noun> (<error>)`).
 * A record is turned into its JSON line when it is added: the buffer holds one flat string per
 * record instead of an object graph the garbage collector would copy until the batch leaves, and
 * the line's exact UTF-8 size fills a queue message (QUEUE_MAX_MESSAGE_BYTES) as far as it goes.
 * Because a batch is one packed message, the 100-messages-per-`sendBatch` limit does not bind:
 * a batch is capped by bytes (and LOG_MAX_RECORDS), so a busy isolate sends a few hundred records
 * per queue write. `owner.queue` is read at send time (null = nothing is sent).
 */
export function createLogSender<T>(
  owner: { queue: LogQueue | null },
  flushMs: number,
  what: string,
  noun: string,
): LogSender<T> {
  const lines: BatchSender<string> = createNdjsonSender({
    send: async (message) => {
      const queue = owner.queue;
      if (queue !== null) await queue.sendBatch([message]);
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    maxWaitMs: flushMs,
    retries: 1,
    maxBatchSize: LOG_MAX_RECORDS,
    onDropped: (count, error) => console.warn(`${what}: dropped ${count} ${noun} (${String(error)})`),
  });
  return {
    add: (record, waitUntil) => lines.add(JSON.stringify(record), waitUntil),
    flush: () => lines.flush(),
  };
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

export class EdgeLogger {
  queue: LogQueue | null;
  site: string;
  pageGroup: PageGroupFn;
  sender: LogSender<EdgeLogMessage>;

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
    this.sender = createLogSender<EdgeLogMessage>(this, flushMs, "edge log", "page-view records");
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
