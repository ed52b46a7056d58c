/**
 * Runs one scenario: sets the links' delays and the origin's backend time, loads the page views
 * in Chromium (a throw-away view, then `views` measured ones), waits for each view's page-view
 * message from the collector, and pairs what the collector attributed with the truth from the
 * links (which saw every TCP SYN).
 */
import { navigate } from "./browser.mjs";
import { sleep } from "./children.mjs";
import { monoUs } from "./link.mjs";
import { EDGE_URL } from "./servers.mjs";
import { compareScenario, truthFor } from "./truth.mjs";
import { witnessRequest } from "./witness.mjs";

/** Pause after a restart or a new page before a view, so start-up work does not overlap it. */
const SETTLE_MS = 250;

/**
 * Runs scenario `s` with `lab` = { browser, lastLink, middleLink, origin, pageViews, log, views,
 * index }. Returns { scenario, rows, views, notes }.
 */
export async function runScenario(s, lab) {
  const { browser, lastLink, middleLink, origin } = lab;
  await lastLink.setDelay(s.lastMile / 2);
  await middleLink.setDelay(s.middleMile / 2);
  if (origin.backendMs !== s.backend) await origin.restart(s.backend);
  const tag = `${lab.index}-${Date.now().toString(36)}`;
  const urls = Array.from(
    { length: lab.views + 1 },
    (_, i) => `${EDGE_URL}/p/${1 + (lab.index % 200)}?lab=${tag}-${i}`,
  );
  if (s.cache === "HIT") await warm(browser, urls);

  const navs = [];
  if (s.conn === "cold") {
    for (const url of urls) {
      // A cold view: the origin drops its connections (the edge must open a new one) and a new
      // browser context has no connection to the edge.
      if (s.cache === "MISS") {
        await origin.restart(s.backend);
      }
      const context = await browser.newContext();
      const page = await context.newPage();
      // Let the restarted origin and the new renderer process settle (the edge sees the FIN too).
      await sleep(SETTLE_MS);
      const sinceUs = monoUs();
      navs.push({ url, sinceUs, times: await navigate(page, url) });
      await page.goto("about:blank");
      await lab.pageViews.waitFor(navs.at(-1).times.rid);
      await context.close();
    }
  } else {
    const context = await browser.newContext();
    const page = await context.newPage();
    await sleep(SETTLE_MS);
    for (const url of urls) {
      const sinceUs = monoUs();
      navs.push({ url, sinceUs, times: await navigate(page, url) });
      // The view's beacon leaves on pagehide, when the next navigation commits.
    }
    await page.goto("about:blank");
    for (const n of navs) await lab.pageViews.waitFor(n.times.rid);
    await context.close();
  }

  const notes = new Set();
  const views = [];
  for (const [i, n] of navs.entries()) {
    const msg = await lab.pageViews.waitFor(n.times.rid);
    const u = new URL(n.url);
    const target = u.pathname + u.search;
    const client = witnessRequest(lastLink.events(), {
      target,
      sinceUs: n.sinceUs,
      oneWayUs: s.lastMile * 500,
    });
    if (!client) throw new Error(`the last-mile link never saw the request for ${target}`);
    const toOrigin = witnessRequest(middleLink.events(), {
      target,
      sinceUs: n.sinceUs,
      oneWayUs: s.middleMile * 500,
    });
    const newClientConn = client.newConn;
    const newOriginConn = toOrigin?.newConn ?? false;
    const a = msg.attribution;
    const st = (name) => msg.beacon.serverTiming?.find((e) => e.name === name)?.duration ?? Number.NaN;
    const view = {
      url: n.url,
      cacheStatus: msg.cacheStatus,
      newClientConn,
      newOriginConn,
      truth: truthFor(s, { newClientConn, newOriginConn, originTransferMs: toOrigin?.transferMs ?? 0 }),
      originTransferMs: toOrigin?.transferMs ?? Number.NaN,
      measured: {
        lastMileConnect: a.lastMileConnect,
        lastMileWire: a.lastMileWire,
        edge: a.edge,
        middleMile: a.middleMile,
        backend: a.backend ?? Number.NaN,
      },
      // Server time the links saw but no Server-Timing covers: the edge's outside `edge;dur`
      // (lands in the last-mile wire), the origin's outside `app;dur` (lands in the middle mile).
      unseen: {
        lastMileWire: client.serverMs - st("edge"),
        middleMile: toOrigin ? toOrigin.serverMs - st("app") : Number.NaN,
      },
      edge: a.edge,
      queueing: a.queueing,
      ttfb: a.ttfb,
    };
    if (i === 0) continue; // the throw-away view
    if (msg.cacheStatus !== s.cache) notes.add(`view ${i}: cache ${msg.cacheStatus}, planned ${s.cache}`);
    const planned = s.conn === "cold";
    if (newClientConn !== planned)
      notes.add(`view ${i}: ${newClientConn ? "new" : "reused"} client connection`);
    if (s.cache === "MISS" && newOriginConn !== planned) {
      notes.add(`view ${i}: ${newOriginConn ? "new" : "reused"} origin connection`);
    }
    views.push(view);
  }
  return { scenario: s, rows: compareScenario(views), views, notes: [...notes] };
}

/**
 * Puts every URL into the edge's cache: one same-origin fetch each from a throw-away page (no
 * page view, so no beacon). Whether the views then were HITs is checked on their messages.
 */
async function warm(browser, urls) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${EDGE_URL}/_rum/beacon.js`);
  await page.evaluate(async (list) => {
    for (const u of list) await (await fetch(u)).text();
  }, urls);
  await context.close();
}
