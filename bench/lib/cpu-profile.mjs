/**
 * CPU profile of a Worker on workerd through its inspector (`workerd serve --inspector-addr`):
 * the V8 sampling profiler over the Chrome DevTools protocol, summarised as self time per
 * function. A development aid for `bench:edge --profile <target>`; JS only (time spent in the
 * runtime's C++ shows up as "(program)" or under the JS function that called into it).
 */

/** Starts profiling the inspector target whose title or URL contains `match` (else the first). */
export async function startCpuProfile(inspectorUrl, match, intervalUs = 100) {
  const list = await (await fetch(`${inspectorUrl}/json/list`)).json();
  const target = list.find((t) => `${t.title} ${t.url}`.includes(match)) ?? list[0];
  if (!target)
    throw new Error(`no inspector target at ${inspectorUrl} (is workerd running with --inspector-addr?)`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`inspector connection to ${target.title} failed`)), {
      once: true,
    });
  });
  let nextId = 1;
  const pending = new Map();
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data));
    const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
    else p.resolve(msg.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, method });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: intervalUs });
  await send("Profiler.start");
  return {
    target: target.title,
    /** Stops, closes the connection and returns the raw profile. */
    async stop() {
      const { profile } = await send("Profiler.stop");
      ws.close();
      return profile;
    },
  };
}

/** Total time (self + callees) per function, largest first, as shares of all samples. */
export function inclusiveProfile(profile, top = 30) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n) => {
    const f = n.callFrame;
    const file = f.url ? f.url.split("/").pop() : "";
    return `${f.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}` : ""}`;
  };
  const total = new Map();
  for (const id of profile.samples) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = label(byId.get(cur));
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + 1);
    }
  }
  const n = profile.samples.length;
  return [...total]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, c]) => ({ fn, share: c / n, samples: c }));
}

/** Self time per function (`name file:line`), largest first, as shares of all samples. */
export function summariseProfile(profile, top = 30) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const self = new Map();
  for (const [id, n] of counts) {
    const f = byId.get(id)?.callFrame;
    const file = f?.url ? f.url.split("/").pop() : "";
    const key = `${f?.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + n);
  }
  const total = profile.samples.length;
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, n]) => ({ fn, share: n / total, samples: n }));
}
