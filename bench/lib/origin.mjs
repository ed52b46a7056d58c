/**
 * Benchmark origin (child process entry): a bare node:http server on 127.0.0.1 that answers
 * `/cached` (10 KB HTML, `public, s-maxage=3600`) and `/nocache` (same bytes, `no-store`), and
 * counts requests per path at `GET /__stats` so the harness can check who reached the origin.
 * Usage: node origin.mjs <port>
 */
import http from "node:http";
import { benchPage, CACHEABLE_HEADERS, UNCACHEABLE_HEADERS } from "./page.mjs";

const port = Number(process.argv[2]);
const body = Buffer.from(benchPage());
const counts = { cached: 0, nocache: 0, other: 0 };
const cachedHeaders = {
  ...CACHEABLE_HEADERS,
  "content-length": body.length,
  "cache-tag": "bench, page-cached",
};
const nocacheHeaders = { ...UNCACHEABLE_HEADERS, "content-length": body.length };

const server = http.createServer((req, res) => {
  // Query strings are allowed so callers can make distinct cache keys.
  const q = req.url.indexOf("?");
  const path = q === -1 ? req.url : req.url.slice(0, q);
  if (path === "/cached") {
    counts.cached++;
    res.writeHead(200, cachedHeaders);
    res.end(req.method === "HEAD" ? undefined : body);
  } else if (path === "/nocache") {
    counts.nocache++;
    res.writeHead(200, nocacheHeaders);
    res.end(req.method === "HEAD" ? undefined : body);
  } else if (path === "/__stats") {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(counts));
  } else {
    counts.other++;
    res.writeHead(404, { "content-type": "text/plain", "cache-control": "no-store" });
    res.end("not found");
  }
});
// Keep idle keep-alive sockets open across wrk rounds and proxy pools.
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.listen(port, "127.0.0.1", () => console.log(`origin listening on 127.0.0.1:${port}`));
