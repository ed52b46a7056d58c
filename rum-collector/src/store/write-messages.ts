/**
 * Writes a batch of queue messages to D1 in ONE batch (= one transaction): page views (once per
 * site+pvid; a later seq only raises INP/CLS), edge log and image log rows (once per rid), and the rollup
 * sketches they feed. Either everything of a batch is stored or nothing is, so a retried queue
 * batch can never double-count. Concurrent writers are detected by write guards and retried.
 */
import type {
  EdgeLogMessage,
  ImageLogMessage,
  PageViewMessage,
  RumQueueMessage,
} from "../../../common/src/rum-types.ts";
import { INSERT_IMAGE_SQL, imageRow } from "./image-log.ts";
import { bucketStart, coloOf, connectionOf, type Granularity, METRICS } from "./metrics.ts";
import {
  guardChanges,
  isGuardFailure,
  keyString,
  type RollupKey,
  type RollupRow,
  readRollupRows,
  writeRollupStatements,
} from "./rollup-rows.ts";
import { watermarkStatement, watermarksFrom } from "./watermarks.ts";

export interface StoreResult {
  /** New page views written. */
  inserted: number;
  /** Page views whose INP/CLS grew. */
  updated: number;
  /** Page-view messages that changed nothing (same or older seq, nothing grew). */
  unchanged: number;
  /** Edge log messages offered (duplicates of a rid are ignored by D1). */
  edgeLogs: number;
  /** Image log messages offered (duplicates of a rid are ignored by D1, and not rolled up again). */
  images: number;
  /** Attempts needed (> 1 when a concurrent writer touched the same rows). */
  attempts: number;
}

/** Attempts before a guard conflict is reported as an error (the queue then retries the batch). */
const MAX_ATTEMPTS = 4;
/** Rows per JSON parameter in the bulk INSERT statements. */
const INSERT_CHUNK = 100;

interface Existing {
  seq: number;
  ts: number;
  inp: number | null;
  cls: number | null;
  key: Omit<RollupKey, "granularity" | "ts">;
}

interface Watermarks {
  hour: number | null;
  day: number | null;
}

/** One page view after folding all of its messages in the batch. */
interface Folded {
  msg: PageViewMessage;
  seq: number;
  updatedTs: number;
  inp: number | undefined;
  cls: number | undefined;
}

function pvKey(site: string, pvid: string): string {
  return `${site}\u0000${pvid}`;
}

function validNumber(x: unknown): number | undefined {
  return typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : undefined;
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

function fold(messages: PageViewMessage[]): Map<string, Folded> {
  const out = new Map<string, Folded>();
  const sorted = [...messages].sort((a, b) => a.seq - b.seq);
  for (const m of sorted) {
    const k = pvKey(m.site, m.pvid);
    const f = out.get(k);
    const inp = validNumber(m.beacon.vitals.inp);
    const cls = validNumber(m.beacon.vitals.cls);
    if (!f) {
      out.set(k, { msg: m, seq: m.seq, updatedTs: m.ts, inp, cls });
      continue;
    }
    f.seq = Math.max(f.seq, m.seq);
    f.updatedTs = Math.max(f.updatedTs, m.ts);
    f.inp = maxDefined(f.inp, inp);
    f.cls = maxDefined(f.cls, cls);
  }
  return out;
}

/** The first message of a page view with INP/CLS raised to the batch's largest values. */
function foldedMessage(f: Folded): PageViewMessage {
  return {
    ...f.msg,
    seq: f.seq,
    beacon: { ...f.msg.beacon, vitals: { ...f.msg.beacon.vitals, inp: f.inp, cls: f.cls } },
  };
}

function levels(ts: number, w: Watermarks): Granularity[] {
  const out: Granularity[] = ["minute"];
  // Buckets already downsampled get the page view directly, so late data is never lost.
  if (w.hour !== null && bucketStart(ts, "hour") < w.hour) out.push("hour");
  if (w.day !== null && bucketStart(ts, "day") < w.day) out.push("day");
  return out;
}

function dimsOf(m: PageViewMessage): Omit<RollupKey, "granularity" | "ts"> {
  return {
    site: m.site,
    pageGroup: m.pageGroup,
    device: m.dims.device,
    country: m.dims.country,
    connection: connectionOf(m),
    cacheStatus: m.cacheStatus,
    colo: coloOf(m),
  };
}

function pageViewRow(m: PageViewMessage, updatedTs: number): Record<string, unknown> {
  const a = m.attribution;
  const b = m.beacon;
  const v = (x: number | null | undefined) => validNumber(x) ?? null;
  return {
    site: m.site,
    pvid: m.pvid,
    seq: m.seq,
    ts: m.ts,
    updated_ts: updatedTs,
    rid: b.rid ?? null,
    page_group: m.pageGroup,
    path: m.path,
    country: m.dims.country,
    colo: m.dims.colo,
    asn: m.dims.asn,
    device: m.dims.device,
    browser: m.dims.browser,
    connection: connectionOf(m),
    cache_status: m.cacheStatus,
    save_data: b.net?.saveData === undefined ? null : b.net.saveData ? 1 : 0,
    nav_type: b.nav?.type ?? null,
    delivery_type: b.nav?.deliveryType ?? null,
    holdout: b.holdout === undefined ? null : b.holdout ? 1 : 0,
    sample_rate: m.sampleRate ?? 1,
    viewport_w: b.viewport?.w ?? null,
    viewport_h: b.viewport?.h ?? null,
    dpr: b.dpr ?? null,
    lcp: v(b.vitals.lcp),
    inp: v(b.vitals.inp),
    cls: v(b.vitals.cls),
    fcp: v(b.vitals.fcp),
    ttfb: v(a.ttfb),
    queueing: v(a.queueing),
    last_mile: v(a.lastMile),
    last_mile_connect: v(a.lastMileConnect),
    last_mile_wire: v(a.lastMileWire),
    edge: v(a.edge),
    middle_mile: v(a.middleMile),
    backend: v(a.backend),
    origin_as_one_part: a.originAsOnePart ? 1 : 0,
    edge_measured: a.edgeMeasured === false ? 0 : 1,
    download: v(a.download),
    resource_load_delay: v(a.render?.resourceLoadDelay),
    resource_load_duration: v(a.render?.resourceLoadDuration),
    element_render_delay: v(a.render?.elementRenderDelay),
  };
}

const PV_COLUMNS = Object.keys(
  pageViewRow(
    {
      kind: "pageview",
      ts: 0,
      site: "",
      pvid: "",
      seq: 0,
      pageGroup: "",
      path: "",
      dims: { country: "", colo: "", asn: 0, device: "", browser: "" },
      cacheStatus: "NONE",
      beacon: { v: 1, site: "", pvid: "", seq: 0, url: "", vitals: {} },
      attribution: {
        ttfb: 0,
        queueing: 0,
        lastMileConnect: 0,
        lastMileWire: 0,
        lastMile: 0,
        edge: 0,
        middleMile: 0,
        backend: null,
        originAsOnePart: false,
        download: 0,
        render: null,
      },
    },
    0,
  ),
);

const INSERT_PV_SQL = `INSERT INTO rum_page_views (${PV_COLUMNS.join(", ")}) SELECT ${PV_COLUMNS.map(
  (c) => `value->>'${c}'`,
).join(", ")} FROM json_each(?1) WHERE true ON CONFLICT (site, pvid) DO NOTHING`;

const EDGE_COLUMNS = [
  "rid",
  "ts",
  "site",
  "page_group",
  "path",
  "status",
  "cache_status",
  "edge_ms",
  "origin_ms",
  "app_ms",
  "country",
  "colo",
  "device",
  "browser",
];

const INSERT_EDGE_SQL = `INSERT INTO rum_edge_log (${EDGE_COLUMNS.join(", ")}) SELECT ${EDGE_COLUMNS.map(
  (c) => `value->>'${c}'`,
).join(", ")} FROM json_each(?1) WHERE true ON CONFLICT (rid) DO NOTHING`;

function edgeRow(m: EdgeLogMessage): Record<string, unknown> {
  return {
    rid: m.rid,
    ts: m.ts,
    site: m.site,
    page_group: m.pageGroup,
    path: m.path,
    status: m.status,
    cache_status: m.cacheStatus,
    edge_ms: validNumber(m.edgeMs) ?? 0,
    origin_ms: validNumber(m.originMs) ?? null,
    app_ms: validNumber(m.appMs) ?? null,
    country: m.country,
    colo: m.colo,
    device: m.device,
    browser: m.browser,
  };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function readState(
  db: D1Database,
  folded: Map<string, Folded>,
): Promise<{ existing: Map<string, Existing>; watermarks: Watermarks }> {
  const stmts: D1PreparedStatement[] = [watermarkStatement(db, "rum_rollup_state")];
  const keys = [...folded.values()].map((f) => [f.msg.site, f.msg.pvid]);
  for (const part of chunks(keys, 400)) {
    stmts.push(
      db
        .prepare(
          "SELECT site, pvid, seq, ts, inp, cls, page_group, device, country, connection, cache_status, colo FROM rum_page_views WHERE (site, pvid) IN (SELECT value->>0, value->>1 FROM json_each(?1))",
        )
        .bind(JSON.stringify(part)),
    );
  }
  const [state, ...found] = await db.batch<Record<string, unknown>>(stmts);
  const done = watermarksFrom(state?.results ?? []);
  const watermarks: Watermarks = { hour: done.hourDone, day: done.dayDone };
  const existing = new Map<string, Existing>();
  for (const res of found) {
    for (const r of res.results) {
      existing.set(pvKey(String(r.site), String(r.pvid)), {
        seq: Number(r.seq),
        ts: Number(r.ts),
        inp: r.inp === null ? null : Number(r.inp),
        cls: r.cls === null ? null : Number(r.cls),
        key: {
          site: String(r.site),
          pageGroup: String(r.page_group),
          device: String(r.device),
          country: String(r.country),
          connection: String(r.connection),
          cacheStatus: String(r.cache_status),
          colo: coloOf({ dims: { colo: r.colo } }),
        },
      });
    }
  }
  return { existing, watermarks };
}

interface Update {
  f: Folded;
  old: Existing;
  inp: number | null;
  cls: number | null;
  growInp: boolean;
  growCls: boolean;
}

async function attempt(db: D1Database, messages: RumQueueMessage[]): Promise<Omit<StoreResult, "attempts">> {
  const pvMessages = messages.filter((m): m is PageViewMessage => m.kind === "pageview");
  const edgeMessages = messages.filter((m): m is EdgeLogMessage => m.kind === "edge");
  const imageMessages = messages.filter((m): m is ImageLogMessage => m.kind === "image");
  const folded = fold(pvMessages);
  const { existing, watermarks } = await readState(db, folded);

  const inserts: Folded[] = [];
  const updates: Update[] = [];
  let unchanged = pvMessages.length - folded.size;
  for (const [k, f] of folded) {
    const old = existing.get(k);
    if (!old) {
      inserts.push(f);
      continue;
    }
    const growInp = f.seq > old.seq && f.inp !== undefined && (old.inp === null || f.inp > old.inp);
    const growCls = f.seq > old.seq && f.cls !== undefined && (old.cls === null || f.cls > old.cls);
    if (growInp || growCls) {
      updates.push({
        f,
        old,
        inp: growInp ? (f.inp as number) : old.inp,
        cls: growCls ? (f.cls as number) : old.cls,
        growInp,
        growCls,
      });
    } else unchanged++;
  }

  // Rollup rows touched by this batch.
  const wanted: RollupKey[] = [];
  for (const f of inserts) {
    for (const g of levels(f.msg.ts, watermarks)) {
      wanted.push({ granularity: g, ts: bucketStart(f.msg.ts, g), ...dimsOf(f.msg) });
    }
  }
  for (const u of updates) {
    for (const g of levels(u.old.ts, watermarks))
      wanted.push({ granularity: g, ts: bucketStart(u.old.ts, g), ...u.old.key });
  }
  const rows = await readRollupRows(db, wanted);
  const row = (g: Granularity, ts: number, dims: Omit<RollupKey, "granularity" | "ts">): RollupRow =>
    rows.get(keyString({ granularity: g, ts: bucketStart(ts, g), ...dims })) as RollupRow;

  for (const f of inserts) {
    const m = foldedMessage(f);
    const dims = dimsOf(m);
    for (const g of levels(m.ts, watermarks)) {
      const r = row(g, m.ts, dims);
      r.addViews(1);
      for (const metric of METRICS) {
        const x = metric.value(m);
        if (x !== undefined) r.edit(metric.column).add(x);
      }
    }
  }
  for (const u of updates) {
    for (const g of levels(u.old.ts, watermarks)) {
      const r = row(g, u.old.ts, u.old.key);
      // A row gone by retention is not recreated: it would count the page view a second time.
      if (r.version === null) continue;
      const replace = (column: string, oldValue: number | null, newValue: number) => {
        if (oldValue !== null && !r.has(column)) return;
        if (oldValue !== null && !r.edit(column).remove(oldValue)) return;
        r.edit(column).add(newValue);
      };
      if (u.growInp && u.inp !== null) replace("inp", u.old.inp, u.inp);
      if (u.growCls && u.cls !== null) replace("cls", u.old.cls, u.cls);
    }
  }

  const stmts: D1PreparedStatement[] = [
    // Downsampling must not have moved on since we read the watermarks (see levels()).
    db
      .prepare(
        "INSERT INTO rum_write_guard (ok) VALUES (COALESCE((SELECT done_until FROM rum_rollup_state WHERE granularity = 'hour'), -1) = ?1 AND COALESCE((SELECT done_until FROM rum_rollup_state WHERE granularity = 'day'), -1) = ?2) ON CONFLICT DO NOTHING",
      )
      .bind(watermarks.hour ?? -1, watermarks.day ?? -1),
  ];
  for (const part of chunks(inserts, INSERT_CHUNK)) {
    stmts.push(
      db
        .prepare(INSERT_PV_SQL)
        .bind(JSON.stringify(part.map((f) => pageViewRow(foldedMessage(f), f.updatedTs)))),
    );
    // Every page view we believed new must be inserted now; otherwise a concurrent writer won.
    stmts.push(guardChanges(db, part.length));
  }
  for (const u of updates) {
    stmts.push(
      db
        .prepare(
          "UPDATE rum_page_views SET seq = ?1, inp = ?2, cls = ?3, updated_ts = ?4 WHERE site = ?5 AND pvid = ?6 AND seq = ?7",
        )
        .bind(u.f.seq, u.inp, u.cls, u.f.updatedTs, u.f.msg.site, u.f.msg.pvid, u.old.seq),
    );
    stmts.push(guardChanges(db, 1));
  }
  stmts.push(...writeRollupStatements(db, rows.values()));
  for (const part of chunks(edgeMessages, INSERT_CHUNK)) {
    stmts.push(db.prepare(INSERT_EDGE_SQL).bind(JSON.stringify(part.map(edgeRow))));
  }
  // The image rollups are kept by the trigger of migrations/0003_rum_images.sql (new rids only).
  for (const part of chunks(imageMessages, INSERT_CHUNK)) {
    stmts.push(db.prepare(INSERT_IMAGE_SQL).bind(JSON.stringify(part.map(imageRow))));
  }
  await db.batch(stmts);
  return {
    inserted: inserts.length,
    updated: updates.length,
    unchanged,
    edgeLogs: edgeMessages.length,
    images: imageMessages.length,
  };
}

/**
 * Stores `messages` in one D1 transaction; re-reads and retries (up to 4 attempts) when a
 * concurrent writer changed the same page views or rollup rows. Throws on any other D1 error
 * (nothing of the batch is stored then).
 */
export async function storeMessages(db: D1Database, messages: RumQueueMessage[]): Promise<StoreResult> {
  for (let n = 1; ; n++) {
    try {
      return { ...(await attempt(db, messages)), attempts: n };
    } catch (err) {
      if (!isGuardFailure(err) || n >= MAX_ATTEMPTS) throw err;
    }
  }
}
