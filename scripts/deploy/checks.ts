/**
 * The checks behind `npm run deploy:check`, as pure functions over what the CLI gathered (the
 * wrangler config resolved for the target environment, the secret values it was given, the
 * bundle's sizes and start-up time, the migration files). Each problem is one line that names
 * what is wrong and where; an empty list means the environment may be deployed.
 */
import { checkSecretToken } from "../../common/src/secret-token.ts";
import { DEFAULT_DEAD_LETTER_QUEUE, parseDeadLetterQueue } from "../../rum-collector/src/config.ts";

/** Cloudflare's documented Worker limits, with where they are stated. */
export const LIMITS = {
  /**
   * 64 MiB uncompressed on every plan ("Worker size", developers.cloudflare.com/workers/platform/limits/;
   * the compressed 3 MB Free / 10 MB Paid limits were removed on 2026-09-04, changelog
   * "increased-worker-size-limit" and workers-sdk#14001).
   */
  uncompressedBytes: 64 * 1024 * 1024,
  /**
   * Budget for the gzip size: the former Free-plan limit (3 MB compressed). No longer enforced by
   * Cloudflare, kept because a bundle this large also costs start-up time; `--max-gzip-mib` changes it.
   */
  gzipBytes: 3 * 1024 * 1024,
  /** "Worker startup time: 1 second" (parse and run the global scope), same page. */
  startupMs: 1000,
} as const;

/** Cloudflare Queues: max_batch_size ≤ 100, max_batch_timeout ≤ 60 s, max_retries ≤ 100. */
const QUEUE_LIMITS = { batchSize: 100, batchTimeoutS: 60, retries: 100 } as const;

export interface Route {
  pattern: string;
  zone_name?: string;
  zone_id?: string;
  custom_domain?: boolean;
}

/** The parts of a resolved wrangler config (`unstable_readConfig`) the checks read. */
export interface WorkerConfig {
  name?: string;
  workers_dev?: boolean;
  routes?: Array<Route | string>;
  route?: Route | string;
  vars?: Record<string, unknown>;
  secrets?: { required?: string[] };
  d1_databases?: Array<{
    binding: string;
    database_name?: string;
    database_id?: string;
    migrations_dir?: string;
  }>;
  kv_namespaces?: Array<{ binding: string; id?: string }>;
  r2_buckets?: Array<{ binding: string; bucket_name?: string }>;
  queues?: {
    producers?: Array<{ binding: string; queue: string }>;
    consumers?: Array<{
      queue: string;
      max_batch_size?: number;
      max_batch_timeout?: number;
      max_retries?: number;
      dead_letter_queue?: string;
    }>;
  };
  triggers?: { crons?: string[] };
  observability?: { enabled?: boolean };
}

export interface Bundle {
  /** Sum of the uploaded modules (no source maps), bytes. */
  bytes: number;
  /** The same modules gzip-compressed, bytes. */
  gzipBytes: number;
  /** Median CPU time of module load + global-scope evaluation, ms (null when not measured). */
  startupMs: number | null;
  /** The same runs' median wall time, ms (shown, not judged: it grows with the machine's load). */
  startupWallMs?: number | null;
}

export interface CheckInput {
  env: string;
  /** The config resolved for `env`. */
  config: WorkerConfig;
  /** The top-level (local development) config: the bindings every environment must also have. */
  base: WorkerConfig;
  /** Secret values by name (from --secrets-file or the environment); undefined = not given. */
  secrets: Record<string, string | undefined>;
  /** Where the secret values came from, for the messages. */
  secretsSource: string;
  bundle: Bundle | null;
  /** Migration file names per migrations_dir (relative to the config). */
  migrations: Record<string, string[]>;
  /** Gzip budget in bytes (default LIMITS.gzipBytes). */
  maxGzipBytes?: number;
}

export interface CheckResult {
  problems: string[];
  /** What was checked and found fine, and what would be applied (migrations). */
  notes: string[];
}

const MIB = 1024 * 1024;
const fmtMiB = (n: number) => `${(n / MIB).toFixed(2)} MiB`;

/** Hostnames reserved for documentation and tests (RFC 2606, RFC 6761): never a real shop. */
export function isPlaceholderHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return (
    /(^|\.)example\.(com|net|org)$/.test(h) ||
    /(^|\.)(example|test|invalid|localhost)$/.test(h) ||
    h === "example"
  );
}

/** Loopback and unspecified addresses, and `localhost` names. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return (
    h === "localhost" ||
    h.endsWith(".localhost") ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    h === "0.0.0.0" ||
    h === "::1" ||
    h === "::" ||
    /^::ffff:127\./.test(h)
  );
}

function routesOf(config: WorkerConfig): Route[] {
  const list = [...(config.routes ?? []), ...(config.route ? [config.route] : [])];
  return list.map((r) => (typeof r === "string" ? { pattern: r } : r));
}

/** The hostname of a route pattern (`shop.example.com/*` → `shop.example.com`). */
export function routeHost(pattern: string): string {
  return (
    pattern
      .replace(/^[a-z]+:\/\//i, "")
      .split("/")[0]
      ?.split(":")[0]
      ?.toLowerCase() ?? ""
  );
}

/** `RUM_SITES` origins (`site=o1,o2;site2=o3`); malformed entries are reported by the collector itself. */
export function rumSiteOrigins(raw: unknown): string[] {
  if (typeof raw !== "string") return [];
  return raw
    .split(";")
    .flatMap((entry) => entry.slice(entry.indexOf("=") + 1).split(","))
    .map((o) => o.trim())
    .filter((o) => o !== "");
}

const isZeroId = (id: string | undefined) => id === undefined || /^[0-]*$/.test(id);

function checkUrlVar(key: string, value: unknown, required: boolean, out: string[]): void {
  if (value === undefined || value === "") {
    if (required) out.push(`vars: ${key} is not set`);
    return;
  }
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    out.push(`vars: ${key} is not a URL ("${value}")`);
    return;
  }
  if (isLoopbackHost(url.hostname)) out.push(`vars: ${key} points at a loopback address (${url.origin})`);
  else if (isPlaceholderHost(url.hostname)) out.push(`vars: ${key} is still the placeholder ${url.origin}`);
}

/** workers_dev, routes and their agreement with RUM_SITES. */
function checkRouting(input: CheckInput, out: string[], notes: string[]): void {
  const { config } = input;
  if (config.workers_dev !== false)
    out.push("workers_dev: must be false (the Cache API does nothing on *.workers.dev)");
  const routes = routesOf(config);
  if (routes.length === 0) {
    out.push(`routes: none for env "${input.env}" (add routes with zone_name for the shop's hostname)`);
    return;
  }
  const origins = rumSiteOrigins(config.vars?.RUM_SITES);
  for (const r of routes) {
    const host = routeHost(r.pattern);
    if (!r.zone_name && !r.zone_id && !r.custom_domain)
      out.push(`routes: "${r.pattern}" has no zone_name, zone_id or custom_domain`);
    if (isLoopbackHost(host)) out.push(`routes: "${r.pattern}" is a loopback host`);
    else if (isPlaceholderHost(host)) out.push(`routes: "${r.pattern}" is still a placeholder hostname`);
    if (r.zone_name && !host.startsWith("*") && host !== r.zone_name && !host.endsWith(`.${r.zone_name}`))
      out.push(`routes: "${r.pattern}" is not inside its zone_name "${r.zone_name}"`);
    if (!host.includes("*") && !origins.includes(`https://${host}`))
      out.push(
        `vars: RUM_SITES has no https://${host} (pages on route "${r.pattern}" would have their beacons refused)`,
      );
  }
  for (const o of origins) {
    let url: URL | null = null;
    try {
      url = new URL(o);
    } catch {
      out.push(`vars: RUM_SITES origin "${o}" is not a URL`);
      continue;
    }
    if (isLoopbackHost(url.hostname)) out.push(`vars: RUM_SITES lists the loopback origin ${o}`);
    else if (isPlaceholderHost(url.hostname)) out.push(`vars: RUM_SITES lists the placeholder origin ${o}`);
    else if (url.protocol !== "https:") out.push(`vars: RUM_SITES origin ${o} is not https`);
  }
  notes.push(`routes: ${routes.map((r) => r.pattern).join(", ")}`);
}

/** Every top-level binding exists in the environment, with a real resource id. */
function checkBindings(input: CheckInput, out: string[]): void {
  const { config, base, env } = input;
  const kinds = [
    ["D1 database", base.d1_databases, config.d1_databases],
    ["KV namespace", base.kv_namespaces, config.kv_namespaces],
    ["R2 bucket", base.r2_buckets, config.r2_buckets],
    ["queue producer", base.queues?.producers, config.queues?.producers],
  ] as const;
  for (const [kind, wanted, have] of kinds) {
    for (const b of wanted ?? []) {
      if (!(have ?? []).some((h) => h.binding === b.binding))
        out.push(`bindings: ${kind} ${b.binding} is missing from [env.${env}] (bindings are not inherited)`);
    }
  }
  for (const d of config.d1_databases ?? []) {
    if (isZeroId(d.database_id))
      out.push(
        `bindings: D1 ${d.binding} database_id is a placeholder (wrangler d1 create ${d.database_name ?? "<name>"})`,
      );
  }
  for (const k of config.kv_namespaces ?? []) {
    if (isZeroId(k.id))
      out.push(
        `bindings: KV ${k.binding} id is a placeholder (wrangler kv namespace create ${config.name ?? "<name>"})`,
      );
  }
}

/**
 * Var names that hold a credential: tokens, keys, passwords, and webhook URLs (a Slack or Teams
 * webhook URL is itself the credential). Such a value belongs in `wrangler secret put`, never in
 * wrangler.toml, even when the var is optional (`RUM_ALERT_WEBHOOK`).
 */
export const SECRET_NAME = /WEBHOOK|SECRET|TOKEN|KEY|PASSWORD/i;

/** Vars that must not carry development values, and no secret in plain vars. */
function checkVars(input: CheckInput, out: string[]): void {
  const vars = input.config.vars ?? {};
  const env = vars.ENVIRONMENT;
  if (env === undefined) out.push('vars: ENVIRONMENT is not set (set it to "production")');
  else if (env === "development") out.push('vars: ENVIRONMENT is "development", which accepts any token');
  checkUrlVar("ORIGIN_URL", vars.ORIGIN_URL, true, out);
  checkUrlVar("IMAGE_SERVICE_URL", vars.IMAGE_SERVICE_URL, false, out);
  const secretNames = new Set(input.config.secrets?.required ?? []);
  for (const [key, value] of Object.entries(vars)) {
    if (secretNames.has(key) || SECRET_NAME.test(key))
      out.push(
        `vars: ${key} is a secret in plain [vars] (use wrangler secret put ${key} --env ${input.env})`,
      );
    else if (typeof value === "string" && value.startsWith("dev-"))
      out.push(`vars: ${key} has a development value (starts with "dev-")`);
  }
}

/** Every required secret is given and passes the shared token policy. */
function checkSecrets(input: CheckInput, out: string[], notes: string[]): void {
  const required = input.config.secrets?.required ?? [];
  if (required.length === 0) {
    out.push(`secrets: [env.${input.env}.secrets] required lists no secrets`);
    return;
  }
  for (const key of required) {
    const value = input.secrets[key];
    if (value === undefined || value === "") {
      out.push(`secrets: ${key} is not given (${input.secretsSource})`);
      continue;
    }
    // Always the deployed policy, whatever ENVIRONMENT says (a "development" value is its own problem).
    const check = checkSecretToken(key, value, "production");
    if (!check.ok) out.push(`secrets: ${check.reason}`);
  }
  notes.push(`secrets: ${required.join(", ")} (values from ${input.secretsSource})`);
}

/** A five-field cron expression with the characters Cloudflare accepts. */
export function isCronExpression(cron: string): boolean {
  const fields = cron.trim().split(/\s+/);
  return fields.length === 5 && fields.every((f) => /^[0-9A-Za-z*/,\-?LW#]+$/.test(f));
}

/** The rollup/retention cron and the queue consumer with its dead-letter queue. */
function checkSchedules(input: CheckInput, out: string[], notes: string[]): void {
  const { config } = input;
  const crons = config.triggers?.crons ?? [];
  if (crons.length === 0) out.push("triggers: no cron (rollup downsampling and retention would never run)");
  for (const c of crons)
    if (!isCronExpression(c)) out.push(`triggers: "${c}" is not a five-field cron expression`);
  const consumers = config.queues?.consumers ?? [];
  // Batch settings of every consumer (Cloudflare's defaults when unset: 10 messages, 5 s, 3 retries).
  for (const c of consumers) {
    const q = `queues: consumer of "${c.queue}"`;
    const size = c.max_batch_size ?? 10;
    const timeout = c.max_batch_timeout ?? 5;
    const retries = c.max_retries ?? 3;
    if (!(size >= 1 && size <= QUEUE_LIMITS.batchSize)) out.push(`${q}: max_batch_size ${size} is not 1–100`);
    if (!(timeout >= 0 && timeout <= QUEUE_LIMITS.batchTimeoutS))
      out.push(`${q}: max_batch_timeout ${timeout} is not 0–60 s`);
    if (!(retries >= 0 && retries <= QUEUE_LIMITS.retries))
      out.push(`${q}: max_retries ${retries} is not 0–100`);
    const dlq = c.dead_letter_queue;
    if (dlq === c.queue) out.push(`${q}: dead_letter_queue is the queue itself`);
    else if (dlq && !consumers.some((other) => other.queue === dlq))
      out.push(
        `queues: nothing consumes the dead-letter queue "${dlq}" (dead letters would never be parked for replay)`,
      );
    notes.push(
      `queues: ${c.queue} → consumer (batch ${size}, ${timeout} s, ${retries} retries)${dlq ? ` → ${dlq}` : ""}`,
    );
  }
  // The queue the Worker produces to needs a consumer, and that consumer a dead-letter queue.
  for (const p of config.queues?.producers ?? []) {
    const consumer = consumers.find((c) => c.queue === p.queue);
    if (!consumer)
      out.push(`queues: nothing consumes "${p.queue}" (producer ${p.binding}); page views would pile up`);
    else if (!consumer.dead_letter_queue)
      out.push(
        `queues: consumer of "${p.queue}": no dead_letter_queue (messages that keep failing would be dropped)`,
      );
    else checkDeadLetterName(input, consumer.queue, consumer.dead_letter_queue, out);
  }
  if (crons.length > 0) notes.push(`triggers: ${crons.join(", ")}`);
}

/**
 * The collector parks a batch in R2 only when it comes from the queue named by
 * `RUM_DEAD_LETTER_QUEUE` (default rum-events-dlq): the consumer's `dead_letter_queue` must be
 * that name, and an environment must not share its queues with the top level's.
 */
function checkDeadLetterName(input: CheckInput, queue: string, dlq: string, out: string[]): void {
  const raw = input.config.vars?.RUM_DEAD_LETTER_QUEUE;
  let expected: string;
  try {
    expected = parseDeadLetterQueue(raw);
  } catch (err) {
    out.push(`vars: ${(err as Error).message.replace(/^Invalid config /, "")}`);
    return;
  }
  const named =
    raw === undefined || raw === "" ? `unset, so "${DEFAULT_DEAD_LETTER_QUEUE}"` : `"${expected}"`;
  if (dlq !== expected)
    out.push(
      `queues: consumer of "${queue}": dead_letter_queue "${dlq}" is not RUM_DEAD_LETTER_QUEUE (${named}); the Worker would take its dead letters for new page views instead of parking them`,
    );
  if (input.base !== input.config) {
    const baseQueues = new Set([
      ...(input.base.queues?.producers ?? []).map((p) => p.queue),
      ...(input.base.queues?.consumers ?? []).flatMap((c) => [c.queue, c.dead_letter_queue ?? ""]),
    ]);
    for (const name of [queue, dlq])
      if (baseQueues.has(name))
        out.push(
          `queues: "${name}" is also a queue of the top level (local development); give env "${input.env}" its own`,
        );
  }
}

/** Migration files are `NNNN_name.sql` (or `NNNNa_…` to slot one in), no number used twice; gaps are fine. */
function checkMigrations(input: CheckInput, out: string[], notes: string[]): void {
  for (const d of input.config.d1_databases ?? []) {
    const dir = d.migrations_dir ?? "migrations";
    const files = input.migrations[dir];
    if (files === undefined) {
      out.push(`migrations: ${dir} (D1 ${d.binding}) does not exist`);
      continue;
    }
    const sql = files.filter((f) => f.endsWith(".sql")).sort();
    if (sql.length === 0) out.push(`migrations: ${dir} (D1 ${d.binding}) has no .sql files`);
    // wrangler applies them in name order and records each name: a prefix used twice is ambiguous.
    const seen = new Map<string, string>();
    for (const f of sql) {
      const m = /^(\d{4}[a-z]?)_[A-Za-z0-9_-]+\.sql$/.exec(f);
      if (!m?.[1]) {
        out.push(`migrations: ${dir}/${f} is not named NNNN_name.sql`);
        continue;
      }
      const other = seen.get(m[1]);
      if (other) out.push(`migrations: ${dir}/${f} and ${other} share the number ${m[1]}`);
      seen.set(m[1], f);
    }
    if (sql.length > 0)
      notes.push(
        `migrations: a new ${d.binding} database gets ${sql.length} (${sql[0]} … ${sql.at(-1)}); see what the live one lacks with: npx wrangler d1 migrations list ${d.binding} --remote --env ${input.env}`,
      );
  }
}

/** Bundle size against the limits, and the measured start-up time. */
function checkBundle(input: CheckInput, out: string[], notes: string[]): void {
  const b = input.bundle;
  if (!b) return;
  const maxGzip = input.maxGzipBytes ?? LIMITS.gzipBytes;
  if (b.bytes > LIMITS.uncompressedBytes)
    out.push(
      `bundle: ${fmtMiB(b.bytes)} uncompressed exceeds Cloudflare's ${fmtMiB(LIMITS.uncompressedBytes)} Worker size limit`,
    );
  if (b.gzipBytes > maxGzip)
    out.push(`bundle: ${fmtMiB(b.gzipBytes)} gzip exceeds the ${fmtMiB(maxGzip)} budget`);
  if (b.startupMs !== null && b.startupMs > LIMITS.startupMs)
    out.push(
      `bundle: start-up ${b.startupMs.toFixed(0)} ms CPU exceeds the ${LIMITS.startupMs} ms Worker startup limit`,
    );
  notes.push(
    `bundle: ${fmtMiB(b.bytes)} of ${fmtMiB(LIMITS.uncompressedBytes)}, gzip ${fmtMiB(b.gzipBytes)} of ${fmtMiB(maxGzip)} budget` +
      (b.startupMs === null ? "" : `, start-up ${b.startupMs.toFixed(1)} ms CPU of ${LIMITS.startupMs} ms`),
  );
}

/** Runs every check; problems come in a fixed order (bundle, routing, bindings, vars, secrets, schedules, migrations). */
export function runChecks(input: CheckInput): CheckResult {
  const problems: string[] = [];
  const notes: string[] = [];
  checkBundle(input, problems, notes);
  checkRouting(input, problems, notes);
  checkBindings(input, problems);
  checkVars(input, problems);
  checkSecrets(input, problems, notes);
  checkSchedules(input, problems, notes);
  checkMigrations(input, problems, notes);
  if (input.config.observability?.enabled !== true)
    problems.push(
      `observability: not enabled for env "${input.env}" (set [env.${input.env}.observability] enabled = true)`,
    );
  return { problems, notes };
}
