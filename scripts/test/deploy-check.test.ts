import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, parseArgs } from "../deploy-check.mjs";
import { cleanup, GOOD_SECRETS, goodToml, ROOT, writeCase } from "./fixtures.ts";

afterAll(cleanup);
// The environment overrides --secrets-file (as in wrangler); the workerd projects' configs set
// the test tokens there, so clear them for these runs.
beforeAll(() => {
  for (const k of Object.keys(GOOD_SECRETS)) delete process.env[k];
});

async function run(args: string[]) {
  const lines: string[] = [];
  const code = await main(args, ROOT, (l) => lines.push(l));
  return { code, lines, problems: lines.filter((l) => l.startsWith("  ✗ ")).map((l) => l.slice(4)) };
}

function caseArgs(name: string, toml: string, secrets = GOOD_SECRETS, extra: string[] = ["--skip-bundle"]) {
  const c = writeCase(name, toml, secrets);
  return ["--config", c.config, "--secrets-file", c.secretsFile, ...extra];
}

describe("npm run deploy:check", () => {
  it("passes a deployable production config, bundle included", async () => {
    const r = await run(caseArgs("good", goodToml(), GOOD_SECRETS, ["--startup-runs", "1"]));
    expect(r.problems).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.lines.join("\n")).toMatch(
      /bundle: [\d.]+ MiB of 64\.00 MiB, gzip [\d.]+ MiB of 3\.00 MiB budget, start-up [\d.]+ ms CPU/,
    );
    expect(r.lines.at(-1)).toBe("deploy:check passed: nothing to fix");
  });

  it("fails the committed wrangler.toml while its placeholders and secrets are missing", async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(GOOD_SECRETS)) delete process.env[k];
    try {
      const r = await run(["--skip-bundle"]);
      expect(r.code).toBe(1);
      expect(r.problems).toEqual(
        expect.arrayContaining([
          'routes: "shop.example.com/*" is still a placeholder hostname',
          "bindings: D1 DB database_id is a placeholder (wrangler d1 create edge-rum-production)",
          "vars: ORIGIN_URL is still the placeholder https://origin.shop.example.com",
          "secrets: DASH_TOKEN is not given (environment; pass --secrets-file <file> or export it)",
        ]),
      );
    } finally {
      process.env = saved;
    }
  });

  const broken: Array<[string, (t: string) => string, Record<string, string>, string[]]> = [
    [
      "dev and short tokens",
      (t) => t,
      {
        ...GOOD_SECRETS,
        DASH_TOKEN: "dev-dash-token",
        RUM_QUERY_TOKEN: `dev-${"x".repeat(40)}`,
        EDGE_ADMIN_TOKEN: "",
      },
      [
        "secrets: DASH_TOKEN is shorter than 32 characters",
        'secrets: RUM_QUERY_TOKEN is a development token (starts with "dev-")',
        "secrets: EDGE_ADMIN_TOKEN is not given (--secrets-file .state/deploy-check-PID/dev and short tokens.secrets or the environment)",
      ],
    ],
    [
      "loopback origin and image service",
      (t) =>
        t
          .replace('ORIGIN_URL = "https://origin.acme-shop.de"', 'ORIGIN_URL = "http://127.0.0.1:8000"')
          .replace(
            'IMAGE_SERVICE_URL = "https://images.acme-shop.de"',
            'IMAGE_SERVICE_URL = "http://localhost:8788"',
          ),
      GOOD_SECRETS,
      [
        "vars: ORIGIN_URL points at a loopback address (http://127.0.0.1:8000)",
        "vars: IMAGE_SERVICE_URL points at a loopback address (http://localhost:8788)",
      ],
    ],
    [
      "development environment and a token in vars",
      (t) =>
        t.replace(
          'ENVIRONMENT = "production"',
          'ENVIRONMENT = "development"\nEDGE_PURGE_API_TOKEN = "plain-text-token"',
        ),
      GOOD_SECRETS,
      [
        'vars: ENVIRONMENT is "development", which accepts any token',
        "vars: EDGE_PURGE_API_TOKEN is a secret in plain [vars] (use wrangler secret put EDGE_PURGE_API_TOKEN --env production)",
      ],
    ],
    [
      "a required secret also set as a var",
      (t) =>
        t.replace(
          'ENVIRONMENT = "production"',
          'ENVIRONMENT = "production"\nDASH_TOKEN = "plain-text-token"',
        ),
      GOOD_SECRETS,
      [
        "config: DASH_TOKEN assigned to Environment Variable and Secret bindings.",
        "config: Bindings must have unique names, so that they can all be referenced in the worker.",
      ],
    ],
    [
      "routes missing, workers.dev on, observability off",
      (t) =>
        t
          .replace(/routes = \[[\s\S]*?\n\]\n/, "workers_dev = true\n")
          .replace("[env.production]\nworkers_dev = false\n", "[env.production]\n")
          .replace(
            "[env.production.observability]\nenabled = true",
            "[env.production.observability]\nenabled = false",
          ),
      GOOD_SECRETS,
      [
        'routes: none for env "production" (add routes with zone_name for the shop\'s hostname)',
        "workers_dev: must be false (the Cache API does nothing on *.workers.dev)",
        'observability: not enabled for env "production" (set [env.production.observability] enabled = true)',
      ],
    ],
    [
      "a route RUM_SITES does not know, and one outside its zone",
      (t) =>
        t.replace(
          '{ pattern = "www.acme-shop.de/*", zone_name = "acme-shop.de" },',
          '{ pattern = "www.acme-shop.de/*", zone_name = "acme-shop.de" },\n  { pattern = "m.acme-shop.de/*", zone_name = "acme-shop.de" },\n  { pattern = "shop.other-brand.fr/*", zone_name = "acme-shop.de" },',
        ),
      GOOD_SECRETS,
      [
        'vars: RUM_SITES has no https://m.acme-shop.de (pages on route "m.acme-shop.de/*" would have their beacons refused)',
        'routes: "shop.other-brand.fr/*" is not inside its zone_name "acme-shop.de"',
        'vars: RUM_SITES has no https://shop.other-brand.fr (pages on route "shop.other-brand.fr/*" would have their beacons refused)',
      ],
    ],
    [
      "a missing KV binding, no dead-letter queue, no cron",
      (t) =>
        t
          .replace(/\[\[env\.production\.kv_namespaces\]\][\s\S]*?\n\n/, "")
          .replace(
            'queue = "rum-events-production"\nmax_batch_size = 100\nmax_batch_timeout = 1\ndead_letter_queue = "rum-events-production-dlq"\n',
            'queue = "rum-events-production"\nmax_batch_size = 100\nmax_batch_timeout = 1\n',
          )
          .replace(
            '[env.production.triggers]\ncrons = ["*/5 * * * *"]',
            "[env.production.triggers]\ncrons = []",
          ),
      GOOD_SECRETS,
      [
        "bindings: KV namespace EDGE_KV is missing from [env.production] (bindings are not inherited)",
        'queues: consumer of "rum-events-production": no dead_letter_queue (messages that keep failing would be dropped)',
        "triggers: no cron (rollup downsampling and retention would never run)",
      ],
    ],
    [
      "a dead-letter queue nobody consumes",
      (t) =>
        t.replace(
          '[[env.production.queues.consumers]]\nqueue = "rum-events-production-dlq"',
          '[[env.production.queues.consumers]]\nqueue = "rum-events-other"',
        ),
      GOOD_SECRETS,
      [
        'queues: nothing consumes the dead-letter queue "rum-events-production-dlq" (dead letters would never be parked for replay)',
      ],
    ],
    [
      "production reusing the local dead-letter queue",
      (t) => t.replaceAll('"rum-events-production-dlq"', '"rum-events-dlq"'),
      GOOD_SECRETS,
      [
        'queues: "rum-events-dlq" is also a queue of the top level (local development); give env "production" its own',
      ],
    ],
    [
      "a dead_letter_queue the collector does not know (RUM_DEAD_LETTER_QUEUE unset)",
      (t) => t.replace(/\nRUM_DEAD_LETTER_QUEUE = .*\n/, "\n"),
      GOOD_SECRETS,
      [
        'queues: consumer of "rum-events-production": dead_letter_queue "rum-events-production-dlq" is not RUM_DEAD_LETTER_QUEUE (unset, so "rum-events-dlq"); the Worker would take its dead letters for new page views instead of parking them',
      ],
    ],
    [
      "RUM_DEAD_LETTER_QUEUE naming another queue",
      (t) =>
        t.replace(
          'RUM_DEAD_LETTER_QUEUE = "rum-events-production-dlq"',
          'RUM_DEAD_LETTER_QUEUE = "rum-events-prod-dlq"',
        ),
      GOOD_SECRETS,
      [
        'queues: consumer of "rum-events-production": dead_letter_queue "rum-events-production-dlq" is not RUM_DEAD_LETTER_QUEUE ("rum-events-prod-dlq"); the Worker would take its dead letters for new page views instead of parking them',
      ],
    ],
    [
      "RUM_DEAD_LETTER_QUEUE that is no queue name",
      (t) =>
        t.replace(
          'RUM_DEAD_LETTER_QUEUE = "rum-events-production-dlq"',
          'RUM_DEAD_LETTER_QUEUE = "rum_events DLQ"',
        ),
      GOOD_SECRETS,
      [
        'vars: RUM_DEAD_LETTER_QUEUE: expected a queue name (lowercase letters, digits and inner dashes, at most 63 characters) (got "rum_events DLQ")',
      ],
    ],
    [
      "an alert webhook URL and other credentials in plain vars",
      (t) =>
        t.replace(
          'ENVIRONMENT = "production"',
          'ENVIRONMENT = "production"\nRUM_ALERT_WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXX"\nSMTP_PASSWORD = "hunter2hunter2"\nMAPS_API_KEY = "AIzaExample"',
        ),
      GOOD_SECRETS,
      [
        "vars: RUM_ALERT_WEBHOOK is a secret in plain [vars] (use wrangler secret put RUM_ALERT_WEBHOOK --env production)",
        "vars: SMTP_PASSWORD is a secret in plain [vars] (use wrangler secret put SMTP_PASSWORD --env production)",
        "vars: MAPS_API_KEY is a secret in plain [vars] (use wrangler secret put MAPS_API_KEY --env production)",
      ],
    ],
    [
      "a producer nobody consumes",
      (t) =>
        t.replace(
          '[[env.production.queues.consumers]]\nqueue = "rum-events-production"',
          '[[env.production.queues.consumers]]\nqueue = "rum-events-other"',
        ),
      GOOD_SECRETS,
      ['queues: nothing consumes "rum-events-production" (producer RUM_QUEUE); page views would pile up'],
    ],
  ];

  it.each(broken)("fails with one line per problem: %s", async (name, edit, secrets, expected) => {
    const toml = edit(goodToml());
    expect(toml).not.toBe(name === "dev and short tokens" ? "" : goodToml());
    const r = await run(caseArgs(name, toml, secrets));
    expect(r.code).toBe(1);
    expect(r.problems.sort()).toEqual(expected.map((e) => e.replace("PID", String(process.pid))).sort());
    expect(r.lines.at(-1)).toBe(`deploy:check failed: ${expected.length} problem(s)`);
  });

  it("reports a bundle over the gzip budget, and one that fails to build", async () => {
    const small = await run(
      caseArgs("budget", goodToml(), GOOD_SECRETS, ["--max-gzip-mib", "0.01", "--startup-runs", "1"]),
    );
    expect(small.code).toBe(1);
    expect(small.problems).toEqual([
      expect.stringMatching(/^bundle: [\d.]+ MiB gzip exceeds the 0\.01 MiB budget$/),
    ]);

    const dir = path.join(ROOT, ".state", `deploy-check-${process.pid}`);
    writeFileSync(path.join(dir, "broken.ts"), "export default { fetch( { oops\n");
    const r = await run(
      caseArgs(
        "unbuildable",
        goodToml().replace('main = "../../worker/index.ts"', 'main = "broken.ts"'),
        GOOD_SECRETS,
        [],
      ),
    );
    expect(r.code).toBe(1);
    expect(r.problems).toEqual([
      expect.stringMatching(
        /^bundle: wrangler deploy --dry-run failed: Build failed with 1 error: Expected "}" but found end of file \(broken\.ts:2:0\)$/,
      ),
    ]);
  });

  it("reports a start-up that throws in the global scope", async () => {
    const dir = path.join(ROOT, ".state", `deploy-check-${process.pid}`);
    // (It exports the Durable Object class the config binds, so only its start-up fails.)
    writeFileSync(
      path.join(dir, "throws.ts"),
      'throw new Error("boom at start-up");\nexport default {};\nexport class PurgeCoordinator {}\n',
    );
    const r = await run(
      caseArgs(
        "throws",
        goodToml().replace('main = "../../worker/index.ts"', 'main = "throws.ts"'),
        GOOD_SECRETS,
        ["--startup-runs", "1"],
      ),
    );
    expect(r.code).toBe(1);
    expect(r.problems).toEqual(["bundle: evaluating the bundle failed: Error: boom at start-up"]);
  });

  it("rejects unknown options and bad values with a clear message and exit 2", async () => {
    expect(() => parseArgs(["--nope"])).toThrow(/unknown option --nope/);
    expect(() => parseArgs(["--max-gzip-mib", "-1"])).toThrow(/--max-gzip-mib must be a positive number/);
    expect(parseArgs(["--env=staging"]).env).toBe("staging");
    expect((await run(["--config", "nope.toml"])).code).toBe(2);
    expect((await run(["--bogus"])).lines).toEqual([
      "deploy:check: unknown option --bogus (expected --env, --config, --secrets-file, --max-gzip-mib, --startup-runs, --skip-bundle)",
    ]);
  });
});
