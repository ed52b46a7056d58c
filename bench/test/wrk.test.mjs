import { describe, expect, it } from "vitest";
import { parseWrk, wrkDurationMs } from "../lib/wrk.mjs";

const SAMPLE = `Running 5s test @ http://127.0.0.1:41234/cached
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    8.31ms 312.55ms   98.88%
    Req/Sec     7.01k   512.33     7.80k    72.00%
  Latency Distribution
     50%  812.00us
     75%    1.20ms
     90%    1.71ms
     99%    1.02s
  34871 requests in 5.00s, 352.02MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 17
Requests/sec:   6974.20
Transfer/sec:     70.40MB
`;

describe("wrk parsing", () => {
  it("converts every wrk duration unit to ms", () => {
    expect(wrkDurationMs("812.00us")).toBeCloseTo(0.812);
    expect(wrkDurationMs("1.20ms")).toBe(1.2);
    expect(wrkDurationMs("1.02s")).toBe(1020);
    expect(wrkDurationMs("2m")).toBe(120_000);
    expect(() => wrkDurationMs("fast")).toThrow(/unparsable/);
  });

  it("reads throughput, percentiles and errors", () => {
    const r = parseWrk(SAMPLE);
    expect(r.rps).toBe(6974.2);
    expect(r.p50).toBeCloseTo(0.812);
    expect(r.p99).toBe(1020);
    expect(r.requests).toBe(34871);
    expect(r.non2xx).toBe(17);
    expect(r.socketErrors).toBe(5);
  });

  it("reports zero errors when wrk prints none", () => {
    const clean = SAMPLE.replace(/ {2}Socket errors.*\n/, "").replace(/ {2}Non-2xx.*\n/, "");
    const r = parseWrk(clean);
    expect(r.non2xx).toBe(0);
    expect(r.socketErrors).toBe(0);
  });

  it("throws on output without a summary", () => {
    expect(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(/not understood/);
  });
});
