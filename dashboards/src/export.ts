/**
 * CSV and JSON export of the tables the pages show. A table is columns plus rows of plain values;
 * CSV follows RFC 4180 (quotes doubled, CRLF line ends) and guards against formula injection by
 * prefixing cells that start with = + - @ (tab or CR) with a single quote.
 */

export type Cell = string | number | boolean | null;

export interface Table {
  columns: readonly string[];
  rows: readonly (readonly Cell[])[];
}

function csvCell(v: Cell): string {
  if (v === null) return "";
  let s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row. */
export function toCsv(t: Table): string {
  return `${[t.columns, ...t.rows].map((r) => r.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

/** JSON: an array of objects keyed by column name. */
export function toJson(t: Table): string {
  return JSON.stringify(
    t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i] ?? null]))),
    null,
    2,
  );
}

/** The download response for `table` as `name.format`. */
export function exportResponse(t: Table, name: string, format: "csv" | "json"): Response {
  return new Response(format === "csv" ? toCsv(t) : toJson(t), {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${name}.${format}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

/** Rounds ms values for export (0.1 ms), null stays null. */
export function ms(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10) / 10;
}
