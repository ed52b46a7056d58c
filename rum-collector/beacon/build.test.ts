import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  BUILD_DEFAULT_SITE,
  buildBeaconTemplate,
  generatedModule,
  paths,
  withDefaultSite,
} from "./bundle.ts";

/** ANCHORS.md goal: ≤ 4.5 KB gzipped. */
const BUDGET_GZ = 4608;

describe("beacon build", async () => {
  const template = await buildBeaconTemplate();
  const served = withDefaultSite(template, BUILD_DEFAULT_SITE);

  it(`fits the size budget (${BUDGET_GZ} B gzip -9)`, () => {
    const gz = gzipSync(Buffer.from(served), { level: 9 }).length;
    expect(gz).toBeGreaterThan(2000);
    expect(gz).toBeLessThanOrEqual(BUDGET_GZ);
  });

  it("the committed generated module is up to date (run `node rum-collector/beacon/build.mjs`)", async () => {
    const onDisk = await readFile(paths.generatedModule, "utf8");
    expect(onDisk === generatedModule(template), "beacon-asset.generated.ts is stale").toBe(true);
  });

  it("is CSP-safe: no eval or Function constructor, no inline-script needs", () => {
    expect(served).not.toMatch(/\beval\(|new Function\(|\bFunction\(/);
    expect(served).not.toMatch(/document\.cookie/);
    expect(served).toContain("sendBeacon");
    expect(served).toContain(`"${BUILD_DEFAULT_SITE}"`);
  });
});
