/**
 * Generates the workerd capnp config that runs the bundled Worker and the hello-world Worker
 * side by side in one workerd process, each on its own loopback socket, with the Worker's
 * wrangler bindings mapped onto the harness's binding services (see bindings-server.mjs).
 */
import { readdirSync, writeFileSync } from "node:fs";
import { extname, join, relative } from "node:path";
import { benchPage, CACHEABLE_HEADERS } from "./page.mjs";

/** A capnp text string literal (JSON escaping is a subset capnp accepts for ASCII). */
function str(s) {
  return JSON.stringify(String(s)).replace(/[\u007f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
}

/** Module list of a wrangler dry-run output dir, the entry module first. */
function bundleModules(bundleDir, main, configDir) {
  const mods = [];
  for (const f of readdirSync(bundleDir, { recursive: true })) {
    const file = String(f);
    const ext = extname(file);
    // capnp resolves `embed` paths relative to the config file.
    const path = relative(configDir, join(bundleDir, file));
    if (ext === ".js" || ext === ".mjs") mods.push(`(name = ${str(file)}, esModule = embed ${str(path)})`);
    else if (ext === ".wasm") mods.push(`(name = ${str(file)}, wasm = embed ${str(path)})`);
    else if (ext === ".bin") mods.push(`(name = ${str(file)}, data = embed ${str(path)})`);
    else if (ext === ".txt" || ext === ".html" || ext === ".sql")
      mods.push(`(name = ${str(file)}, text = embed ${str(path)})`);
    // .map and README.md are not modules.
    if (file === main) mods.unshift(mods.pop());
  }
  if (!mods[0]?.includes(str(main))) throw new Error(`bundle ${bundleDir} has no entry module ${main}`);
  return mods;
}

/** Writes the hello-world Worker (returns the bench page from memory) into `dir`; returns its path. */
export function writeHelloWorker(dir) {
  const path = join(dir, "hello.js");
  writeFileSync(
    path,
    `// The runtime's ceiling: the same 10 KB page and headers as the origin, from memory.\n` +
      `const PAGE = ${JSON.stringify(benchPage())};\n` +
      `const HEADERS = ${JSON.stringify(CACHEABLE_HEADERS)};\n` +
      "export default { fetch() { return new Response(PAGE, { headers: HEADERS }); } };\n",
  );
  return path;
}

/**
 * Writes the "hello-world with the edge HIT's headers" Worker into `dir`; returns its path. It
 * answers the bytes and headers the bench gives it once (a `POST` of `{headers, body}` taken
 * from an edge HIT: [name, value] pairs and the page text), setting `Server-Timing` and
 * `X-Request-Id` per request the way the edge does: what the runtime can do when it sends what a
 * HIT must send, with no cache logic at all (context for the HIT ÷ ceiling ratio).
 */
export function writeHelloHeadersWorker(dir) {
  const path = join(dir, "hello-headers.js");
  writeFileSync(
    path,
    `// The runtime's ceiling for an answer carrying the edge HIT's headers and bytes.
let BYTES = null;
let H = null;
let n = 0;
export default {
  async fetch(req) {
    if (H === null) {
      if (req.method !== "POST") return new Response("POST {headers, body} first", { status: 409 });
      const c = await req.json();
      BYTES = new TextEncoder().encode(c.body).buffer;
      H = new Headers(c.headers);
      return new Response(null, { status: 204 });
    }
    n++;
    H.set("server-timing", "cdn-cache;desc=HIT, edge;dur=0, rid;desc=a1b2c3d4e5f6-" + n.toString(36));
    H.set("x-request-id", "a1b2c3d4e5f6-" + n.toString(36));
    return new Response(BYTES, { headers: H });
  },
};
`,
  );
  return path;
}

/** Writes the reference pass-through Worker (bare `fetch` to ORIGIN_URL) into `dir`; returns its path. */
export function writePassthroughWorker(dir) {
  const path = join(dir, "passthrough.js");
  writeFileSync(
    path,
    "// Reference MISS path: what bare workerd fetch costs, with nothing else around it.\n" +
      "export default {\n" +
      "  fetch(req, env) {\n" +
      "    const url = req.url;\n" +
      '    return fetch(env.ORIGIN_URL + url.slice(url.indexOf("/", url.indexOf("//") + 2)));\n' +
      "  },\n" +
      "};\n",
  );
  return path;
}

/**
 * Builds the capnp config text for a config file in `configDir`. `wrangler` is `unstable_readConfig()` output; `vars` override
 * or add text bindings; `ports` = { edge, hello, hellohdrs, passthrough, cache, kv, d1, queue, r2 }. Returns
 * { text, bindings } where `bindings` describes how each binding was served (for the report).
 */
export function workerdConfig({
  configDir,
  bundleDir,
  main = "index.js",
  helloPath,
  helloHeadersPath,
  passthroughPath,
  wrangler,
  vars,
  ports,
}) {
  const bindings = [];
  const described = [];
  const allVars = { ...(wrangler.vars ?? {}), ...vars };
  for (const [name, value] of Object.entries(allVars)) {
    bindings.push(
      typeof value === "string"
        ? `(name = ${str(name)}, text = ${str(value)})`
        : `(name = ${str(name)}, json = ${str(JSON.stringify(value))})`,
    );
  }
  described.push(`vars: ${Object.keys(allVars).join(", ")}`);
  const services = [];
  const external = (svcName, port, headers = {}) => {
    const inject = Object.entries(headers)
      .map(([k, v]) => `(name = ${str(k)}, value = ${str(v)})`)
      .join(", ");
    services.push(
      `(name = ${str(svcName)}, external = (address = "127.0.0.1:${port}", http = (injectRequestHeaders = [${inject}])))`,
    );
  };
  for (const ns of wrangler.kv_namespaces ?? []) {
    const svc = `kv-${ns.binding}`;
    external(svc, ports.kv, { "x-bench-namespace": ns.binding });
    bindings.push(`(name = ${str(ns.binding)}, kvNamespace = ${str(svc)})`);
    described.push(`KV ${ns.binding}: in-memory KV service`);
  }
  const d1s = wrangler.d1_databases ?? [];
  if (d1s.length > 0) external("d1", ports.d1);
  for (const d of d1s) {
    bindings.push(
      `(name = ${str(d.binding)}, wrapped = (moduleName = "cloudflare-internal:d1-api", innerBindings = [(name = "fetcher", service = "d1")]))`,
    );
    described.push(
      `D1 ${d.binding}: in-memory node:sqlite with ${d.migrations_dir ?? "no"} migrations${d1s.length > 1 ? " (shared by all D1 bindings)" : ""}`,
    );
  }
  for (const r of wrangler.r2_buckets ?? []) {
    if (!services.some((s) => s.includes('"r2"'))) external("r2", ports.r2);
    bindings.push(`(name = ${str(r.binding)}, r2Bucket = "r2")`);
    described.push(`R2 ${r.binding}: stub answering 500 (counted)`);
  }
  for (const q of wrangler.queues?.producers ?? []) {
    const svc = `queue-${q.binding}`;
    external(svc, ports.queue, { "x-bench-queue": q.queue });
    bindings.push(`(name = ${str(q.binding)}, queue = ${str(svc)})`);
    described.push(`Queue ${q.binding}: counted and dropped (no consumer runs)`);
  }
  const unsupported = [
    ["durable_objects", wrangler.durable_objects?.bindings],
    ["services", wrangler.services],
    ["analytics_engine_datasets", wrangler.analytics_engine_datasets],
    ["ai", wrangler.ai ? [wrangler.ai] : []],
    ["hyperdrive", wrangler.hyperdrive],
    ["vectorize", wrangler.vectorize],
  ].filter(([, list]) => (list?.length ?? 0) > 0);
  if (unsupported.length > 0) {
    described.push(`NOT BOUND (unsupported by the harness): ${unsupported.map(([k]) => k).join(", ")}`);
  }
  if (wrangler.assets?.directory) described.push("assets: not served (Worker only)");

  const compat = `compatibilityDate = ${str(wrangler.compatibility_date)}, compatibilityFlags = [${(wrangler.compatibility_flags ?? []).map(str).join(", ")}]`;
  const text = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edgeWorker),
    (name = "hello", worker = .helloWorker),
    ${helloHeadersPath ? '(name = "hellohdrs", worker = .helloHeadersWorker),' : ""}
    (name = "passthrough", worker = .passthroughWorker),
    (name = "cache", external = (address = "127.0.0.1:${ports.cache}", http = ())),
    (name = "internet", network = (allow = ["public", "private"])),
    ${services.join(",\n    ")}
  ],
  sockets = [
    (name = "edge", address = "127.0.0.1:${ports.edge}", http = (), service = "edge"),
    (name = "hello", address = "127.0.0.1:${ports.hello}", http = (), service = "hello"),
    ${helloHeadersPath ? `(name = "hellohdrs", address = "127.0.0.1:${ports.hellohdrs}", http = (), service = "hellohdrs"),` : ""}
    (name = "passthrough", address = "127.0.0.1:${ports.passthrough}", http = (), service = "passthrough"),
  ],
);

const edgeWorker :Workerd.Worker = (
  modules = [
    ${bundleModules(bundleDir, main, configDir).join(",\n    ")}
  ],
  ${compat},
  bindings = [
    ${bindings.join(",\n    ")}
  ],
  globalOutbound = "internet",
  cacheApiOutbound = "cache",
);

const helloWorker :Workerd.Worker = (
  modules = [(name = "hello.js", esModule = embed ${str(relative(configDir, helloPath))})],
  ${compat},
  globalOutbound = "internet",
  cacheApiOutbound = "cache",
);

${
  helloHeadersPath
    ? `const helloHeadersWorker :Workerd.Worker = (
  modules = [(name = "hello-headers.js", esModule = embed ${str(relative(configDir, helloHeadersPath))})],
  ${compat},
);

`
    : ""
}const passthroughWorker :Workerd.Worker = (
  modules = [(name = "passthrough.js", esModule = embed ${str(relative(configDir, passthroughPath))})],
  ${compat},
  bindings = [(name = "ORIGIN_URL", text = ${str(allVars.ORIGIN_URL ?? "")})],
  globalOutbound = "internet",
);
`;
  return { text, described };
}
