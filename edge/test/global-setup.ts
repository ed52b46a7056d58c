/**
 * Test origin for the edge's Worker tests: a Node HTTP server on a free port whose behaviour the
 * tests control per path (POST /__ctl/route), that counts requests per path (GET /__ctl/count),
 * records the last request (GET /__ctl/last) and answers 304 to a matching If-None-Match. Its URL is provided as `originUrl`; the vitest config
 * passes the same value to the Worker as ORIGIN_URL.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  interface ProvidedContext {
    originUrl: string;
  }
}

interface Route {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** `{n}` is replaced by the request count for the path, `{path}` by the path. */
  body?: string;
  /** Exact body bytes (base64), sent as they are instead of `body` (e.g. a gzip-encoded body). */
  bodyBase64?: string;
  delayMs?: number;
  /** Headers and the first half of the body at once, the rest this many ms later. */
  bodyDelayMs?: number;
  /** ok (default) | 5xx (503) | close (socket destroyed: network error) | stall (headers and a first chunk, then nothing). */
  mode?: "ok" | "5xx" | "close" | "stall";
}

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
}

const DEFAULT_HEADERS: Record<string, string> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "public, max-age=60",
  "server-timing": 'app;dur=5, db;dur=2;desc="primary db"',
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const routes = new Map<string, Route>();
  const counts = new Map<string, number>();
  const last = new Map<string, Seen>();

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://origin.test");
    const body = await readBody(req);
    const json = (status: number, v: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(v));
    };
    if (url.pathname === "/__ctl/route") {
      const r = JSON.parse(body.toString("utf8")) as Route & { path: string };
      routes.set(r.path, r);
      return json(200, { ok: true });
    }
    if (url.pathname === "/__ctl/count")
      return json(200, { count: counts.get(url.searchParams.get("path") ?? "") ?? 0 });
    if (url.pathname === "/__ctl/last")
      return json(200, last.get(url.searchParams.get("path") ?? "") ?? null);

    const n = (counts.get(url.pathname) ?? 0) + 1;
    counts.set(url.pathname, n);
    last.set(url.pathname, {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      bodyBytes: body.length,
    });
    const route = routes.get(url.pathname) ?? {};
    if (route.delayMs) await new Promise((r) => setTimeout(r, route.delayMs));
    // Like many frameworks: the override header changes the method the app sees (GET → DELETE,
    // not allowed here), and the answer carries the route's cache headers.
    if (req.headers["x-http-method-override"]) {
      res.writeHead(405, { "content-type": "text/plain", "cache-control": "public, max-age=60" });
      res.end("method not allowed");
      return;
    }
    // Like many servers: an oversized Cookie header is refused with 400.
    if ((req.headers.cookie ?? "").length > 4096) {
      res.writeHead(400, { "content-type": "text/plain", "cache-control": "no-store" });
      res.end("request header or cookie too large");
      return;
    }
    if (route.mode === "stall") {
      res.writeHead(200, { ...DEFAULT_HEADERS, ...(route.headers ?? {}) });
      res.write("<!doctype html><html><body>partial");
      return;
    }
    if (route.mode === "close") {
      req.socket.destroy();
      return;
    }
    if (route.mode === "5xx") {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("origin down");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      const echo: Record<string, string | string[]> = {
        "content-type": req.headers["content-type"] ?? "application/octet-stream",
        "x-echo-method": req.method ?? "",
        "content-length": String(body.length),
      };
      // Where the change landed (RFC 9111 §4.4 invalidation tests).
      for (const n of ["location", "content-location"]) {
        const v = route.headers?.[n];
        if (v !== undefined) echo[n] = v;
      }
      res.writeHead(200, echo);
      res.end(body);
      return;
    }
    const headers: Record<string, string | string[]> = { ...DEFAULT_HEADERS, ...(route.headers ?? {}) };
    for (const [k, v] of Object.entries(headers)) if (v === "") delete headers[k];
    if (headers.etag && req.headers["if-none-match"] === headers.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const text = (
      route.body ??
      "<!doctype html><html><head><title>t</title></head><body><h1>{path}</h1><p>n={n}</p></body></html>"
    )
      .replaceAll("{n}", String(n))
      .replaceAll("{path}", url.pathname);
    if (route.bodyBase64 !== undefined) {
      res.writeHead(route.status ?? 200, headers);
      res.end(req.method === "HEAD" ? undefined : Buffer.from(route.bodyBase64, "base64"));
      return;
    }
    // A delayed second half still comes with its length (the edge reads such a page whole).
    if (route.bodyDelayMs) headers["content-length"] = String(Buffer.byteLength(text));
    res.writeHead(route.status ?? 200, headers);
    if (route.bodyDelayMs && req.method !== "HEAD") {
      const half = Math.floor(text.length / 2);
      res.write(text.slice(0, half));
      await new Promise((r) => setTimeout(r, route.bodyDelayMs));
      res.end(text.slice(half));
      return;
    }
    res.end(req.method === "HEAD" ? undefined : text);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("originUrl", `http://127.0.0.1:${port}`);
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
