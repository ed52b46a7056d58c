// The Parquet archive read back by DuckDB (the engine `npm run rum:sql` uses): files written by
// the consumer's archive code, queried in place, through the library and through the CLI.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleBeacon } from "../../common/src/sample-beacon.ts";
import { toPageViewMessage } from "../../rum-collector/src/intake/page-view.ts";
import { archiveObjects, gzipText } from "../../rum-collector/src/store/archive.ts";
import { openArchive, query } from "../../scripts/rum-archive-lib.mjs";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "rum-archive-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 10, 24, 10, 5, 0);
const dims = { country: "DE", colo: "FRA", asn: 3320, device: "mobile", browser: "chrome" };

async function write(messages, id) {
  for (const [key, o] of archiveObjects(messages, id, new Map())) {
    const file = join(dir, key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, new Uint8Array(typeof o.body === "string" ? await gzipText(o.body) : o.body));
  }
}

describe("Parquet archive with DuckDB", () => {
  const lcps = [];
  const msgs = [];
  for (let i = 0; i < 40; i++) {
    const lcp = 1000 + i * 50;
    lcps.push(lcp);
    const b = sampleBeacon({
      pvid: `duck_${i}`,
      rid: `rid_${i}`,
      url: `https://shop.example/p/${i}?email=x#y`,
      vitals: { lcp, inp: 100, cls: 0.1, fcp: 400, ttfb: 141 },
    });
    msgs.push(toPageViewMessage(b, dims, T0 + i * 1000));
  }
  // A later beacon of duck_0 (seq 1) and a retried batch (duplicates) must not change the answer.
  const later = toPageViewMessage(
    sampleBeacon({ pvid: "duck_0", seq: 1, url: "https://shop.example/p/0", vitals: { lcp: 3000 } }),
    dims,
    T0 + 60_000,
  );
  beforeAll(async () => {
    await write(msgs.slice(0, 20), "a");
    await write(msgs.slice(20), "b");
    await write(msgs.slice(20), "b-retry");
    await write([later], "c");
  });

  it("reads the page views with Hive partitions and dedupes by the highest seq", async () => {
    const con = await openArchive(dir);
    const rows = await query(
      con,
      `SELECT count(*) AS n, count(DISTINCT pvid) AS distinct_pv, min(site) AS site, min(date) AS date, min(hour) AS hour FROM pageviews`,
    );
    expect(rows[0]).toMatchObject({
      n: "61",
      distinct_pv: "40",
      site: "demo",
      date: "2026-11-24",
      hour: "10",
    });
    const p75 = await query(
      con,
      `WITH pv AS (SELECT * FROM pageviews QUALIFY row_number() OVER (PARTITION BY site, pvid ORDER BY seq DESC) = 1)
       SELECT quantile_disc(lcp, 0.75) AS p75, max(lcp) AS max, count(*) AS n FROM pv`,
    );
    const expected = [...lcps.slice(1), 3000].sort((a, b) => a - b);
    expect(Number(p75[0].max)).toBe(3000);
    expect(Number(p75[0].n)).toBe(40);
    expect(Number(p75[0].p75)).toBe(expected[Math.ceil(0.75 * 40) - 1]);
    const urls = await query(
      con,
      "SELECT DISTINCT url FROM pageviews WHERE url LIKE '%?%' OR url LIKE '%#%'",
    );
    expect(urls).toEqual([]);
  });

  it("npm run rum:sql answers over the local archive (--no-sync)", () => {
    const out = execFileSync(
      join(root, "node_modules/.bin/node"),
      [
        join(root, "scripts/rum-sql.mjs"),
        "--dir",
        dir,
        "--no-sync",
        "--json",
        "SELECT count(DISTINCT pvid) AS n FROM pageviews",
      ],
      { encoding: "utf8" },
    );
    expect(JSON.parse(out)).toEqual([{ n: "40" }]);
  });
});
