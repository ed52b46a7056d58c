/**
 * Compact, JSON-serialisable form of a trained model for KV: every context row decayed to one
 * time, its weights rounded, at most `maxSuccessors` per row and `maxRows` rows (the heaviest
 * kept; the popularity row always). `parseCompactModel` validates untrusted input fully.
 */
import { DecayedCounts } from "./counts.ts";
import { type GroupOf, NextPageModel } from "./model.ts";
import { type ModelOptions, resolveModelOptions } from "./options.ts";

/** Format version of `CompactModel`. */
export const COMPACT_VERSION = 1;

export interface CompactModel {
  v: typeof COMPACT_VERSION;
  /** Time (ms) the weights are decayed to. */
  at: number;
  /** Model options; `halfLifeMs` null = no decay (JSON has no Infinity). */
  options: Omit<ModelOptions, "halfLifeMs"> & { halfLifeMs: number | null };
  /** [context key, successor, weight, successor, weight, …] */
  rows: Array<[string, ...Array<string | number>]>;
}

/** Size limits of the compact form. Defaults: 24 successors per row, 20,000 rows, weight ≥ 0.05. */
export interface CompactLimits {
  maxSuccessors?: number;
  maxRows?: number;
  minWeight?: number;
}

const round = (w: number) => Number(w.toPrecision(4));

/** Serialises a model with its weights decayed to `now`. */
export function toCompactModel(model: NextPageModel, now: number, limits: CompactLimits = {}): CompactModel {
  const maxSucc = limits.maxSuccessors ?? 24;
  const maxRows = limits.maxRows ?? 20_000;
  const minW = limits.minWeight ?? 0.05;
  const rows: Array<{ key: string; total: number; succ: Array<[string, number]> }> = [];
  for (const key of model.counts.contexts()) {
    const succ = model.counts
      .successors(key, now)
      .filter(([, w]) => w >= minW)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, maxSucc);
    if (succ.length === 0) continue;
    rows.push({ key, total: succ.reduce((s, [, w]) => s + w, 0), succ });
  }
  rows.sort((a, b) => (a.key === "" ? -1 : b.key === "" ? 1 : b.total - a.total));
  const o = model.options;
  return {
    v: COMPACT_VERSION,
    at: now,
    options: { ...o, halfLifeMs: Number.isFinite(o.halfLifeMs) ? o.halfLifeMs : null },
    rows: rows.slice(0, maxRows).map((r) => [r.key, ...r.succ.flatMap(([p, w]) => [p, round(w)])]),
  };
}

/** Largest compact model accepted (rows × successors), so a corrupt KV value cannot exhaust memory. */
const MAX_CELLS = 2_000_000;

/** Parses and validates a compact model (from KV); throws an Error saying what is wrong. */
export function parseCompactModel(input: unknown, groupOf?: GroupOf): NextPageModel {
  if (typeof input !== "object" || input === null) throw new Error("compact model: expected an object");
  const m = input as Partial<CompactModel>;
  if (m.v !== COMPACT_VERSION)
    throw new Error(`compact model: expected v ${COMPACT_VERSION} but received ${String(m.v)}`);
  if (typeof m.at !== "number" || !Number.isFinite(m.at))
    throw new Error("compact model: expected a finite number for at");
  if (typeof m.options !== "object" || m.options === null)
    throw new Error("compact model: expected an object for options");
  const options = resolveModelOptions({
    ...m.options,
    halfLifeMs: m.options.halfLifeMs === null ? Number.POSITIVE_INFINITY : m.options.halfLifeMs,
  });
  if (!Array.isArray(m.rows)) throw new Error("compact model: expected an array for rows");
  const counts = new DecayedCounts(options.halfLifeMs);
  let cells = 0;
  m.rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length % 2 !== 1 || typeof row[0] !== "string")
      throw new Error(`compact model: row ${i} is not [key, page, weight, …]`);
    cells += row.length;
    if (cells > MAX_CELLS) throw new Error(`compact model: more than ${MAX_CELLS} cells`);
    for (let j = 1; j < row.length; j += 2) {
      const page = row[j];
      const w = row[j + 1];
      if (typeof page !== "string" || typeof w !== "number" || !(w > 0) || !Number.isFinite(w))
        throw new Error(`compact model: row ${i} has a bad successor at ${j}`);
      counts.add(row[0], page, w, m.at as number);
    }
  });
  return new NextPageModel(options, groupOf, counts);
}
