/**
 * Nothing lost: the dead-letter queue and replay.
 *  - the dead-letter queue of the RUM queue (`RUM_DEAD_LETTER_QUEUE`, default `rum-events-dlq`;
 *    wrangler.toml) is consumed by this Worker: each message is parked in R2 as `dlq/<ts>-<id>.json` and acked, so it waits there
 *    (not in the queue's 4-day retention) until an operator replays it.
 *  - `POST /_rum/v1/replay?source=dlq` sends parked messages back to `RUM_QUEUE` and deletes
 *    them; `?source=archive&from=…&to=…` re-sends the archived NDJSON of those hours. Both are
 *    safe to repeat: the store keeps one row per (site, pvid) and per rid. `npm run rum:replay`
 *    calls it until nothing is left.
 */
import { packNdjson, readMessageBody } from "../../../common/src/queue-contract.ts";
import { archiveText } from "./archive.ts";

/** Objects handled per replay call (the command calls again while `more` is true). */
export const REPLAY_OBJECTS_PER_CALL = 50;
/** Bytes per re-sent queue message at most (Queues accept 128 KB). */
const MAX_MESSAGE_BYTES = 120_000;

/** Parks every message of a dead-letter batch in R2 and acks it (retried when R2 fails). */
export async function parkDeadLetters(batch: MessageBatch<unknown>, archive: R2Bucket): Promise<void> {
  for (const m of batch.messages) {
    try {
      const key = `dlq/${m.timestamp.getTime()}-${m.id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64)}.json`;
      await archive.put(key, JSON.stringify({ id: m.id, body: m.body }), {
        httpMetadata: { contentType: "application/json" },
      });
      m.ack();
    } catch (err) {
      console.error(`rum dlq: parking message ${m.id} failed, will retry: ${String(err)}`);
      m.retry({ delaySeconds: 60 });
    }
  }
}

/** Splits records' JSON lines into queue messages of at most 120 KB each. */
export function packLines(lines: readonly string[]): Array<{ body: string; contentType: "text" }> {
  const out: Array<{ body: string; contentType: "text" }> = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const n = new TextEncoder().encode(line).length + 1;
    if (cur.length > 0 && bytes + n > MAX_MESSAGE_BYTES) {
      out.push(packNdjson(cur));
      cur = [];
      bytes = 0;
    }
    cur.push(line);
    bytes += n;
  }
  if (cur.length > 0) out.push(packNdjson(cur));
  return out;
}

export interface ReplayResult {
  source: "dlq" | "archive";
  objects: number;
  records: number;
  messages: number;
  /** True when more objects are left (call again; for the archive pass `cursor`). */
  more: boolean;
  cursor: string | null;
}

async function send(queue: Queue, messages: Array<{ body: string; contentType: "text" }>): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) await queue.sendBatch(messages.slice(i, i + 100));
}

/** Re-sends up to 50 parked dead letters and deletes them once sent. */
export async function replayDeadLetters(archive: R2Bucket, queue: Queue): Promise<ReplayResult> {
  const page = await archive.list({ prefix: "dlq/", limit: REPLAY_OBJECTS_PER_CALL });
  let records = 0;
  let messages = 0;
  for (const o of page.objects) {
    const obj = await archive.get(o.key);
    if (!obj) continue;
    let body: unknown = null;
    try {
      body = (JSON.parse(await obj.text()) as { body?: unknown }).body;
    } catch {
      console.warn(`rum replay: ${o.key} is not a parked message; left in place`);
      continue;
    }
    const read = readMessageBody(body);
    const packed = packLines(read.lines);
    await send(queue, packed);
    await archive.delete(o.key);
    records += read.messages.length;
    messages += packed.length;
  }
  return {
    source: "dlq",
    objects: page.objects.length,
    records,
    messages,
    more: page.truncated,
    cursor: null,
  };
}

/** Re-sends the archived NDJSON of the hours in [from, to), 50 objects per call from `cursor`. */
export async function replayArchive(
  archive: R2Bucket,
  queue: Queue,
  from: number,
  to: number,
  cursor: string | null,
): Promise<ReplayResult> {
  const p2 = (n: number) => String(n).padStart(2, "0");
  const hourPrefix = (t: number) => {
    const d = new Date(t);
    return `raw/${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${p2(d.getUTCHours())}/`;
  };
  // The cursor is "<hour start>|<R2 list cursor>".
  let hour = Math.floor(from / 3_600_000) * 3_600_000;
  let listCursor: string | undefined;
  if (cursor) {
    const [h, c] = cursor.split("|", 2);
    if (Number.isFinite(Number(h))) hour = Number(h);
    listCursor = c || undefined;
  }
  let objects = 0;
  let records = 0;
  let messages = 0;
  while (hour < to && objects < REPLAY_OBJECTS_PER_CALL) {
    const page = await archive.list({
      prefix: hourPrefix(hour),
      cursor: listCursor,
      limit: REPLAY_OBJECTS_PER_CALL - objects,
    });
    for (const o of page.objects) {
      const obj = await archive.get(o.key);
      if (!obj) continue;
      const read = readMessageBody(await archiveText(o.key, obj.body));
      const packed = packLines(read.lines);
      await send(queue, packed);
      objects++;
      records += read.messages.length;
      messages += packed.length;
    }
    if (page.truncated) listCursor = page.cursor;
    else {
      hour += 3_600_000;
      listCursor = undefined;
    }
  }
  const more = hour < to;
  return {
    source: "archive",
    objects,
    records,
    messages,
    more,
    cursor: more ? `${hour}|${listCursor ?? ""}` : null,
  };
}
