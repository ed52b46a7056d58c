/**
 * Small formatting helpers for benchmark reports.
 */

/** Median of finite numbers (NaN for an empty list). */
export function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Formats a number with `digits` decimals (default 0) and thousands separators; "–" for NaN. */
export function fmt(n, digits = 0) {
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Renders rows (arrays of strings) as a Markdown table; `align` is "l"/"r" per column. */
export function markdownTable(header, rows, align = header.map((_, i) => (i === 0 ? "l" : "r"))) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const cell = (s, i) => (align[i] === "r" ? String(s).padStart(widths[i]) : String(s).padEnd(widths[i]));
  const line = (r) => `| ${r.map(cell).join(" | ")} |`;
  const sep = `|${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w + 1)}:` : `${"-".repeat(w + 2)}`)).join("|")}|`;
  return [line(header), sep, ...rows.map(line)].join("\n");
}
