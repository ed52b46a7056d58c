/**
 * Image log: one `ImageLogMessage` per image served (GET 200 under `/cdn-cgi/image/`) to the RUM
 * queue, for "bytes saved per format and device class". Buffered per isolate; a batch goes out as
 * one NDJSON queue message from `waitUntil` (a flush `flushMs` after the first record of a batch,
 * or when the batch fills one queue message) — the same scheme as the edge page-view log, so it
 * never delays or fails a response.
 */

import type { ImageLogMessage } from "../../../common/src/rum-types.ts";
import { createLogSender, type LogQueue, type LogSender } from "../edge-log.ts";

/** The part of a Queue binding the image log uses (the same as the page-view log's). */
export type ImageLogQueue = LogQueue;

export class ImageLogger {
  queue: ImageLogQueue | null;
  sender: LogSender<ImageLogMessage>;

  constructor(queue: ImageLogQueue | null, flushMs: number) {
    this.queue = queue;
    // Same sender as the page-view log.
    this.sender = createLogSender<ImageLogMessage>(this, flushMs, "image log", "records");
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
