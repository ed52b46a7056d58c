/**
 * Writes a batch of queue messages to D1 in ONE batch (= one transaction): page views (once per
 * site+pvid; a later seq replaces their values, INP/CLS only grow), edge log and image log rows
 * (once per rid), and the rollup sketches they feed. Each page view is joined to the edge log
 * record of its rid (edge-join.ts): found → attributed with the edge's facts and rolled up;
 * not yet there → stored `pending` and rolled up when the record comes (or unverified after the
 * join window, by the cron). Either everything of a batch is stored or nothing is, so a retried
 * queue batch can never double-count. Concurrent writers are detected by write guards and retried.
 */
import type { EdgeFacts } from "../../../common/src/attribution-edge.ts";
import type {
  EdgeLogMessage,
  ImageLogMessage,
  PageViewMessage,
  RumQueueMessage,
} from "../../../common/src/rum-types.ts";
import {
  edgeFactsStatement,
  edgeStateOf,
  factsFromRows,
  factsOf,
  pendingByRidStatement,
  pendingMessage,
} from "./edge-join.ts";
import { edgeRow, INSERT_EDGE_SQL } from "./edge-log-row.ts";
import { INSERT_IMAGE_SQL, imageRow } from "./image-log.ts";
import {
  type EdgeState,
  INSERT_PV_SQL,
  mergeLater,
  type PvRow,
  pageViewRow,
  UPDATE_COLUMNS,
} from "./page-view-row.ts";
import { guardChanges, isGuardFailure } from "./rollup-rows.ts";
import { RollupSet } from "./rollup-set.ts";
import { watermarkStatement, watermarksFrom } from "./watermarks.ts";

export interface StoreResult {
  /** New page views written. */
  inserted: number;
  /** Stored page views changed by a later beacon. */
  updated: number;
  /** Page-view messages that changed nothing (same or older seq). */
  unchanged: number;
  /** Page views rolled up with the edge's facts (new ones and resolved pending ones). */
  verified: number;
  /** New page views waiting for their edge record. */
  pending: number;
  /** Pending page views rolled up by this batch (edge record came, or join window over). */
  resolved: number;
  /** Edge log messages offered (duplicates of a rid are ignored by D1). */
  edgeLogs: number;
  /** Image log messages offered (duplicates of a rid are ignored by D1, and not rolled up again). */
  images: number;
  /** Attempts needed (> 1 when a concurrent writer touched the same rows). */
  attempts: number;
}

export interface StoreOptions {
  /** Clock for the join window (ms since epoch). */
  now: number;
  /** How long a page view with a rid waits for its edge record (default 10 min). */
  joinWindowMs?: number;
  /** Pending rows to roll up unverified (their join window is over; used by the cron). */
  expire?: readonly PvRow[];
}

/** Default of `RUM_EDGE_JOIN_MINUTES` in ms. */
export const DEFAULT_JOIN_WINDOW_MS = 10 * 60_000;
/** Attempts before a guard conflict is reported as an error (the queue then retries the batch). */
const MAX_ATTEMPTS = 4;
/** Rows per JSON parameter in the bulk INSERT statements. */
const INSERT_CHUNK = 500;

function pvKey(site: string, pvid: string): string {
  return `${site}\u0000${pvid}`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Messages of each page view of the batch, by ascending seq. */
function fold(messages: PageViewMessage[]): Map<string, PageViewMessage[]> {
  const out = new Map<string, PageViewMessage[]>();
  for (const m of [...messages].sort((a, b) => a.seq - b.seq || a.ts - b.ts)) {
    const k = pvKey(m.site, m.pvid);
    const list = out.get(k);
    if (list) list.push(m);
    else out.set(k, [m]);
  }
  return out;
}

/** One row from a page view's messages (in seq order), each later one merged over the first. */
function rowOfMessages(list: readonly PageViewMessage[], state: EdgeState, base: PvRow | null): PvRow {
  let row = base;
  for (const m of list) {
    const r = pageViewRow(m, state, m.ts);
    row = row ? mergeLater(row, r) : r;
  }
  return row as PvRow;
}

/** Keeps the attribution and key columns of a rolled-up row (a later beacon cannot move them). */
function keepRolledUp(old: PvRow, merged: PvRow, keepAttribution: boolean): PvRow {
  const out: PvRow = { ...merged, connection: old.connection, cache_status: old.cache_status };
  if (keepAttribution)
    for (const c of [
      "ttfb",
      "queueing",
      "last_mile",
      "last_mile_connect",
      "last_mile_wire",
      "edge",
      "middle_mile",
      "backend",
      "download",
      "origin_as_one_part",
      "edge_measured",
      "edge_verified",
    ])
      out[c] = old[c] ?? null;
  return out;
}

const UPDATE_SQL = `UPDATE rum_page_views SET ${UPDATE_COLUMNS.map((c) => `${c} = ?1->>'${c}'`).join(", ")} WHERE site = ?2 AND pvid = ?3 AND seq = ?4 AND updated_ts = ?5 AND (pending IS NULL) = ?6`;

interface Change {
  old: PvRow;
  row: PvRow;
}

async function attempt(db: D1Database, messages: RumQueueMessage[], opts: StoreOptions) {
  const joinWindowMs = opts.joinWindowMs ?? DEFAULT_JOIN_WINDOW_MS;
  const pvMessages = messages.filter((m): m is PageViewMessage => m.kind === "pageview");
  const edgeMessages = messages.filter((m): m is EdgeLogMessage => m.kind === "edge");
  const imageMessages = messages.filter((m): m is ImageLogMessage => m.kind === "image");
  const folded = fold(pvMessages);
  const batchFacts = new Map<string, EdgeFacts>();
  for (const e of edgeMessages) batchFacts.set(e.rid, factsOf(e));
  const rids = [...new Set(pvMessages.map((m) => m.beacon.rid).filter((r): r is string => !!r))].filter(
    (r) => !batchFacts.has(r),
  );

  const keys = [...folded.values()].map((l) => [
    (l[0] as PageViewMessage).site,
    (l[0] as PageViewMessage).pvid,
  ]);
  const [state, found, dbFacts, waiting] = await db.batch<Record<string, unknown>>([
    watermarkStatement(db, "rum_rollup_state"),
    db
      .prepare(
        "SELECT * FROM rum_page_views WHERE (site, pvid) IN (SELECT value->>0, value->>1 FROM json_each(?1))",
      )
      .bind(JSON.stringify(keys)),
    edgeFactsStatement(db, rids),
    pendingByRidStatement(db, [...batchFacts.keys()]),
  ]);
  const watermarks = watermarksFrom(state?.results ?? []);
  const existing = new Map<string, PvRow>();
  for (const r of found?.results ?? []) existing.set(pvKey(String(r.site), String(r.pvid)), r as PvRow);
  const facts = new Map([...factsFromRows(dbFacts?.results ?? []), ...batchFacts]);

  const rollups = new RollupSet(watermarks);
  const inserts: PvRow[] = [];
  const changes: Change[] = [];
  const result = { inserted: 0, updated: 0, unchanged: 0, verified: 0, pending: 0, resolved: 0 };
  const settle = (row: PvRow) => {
    if (row.edge_verified === 1) result.verified++;
  };

  for (const [k, list] of folded) {
    const first = list[0] as PageViewMessage;
    const old = existing.get(k);
    if (!old) {
      const st = edgeStateOf(first, facts, opts.now, joinWindowMs);
      const row = rowOfMessages(list, st, null);
      inserts.push(row);
      if (row.pending === null) {
        rollups.add(row);
        settle(row);
      } else result.pending++;
      continue;
    }
    const later = list.filter((m) => m.seq > Number(old.seq));
    result.unchanged += list.length - later.length;
    if (old.pending !== null) {
      // Still waiting: the later values join the waiting message; resolved if the record is here.
      const st = edgeStateOf(first, facts, opts.now, joinWindowMs);
      const msgs = later.length > 0 ? later : [];
      const waitingMsg = pendingMessage(old);
      if (msgs.length === 0 && "pending" in st) continue;
      const base = waitingMsg ? mergeLater(old, pageViewRow(waitingMsg, st, Number(old.updated_ts))) : old;
      const row = rowOfMessages(msgs, st, { ...base, pending: "pending" in st ? old.pending : null });
      if (msgs.length > 0) result.updated++;
      changes.push({ old, row });
      if (row.pending === null) {
        rollups.add(row);
        result.resolved++;
        settle(row);
      }
      continue;
    }
    if (later.length === 0) continue;
    const verifiedFacts = old.edge_verified === 1 ? facts.get(String(old.rid)) : undefined;
    const st: EdgeState = verifiedFacts ? { facts: verifiedFacts } : { unverified: true };
    const merged = keepRolledUp(
      old,
      rowOfMessages(later, st, old),
      old.edge_verified === 1 && !verifiedFacts,
    );
    changes.push({ old, row: merged });
    rollups.replace(old, merged);
    result.updated++;
  }

  // Page views that were waiting for one of this batch's edge records (or whose window is over).
  const resolve = (old: PvRow, st: EdgeState) => {
    if (folded.has(pvKey(String(old.site), String(old.pvid)))) return;
    const msg = pendingMessage(old);
    const row = msg ? mergeLater(old, pageViewRow(msg, st, Number(old.updated_ts))) : { ...old };
    row.pending = null;
    if ("unverified" in st) {
      row.edge_verified = 0;
      row.cache_status = "NONE";
    }
    changes.push({ old, row });
    rollups.add(row);
    result.resolved++;
    settle(row);
  };
  for (const r of waiting?.results ?? []) {
    const old = r as PvRow;
    const f = batchFacts.get(String(old.rid));
    resolve(old, f && f.site === old.site ? { facts: f } : { unverified: true });
  }
  for (const old of opts.expire ?? []) resolve(old, { unverified: true });

  await rollups.read(db);
  const stmts: D1PreparedStatement[] = [rollups.watermarkGuard(db)];
  for (const part of chunks(inserts, INSERT_CHUNK)) {
    stmts.push(db.prepare(INSERT_PV_SQL).bind(JSON.stringify(part)));
    // Every page view we believed new must be inserted now; otherwise a concurrent writer won.
    stmts.push(guardChanges(db, part.length));
  }
  for (const { old, row } of changes) {
    stmts.push(
      db
        .prepare(UPDATE_SQL)
        .bind(JSON.stringify(row), old.site, old.pvid, old.seq, old.updated_ts, old.pending === null ? 1 : 0),
    );
    stmts.push(guardChanges(db, 1));
  }
  stmts.push(...rollups.statements(db));
  for (const part of chunks(edgeMessages, INSERT_CHUNK)) {
    stmts.push(db.prepare(INSERT_EDGE_SQL).bind(JSON.stringify(part.map(edgeRow))));
  }
  // The image rollups are kept by the trigger of migrations/0003_rum_images.sql (new rids only).
  for (const part of chunks(imageMessages, INSERT_CHUNK)) {
    stmts.push(db.prepare(INSERT_IMAGE_SQL).bind(JSON.stringify(part.map(imageRow))));
  }
  await db.batch(stmts);
  result.inserted = inserts.length;
  return { ...result, edgeLogs: edgeMessages.length, images: imageMessages.length };
}

/**
 * Stores `messages` in one D1 transaction; re-reads and retries (up to 4 attempts) when a
 * concurrent writer changed the same page views or rollup rows. Throws on any other D1 error
 * (nothing of the batch is stored then).
 */
export async function storeMessages(
  db: D1Database,
  messages: RumQueueMessage[],
  opts: StoreOptions = { now: Date.now() },
): Promise<StoreResult> {
  for (let n = 1; ; n++) {
    try {
      return { ...(await attempt(db, messages, opts)), attempts: n };
    } catch (err) {
      if (!isGuardFailure(err) || n >= MAX_ATTEMPTS) throw err;
    }
  }
}
