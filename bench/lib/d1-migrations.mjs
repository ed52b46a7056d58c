// Applies the repository's D1 migrations to a D1 binding (Miniflare) statement by statement.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const migrationsDir = join(import.meta.dirname, "..", "..", "migrations");

/** Splits a migration into statements (keeps CREATE TRIGGER … END; blocks whole). */
export function splitSql(sql) {
  const out = [];
  let cur = "";
  let inTrigger = false;
  for (const line of sql.split("\n")) {
    const code = line.replace(/--.*$/, "");
    if (code.trim() === "" && cur === "") continue;
    cur += `${line}\n`;
    if (/^\s*CREATE\s+TRIGGER/i.test(code)) inTrigger = true;
    const ends = inTrigger ? /^\s*END\s*;\s*$/i.test(code) : /;\s*$/.test(code);
    if (ends) {
      out.push(cur.trim());
      cur = "";
      inTrigger = false;
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Runs every `migrations/*.sql` in name order against `db` (a D1Database). */
export async function applyMigrations(db) {
  const files = readdirSync(migrationsDir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const f of files) {
    for (const stmt of splitSql(readFileSync(join(migrationsDir, f), "utf8"))) await db.prepare(stmt).run();
  }
}
