import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ARM_SCRIPT_PATH } from "../src/prefetch/arm-script.ts";
import { cacheStatus, makeEdge, uniquePath } from "./helpers.ts";

describe("prefetch wiring (edge/src/index.ts)", () => {
  it("origin HTML carries the rules header and the arm script, on MISS and on HIT", async () => {
    const path = uniquePath("pf-wire");
    const miss = await exports.default.fetch(`http://shop.test${path}`);
    const body = await miss.text();
    const rules = `/_edge/prefetch/rules.json?p=${encodeURIComponent(path)}`;
    expect(miss.headers.get("speculation-rules")).toBe(`"${rules}"`);
    expect(body).toContain(`<script src="${ARM_SCRIPT_PATH}" data-rules="${rules}" async></script>`);
    expect(miss.headers.get("accept-ch")).toMatch(/\bECT\b/);
    const hit = await exports.default.fetch(`http://shop.test${path}`);
    expect(cacheStatus(hit)).toBe("HIT");
    expect(hit.headers.get("speculation-rules")).toBe(`"${rules}"`);
    expect((await hit.text()).match(/prefetch\/arm\.js/g)?.length).toBe(1);
  });

  it("injects the arm script and the beacon in one pass: once each, in order, before </body> (stored and bypassed pages)", async () => {
    const path = uniquePath("pf-one-pass");
    const rules = `/_edge/prefetch/rules.json?p=${encodeURIComponent(path)}`;
    const tags = `<script src="${ARM_SCRIPT_PATH}" data-rules="${rules}" async></script><script src="/_rum/beacon.js" async></script></body>`;
    const stored = await exports.default.fetch(`http://shop.test${path}`);
    const bypassed = await exports.default.fetch(`http://shop.test${path}`, {
      headers: { authorization: "Bearer x" },
    });
    expect(cacheStatus(bypassed)).toBe("BYPASS");
    for (const res of [stored, bypassed]) {
      expect(res.headers.get("speculation-rules")).toBe(`"${rules}"`);
      const html = await res.text();
      expect(html).toContain(tags);
      expect(html.match(/prefetch\/arm\.js/g)?.length).toBe(1);
      expect(html.match(/_rum\/beacon\.js/g)?.length).toBe(1);
    }
  });

  it("serves the arm script and the rules document; unknown prefetch routes are 404", async () => {
    const arm = await exports.default.fetch(`http://shop.test${ARM_SCRIPT_PATH}`);
    expect(arm.headers.get("content-type")).toContain("text/javascript");
    expect(await arm.text()).toContain("rum:arm");
    const rules = await exports.default.fetch("http://shop.test/_edge/prefetch/rules.json?p=/x");
    expect(rules.headers.get("content-type")).toBe("application/speculationrules+json");
    await rules.arrayBuffer();
    const bad = await exports.default.fetch("http://shop.test/_edge/prefetch/nope");
    expect(bad.status).toBe(404);
    await bad.arrayBuffer();
  });

  it("does not log a speculative request as a page view", async () => {
    const t = makeEdge();
    const path = uniquePath("pf-log");
    await (await t.call(path, { headers: { "sec-purpose": "prefetch" } })).arrayBuffer();
    await t.edge.logger.flush();
    expect(t.logged.filter((m) => m.path === path).length).toBe(0);
    await (await t.call(path)).arrayBuffer();
    await t.edge.logger.flush();
    expect(t.logged.filter((m) => m.path === path).length).toBe(1);
  });
});
