/**
 * `npm run rum:sql -- "SELECT …"`: SQL over the RUM Parquet archive with DuckDB.
 * Views: `pageviews` (one row per page-view message; deduplicate by (site, pvid) keeping the
 * highest seq) and `edge` (one row per edge log record; join on rid for the edge split), with the
 * Hive partitions `site`, `date`, `hour` as columns.
 * Options: --dir DIR (local copy, default .rum-archive), --url URL (a running Worker whose
 * archive is copied first; default http://127.0.0.1:8787 when it answers), --token TOKEN (query
 * token, default $RUM_QUERY_TOKEN, else the one `npm start` wrote to .dev.vars), --no-sync, --json.
 */
import { join } from "node:path";
import { localToken } from "./dev-vars.mjs";
import { openArchive, query, syncFromWorker } from "./rum-archive-lib.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i === -1) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  if (i !== -1) args.splice(i, 1);
  return i !== -1;
};
const dir = opt("dir", join(process.cwd(), ".rum-archive"));
const url = opt("url", process.env.RUM_URL ?? "http://127.0.0.1:8787");
const token = opt("token", localToken("RUM_QUERY_TOKEN") ?? "dev-query-token");
const noSync = flag("no-sync");
const asJson = flag("json");
const sql = args.join(" ").trim();
if (!sql) {
  console.error(
    'usage: npm run rum:sql -- [--url URL] [--dir DIR] [--no-sync] [--json] "SELECT … FROM pageviews …"',
  );
  process.exit(2);
}
if (!noSync) {
  try {
    const n = await syncFromWorker(url, token, dir);
    if (n > 0) console.error(`[rum:sql] copied ${n} Parquet object(s) from ${url} into ${dir}`);
  } catch (err) {
    console.error(
      `[rum:sql] archive not copied from ${url} (${String(err?.message ?? err).split("\n")[0]}); querying ${dir} as it is`,
    );
  }
}
try {
  const con = await openArchive(dir);
  const rows = await query(con, sql);
  if (asJson) console.log(JSON.stringify(rows, null, 2));
  else console.table(rows);
} catch (err) {
  console.error(`[rum:sql] ${String(err?.message ?? err)}`);
  process.exit(1);
}
