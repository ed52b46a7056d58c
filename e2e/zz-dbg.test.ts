import { it } from "vitest";
import { startStack } from "../scripts/stack.mjs";
import { launchChromium } from "./browser.ts";
it("dbg", async () => {
  const [stack, b] = await Promise.all([startStack({ edgePort: 0, imagePort: 0, demoPort: 0, traffic: false, quiet: true }), launchChromium()]);
  try {
  const c = await b.newContext(); const p = await c.newPage();
  p.on("response", async (r) => { if (r.url().includes("/_rum/v1/")) console.log("RESP", r.status(), await r.text().catch(() => ""), r.request().postData()?.slice(0, 3000)); });
  await p.goto(stack.urls.edge + "/p/1", { waitUntil: "load" });
  await p.waitForTimeout(300); await p.click("h1"); await p.waitForTimeout(1500);
  await p.evaluate(() => { Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true }); document.dispatchEvent(new Event("visibilitychange", { bubbles: true })); });
  await p.waitForTimeout(2000);
  const r = await fetch(stack.urls.edge + "/_rum/v1/pageviews?limit=5", { headers: { Authorization: `Bearer ${stack.tokens.query}` } });
  console.log("PV", r.status, (await r.text()).slice(0, 3000));
  } finally { await b.close(); await stack.stop(); }
}, 120000);
