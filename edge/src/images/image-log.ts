/**
 * Image log: one `ImageLogMessage` per image served (GET 200 under `/cdn-cgi/image/`) to the RUM
 * queue, for "bytes saved per format and device class". Buffered per isolate and sent with
 * `sendBatch` from `waitUntil` (a flush `flushMs` after the first message of a batch, or at 100
 * messages) — the same scheme as the edge page-view log, so it never delays or fails a response.
 */
import type { ImageLogMessage } from "../../../common/src/rum-types.ts";

/** The part of a Queue binding the image log uses. */
export interface ImageLogQueue {
  sendBatch(messages: Iterable<{ body: ImageLogMessage }>): Promise<unknown>;
}

export class ImageLogger {
  queue: ImageLogQueue | null;
  flushMs: number;
  buffer: { body: ImageLogMessage }[] = [];
  timerSet = false;

  constructor(queue: ImageLogQueue | null, flushMs: number) {
    this.queue = queue;
    this.flushMs = flushMs;
  }

  /** Queues one record; never throws. */
  log(m: ImageLogMessage, ctx: ExecutionContext): void {
    if (this.queue === null) return;
    try {
      this.buffer.push({ body: m });
      if (this.buffer.length >= 100) {
        ctx.waitUntil(this.flush());
      } else if (!this.timerSet) {
        // One timer per batch, owned by the request that opened it (no promise shared across requests).
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
      // Best effort: a failed send drops this batch.
    }
  }
}
