/**
 * Queue consumer: each batch goes to R2 as one raw NDJSON object (for replay) and to D1 in one
 * transaction (page views, edge log, image log, rollups). A message is acked only when both writes
 * succeeded; otherwise every message of the batch is retried (D1 is all-or-nothing and ignores
 * what it already has, so a retry never double-counts). Malformed messages are acked and logged:
 * retrying cannot fix them.
 */
import { expandEdgeLogBatch } from "../../../common/src/edge-log-batch.ts";
import type { RumQueueBody, RumQueueMessage } from "../../../common/src/rum-types.ts";
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

/**
 * The records in one queue message body: NDJSON text (`contentType: "text"`; what the intake and
 * the image log send, one line per record, see `packNdjson` in common/src/batch-sender.ts; the
 * edge's page-view log sends a line holding a whole columnar batch, `expandEdgeLogBatch`) or one
 * record object (`json`, other producers). Returns the valid records with their JSON lines (the
 * archive stores text lines as they came) and how many lines were malformed.
 */
export function readMessageBody(body: unknown): {
  messages: RumQueueMessage[];
  lines: string[];
  bad: number;
} {
  const out = { messages: [] as RumQueueMessage[], lines: [] as string[], bad: 0 };
  if (typeof body !== "string") {
    if (isObject(body) && body.kind === "edge-batch") readEdgeBatch(body, out);
    else if (isRumQueueMessage(body)) {
      out.messages.push(body);
      out.lines.push(JSON.stringify(body));
    } else out.bad++;
    return out;
  }
  for (const line of body.split("\n")) {
    if (line === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      out.bad++;
      continue;
    }
    if (isObject(parsed) && parsed.kind === "edge-batch") readEdgeBatch(parsed, out);
    else if (isRumQueueMessage(parsed)) {
      out.messages.push(parsed);
      out.lines.push(line);
    } else out.bad++;
  }
  return out;
}

/**
 * The edge's columnar page-view batch (common/src/edge-log-batch.ts) as its records; the archive
 * gets one JSON line per record, as for every other message. A malformed batch counts as one bad
 * record and is logged with the reason.
 */
function readEdgeBatch(
  x: Record<string, unknown>,
  out: { messages: RumQueueMessage[]; lines: string[]; bad: number },
): void {
  const records = expandEdgeLogBatch(x);
  if (typeof records === "string") {
    console.warn(`rum consumer: malformed edge-batch: ${records}`);
    out.bad++;
    return;
  }
  for (const r of records) {
    out.messages.push(r);
    out.lines.push(JSON.stringify(r));
  }
}

/** Queue handler for `rum-events` (bodies: NDJSON text or message objects); wire it as the Worker's `queue` export. */
export async function handleQueue(
  batch: MessageBatch<RumQueueBody>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const good: Message<RumQueueBody>[] = [];
  const bodies: RumQueueMessage[] = [];
  const lines: string[] = [];
  for (const msg of batch.messages) {
    const read = readMessageBody(msg.body);
    // Malformed records are dropped (retrying cannot fix them); the rest of the message is kept.
    if (read.bad > 0)
      console.warn(`rum consumer: dropping ${read.bad} malformed record(s) of message ${msg.id}`);
    if (read.messages.length > 0) {
      good.push(msg);
      for (let i = 0; i < read.messages.length; i++) {
        bodies.push(read.messages[i] as RumQueueMessage);
        lines.push(read.lines[i] as string);
      }
    } else msg.ack();
  }
  if (good.length === 0) return;
  const first = good[0] as Message<RumQueueBody>;
  let ts = Number.POSITIVE_INFINITY;
  for (const b of bodies) if (b.ts < ts) ts = b.ts;
  const ndjson = `${lines.join("\n")}\n`;
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
