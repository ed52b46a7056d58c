import { describe, expect, it } from "vitest";
import { attribute } from "./attribution.ts";
import { validateBeacon } from "./beacon-schema.ts";
import { sampleBeacon } from "./sample-beacon.ts";

describe("sampleBeacon", () => {
  it("is a beacon the collector accepts, with every attribution part measured", () => {
    const b = sampleBeacon();
    expect(validateBeacon(b).ok).toBe(true);
    const a = attribute({ nav: b.nav, serverTiming: b.serverTiming, vitals: b.vitals, lcpParts: b.lcpParts });
    expect(a.backend).toBe(40);
    expect(a.middleMile).toBe(30);
    expect(a.edgeMeasured).toBe(true);
  });

  it("applies overrides to top-level fields", () => {
    expect(sampleBeacon({ site: "shop", seq: 2 })).toMatchObject({ site: "shop", seq: 2, v: 1 });
  });
});
