import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BeaconInjector, injectIntoBytes } from "./beacon-inject.ts";

const TAG = '<script src="/_rum/beacon.js" async></script>';
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs the injector over `html` cut at the given byte offsets. */
function run(html: string, cuts: number[] = []): { out: string; injected: boolean } {
  const bytes = enc.encode(html);
  const inj = new BeaconInjector(TAG, "/_rum/beacon");
  const parts: Uint8Array[] = [];
  const emit = (b: Uint8Array) => parts.push(b.slice());
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c < at || c > bytes.length) continue;
    inj.push(bytes.subarray(at, c), emit);
    at = c;
  }
  inj.push(bytes.subarray(at), emit);
  inj.end(emit);
  const total = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    total.set(p, o);
    o += p.length;
  }
  return { out: dec.decode(total), injected: inj.injected };
}

const count = (s: string, sub: string) => s.split(sub).length - 1;

describe("BeaconInjector", () => {
  it("inserts once right before the first </body>", () => {
    const html = "<html><head><title>t</title></head><body><p>hi</p></body></html>";
    expect(run(html).out).toBe(`<html><head><title>t</title></head><body><p>hi</p>${TAG}</body></html>`);
    expect(run("<body>a</BODY >b</body>").out).toBe(`<body>a${TAG}</BODY >b</body>`);
  });

  it("appends at the end when there is no </body> (fragments, empty bodies)", () => {
    expect(run("<p>fragment").out).toBe(`<p>fragment${TAG}`);
    expect(run("").out).toBe(TAG);
    expect(run("<body>x</bodyx></div>").out).toBe(`<body>x</bodyx></div>${TAG}`);
  });

  it("ignores </body> inside comments, raw-text elements and quoted attribute values", () => {
    const cases = [
      "<!-- </body> -->",
      "<!--</body>-->",
      "<script>document.write('</body>')</script>",
      '<script type="module">if (a </b) x("</body>")</script>',
      "<style>/* </body> */</style>",
      "<textarea></body></textarea>",
      "<title></body></title>",
      "<a title=\"</body>\" href='</body>'>x</a>",
      "<!doctype html>",
      "<!---->",
      "<!-->",
      "<!--->",
    ];
    for (const c of cases) {
      const html = `<body>${c}<p>x</p></body>`;
      expect(run(html).out, c).toBe(`<body>${c}<p>x</p>${TAG}</body>`);
    }
  });

  it("leaves a page alone that already loads the beacon before </body>", () => {
    const pages = [
      '<head><script src="/_rum/beacon.js?v=3" async></script></head><body>x</body>',
      "<body><script async src='/_rum/beacon.3f2a9c.js'></script></body>",
      "<body><SCRIPT SRC=/_rum/beacon.js></SCRIPT></body>",
      '<body><script\nsrc = "https://shop.example/_rum/beacon.js" data-consent="pending"></script>',
    ];
    for (const p of pages) {
      const r = run(p);
      expect(r.out, p).toBe(p);
      expect(r.injected).toBe(false);
    }
  });

  it("still injects when the beacon path appears only in text, another attribute or after </body>", () => {
    const pages = [
      "<body><p>/_rum/beacon.js</p></body>",
      '<body><script data-src="/_rum/beacon.js"></script></body>',
      '<body><script>load("/_rum/beacon.js")</script></body>',
      '<body>x</body><script src="/_rum/beacon.js"></script>',
    ];
    for (const p of pages) expect(count(run(p).out, TAG), p).toBe(1);
  });

  it("passes non-ASCII bytes through unchanged", () => {
    const html = "<body><p>Preis: 12,50 € – Größe ✓ 日本</p></body>";
    expect(run(html).out).toBe(html.replace("</body>", `${TAG}</body>`));
  });

  it("injects several tags in one pass, in order, each left out when the page already loads it", () => {
    const ARM = '<script src="/_edge/prefetch/arm.js" async></script>';
    const tags = [
      { html: ARM, path: "/_edge/prefetch/arm" },
      { html: TAG, path: "/_rum/beacon" },
    ];
    const both = (html: string) => dec.decode(injectIntoBytes(enc.encode(html), tags));
    expect(both("<body><p>x</p></body>")).toBe(`<body><p>x</p>${ARM}${TAG}</body>`);
    expect(both("<body><p>x</p>")).toBe(`<body><p>x</p>${ARM}${TAG}`);
    expect(both('<body><script src="/_rum/beacon.9f.js"></script></body>')).toBe(
      `<body><script src="/_rum/beacon.9f.js"></script>${ARM}</body>`,
    );
    expect(both('<body><script src="/_edge/prefetch/arm.js"></script></body>')).toBe(
      `<body><script src="/_edge/prefetch/arm.js"></script>${TAG}</body>`,
    );
    // Both present: the input comes back as it is (no copy), the scan stops at the second script.
    const full = enc.encode(
      '<body><script src="/_edge/prefetch/arm.js"></script><script src="/_rum/beacon.js"></script></body>',
    );
    expect(injectIntoBytes(full, tags)).toBe(full);
    // A script after the insertion point does not count.
    expect(both('<body></body><script src="/_rum/beacon.js"></script>')).toBe(
      `<body>${ARM}${TAG}</body><script src="/_rum/beacon.js"></script>`,
    );
    // No tags: nothing to do.
    expect(injectIntoBytes(full, [])).toBe(full);
  });

  it("gives the same output for every way of cutting the body into chunks", () => {
    const docs = [
      '<!doctype html><html><head><script src="/a.js"></script><style>p{}</style></head><body><!-- c --><p class="a>b">x</p></body></html>',
      "<body><script>'</body>'</script><textarea></body></textarea></BODY>",
      "<body><!-- -- > --></body>",
      '<body><script src="/_rum/beacon.js"></script></body>',
    ];
    for (const d of docs) {
      const whole = run(d).out;
      for (let c = 0; c <= d.length; c++) expect(run(d, [c]).out, `${d} cut at ${c}`).toBe(whole);
      const every = Array.from({ length: d.length }, (_, k) => k);
      expect(run(d, every).out, `${d} byte by byte`).toBe(whole);
    }
  });

  it("property: output is the input with the tag inserted at most once, whatever the chunking", () => {
    const piece = fc.constantFrom(
      "<body>",
      "</body>",
      "</BODY>",
      "<!--",
      "-->",
      "<script>",
      "</script>",
      '<script src="/_rum/beacon.js">',
      "<style>",
      "</style>",
      '"',
      "'",
      "=",
      "<",
      ">",
      "<p>",
      "text",
      " ",
      "é",
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }),
        fc.array(fc.nat(200), { maxLength: 6 }),
        (pieces, cuts) => {
          const html = pieces.join("");
          const whole = run(html);
          expect(run(html, cuts).out).toBe(whole.out);
          if (whole.injected) {
            const at = whole.out.indexOf(TAG);
            expect(whole.out.slice(0, at) + whole.out.slice(at + TAG.length)).toBe(html);
          } else {
            expect(whole.out).toBe(html);
            expect(html).toContain("/_rum/beacon");
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
