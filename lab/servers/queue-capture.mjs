/**
 * The collector's queue as the lab runs it (child process in the edge namespace): speaks
 * workerd's queue protocol (POST /message, POST /batch) on 127.0.0.1:<argv[2]> and prints every
 * page-view message the collector sends (its `attribution` is what the lab checks) as one line
 * `pageview <json>` on stdout. Other records (the edge's page-view log batches) are dropped.
 */
import http from "node:http";
import { deserialize } from "node:v8";

const port = Number(process.argv[2]);

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The records in one message body: NDJSON text, a JSON value, or a V8-serialised value. */
function records(contentType, raw) {
  if (contentType === "v8") {
    const v = deserialize(raw);
    return typeof v === "string" ? lines(v) : [v];
  }
  return lines(raw.toString("utf8"));
}

function lines(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // Not JSON: not a page view.
    }
  }
  return out;
}

function emit(rec) {
  if (rec && typeof rec === "object" && rec.kind === "pageview") {
    process.stdout.write(`pageview ${JSON.stringify(rec)}\n`);
  }
}

const reply = JSON.stringify({
  metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: 0 } },
});

http
  .createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const path = new URL(req.url, "http://queue").pathname;
      if (path === "/batch") {
        for (const m of JSON.parse(body.toString()).messages ?? []) {
          const raw = Buffer.from(String(m.body ?? ""), "base64");
          for (const rec of records(m.contentType, raw)) emit(rec);
        }
      } else {
        const type = String(req.headers["x-msg-fmt"] ?? req.headers["content-type"] ?? "");
        for (const rec of records(type.includes("v8") ? "v8" : "text", body)) emit(rec);
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(reply);
    } catch (err) {
      process.stdout.write(`error ${String(err?.message ?? err)}\n`);
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err?.message ?? err));
    }
  })
  .listen(port, "127.0.0.1", () => console.log(`ready ${port}`));
process.once("SIGTERM", () => process.exit(0));
