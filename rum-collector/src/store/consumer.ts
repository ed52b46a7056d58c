/**
 * Queue consumer: each batch goes to the R2 archive (Parquet per site and hour + NDJSON for
 * replay, archive.ts) and to D1 in one transaction (page views joined to the edge log, edge log,
 * image log, rollups). A message is acked only when both writes succeeded; otherwise every message
 * of the batch is retried with exponential backoff (5 s, 10 s, 20 s … capped at 5 min), and after
 * `max_retries` (wrangler.toml) the queue moves it to the dead-letter queue `rum-events-dlq`, from
 * where `npm run rum:replay` puts it back. D1 is all-or-nothing and ignores what it already has,
 * so a retry never double-counts. Malformed records are dropped and logged: retrying cannot fix them.
 */
import { readMessageBody } from "../../../common/src/queue-contract.ts";
import type {
  EdgeLogMessage,
  PageViewMessage,
  RumQueueBody,
  RumQueueMessage,
} from "../../../common/src/rum-types.ts";
import { writeArchive } from "./archive.ts";
import { PageGroupCap } from "./page-groups.ts";
import { parseStoreConfig, type StoreConfig } from "./store-config.ts";
import { type StoreResult, storeMessages } from "./write-messages.ts";

export { isRumQueueMessage, readMessageBody } from "../../../common/src/queue-contract.ts";
export { archiveKey } from "./archive.ts";

/** First retry delay; each further attempt doubles it, up to `MAX_RETRY_DELAY_SECONDS`. */
export const RETRY_DELAY_SECONDS = 5;
export const MAX_RETRY_DELAY_SECONDS = 300;

/** Delay before redelivering a message that has been attempted `attempts` times (1 = first try). */
export function retryDelaySeconds(attempts: number): number {
  const n = Math.max(1, Math.min(Number.isFinite(attempts) ? attempts : 1, 32));
  return Math.min(RETRY_DELAY_SECONDS * 2 ** (n - 1), MAX_RETRY_DELAY_SECONDS);
}

let cached: { key: string; cfg: StoreConfig; cap: PageGroupCap } | null = null;

/** Store config and page-group cap of this isolate (parsed once per env). */
function storeState(env: Env) {
  const e = env as unknown as Record<string, unknown>;
  const key = JSON.stringify([
    e.RUM_RETENTION,
    e.RUM_MAX_PAGE_GROUPS,
    e.RUM_RAW_WINDOW_HOURS,
    e.RUM_EDGE_JOIN_MINUTES,
    e.RUM_ARCHIVE_QUERY_PARAMS,
  ]);
  if (!cached || cached.key !== key) {
    const cfg = parseStoreConfig(e);
    cached = { key, cfg, cap: new PageGroupCap(cfg.maxPageGroups) };
  }
  return cached;
}

/** Messages with their page groups capped per site (see page-groups.ts). */
export async function capPageGroups(
  db: D1Database,
  cap: PageGroupCap,
  messages: RumQueueMessage[],
  now: number,
): Promise<RumQueueMessage[]> {
  const named = messages.filter((m): m is PageViewMessage | EdgeLogMessage => m.kind !== "image");
  const map = await cap.resolve(
    db,
    named.map((m) => ({ site: m.site, group: m.pageGroup })),
    now,
  );
  return messages.map((m) => {
    if (m.kind === "image") return m;
    const g = map(m.site, m.pageGroup);
    return g === m.pageGroup ? m : { ...m, pageGroup: g };
  });
}

/** Writes one batch's records to R2 and D1 (throws when either fails; nothing is acked then). */
export async function storeBatch(
  env: Env,
  records: RumQueueMessage[],
  firstId: string,
  now: number,
): Promise<StoreResult> {
  const { cfg, cap } = storeState(env);
  const capped = await capPageGroups(env.DB, cap, records, now);
  const [archived, stored] = await Promise.allSettled([
    writeArchive(env.RUM_ARCHIVE, capped, firstId, cfg.archiveParams),
    storeMessages(env.DB, capped, { now, joinWindowMs: cfg.joinWindowMs }),
  ]);
  if (archived.status === "rejected") throw archived.reason;
  if (stored.status === "rejected") throw stored.reason;
  return stored.value;
}

/** Queue handler for `rum-events` (bodies: NDJSON text or message objects); wire it as the Worker's `queue` export. */
export async function handleQueue(
  batch: MessageBatch<RumQueueBody>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const good: Message<RumQueueBody>[] = [];
  const bodies: RumQueueMessage[] = [];
  for (const msg of batch.messages) {
    const read = readMessageBody(msg.body);
    for (const e of read.errors) console.warn(`rum consumer: ${e}`);
    // Malformed records are dropped (retrying cannot fix them); the rest of the message is kept.
    if (read.bad > 0)
      console.warn(`rum consumer: dropping ${read.bad} malformed record(s) of message ${msg.id}`);
    if (read.messages.length > 0) {
      good.push(msg);
      bodies.push(...read.messages);
    } else msg.ack();
  }
  if (good.length === 0) return;
  try {
    await storeBatch(env, bodies, (good[0] as Message<RumQueueBody>).id, Date.now());
  } catch (err) {
    console.error("rum consumer: batch will be retried:", String(err));
    for (const m of good) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
    return;
  }
  for (const m of good) m.ack();
}
