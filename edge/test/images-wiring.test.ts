import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("root worker wiring (edge/src/index.ts)", () => {
  it("routes /cdn-cgi/image/* to the image route (bad options → 400 with the uniform message)", async () => {
    const res = await exports.default.fetch("http://shop.test/cdn-cgi/image/width=-3/img/a.jpg");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'Expected integer between 1 and 8192 for width but received "-3"',
    });
  });

  it("sends Accept-CH on HTML pages from the origin", async () => {
    const res = await exports.default.fetch(`http://shop.test/t/images-wiring-${Date.now()}`);
    expect(res.headers.get("content-type")).toContain("text/html");
    // Other parts may ask for hints of their own (the prefetch module asks for ECT first).
    const asked = (res.headers.get("accept-ch") ?? "").split(",").map((x) => x.trim());
    for (const hint of [
      "Sec-CH-Width",
      "Sec-CH-DPR",
      "Sec-CH-Viewport-Width",
      "ECT",
      "RTT",
      "Downlink",
      "Save-Data",
    ]) {
      expect(asked).toContain(hint);
    }
    await res.arrayBuffer();
  });
});
