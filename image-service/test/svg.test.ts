import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createImageApp } from "../src/app.ts";
import { MAX_DEPTH, sanitizeSvg } from "../src/svg-sanitize.ts";
import { bytes, startOrigin, testConfig } from "./helpers.ts";

const NS = 'xmlns="http://www.w3.org/2000/svg"';
const svg = (body: string, attrs = "") => `<svg ${NS}${attrs}>${body}</svg>`;
const clean = (text: string) => new TextDecoder().decode(sanitizeSvg(new TextEncoder().encode(text)));

/** `<use>` fan-out: each level uses the previous one ten times (10^levels rendered nodes). */
function useBomb(levels: number): string {
  let defs = '<g id="l0"><rect width="1" height="1"/></g>';
  for (let i = 1; i <= levels; i++) {
    defs += `<g id="l${i}">${Array.from({ length: 10 }, () => `<use href="#l${i - 1}"/>`).join("")}</g>`;
  }
  return svg(`<defs>${defs}</defs><use href="#l${levels}"/>`);
}

describe("sanitizeSvg refuses what could run, load or explode", () => {
  it.each([
    ["script", svg("<script>alert(1)</script>"), "<script> element"],
    [
      "script in another namespace",
      svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>'),
      "<script> element",
    ],
    ["event handler", svg('<rect onclick="alert(1)"/>'), "event handler onclick"],
    ["onload on the root", `<svg ${NS} onload="alert(1)"/>`, "event handler onload"],
    ["foreignObject", svg("<foreignObject><div>x</div></foreignObject>"), "<foreignObject> element"],
    ["iframe", svg("<iframe/>"), "<iframe> element"],
    [
      "entity expansion",
      `<!DOCTYPE svg [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;">]>${svg("<text>&b;</text>")}`,
      "DOCTYPE",
    ],
    ["external DTD", `<!DOCTYPE svg SYSTEM "http://evil.test/x.dtd">${svg("")}`, "DOCTYPE"],
    ["external image", svg('<image href="https://evil.test/track.png"/>'), "external reference"],
    [
      "xlink external use",
      svg('<use xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="https://evil.test/a.svg#x"/>'),
      "external reference",
    ],
    ["file URL", svg('<image href="file:///etc/passwd"/>'), "external reference"],
    [
      "nested SVG data URL",
      svg('<image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/>'),
      "external reference",
    ],
    ["CSS url()", svg('<rect style="fill:url(https://evil.test/x)"/>'), "external reference url("],
    ["CSS @import", svg("<style>@import url(https://evil.test/a.css);</style>"), "@import"],
    ["fill url()", svg('<rect fill="url(http://169.254.169.254/)"/>'), "external reference url("],
    ["javascript: URL", svg('<rect filter="javascript:alert(1)"/>'), "script URL"],
    ["xml-stylesheet", `<?xml-stylesheet href="https://evil.test/a.css"?>${svg("")}`, "external stylesheet"],
    ["malformed", `<svg ${NS}><rect></svg>`, "malformed XML"],
    ["not SVG", "<html><body/></html>", "root element is not <svg>"],
    ["deep nesting", svg(`${"<g>".repeat(MAX_DEPTH + 5)}${"</g>".repeat(MAX_DEPTH + 5)}`), "nesting deeper"],
    ["<use> fan-out (billion laughs)", useBomb(7), "<use> expands to more than"],
    [
      "<use> cycle",
      svg('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>'),
      "<use> reference cycle",
    ],
  ])("%s", (_name, text, reason) => {
    expect(() => clean(text)).toThrow(reason);
  });

  it("keeps drawing content, drops links, animation, comments and editor data", () => {
    const out = clean(
      svg(
        '<!-- c --><sodipodi:namedview xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"/>' +
          '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>' +
          '<a href="javascript:alert(1)"><rect width="10" height="10" fill="url(#g)"/></a>' +
          '<set attributeName="href" to="javascript:alert(1)"/><use href="#g"/><text x="1">a &lt; b</text>',
        ' width="10" height="10" viewBox="0 0 10 10"',
      ),
    );
    expect(out).toBe(
      `<svg ${NS} width="10" height="10" viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#fff"></stop></linearGradient></defs>` +
        '<rect width="10" height="10" fill="url(#g)"></rect><use href="#g"></use><text x="1">a &lt; b</text></svg>',
    );
    expect(clean(useBomb(3))).toContain("<use");
  });
});

let origin: Awaited<ReturnType<typeof startOrigin>>;
const bomb = gzipSync(Buffer.from(`<svg ${NS}>${" ".repeat(100 * 1024 * 1024)}</svg>`));

beforeAll(async () => {
  origin = await startOrigin({
    "/logo.svg": bytes(
      Buffer.from(svg('<rect width="4" height="4"/>', ' width="4" height="4"')),
      "image/svg+xml",
    ),
    "/xss.svg": bytes(
      Buffer.from(svg('<script>alert(document.domain)</script><rect width="4" height="4"/>')),
      "image/svg+xml",
    ),
    "/bomb.svgz": bytes(bomb, "image/svg+xml", { "content-encoding": "gzip" }),
  });
});
afterAll(() => origin.close());

describe("the service passes SVG on only sanitised, with a locked-down CSP", () => {
  it("serves a clean SVG as image/svg+xml with CSP and nosniff, ignoring size options (as Cloudflare does)", async () => {
    const app = createImageApp(testConfig([origin.url]).config);
    const res = await app.request("/transform?url=/logo.svg&w=100&f=auto");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toBe(`<svg ${NS} width="4" height="4"><rect width="4" height="4"></rect></svg>`);
  });

  it("refuses an SVG with a script (422 with the reason), never echoes it", async () => {
    const app = createImageApp(testConfig([origin.url]).config);
    const res = await app.request("/transform?url=/xss.svg");
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ error: "SVG refused: <script> element" });
  });

  it("never inflates an SVGZ: a 100 MB bomb is refused at once (415), or by bytes when over the limit (413)", async () => {
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const app = createImageApp(testConfig([origin.url]).config);
    const res = await app.request("/transform?url=/bomb.svgz&w=10");
    expect(res.status).toBe(415);
    const small = createImageApp(testConfig([origin.url], { maxSourceBytes: 10_000 }).config);
    expect((await small.request("/transform?url=/bomb.svgz&w=10")).status).toBe(413);
  });
});
