/**
 * Image log: one `ImageLogMessage` per image served (GET 200 under `/cdn-cgi/image/`) to the RUM
 * queue, for "bytes saved per format and device class". Buffered per isolate; a batch goes out as
 * one NDJSON queue message from `waitUntil` (a flush `flushMs` after the first record of a batch,
 * or at 100 records) — the same scheme as the edge page-view log, so it never delays or fails a
 * response.
 */

import type { BatchSender } from "../../../common/src/batch-sender.ts";
import type { ImageLogMessage } from "../../../common/src/rum-types.ts";
import { createLogSender, type LogQueue } from "../edge-log.ts";

/** The part of a Queue binding the image log uses (the same as the page-view log's). */
export type ImageLogQueue = LogQueue;

export class ImageLogger {
  queue: ImageLogQueue | null;
  sender: BatchSender<ImageLogMessage>;

  constructor(queue: ImageLogQueue | null, flushMs: number) {
    this.queue = queue;
    // Same sender as the page-view log. Fixed-size records (no free text beyond the
    // rid/site/format): a generous constant bound.
    this.sender = createLogSender<ImageLogMessage>(
      this,
      flushMs,
      (m) => 512 + 3 * (m.rid.length + m.site.length),
      "image log",
      "records",
    );
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
