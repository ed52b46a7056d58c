/**
 * One queue batch into the store: page groups capped, then the R2 archive and the D1 write
 * concurrently; throws when either fails (the consumer then retries the whole batch).
 */
import type { EdgeLogMessage, PageViewMessage, RumQueueMessage } from "../../../common/src/rum-types.ts";
import { writeArchive } from "./archive.ts";
import { PageGroupCap } from "./page-groups.ts";
import { parseStoreConfig, type StoreConfig } from "./store-config.ts";
import { type StoreResult, storeMessages } from "./write-messages.ts";

let cached: { key: string; cfg: StoreConfig; cap: PageGroupCap } | null = null;

/** Store config and page-group cap of this isolate (parsed once per env). */
export function storeState(env: Env) {
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

/**
 * Writes one batch's records to R2 and D1 (throws when either fails; nothing is acked then).
 * `lines`: each record's JSON text as received (see RumStore.writeBatch); a record whose page
 * group the cap changed is a new object and is serialised again.
 */
export async function storeBatch(
  env: Env,
  records: RumQueueMessage[],
  firstId: string,
  now: number,
  lines?: readonly (string | undefined)[],
): Promise<StoreResult> {
  const { cfg, cap } = storeState(env);
  const capped = await capPageGroups(env.DB, cap, records, now);
  const keptLines = lines && capped.map((m, i) => (m === records[i] ? lines[i] : undefined));
  const [archived, stored] = await Promise.allSettled([
    writeArchive(env.RUM_ARCHIVE, capped, firstId, cfg.archiveParams, keptLines),
    storeMessages(env.DB, capped, { now, joinWindowMs: cfg.joinWindowMs }),
  ]);
  if (archived.status === "rejected") throw archived.reason;
  if (stored.status === "rejected") throw stored.reason;
  return stored.value;
}
