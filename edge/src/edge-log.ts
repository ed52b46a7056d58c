/**
 * Edge page-view log: one record per HTML page served (GET, 200, text/html) to the RUM queue, so
 * beacon coverage and server timings are measurable. Records are buffered per isolate in columns
 * and sent from `waitUntil` (EDGE_LOG_FLUSH_MS after the first record of a batch, or once the
 * batch fills a queue message), so logging never delays a response and never throws into it.
 * The image log (images/image-log.ts) sends JSON lines through `createLogSender`.
 */

import {
  type BatchSender,
  createNdjsonSender,
  QUEUE_MAX_MESSAGE_BYTES,
  sendWithRetries,
} from "../../common/src/batch-sender.ts";
import { EdgeLogBatch } from "../../common/src/edge-log-batch.ts";
import { type PageGroupRule, pageGroupFor } from "../../common/src/page-group.ts";
import type { CacheStatus } from "../../common/src/rum-types.ts";
import { classifyUserAgentCached } from "../../common/src/user-agent.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
    sleep,
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

/**
 * Where a page view's country comes from (`EDGE_LOG_COUNTRY`): the `CF-IPCountry` request header
 * (set by Cloudflare when the zone's IP Geolocation is on), `request.cf.country`, or nowhere (XX).
 */
export type LogCountrySource = "header" | "cf" | "off";

const UNKNOWN_COUNTRY = "XX";
const UNKNOWN_COLO = "LOCAL";
/** Country codes as Cloudflare writes them: ISO 3166-1 alpha-2 plus XX (unknown) and T1 (Tor). */
const COUNTRY_CODE = /^[A-Z][A-Z0-9]$/;

function cfOf(request: Request): { country?: unknown; colo?: unknown } | undefined {
  return (request as { cf?: { country?: unknown; colo?: unknown } }).cf;
}

/** Retries of a page-view batch whose queue write failed (then it is dropped with a warning). */
const LOG_RETRIES = 1;
const LOG_BACKOFF_MS = 100;

/**
 * The page-view log of one isolate. Records go into a columnar `EdgeLogBatch`
 * (common/src/edge-log-batch.ts): per page view a few numbers are stored, nothing is serialised
 * and nothing is left for the garbage collector. A batch leaves as one `edge-batch` line in one
 * queue message, from the `waitUntil` of the request that opened it (EDGE_LOG_FLUSH_MS later) or
 * of the request that filled it (a queue message's bytes, or LOG_BATCH_MAX_RECORDS records).
 *
 * `request.cf` is not read per page view: the runtime parses it from JSON on first access, which
 * cost about 5 % of the cache-HIT throughput (bench/README.md). The colo is the isolate's own (an
 * isolate runs in one data centre), so it is read once per batch, from the request that opens
 * it; the country comes from `countrySource`.
 */
export class EdgeLogger {
  queue: LogQueue | null;
  site: string;
  pageGroup: PageGroupFn;
  flushMs: number;
  countrySource: LogCountrySource;
  open: EdgeLogBatch | null = null;
  /** The colo of the open batch (read from `request.cf` when the batch opened). */
  colo = UNKNOWN_COLO;

  constructor(
    queue: LogQueue | null,
    site: string,
    flushMs: number,
    pageGroup: PageGroupFn = memoisedPageGroup(),
    countrySource: LogCountrySource = "header",
  ) {
    this.queue = queue;
    this.site = site;
    this.flushMs = flushMs;
    this.pageGroup = pageGroup;
    this.countrySource = countrySource;
  }

  /** A view's country per `countrySource`; XX when unknown. */
  country(request: Request, headers: Headers): string {
    if (this.countrySource === "header") {
      const c = headers.get("cf-ipcountry");
      return c !== null && COUNTRY_CODE.test(c) ? c : UNKNOWN_COUNTRY;
    }
    if (this.countrySource === "cf") {
      const c = cfOf(request)?.country;
      return typeof c === "string" && c !== "" ? c : UNKNOWN_COUNTRY;
    }
    return UNKNOWN_COUNTRY;
  }

  /** Queues one record; never throws, never awaits. */
  log(f: PageViewFacts, ctx: ExecutionContext): void {
    if (this.queue === null) return;
    try {
      const request = f.request;
      const headers = request.headers;
      const { device, browser } = classifyUserAgentCached(headers.get("user-agent"));
      const country = this.country(request, headers);
      let batch = this.open ?? this.openBatch(ctx, request);
      for (let tries = 0; tries < 2; tries++) {
        const added = batch.add(
          f.ts,
          f.rid,
          f.path,
          this.pageGroup,
          f.status,
          f.cacheStatus,
          f.edgeMs,
          f.originMs,
          f.appMs,
          country,
          this.colo,
          device,
          browser,
        );
        if (added) break;
        // Full: it leaves now, from this request; the record opens the next batch (an empty
        // batch takes any record).
        ctx.waitUntil(this.send(batch));
        batch = this.openBatch(ctx, request);
      }
      if (batch.full) ctx.waitUntil(this.send(batch));
    } catch {
      // Logging must never affect the response.
    }
  }

  /**
   * A new open batch whose flush timer runs in the `waitUntil` of the request opening it; that
   * request's `request.cf.colo` is the batch's colo.
   */
  openBatch(ctx: ExecutionContext, request: Request): EdgeLogBatch {
    const batch = new EdgeLogBatch(this.site, QUEUE_MAX_MESSAGE_BYTES);
    const colo = cfOf(request)?.colo;
    this.colo = typeof colo === "string" && colo !== "" ? colo : UNKNOWN_COLO;
    this.open = batch;
    ctx.waitUntil(sleep(this.flushMs).then(() => this.send(batch)));
    return batch;
  }

  /** Sends a batch once (later calls do nothing); one retry, then it is dropped with a warning. */
  async send(batch: EdgeLogBatch): Promise<void> {
    if (batch.closed) return;
    batch.closed = true;
    if (this.open === batch) this.open = null;
    const queue = this.queue;
    if (queue === null || batch.n === 0) return;
    let failure: { error: unknown } | null;
    try {
      const body = batch.json();
      failure = await sendWithRetries(() => queue.sendBatch([{ body, contentType: "text" }]), {
        sleep,
        retries: LOG_RETRIES,
        backoffMs: LOG_BACKOFF_MS,
      });
    } catch (e) {
      failure = { error: e };
    }
    // A dropped batch loses page views the beacons still count.
    if (failure !== null)
      console.warn(`edge log: dropped ${batch.n} page-view records (${String(failure.error)})`);
  }

  /** Sends the open batch now; resolves when it is sent or dropped. */
  flush(): Promise<void> {
    return this.open === null ? Promise.resolve() : this.send(this.open);
  }
}
