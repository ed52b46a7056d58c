/**
 * Image log: one `ImageLogMessage` per image served (GET 200 under `/cdn-cgi/image/`) to the RUM
 * queue, for "bytes saved per format and device class". Buffered per isolate; a batch goes out as
 * one NDJSON queue message from `waitUntil` (a flush `flushMs` after the first record of a batch,
 * or at 100 records) — the same scheme as the edge page-view log, so it never delays or fails a
 * response.
 */
import {
  type BatchSender,
  createBatchSender,
  packNdjson,
  QUEUE_MAX_MESSAGE_BYTES,
} from "../../../common/src/batch-sender.ts";
import type { ImageLogMessage } from "../../../common/src/rum-types.ts";

/** The part of a Queue binding the image log uses. */
export interface ImageLogQueue {
  /** Called with one NDJSON message per batch (common/src/batch-sender.ts `packNdjson`). */
  sendBatch(messages: Iterable<{ body: string; contentType: "text" }>): Promise<unknown>;
}

export class ImageLogger {
  queue: ImageLogQueue | null;
  sender: BatchSender<ImageLogMessage>;

  constructor(queue: ImageLogQueue | null, flushMs: number) {
    this.queue = queue;
    // Same batching as the page-view log (common/src/batch-sender.ts): one retry, then drop and log.
    this.sender = createBatchSender<ImageLogMessage>({
      sendBatch: async (batch) => {
        if (this.queue === null) return;
        const lines = new Array<string>(batch.length);
        for (let i = 0; i < batch.length; i++) lines[i] = JSON.stringify(batch[i]);
        await this.queue.sendBatch([packNdjson(lines)]);
      },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      maxWaitMs: flushMs,
      retries: 1,
      // Fixed-size records (no free text beyond the rid/site/format): a generous constant bound.
      sizeOf: (m) => 512 + 3 * (m.rid.length + m.site.length),
      maxBatchBytes: QUEUE_MAX_MESSAGE_BYTES,
      onDropped: (count, error) => console.warn(`image log: dropped ${count} records (${String(error)})`),
    });
  }

  /** Queues one record; never throws. */
  log(m: ImageLogMessage, ctx: ExecutionContext): void {
    if (this.queue === null) return;
    try {
      this.sender.add(m, (p) => ctx.waitUntil(p));
    } catch {
      // Logging must never affect the response.
    }
  }

  /** Sends the open batch now; resolves when it is sent or dropped. */
  flush(): Promise<void> {
    return this.sender.flush();
  }
}
