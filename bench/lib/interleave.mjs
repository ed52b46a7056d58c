/**
 * Interleaved A/B throughput comparison (used for edge HIT ÷ hello-world ceiling).
 *
 * On a shared machine a target's throughput can change by half from one second to the next,
 * so two 5-second runs seconds apart do not see the same machine. Short slices in ABBA / BAAB
 * order ("quartets") do: within a quartet both targets get the same share of early and late
 * time, so a steady drift cancels exactly, and the median over many quartets ignores a quartet
 * that a burst of someone else's load hit on one side only.
 */

/** The slice order of quartet `q` (0-based): ABBA for even q, BAAB for odd q. */
export function quartetOrder(q) {
  return q % 2 === 0 ? ["a", "b", "b", "a"] : ["b", "a", "a", "b"];
}

/**
 * Summarises measured quartets. Each quartet is `{ a: Slice[2], b: Slice[2] }` with
 * Slice = { requests, seconds, cpuSeconds? }. Returns
 * - `ratios`: per quartet, B's req/s ÷ A's req/s (each side's two slices pooled);
 * - `median`, `q1`, `q3`: of those ratios (quartiles by the nearest-rank rule);
 * - `pooled`: B ÷ A over all slices (total requests ÷ total seconds per side);
 * - `cpuPooled`: B's CPU per request ÷ A's over all slices (NaN without cpuSeconds).
 */
export function summariseQuartets(quartets) {
  const rate = (slices) => sumOf(slices, "requests") / sumOf(slices, "seconds");
  const ratios = quartets.map((q) => rate(q.b) / rate(q.a));
  const sorted = ratios.filter(Number.isFinite).sort((x, y) => x - y);
  const all = (side) => quartets.flatMap((q) => q[side]);
  const cpuPerReq = (slices) => sumOf(slices, "cpuSeconds") / sumOf(slices, "requests");
  return {
    ratios,
    median: quantile(sorted, 0.5),
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    pooled: rate(all("b")) / rate(all("a")),
    cpuPooled: cpuPerReq(all("b")) / cpuPerReq(all("a")),
  };
}

function sumOf(slices, key) {
  let s = 0;
  for (const x of slices) s += typeof x[key] === "number" ? x[key] : Number.NaN;
  return s;
}

/** Quantile of sorted values: the median averages the middle pair, others use the nearest rank. */
function quantile(sorted, p) {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (p === 0.5) return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
}
