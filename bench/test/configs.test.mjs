import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nginxConf } from "../lib/nginx.mjs";
import { benchPage } from "../lib/page.mjs";
import { workerdConfig, writeHelloWorker, writePassthroughWorker } from "../lib/workerd-config.mjs";

const dir = mkdtempSync(join(tmpdir(), "bench-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ports = {
  edge: 1001,
  hello: 1002,
  passthrough: 1008,
  cache: 1003,
  kv: 1004,
  d1: 1005,
  queue: 1006,
  r2: 1007,
};
const wrangler = {
  compatibility_date: "2026-11-01",
  compatibility_flags: ["nodejs_compat"],
  vars: { ORIGIN_URL: "http://127.0.0.1:8000", LIMITS: { a: 1 } },
  kv_namespaces: [{ binding: "EDGE_KV" }],
  d1_databases: [{ binding: "DB", migrations_dir: "migrations" }],
  r2_buckets: [{ binding: "ARCHIVE" }],
  queues: { producers: [{ binding: "Q", queue: "events" }] },
  services: [{ binding: "OTHER", service: "x" }],
};

describe("bench page", () => {
  it("is exactly 10 KB of ASCII HTML", () => {
    const p = benchPage();
    expect(Buffer.byteLength(p)).toBe(10240);
    expect(p.length).toBe(10240);
    expect(p.startsWith("<!doctype html>")).toBe(true);
    expect(p.endsWith("</html>")).toBe(true);
  });
});

describe("workerd config", () => {
  const bundleDir = join(dir, "bundle");
  mkdirSync(bundleDir);
  writeFileSync(join(bundleDir, "index.js"), "export default {}");
  writeFileSync(join(bundleDir, "index.js.map"), "{}");
  const helloPath = writeHelloWorker(dir);
  const passthroughPath = writePassthroughWorker(dir);
  const { text, described } = workerdConfig({
    configDir: dir,
    bundleDir,
    helloPath,
    passthroughPath,
    wrangler,
    vars: { ORIGIN_URL: "http://127.0.0.1:4321" },
    ports,
  });

  it("maps every wrangler binding to a harness service", () => {
    expect(text).toContain('(name = "ORIGIN_URL", text = "http://127.0.0.1:4321")');
    expect(text).toContain('(name = "LIMITS", json = "{\\"a\\":1}")');
    expect(text).toContain('(name = "EDGE_KV", kvNamespace = "kv-EDGE_KV")');
    expect(text).toContain('moduleName = "cloudflare-internal:d1-api"');
    expect(text).toContain('(name = "ARCHIVE", r2Bucket = "r2")');
    expect(text).toContain('(name = "Q", queue = "queue-Q")');
    expect(text).toContain('address = "127.0.0.1:1004"');
    expect(described.join(" ")).toContain("NOT BOUND (unsupported by the harness): services");
  });

  it("routes cache API and fetch as workerd needs for loopback", () => {
    expect(text).toContain('cacheApiOutbound = "cache"');
    expect(text).toContain('(name = "internet", network = (allow = ["public", "private"]))');
    expect(text).toContain('address = "127.0.0.1:1001", http = (), service = "edge"');
    expect(text).toContain('address = "127.0.0.1:1008", http = (), service = "passthrough"');
    // The reference pass-through reaches the same origin as the edge.
    expect(text).toMatch(/passthroughWorker[\s\S]*\(name = "ORIGIN_URL", text = "http:\/\/127.0.0.1:4321"\)/);
  });

  it("embeds the entry module first and skips source maps", () => {
    expect(text).toMatch(/modules = \[\s*\(name = "index.js", esModule = embed "bundle\/index.js"\)\s*\]/);
    expect(text).not.toContain("index.js.map");
  });
});

describe("nginx config", () => {
  it("caches only /cached and proxies to the given origin port", () => {
    const conf = nginxConf({ prefix: "/tmp/p", port: 9001, originPort: 9002 });
    expect(conf).toContain("worker_processes 2;");
    expect(conf).toContain("listen 127.0.0.1:9001;");
    expect(conf).toContain("server 127.0.0.1:9002;");
    expect(conf).toMatch(/location \/cached \{[^}]*proxy_cache bench;/);
    expect(conf).not.toMatch(/location \/ \{[^}]*proxy_cache /);
  });
});
