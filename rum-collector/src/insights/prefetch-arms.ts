/**
 * `GET /v1/prefetch-arms`: what prefetching bought, from the browser's side. The prefetch
 * experiment puts each tab in an arm (`arm`: holdout = no speculation, ours = our predictions,
 * press = the browser's own); a "next navigation" is a page view that followed another one in the
 * same tab (`prev_pvid` set). Per arm: next navigations, their mean LCP with a 95 % confidence
 * interval (normal approximation, mean ± 1.96 · sd / √n), and the share that arrived prefetched
 * or prerendered; plus each arm's difference from the holdout with its interval. Precision and
 * wasted bytes need the edge's speculation counters and are not computed here.
 */
import { fail, type Parsed, parseRange, rejectUnknown } from "./params.ts";

export const ARMS = ["holdout", "ours", "press"] as const;

export interface ArmStats {
  arm: string;
  n: number;
  meanLcp: number | null;
  /** 95 % confidence interval of the mean LCP; null below 2 samples. */
  ci: [number, number] | null;
  /** Share of next navigations delivered from a prefetch or a prerender. */
  speculatedShare: number | null;
  /** Mean LCP − holdout mean LCP, with its 95 % interval; null for the holdout or without data. */
  vsHoldout: { diff: number; ci: [number, number] } | null;
}

export function parsePrefetchParams(
  params: URLSearchParams,
  now: number,
): Parsed<{ from: number; to: number; site: string | null }> {
  const unknown = rejectUnknown(params, ["from", "to", "site"]);
  if (unknown) return fail(unknown);
  const range = parseRange(params, now);
  if (!range.ok) return range;
  const site = params.get("site");
  if (site !== null && (site === "" || site.length > 200)) return fail('invalid "site"');
  return { ok: true, value: { ...range.value, site } };
}

interface Row {
  arm: string;
  n: number;
  s: number;
  ss: number;
  spec: number;
}

/** Pure: means, intervals and differences from the per-arm sums. */
export function armStats(rows: readonly Row[]): ArmStats[] {
  const base = ARMS.map((arm) => {
    const r = rows.find((x) => x.arm === arm);
    const n = Number(r?.n ?? 0);
    const mean = n > 0 ? Number(r?.s) / n : null;
    const variance = n > 1 && mean !== null ? Math.max(0, (Number(r?.ss) - n * mean * mean) / (n - 1)) : null;
    const se = variance !== null ? Math.sqrt(variance / n) : null;
    return { arm, n, mean, se, spec: n > 0 ? Number(r?.spec) / n : null };
  });
  const hold = base[0];
  return base.map((b) => ({
    arm: b.arm,
    n: b.n,
    meanLcp: b.mean,
    ci: b.mean !== null && b.se !== null ? [b.mean - 1.96 * b.se, b.mean + 1.96 * b.se] : null,
    speculatedShare: b.spec,
    vsHoldout:
      b.arm !== "holdout" && b.mean !== null && b.se !== null && hold?.mean != null && hold.se !== null
        ? (() => {
            const diff = b.mean - (hold.mean as number);
            const se = Math.sqrt(b.se ** 2 + (hold.se as number) ** 2);
            return { diff, ci: [diff - 1.96 * se, diff + 1.96 * se] as [number, number] };
          })()
        : null,
  }));
}

export async function runPrefetchArms(
  db: D1Database,
  spec: { from: number; to: number; site: string | null },
) {
  const binds: unknown[] = [spec.from, spec.to];
  const where = ["ts >= ?1", "ts < ?2", "prev_pvid IS NOT NULL", "arm IS NOT NULL", "lcp IS NOT NULL"];
  if (spec.site !== null) where.push(`site = ?${binds.push(spec.site)}`);
  const r = await db
    .prepare(
      `SELECT arm, COUNT(*) AS n, SUM(lcp) AS s, SUM(lcp * lcp) AS ss,
        SUM(CASE WHEN delivery_type LIKE '%prefetch%' OR nav_type = 'prerender' THEN 1 ELSE 0 END) AS spec
       FROM rum_page_views WHERE ${where.join(" AND ")} GROUP BY arm`,
    )
    .bind(...binds)
    .all<Row>();
  return {
    from: new Date(spec.from).toISOString(),
    to: new Date(spec.to).toISOString(),
    arms: armStats(r.results),
  };
}
