/**
 * `npm run rum:replay`: puts lost data back on the `rum-events` queue through the collector's
 * `POST /_rum/v1/replay` (query token), calling it until nothing is left.
 *   npm run rum:replay                       parked dead letters (R2 dlq/) → rum-events
 *   npm run rum:replay -- --source archive --from 2026-12-06T00:00Z --to 2026-12-06T06:00Z
 *                                            archived NDJSON of those hours → rum-events
 * Safe to repeat: the store keeps one row per (site, pvid) and per rid.
 * Options: --url URL (default $RUM_URL or http://127.0.0.1:8787), --token (default
 * $RUM_QUERY_TOKEN, else the one `npm start` wrote to .dev.vars).
 */
import { localToken } from "./dev-vars.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : args[i + 1];
};
const url = opt("url", process.env.RUM_URL ?? "http://127.0.0.1:8787");
const token = opt("token", localToken("RUM_QUERY_TOKEN") ?? "dev-query-token");
const source = opt("source", "dlq");
const from = opt("from", null);
const to = opt("to", null);
let cursor = null;
const total = { objects: 0, records: 0, messages: 0 };
for (let call = 0; call < 100_000; call++) {
  const u = new URL("/_rum/v1/replay", url);
  u.searchParams.set("source", source);
  if (from) u.searchParams.set("from", from);
  if (to) u.searchParams.set("to", to);
  if (cursor) u.searchParams.set("cursor", cursor);
  const res = await fetch(u, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    console.error(`[rum:replay] ${res.status}: ${body.error ?? JSON.stringify(body)}`);
    process.exit(1);
  }
  total.objects += body.objects;
  total.records += body.records;
  total.messages += body.messages;
  cursor = body.cursor;
  if (!body.more || (source === "dlq" && body.objects === 0)) break;
}
console.log(
  `[rum:replay] ${source}: ${total.records} record(s) from ${total.objects} object(s) re-sent as ${total.messages} queue message(s)`,
);
