/**
 * Queue consumer: each batch goes to the R2 archive (Parquet per site and hour + NDJSON for
 * replay, archive.ts) and to D1 in one transaction (page views joined to the edge log, edge log,
 * image log, rollups). A message is acked only when both writes succeeded; otherwise every message
 * of the batch is retried with exponential backoff (5 s, 10 s, 20 s … capped at 5 min), and after
 * `max_retries` (wrangler.toml) the queue moves it to the dead-letter queue (`RUM_DEAD_LETTER_QUEUE`), from
 * where `npm run rum:replay` puts it back. D1 is all-or-nothing and ignores what it already has,
 * so a retry never double-counts. Malformed records are dropped and logged: retrying cannot fix them.
 */
import { readMessageBody } from "../../../common/src/queue-contract.ts";
import type { RumQueueBody, RumQueueMessage } from "../../../common/src/rum-types.ts";
import { createD1Store } from "./d1-store.ts";
import type { RumStore } from "./store.ts";

export { isRumQueueMessage, readMessageBody } from "../../../common/src/queue-contract.ts";
export { archiveKey } from "./archive.ts";
export { capPageGroups, storeBatch } from "./write-batch.ts";

/** First retry delay; each further attempt doubles it, up to `MAX_RETRY_DELAY_SECONDS`. */
export const RETRY_DELAY_SECONDS = 5;
export const MAX_RETRY_DELAY_SECONDS = 300;

/** Delay before redelivering a message that has been attempted `attempts` times (1 = first try). */
export function retryDelaySeconds(attempts: number): number {
  const n = Math.max(1, Math.min(Number.isFinite(attempts) ? attempts : 1, 32));
  return Math.min(RETRY_DELAY_SECONDS * 2 ** (n - 1), MAX_RETRY_DELAY_SECONDS);
}

/** Queue handler for `rum-events` (bodies: NDJSON text or message objects); wire it as the Worker's `queue` export. */
export async function handleQueue(
  batch: MessageBatch<RumQueueBody>,
  env: Env,
  _ctx: ExecutionContext,
  store: RumStore = createD1Store({ db: env.DB, archive: env.RUM_ARCHIVE, queue: env.RUM_QUEUE, env }),
): Promise<void> {
  const good: Message<RumQueueBody>[] = [];
  const bodies: RumQueueMessage[] = [];
  const lines: string[] = [];
  for (const msg of batch.messages) {
    const read = readMessageBody(msg.body);
    for (const e of read.errors) console.warn(`rum consumer: ${e}`);
    // Malformed records are dropped (retrying cannot fix them); the rest of the message is kept.
    if (read.bad > 0)
      console.warn(`rum consumer: dropping ${read.bad} malformed record(s) of message ${msg.id}`);
    if (read.messages.length > 0) {
      good.push(msg);
      bodies.push(...read.messages);
      // Each record's JSON text (its NDJSON line as received), reused by the archive.
      lines.push(...read.lines);
    } else msg.ack();
  }
  if (good.length === 0) return;
  try {
    await store.writeBatch(bodies, (good[0] as Message<RumQueueBody>).id, Date.now(), lines);
  } catch (err) {
    console.error("rum consumer: batch will be retried:", String(err));
    for (const m of good) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
    return;
  }
  for (const m of good) m.ack();
}
