/**
 * `npm run deploy:check [-- --env production] [--secrets-file <file>]`: an offline preflight of a
 * deploy target. Builds the bundle exactly as `wrangler deploy` would (`--dry-run --outdir`),
 * measures its size and start-up time, reads the wrangler config resolved for the environment,
 * and prints one line per problem (exit 1) or a summary of what was checked (exit 0). Nothing is
 * uploaded and no Cloudflare account is needed. The checks themselves: scripts/deploy/checks.ts.
 *
 * Options (defaults): --env production · --config wrangler.toml · --secrets-file <dotenv file>
 * (default: the secrets are read from the environment) · --max-gzip-mib 3 · --startup-runs 5 ·
 * --skip-bundle (config checks only).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { runChecks } from "./deploy/checks.ts";
import { parseDotenv } from "./dev-vars.mjs";

const WRANGLER_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
};

/** Parses the command line; unknown options are an error naming them. */
export function parseArgs(argv) {
  const opts = {
    env: "production",
    config: "wrangler.toml",
    secretsFile: null,
    maxGzipMib: 3,
    startupRuns: 5,
    skipBundle: false,
  };
  const takes = {
    "--env": "env",
    "--config": "config",
    "--secrets-file": "secretsFile",
    "--max-gzip-mib": "maxGzipMib",
    "--startup-runs": "startupRuns",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    if (flag === "--skip-bundle") opts.skipBundle = true;
    else if (flag in takes) {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      opts[takes[flag]] = v;
    } else
      throw new Error(
        `unknown option ${a} (expected --env, --config, --secrets-file, --max-gzip-mib, --startup-runs, --skip-bundle)`,
      );
  }
  for (const k of ["maxGzipMib", "startupRuns"]) {
    const n = Number(opts[k]);
    if (!(n > 0) || (k === "startupRuns" && !Number.isInteger(n)))
      throw new Error(
        `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive number (got "${opts[k]}")`,
      );
    opts[k] = n;
  }
  return opts;
}

function wranglerBin() {
  const pkg = createRequire(import.meta.url).resolve("wrangler/package.json");
  return path.join(path.dirname(pkg), "bin", "wrangler.js");
}

/**
 * wrangler's error lines (`✘ [ERROR] …`) and the source location after each, as one line;
 * the last output lines when there are none.
 */
export function wranglerErrors(output) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colour codes
  const lines = output.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  const parts = [];
  lines.forEach((line, i) => {
    const m = /✘\s*\[ERROR\]\s*(.*)$/.exec(line);
    if (!m?.[1]) return;
    const text = m[1].trim().replace(/:$/, "");
    // esbuild prints the location a line or two below the message.
    const next = lines.slice(i + 1, i + 4).find((l) => /^\s+\S+:\d+:\d+:\s*$/.test(l));
    parts.push(next ? `${text} (${next.trim().replace(/:$/, "")})` : text);
  });
  if (parts.length > 0) return parts.join(": ");
  return (
    lines
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-3)
      .join(" / ") || "no output"
  );
}

/** `wrangler deploy --dry-run --outdir` into a temp dir; returns the dir or throws with wrangler's output. */
function buildBundle(configPath, env) {
  const outdir = mkdtempSync(path.join(tmpdir(), "deploy-check-"));
  const res = spawnSync(
    process.execPath,
    [wranglerBin(), "deploy", "--dry-run", "--outdir", outdir, "--config", configPath, "--env", env],
    { env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: "0" }, encoding: "utf8", timeout: 120_000 },
  );
  if (res.status !== 0) {
    rmSync(outdir, { recursive: true, force: true });
    throw new Error(`wrangler deploy --dry-run failed: ${wranglerErrors(`${res.stdout}\n${res.stderr}`)}`);
  }
  return outdir;
}

/** Uploaded modules: everything wrangler wrote except source maps and its README. */
function bundleModules(outdir) {
  return readdirSync(outdir, { recursive: true })
    .map(String)
    .filter((f) => /\.(m?js|cjs|wasm|bin|txt|html|json)$/.test(f) && statSync(path.join(outdir, f)).isFile());
}

/** The thrown error's message from Node's stderr (skipping the source excerpt it prints first). */
function firstErrorLine(stderr) {
  const lines = stderr.trim().split("\n");
  return (lines.find((l) => /^\w*Error\b|^Uncaught/.test(l)) ?? lines[0] ?? "no output").trim();
}

/**
 * One fresh Node process: import the main module; reports the CPU time (all threads) and the wall
 * time that load + global-scope evaluation took. CPU time is what the check judges: on a busy
 * machine the wall time mostly measures waiting for a core.
 */
function timeImport(file) {
  const code = `const c=process.cpuUsage(),t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});const u=process.cpuUsage(c);process.stdout.write(JSON.stringify({cpu:(u.user+u.system)/1000,wall:performance.now()-t}));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out))
        : reject(new Error(`evaluating the bundle failed: ${firstErrorLine(err)}`)),
    );
  });
}

/** Medians of `runs` fresh-process imports (Node's V8, the engine workerd embeds). */
async function measureStartup(file, runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await timeImport(file));
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { cpu: median(samples.map((s) => s.cpu)), wall: median(samples.map((s) => s.wall)) };
}

async function measureBundle(outdir, runs) {
  const modules = bundleModules(outdir);
  let bytes = 0;
  let gzipBytes = 0;
  for (const f of modules) {
    const data = readFileSync(path.join(outdir, f));
    bytes += data.length;
    gzipBytes += gzipSync(data, { level: 9 }).length;
  }
  const main = modules.find((f) => /^index\.m?js$/.test(f)) ?? modules.find((f) => /\.m?js$/.test(f));
  const startup = main ? await measureStartup(path.join(outdir, main), runs) : null;
  return { bytes, gzipBytes, startupMs: startup?.cpu ?? null, startupWallMs: startup?.wall ?? null };
}

async function readConfigs(configPath, env) {
  const { unstable_readConfig } = await import("wrangler");
  const quiet = console.warn;
  console.warn = () => {};
  try {
    return {
      config: unstable_readConfig({ config: configPath, env }),
      base: unstable_readConfig({ config: configPath }),
    };
  } finally {
    console.warn = quiet;
  }
}

function listMigrations(configDir, config) {
  const out = {};
  for (const d of config.d1_databases ?? []) {
    const dir = d.migrations_dir ?? "migrations";
    const abs = path.resolve(configDir, dir);
    if (existsSync(abs)) out[dir] = readdirSync(abs);
  }
  return out;
}

function readSecrets(opts, names, cwd) {
  if (opts.secretsFile) {
    const file = path.resolve(cwd, opts.secretsFile);
    if (!existsSync(file)) throw new Error(`--secrets-file ${opts.secretsFile} does not exist`);
    const parsed = parseDotenv(readFileSync(file, "utf8"));
    // As in `wrangler deploy --secrets-file`: a value in the environment overrides the file's.
    return {
      values: Object.fromEntries(names.map((n) => [n, process.env[n] || parsed[n]])),
      source: `--secrets-file ${opts.secretsFile} or the environment`,
    };
  }
  return {
    values: Object.fromEntries(names.map((n) => [n, process.env[n]])),
    source: "environment; pass --secrets-file <file> or export it",
  };
}

/** Runs the preflight; returns the exit code (0 = deployable, 1 = problems, 2 = could not check). */
export async function main(argv = process.argv.slice(2), cwd = process.cwd(), log = console.log) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    log(`deploy:check: ${err.message}`);
    return 2;
  }
  const configPath = path.resolve(cwd, opts.config);
  if (!existsSync(configPath)) {
    log(`deploy:check: ${opts.config} does not exist`);
    return 2;
  }
  let config;
  let base;
  try {
    ({ config, base } = await readConfigs(configPath, opts.env));
  } catch (err) {
    // wrangler's own validation: a heading line, then "  - <problem>" lines.
    const items = err.message
      .split("\n")
      .filter((l) => /^\s*- /.test(l))
      .map((l) => l.replace(/^\s*- /, "").trim());
    log(`deploy:check ${opts.config} (env "${opts.env}"): wrangler refuses the config`);
    for (const item of items.length > 0 ? items : [err.message.split("\n")[0]]) log(`  ✗ config: ${item}`);
    log(`deploy:check failed: ${items.length || 1} problem(s)`);
    return 1;
  }
  const problems = [];
  let bundle = null;
  if (!opts.skipBundle) {
    let outdir;
    try {
      outdir = buildBundle(configPath, opts.env);
      bundle = await measureBundle(outdir, opts.startupRuns);
    } catch (err) {
      problems.push(`bundle: ${err.message}`);
    } finally {
      if (outdir) rmSync(outdir, { recursive: true, force: true });
    }
  }
  const secrets = readSecrets(opts, config.secrets?.required ?? [], cwd);
  const result = runChecks({
    env: opts.env,
    config,
    base,
    secrets: secrets.values,
    secretsSource: secrets.source,
    bundle,
    migrations: listMigrations(path.dirname(configPath), config),
    maxGzipBytes: opts.maxGzipMib * 1024 * 1024,
  });
  problems.push(...result.problems);
  log(`deploy:check ${config.name ?? ""} (env "${opts.env}", ${opts.config})`);
  for (const n of result.notes) log(`  ·  ${n}`);
  if (bundle?.startupMs != null)
    log(
      `      (start-up = CPU time of module load + global scope in a fresh Node 22 process, median of ${opts.startupRuns}; wall ${bundle.startupWallMs?.toFixed(0)} ms here)`,
    );
  for (const p of problems) log(`  ✗ ${p}`);
  log(
    problems.length === 0
      ? "deploy:check passed: nothing to fix"
      : `deploy:check failed: ${problems.length} problem(s)`,
  );
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.log(`deploy:check: ${err instanceof Error ? err.message : err}`);
      process.exit(2);
    },
  );
}
