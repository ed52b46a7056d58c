/**
 * `npm run eval:prefetch -- <file> [--json FILE] [--train 0.8] [--from 0] [--to 1]`
 * Trains on the first share of the sessions (default 80 %) and tests on the rest; prints
 * no-self top-1/top-3 and precision/coverage per threshold for popular, markov1, markov2 and
 * ours. `--from/--to` cut the file first (e.g. `--to 0.8 --train 0.75` is a 60/20 validation
 * split inside the first 80 %). Gzip input is recognised by its magic bytes.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { markov1, markov2, ours, parseSessions, popular, score, THRESHOLDS } from "./eval-prefetch-lib.ts";

function fail(message: string): never {
  process.stderr.write(`eval:prefetch: ${message}\n`);
  process.exit(2);
}

function share(name: string, v: string | undefined): number {
  const x = Number(v);
  if (v === undefined || !Number.isFinite(x) || x < 0 || x > 1)
    fail(`Expected a number from 0 to 1 for --${name} but received ${v}`);
  return x;
}

const args = process.argv.slice(2);
let file: string | undefined;
let json: string | undefined;
let train = 0.8;
let from = 0;
let to = 1;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--json") json = args[++i] ?? fail("--json needs a file name");
  else if (a === "--train") train = share("train", args[++i]);
  else if (a === "--from") from = share("from", args[++i]);
  else if (a === "--to") to = share("to", args[++i]);
  else if (a?.startsWith("--")) fail(`unknown option ${a}`);
  else if (file === undefined) file = a;
  else fail(`unexpected argument ${a}`);
}
if (!file) fail("usage: npm run eval:prefetch -- <file> [--json FILE] [--train 0.8] [--from 0] [--to 1]");
if (from >= to) fail(`--from (${from}) must be below --to (${to})`);

let raw: Buffer;
try {
  raw = readFileSync(file);
} catch (e) {
  fail(`cannot read ${file}: ${(e as Error).message}`);
}
let text: string;
try {
  text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
} catch (e) {
  fail(`cannot decompress ${file} (gzip): ${(e as Error).message}`);
}
const all = parseSessions(text);
if (all.length === 0)
  fail(`${file} holds no sessions (expected one session per line, pages separated by spaces)`);
const sessions = all.slice(Math.floor(all.length * from), Math.floor(all.length * to));
const cut = Math.floor(sessions.length * train);
const trainSet = sessions.slice(0, cut);
const testSet = sessions.slice(cut);
if (trainSet.length === 0 || testSet.length === 0)
  fail(`need sessions on both sides of the split (${sessions.length} sessions)`);

const methods = [popular(), markov1(), markov2(), ours()];
const results: Record<string, ReturnType<typeof score>> = {};
for (const m of methods) {
  m.train(trainSet);
  results[m.name] = score(m, testSet);
}
const first = Object.values(results)[0];
process.stdout.write(
  `${file}: train ${trainSet.length} sessions, test ${testSet.length} sessions, ${first?.transitions ?? 0} no-self transitions\n\n`,
);
const head = ["method", "top-1 %", "top-3 %", ...THRESHOLDS.map((t) => `p≥${t} prec/cov % (pages)`)];
const rows = Object.entries(results).map(([name, r]) => [
  name,
  r.noSelfTop1.toFixed(2),
  r.noSelfTop3.toFixed(2),
  ...r.atThreshold.map((a) => `${a.precision.toFixed(1)}/${a.coverage.toFixed(1)} (${a.perPage.toFixed(2)})`),
]);
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
for (const r of [head, ...rows])
  process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] as number)).join("  ")}\n`);
if (json) {
  try {
    writeFileSync(
      json,
      `${JSON.stringify({ file, trainSessions: trainSet.length, testSessions: testSet.length, methods: results }, null, 2)}\n`,
    );
  } catch (e) {
    fail(`cannot write ${json}: ${(e as Error).message}`);
  }
}
