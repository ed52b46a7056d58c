import { describe, expect, it } from "vitest";
import { EdgeLogBatch } from "./edge-log-batch.ts";
import { packNdjson, readMessageBody } from "./queue-contract.ts";
import type { EdgeLogMessage, ImageLogMessage } from "./rum-types.ts";

const edge: EdgeLogMessage = {
  kind: "edge",
  ts: 1,
  rid: "r1",
  site: "demo",
  pageGroup: "product",
  path: "/p/1",
  status: 200,
  cacheStatus: "MISS",
  edgeMs: 10,
  originMs: 8,
  appMs: 5,
  country: "DE",
  colo: "FRA",
  device: "mobile",
  browser: "chrome",
};
const image: ImageLogMessage = {
  kind: "image",
  ts: 2,
  rid: "i1",
  site: "demo",
  format: "avif",
  device: "mobile",
  width: 640,
  cacheStatus: "HIT",
  originalBytes: 100,
  deliveredBytes: 40,
  fallback: false,
};

describe("queue message codec", () => {
  it("decodes what it encodes, line for line; counts malformed lines", () => {
    const lines = [
      JSON.stringify(edge),
      "{not json",
      JSON.stringify(image),
      JSON.stringify({ kind: "pageview" }),
    ];
    const { body, contentType } = packNdjson(lines);
    expect(contentType).toBe("text");
    const read = readMessageBody(body);
    expect(read.messages).toEqual([edge, image]);
    expect(read.lines).toEqual([lines[0], lines[2]]);
    expect(read.bad).toBe(2);
  });

  it("accepts one record object and expands the edge's columnar batch", () => {
    expect(readMessageBody(edge).messages).toEqual([edge]);
    expect(readMessageBody(42).bad).toBe(1);
    const batch = new EdgeLogBatch("demo", 100_000);
    batch.add(1, "r1", "/p/1", () => "product", 200, "MISS", 10, 8, 5, "DE", "FRA", "mobile", "chrome");
    const read = readMessageBody(packNdjson([batch.json()]).body);
    expect(read.messages).toHaveLength(1);
    expect(read.messages[0]).toMatchObject({ kind: "edge", rid: "r1", site: "demo" });
  });
});
