/**
 * The lab's table (one row per scenario and part: truth, measured median, error, tolerance,
 * verdict), its closing line, and a parser for both (used by the lab's own test).
 */

export const PART_LABEL = {
  lastMileConnect: "last mile connect",
  lastMileWire: "last mile wire",
  edge: "edge",
  middleMile: "middle mile",
  backend: "backend",
};

const HEAD = [
  "scenario",
  "part",
  "truth ms",
  "measured ms",
  "error ms",
  "tolerance",
  "unseen server ms",
  "verdict",
];

function fmt(n, sign = false) {
  if (!Number.isFinite(n)) return "n/a";
  const s = n.toFixed(1);
  return sign && n >= 0 ? `+${s}` : s;
}

/** Rows for the table from [{ scenario, rows: compareScenario(...) output, notes }]. */
export function tableRows(results) {
  const out = [];
  for (const r of results) {
    for (const row of r.rows) {
      // The distinct truths (to 0.1 ms) when views differed, e.g. one opened a connection.
      const distinct = [...new Set(row.truths.map((t) => fmt(t)))];
      const truth = distinct.length > 1 ? `${fmt(row.truth)} (${distinct.join("/")})` : fmt(row.truth);
      out.push([
        r.scenario.name,
        PART_LABEL[row.part],
        truth,
        fmt(row.measured),
        fmt(row.error, true),
        `±${fmt(row.tolerance)}`,
        fmt(row.unseen, true),
        row.verdict,
      ]);
    }
  }
  return out;
}

/** Plain-text table with aligned columns. */
export function formatTable(rows) {
  const all = [HEAD, ...rows];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((c, i) => (i >= 2 && i <= 6 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i])))
      .join("  ");
  return [line(HEAD), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Markdown table (for the README). */
export function markdownTable(rows) {
  const esc = (c) => String(c).replaceAll("|", "\\|");
  return [
    `| ${HEAD.join(" | ")} |`,
    `| ${HEAD.map((_, i) => (i >= 2 && i <= 6 ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/**
 * The closing line: `lab: PASS|FAIL — N scenarios, P parts: a ok, b explained, c off[, r
 * re-measured] (took S s)`; the counts are of the final results (a re-measured scenario's second).
 */
export function closingLine({ scenarios, ok, explained, off, remeasured = 0, seconds }) {
  const verdict = off === 0 ? "PASS" : "FAIL";
  const again = remeasured > 0 ? `, ${remeasured} re-measured` : "";
  return `lab: ${verdict} — ${scenarios} scenarios, ${ok + explained + off} parts: ${ok} ok, ${explained} explained, ${off} off${again} (took ${seconds.toFixed(0)} s)`;
}

/** Parses the closing line (null when absent). */
export function parseClosingLine(text) {
  const m =
    /^lab: (PASS|FAIL) — (\d+) scenarios, (\d+) parts: (\d+) ok, (\d+) explained, (\d+) off(?:, (\d+) re-measured)? \(took (\d+) s\)$/m.exec(
      text,
    );
  if (!m) return null;
  const [, verdict, scenarios, parts, ok, explained, off, remeasured, seconds] = m;
  return {
    verdict,
    scenarios: Number(scenarios),
    parts: Number(parts),
    ok: Number(ok),
    explained: Number(explained),
    off: Number(off),
    remeasured: Number(remeasured ?? 0),
    seconds: Number(seconds),
  };
}

/** Parses the table's data rows back into objects (rows between the dashes and a blank line). */
export function parseTable(text) {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^-+ {2}-+/.test(l));
  if (start < 1) return [];
  const rows = [];
  for (const l of lines.slice(start + 1)) {
    if (l.trim() === "") break;
    const m =
      /^(.+?) {2,}(last mile connect|last mile wire|edge|middle mile|backend) +(\S+).*? +(\S+) +(\S+) +±(\S+) +(\S+) +(\S+)\s*$/.exec(
        l,
      );
    if (!m) break;
    rows.push({
      scenario: m[1].trim(),
      part: m[2],
      truth: Number(m[3]),
      measured: Number(m[4]),
      error: Number(m[5]),
      tolerance: Number(m[6]),
      unseen: m[7] === "n/a" ? Number.NaN : Number(m[7]),
      verdict: m[8],
    });
  }
  return rows;
}
