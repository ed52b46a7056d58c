/**
 * Per-isolate batching sender for queue-like sinks (Cloudflare Queues `sendBatch` and friends).
 *
 * Why this shape: in workerd a request may not await I/O that another request started, so
 * concurrent requests cannot share one pending send. Instead every request only appends plain
 * data to the open batch, and the request that OPENED a batch owns its flush: it registers
 * `sleep(maxWaitMs) → send` with its own `waitUntil`. A request whose message fills the batch
 * (count or bytes) sends it right away from its own `waitUntil`. Each batch is sent by exactly
 * one request; the opener's timer finds a batch that was already sent and does nothing.
 *
 * Pure: no runtime imports, the sink, the sleep and `waitUntil` are injected.
 */

import { packNdjson } from "./queue-contract.ts";

/** Cloudflare Queues limit: at most 100 messages per `sendBatch`. */
export const QUEUE_MAX_BATCH_MESSAGES = 100;
/** Cloudflare Queues limit: 256 KB per `sendBatch`; 6 KB are left for per-message overhead. */
export const QUEUE_MAX_BATCH_BYTES = 256_000 - 6_000;

export interface BatchSenderOptions<T> {
  /** Sends one batch; a rejection triggers a retry of the same batch. */
  sendBatch: (messages: readonly T[]) => Promise<void>;
  /** Resolves after `ms` (setTimeout in production, a fake clock in tests). */
  sleep: (ms: number) => Promise<void>;
  /** Messages per batch, 1–100 (default 100). */
  maxBatchSize?: number;
  /** Bytes per batch as counted by `sizeOf` (default QUEUE_MAX_BATCH_BYTES = 250,000). */
  maxBatchBytes?: number;
  /** Longest time the first message of a batch waits before the batch is sent (default 50 ms). */
  maxWaitMs?: number;
  /** Retries after a failed send (default 3; 0 = one attempt only). */
  retries?: number;
  /** Backoff before retry n is `backoffMs × 2^(n−1)` (default 100 ms → 100, 200, 400 ms). */
  backoffMs?: number;
  /** Bytes of one message (default: UTF-8 length of its JSON). */
  sizeOf?: (message: T) => number;
  /** Called once per batch whose every attempt failed, with its message count and the last error. */
  onDropped?: (count: number, error: unknown) => void;
}

/** Counters since the sender was created (one isolate). */
export interface BatchSenderStats {
  /** Messages handed to `add`. */
  accepted: number;
  /** Messages in batches that were sent successfully. */
  sent: number;
  /** Messages in batches dropped after every retry failed. */
  failed: number;
  /** Messages waiting in the open batch or in a batch being sent/retried. */
  pending: number;
  /** Successful `sendBatch` calls. */
  batches: number;
  /** Retries made (failed attempts that were tried again). */
  retries: number;
}

export interface BatchSender<T> {
  /**
   * Appends a message; never throws and never awaits. `waitUntil` is the calling request's
   * (`ctx.waitUntil`): it receives the flush promise when this call opens or fills a batch.
   */
  add(message: T, waitUntil: (promise: Promise<unknown>) => void): void;
  /** Sends the open batch now (if any); resolves when it is sent or dropped. */
  flush(): Promise<void>;
  /** A snapshot of the counters. */
  stats(): BatchSenderStats;
}

interface Batch<T> {
  messages: T[];
  bytes: number;
  /** Set once the batch left the buffer (sent by size, by time, or by flush()). */
  closed: boolean;
}

/** UTF-8 byte length of a string without allocating an encoded copy. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair: 2 UTF-16 units (already counted) are 4 UTF-8 bytes.
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/**
 * Largest packed queue message: Cloudflare Queues accept 128 KB per message; 8 KB are left for
 * the message's own overhead.
 */
export const QUEUE_MAX_MESSAGE_BYTES = 128_000 - 8_000;

/** The queue codec's encoder lives in common/src/queue-contract.ts; re-exported for the senders. */
export { packNdjson };

/** What `createNdjsonSender` needs beyond `createBatchSender`'s timing and retry options. */
export interface NdjsonSenderOptions
  extends Omit<BatchSenderOptions<string>, "sendBatch" | "sizeOf" | "maxBatchBytes"> {
  /** Sends one packed batch (a queue's `sendBatch([message])`); a rejection triggers a retry. */
  send: (message: { body: string; contentType: "text" }) => Promise<unknown>;
}

/**
 * A batching sender of JSON lines whose every batch leaves as ONE packed NDJSON queue message
 * (`packNdjson`): a batch is cut where the next line (plus its newline, counted in exact UTF-8
 * bytes) would make the message larger than QUEUE_MAX_MESSAGE_BYTES, or at `maxBatchSize` lines.
 * The collector intake and the edge's logs send this way.
 */
export function createNdjsonSender(options: NdjsonSenderOptions): BatchSender<string> {
  const { send, ...rest } = options;
  return createBatchSender<string>({
    ...rest,
    sendBatch: async (lines) => {
      await send(packNdjson(lines));
    },
    sizeOf: (line) => utf8Length(line) + 1,
    maxBatchBytes: QUEUE_MAX_MESSAGE_BYTES,
  });
}

/** Default `sizeOf`: UTF-8 bytes of the message's JSON (what a `json` content type sends). */
export function jsonBytes(message: unknown): number {
  return utf8Length(JSON.stringify(message) ?? "");
}

/**
 * Calls `attempt` until it resolves, at most `retries` more times after the first, waiting
 * `backoffMs × 2^(n−1)` before retry n. Never rejects: null when a call succeeded, otherwise the
 * last error.
 */
export async function sendWithRetries(
  attempt: () => Promise<unknown>,
  o: { sleep: (ms: number) => Promise<void>; retries: number; backoffMs: number; onRetry?: () => void },
): Promise<{ error: unknown } | null> {
  let lastError: unknown;
  for (let n = 0; n <= o.retries; n++) {
    if (n > 0) {
      o.onRetry?.();
      await o.sleep(o.backoffMs * 2 ** (n - 1));
    }
    try {
      await attempt();
      return null;
    } catch (err) {
      lastError = err;
    }
  }
  return { error: lastError };
}

/**
 * Creates a batching sender. Defaults: 100 messages, 250,000 bytes, 50 ms wait, 3 retries with
 * 100 ms doubling backoff (worst case 0.7 s of backoff plus four send attempts, far inside the 30 s a
 * `waitUntil` may run), `sizeOf` = JSON UTF-8 bytes, no `onDropped` hook.
 */
export function createBatchSender<T>(options: BatchSenderOptions<T>): BatchSender<T> {
  const maxBatchSize = options.maxBatchSize ?? QUEUE_MAX_BATCH_MESSAGES;
  const maxBatchBytes = options.maxBatchBytes ?? QUEUE_MAX_BATCH_BYTES;
  const maxWaitMs = options.maxWaitMs ?? 50;
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 100;
  const sizeOf = options.sizeOf ?? jsonBytes;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new Error(`Expected integer maxBatchSize ≥ 1 but received ${maxBatchSize}`);
  }
  if (!(maxBatchBytes > 0)) throw new Error(`Expected maxBatchBytes > 0 but received ${maxBatchBytes}`);
  if (!(maxWaitMs >= 0)) throw new Error(`Expected maxWaitMs ≥ 0 but received ${maxWaitMs}`);
  if (!Number.isInteger(retries) || retries < 0) {
    throw new Error(`Expected integer retries ≥ 0 but received ${retries}`);
  }
  if (!(backoffMs >= 0)) throw new Error(`Expected backoffMs ≥ 0 but received ${backoffMs}`);

  const counters = { accepted: 0, sent: 0, failed: 0, pending: 0, batches: 0, retries: 0 };
  let open: Batch<T> | null = null;

  /** Takes `batch` out of the buffer (once) and sends it with retries; never rejects. */
  async function send(batch: Batch<T>): Promise<void> {
    if (batch.closed) return;
    batch.closed = true;
    if (open === batch) open = null;
    const messages = batch.messages;
    const failure = await sendWithRetries(() => options.sendBatch(messages), {
      sleep: options.sleep,
      retries,
      backoffMs,
      onRetry: () => counters.retries++,
    });
    counters.pending -= messages.length;
    if (failure === null) {
      counters.sent += messages.length;
      counters.batches++;
      return;
    }
    counters.failed += messages.length;
    try {
      options.onDropped?.(messages.length, failure.error);
    } catch {
      // A faulty hook must not turn into an unhandled rejection inside waitUntil.
    }
  }

  return {
    add(message, waitUntil) {
      counters.accepted++;
      counters.pending++;
      let bytes: number;
      try {
        bytes = sizeOf(message);
      } catch {
        // Unmeasurable (e.g. not serialisable): send it alone; the sink decides, a failure is counted.
        bytes = maxBatchBytes;
      }
      // A message that would push the open batch over the byte limit starts a new batch; the
      // full one leaves now, from this request.
      if (open !== null && open.bytes + bytes > maxBatchBytes) waitUntil(send(open));
      if (open === null) {
        const batch: Batch<T> = { messages: [], bytes: 0, closed: false };
        open = batch;
        if (maxBatchSize > 1) waitUntil(options.sleep(maxWaitMs).then(() => send(batch)));
      }
      const batch = open;
      batch.messages.push(message);
      batch.bytes += bytes;
      if (batch.messages.length >= maxBatchSize || batch.bytes >= maxBatchBytes) waitUntil(send(batch));
    },

    flush() {
      return open === null ? Promise.resolve() : send(open);
    },

    stats() {
      return { ...counters };
    },
  };
}
