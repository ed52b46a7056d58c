// Beacon load for the RUM benchmarks: the shared sample beacon as a JSON template, and a Node
// keep-alive client that POSTs exactly N beacons (wrk cannot stop after an exact count).
import http from "node:http";
import { sampleBeacon } from "../../common/src/sample-beacon.ts";

/** The registered demo origin the beacons claim to come from (RUM_SITES in wrangler.toml). */
export const SITE_ORIGIN = "http://127.0.0.1:8787";

/** The User-Agent every benchmark beacon carries (a current mobile Chrome), as browsers send one. */
export const BENCH_USER_AGENT =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

/** A realistic beacon (a MISS through the edge with app timing), ~1 KB, as JSON; "PVID" marks the page-view id slots. */
export function beaconTemplate() {
  const { serverTiming, ...rest } = sampleBeacon({
    pvid: "PVID",
    rid: "PVID",
    url: `${SITE_ORIGIN}/p/123?utm_source=bench`,
  });
  return JSON.stringify({ ...rest, serverTiming: serverTiming?.filter((e) => e.name !== "rid") });
}

/**
 * POSTs `count` beacons with unique page-view ids (`<prefix>_<i>`) to `baseUrl` + `path` at
 * `concurrency` (default 16) over keep-alive connections, as `text/plain` like sendBeacon, with
 * the registered Origin and a browser User-Agent.
 * Returns { ok, bad, firstError, seconds, rps, p50, p99 } (ok = 204 answers, latencies in ms).
 */
export async function sendBeacons({ baseUrl, count, prefix, path = "/_rum/v1/beacon", concurrency = 16 }) {
  const template = beaconTemplate();
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(path, baseUrl);
  const lat = [];
  let ok = 0;
  let bad = 0;
  let firstError = "";
  let next = 0;
  const one = (i) =>
    new Promise((resolve) => {
      const body = template.replaceAll("PVID", `${prefix}_${String(i).padStart(8, "0")}`);
      const t0 = performance.now();
      const req = http.request(
        url,
        {
          method: "POST",
          agent,
          headers: {
            "Content-Type": "text/plain;charset=UTF-8",
            "Content-Length": Buffer.byteLength(body),
            Origin: SITE_ORIGIN,
            "User-Agent": BENCH_USER_AGENT,
          },
        },
        (res) => {
          const chunks = [];
          res.on("data", (d) => chunks.push(d));
          res.on("end", () => {
            lat.push(performance.now() - t0);
            if (res.statusCode === 204) ok++;
            else {
              bad++;
              if (!firstError)
                firstError = `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`;
            }
            resolve();
          });
        },
      );
      req.on("error", (err) => {
        bad++;
        if (!firstError) firstError = String(err);
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (next < count) await one(next++);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
  return { ok, bad, firstError, seconds, rps: ok / seconds, p50: pct(0.5), p99: pct(0.99) };
}
