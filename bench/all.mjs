/**
 * `npm run bench`: runs bench:edge, bench:rum and bench:images one after the other (each only if
 * its script exists), after making sure each one's peers are installed (bench/lib/peers.mjs:
 * Debian packages through apt-get when root; otherwise the rows that need the missing program
 * are skipped with one line each naming it and its package, or the whole benchmark when every
 * row needs it, like wrk). Each prints its own tables; the runner then
 * writes bench/RESULTS.md (machine, date, versions, every benchmark's output, its goal lines).
 * Options: --only edge|rum|images (repeatable), --no-results (do not write RESULTS.md). Exits
 * non-zero if a benchmark failed, after running the rest; Ctrl-C stops the current one and runs
 * no further ones (RESULTS.md is not written then).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BENCH_PEERS,
  ensurePeers,
  hasPeer,
  MISSING_ENV,
  peerPlan,
  SKIPPED_EXIT,
  which,
} from "./lib/peers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const benches = [
  ["bench:edge", "edge.mjs"],
  ["bench:rum", "rum.mjs"],
  ["bench:images", "images.mjs"],
];

const argv = process.argv.slice(2);
const only = [];
let writeResults = true;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--only" && ["edge", "rum", "images"].includes(argv[i + 1]))
    only.push(`bench:${argv[++i]}`);
  else if (argv[i] === "--no-results") writeResults = false;
  else {
    console.error(`Invalid option ${argv[i]}: expected --only edge|rum|images or --no-results`);
    process.exit(2);
  }
}

let child;
let stopped = false;
const forward = (sig) => {
  stopped = true;
  // The child cleans up its own process groups on SIGINT/SIGTERM.
  if (child) child.kill(sig);
  else process.exit(130);
};
process.on("SIGINT", forward);
process.on("SIGTERM", forward);

/**
 * Runs one benchmark, passing its output through and keeping stdout (and the end of stderr, for
 * a failure's reason); resolves { code, output, errTail }.
 */
function runBench(path, missing) {
  return new Promise((resolve) => {
    let output = "";
    let err = "";
    child = spawn(process.execPath, [path], {
      stdio: ["ignore", "pipe", "pipe"],
      // The peers found missing here: the benchmark skips their rows without trying apt-get again.
      env: { ...process.env, [MISSING_ENV]: missing.map((m) => m.bin).join(",") },
    });
    child.stdout.on("data", (d) => {
      process.stdout.write(d);
      output += d;
    });
    child.stderr.on("data", (d) => {
      process.stderr.write(d);
      err = (err + d).slice(-4000);
    });
    const errTail = () => err.trim().split("\n").slice(-12).join("\n");
    child.on("error", (e) => resolve({ code: 1, output, errTail: e.message }));
    child.on("exit", (c, sig) => resolve({ code: sig ? 128 : (c ?? 1), output, errTail: errTail() }));
  });
}

/** First line of `cmd args` (stdout or stderr), or "not installed". */
function version(cmd, args) {
  if (!which(cmd)) return "not installed";
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] || "unknown";
}

function machineFacts() {
  const workerd = join(root, "node_modules", ".bin", "workerd");
  return {
    date: new Date().toISOString(),
    machine: `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "unknown"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} at start`,
    versions: {
      node: process.version,
      workerd: version(workerd, ["--version"]),
      nginx: version("nginx", ["-v"]),
      wrk: version("wrk", ["-v"]),
      vipsthumbnail: version("vipsthumbnail", ["--vips-version"]),
      imagemagick: hasPeer("convert") ? version("convert", ["-version"]) : "not installed",
    },
  };
}

const facts = machineFacts();
const sections = [];
const failed = [];
for (const [name, file] of benches) {
  if (stopped) break;
  if (only.length > 0 && !only.includes(name)) continue;
  const path = join(here, file);
  if (!existsSync(path)) {
    console.log(`\n# ${name}: skipped (bench/${file} does not exist yet)`);
    sections.push({ name, status: `skipped: bench/${file} does not exist` });
    continue;
  }
  console.log(`\n# ${name}`);
  const { missing } = await ensurePeers(BENCH_PEERS[name] ?? [], {
    log: (l) => console.log(`${name}: ${l}`),
  });
  // A missing peer every row needs skips the benchmark; one only some rows need skips those rows
  // (the benchmark prints one line per skipped row).
  const { skipLine } = peerPlan(name, missing);
  if (skipLine) {
    console.log(skipLine);
    sections.push({ name, status: skipLine });
    continue;
  }
  const t0 = Date.now();
  const { code, output, errTail } = await runBench(path, missing);
  child = undefined;
  const took = `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  if (code === SKIPPED_EXIT) sections.push({ name, status: `skipped (${took})`, output });
  else if (code !== 0) {
    failed.push(`${name} (exit ${code})`);
    sections.push({ name, status: `FAILED, exit ${code} (${took})`, output, errTail });
  } else sections.push({ name, status: `ran (${took})`, output });
}

if (stopped) {
  console.error("\nstopped");
  process.exitCode = 130;
} else {
  if (writeResults) {
    const out = join(here, "RESULTS.md");
    writeFileSync(out, resultsMarkdown(facts, sections));
    console.log(`\nwrote ${out}`);
  }
  if (failed.length > 0) {
    console.error(`\nfailed: ${failed.join(", ")}`);
    process.exitCode = 1;
  }
}

/** A goal line without its progress prefix; a markdown table row `| goal | measured | verdict |` as prose. */
function goalText(line) {
  const l = line.trim().replace(/^\[[a-z:-]+\]\s*/i, "");
  if (!l.startsWith("|")) return l;
  const [goal, measured, verdict] = l
    .split("|")
    .map((c) => c.trim())
    .filter(Boolean);
  return `${goal}: ${measured} — ${verdict}`;
}

/** bench/RESULTS.md: facts, the goal lines of every benchmark, then every benchmark's output. */
function resultsMarkdown(f, secs) {
  // Progress lines ("[edge 12.3 s] …") and dots are noise in a results file.
  const clean = (text) =>
    text
      .split("\n")
      .filter((l) => !/^\s*\[[a-z:-]+( +[\d.]+ ?s)?\]/i.test(l) && !/^\.+$/.test(l.trim()))
      .join("\n")
      .trim();
  const goals = secs.flatMap((s) =>
    (s.output ?? "")
      .split("\n")
      .filter((l) => /\b(met|not met|not measured)\b/i.test(l))
      .map((l) => `- ${s.name}: ${goalText(l)}`),
  );
  return `# Benchmark results

Written by \`npm run bench\` (bench/all.mjs) on ${f.date}. Numbers from one run: compare the
ratios against the peer measured in the same run, not absolute values (the load at the start
says how busy the machine was).

- Machine: ${f.machine}
${Object.entries(f.versions)
  .map(([k, v]) => `- ${k}: ${v}`)
  .join("\n")}

## Runs

${secs.map((s) => `- ${s.name}: ${s.status}`).join("\n")}

## Goals

${goals.length > 0 ? goals.join("\n") : "- (no goal lines were printed)"}

${secs
  .filter((s) => s.output)
  .map(
    (s) =>
      `## ${s.name}\n\n\`\`\`text\n${clean(s.output)}\n\`\`\`` +
      (s.errTail ? `\n\nLast lines on stderr:\n\n\`\`\`text\n${s.errTail}\n\`\`\`` : ""),
  )
  .join("\n\n")}
`;
}
