/**
 * Queue consumer: each batch goes to R2 as one raw NDJSON object (for replay) and to D1 in one
 * transaction (page views, edge log, image log, rollups). A message is acked only when both writes
 * succeeded; otherwise every message of the batch is retried (D1 is all-or-nothing and ignores
 * what it already has, so a retry never double-counts). Malformed messages are acked and logged:
 * retrying cannot fix them.
 */
import type { RumQueueMessage } from "../../../common/src/rum-types.ts";
import { isImageLogMessage } from "./image-log.ts";
import { storeMessages } from "./write-messages.ts";

/** Seconds before a failed batch is redelivered (lets a struggling D1 recover). */
export const RETRY_DELAY_SECONDS = 5;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

/** Structural check of a queue message (the intake built it; this guards against foreign producers). */
export function isRumQueueMessage(x: unknown): x is RumQueueMessage {
  if (!isObject(x) || typeof x.ts !== "number" || typeof x.site !== "string") return false;
  if (x.kind === "edge") return typeof x.rid === "string" && typeof x.pageGroup === "string";
  if (x.kind === "image") return isImageLogMessage(x);
  if (x.kind !== "pageview") return false;
  return (
    typeof x.pvid === "string" &&
    typeof x.seq === "number" &&
    typeof x.pageGroup === "string" &&
    typeof x.path === "string" &&
    typeof x.cacheStatus === "string" &&
    isObject(x.dims) &&
    isObject(x.beacon) &&
    isObject(x.beacon.vitals) &&
    isObject(x.attribution)
  );
}

/** R2 key of a batch's raw archive: `raw/<yyyy>/<mm>/<dd>/<hh>/<ts>-<first message id>.ndjson` (UTC). */
export function archiveKey(ts: number, firstId: string): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, "0");
  const id = firstId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return `raw/${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${p(d.getUTCHours())}/${ts}-${id}.ndjson`;
}

/** Queue handler for `rum-events`; wire it as the Worker's `queue` export. */
export async function handleQueue(
  batch: MessageBatch<RumQueueMessage>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const good: Message<RumQueueMessage>[] = [];
  for (const msg of batch.messages) {
    if (isRumQueueMessage(msg.body)) good.push(msg);
    else {
      console.warn(`rum consumer: dropping malformed message ${msg.id}`);
      msg.ack();
    }
  }
  if (good.length === 0) return;
  const bodies = good.map((m) => m.body);
  const first = good[0] as Message<RumQueueMessage>;
  const ts = Math.min(...bodies.map((b) => b.ts));
  const ndjson = `${bodies.map((b) => JSON.stringify(b)).join("\n")}\n`;
  const results = await Promise.allSettled([
    env.RUM_ARCHIVE.put(archiveKey(ts, first.id), ndjson, {
      httpMetadata: { contentType: "application/x-ndjson" },
    }),
    storeMessages(env.DB, bodies),
  ]);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length > 0) {
    for (const f of failed) console.error("rum consumer: batch will be retried:", String(f.reason));
    for (const m of good) m.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    return;
  }
  for (const m of good) m.ack();
}
