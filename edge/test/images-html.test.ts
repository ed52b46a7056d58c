import { describe, expect, it } from "vitest";
import { DEFAULT_IMAGE_WIDTHS } from "../../common/src/image-negotiation.ts";
import { imgRewrite } from "../src/images/srcset.ts";
import { makeImages } from "./images/helpers.ts";

const PAGE = `<!doctype html><html><head><title>p</title></head><body>
<img id="fixed" src="/img/a/photo.jpg" width="400" height="300" alt="a">
<img id="rel" src="img/rel.jpg" sizes="50vw" alt="">
<img id="abs" src="https://shop.test/img/abs.jpg?v=2">
<img id="ext" src="https://cdn.other.test/x.jpg">
<img id="proto" src="//other.test/x.jpg">
<img id="data" src="data:image/png;base64,iVBORw0KGgo=">
<img id="svg" src="/img/logo.svg">
<img id="done" src="/cdn-cgi/image/width=100/img/x.jpg">
<img id="authored" src="/img/s.jpg" srcset="/img/s-2x.jpg 2x">
<picture><source srcset="/img/p.avif" type="image/avif"><img id="pic" src="/img/p.jpg"></picture>
<picture><img id="bare-pic" src="/img/q.jpg"></picture>
</body></html>`;

function htmlFetch(calls: { n: number }) {
  return async (req: Request): Promise<Response> => {
    calls.n++;
    const path = new URL(req.url).pathname;
    return new Response(PAGE, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "public, max-age=60",
        "x-path": path,
      },
    });
  };
}

/** Attributes of `<img id=…>` in a page. */
function img(html: string, id: string): Record<string, string> {
  const tag = new RegExp(`<img[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0];
  if (!tag) throw new Error(`no img#${id}`);
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-z-]+)="([^"]*)"/g))
    out[m[1] as string] = (m[2] as string).replaceAll("&amp;", "&");
  return out;
}

describe("HTML image rewriting (IMAGE_REWRITE_HTML)", () => {
  it("rewrites same-origin <img> with src/srcset/sizes, keeps width/height, skips the rest; cached rewritten", async () => {
    const calls = { n: 0 };
    const t = makeImages({ IMAGE_REWRITE_HTML: "on" }, { pageFetch: htmlFetch(calls) });
    const res = await t.page_("/p/1");
    expect(res.headers.get("accept-ch")).toContain("Sec-CH-Width");
    const html = await res.text();

    const fixed = img(html, "fixed");
    expect(fixed.src).toBe("/cdn-cgi/image/width=480,format=auto/img/a/photo.jpg");
    expect(fixed.width).toBe("400");
    expect(fixed.height).toBe("300");
    expect(fixed.alt).toBe("a");
    expect(fixed.sizes).toBe("(max-width: 400px) 100vw, 400px");
    // Widths up to 3 × 400 px (snapped): 160 … 1280.
    expect(fixed.srcset?.split(", ")).toEqual(
      [160, 320, 480, 640, 768, 1024, 1280].map(
        (w) => `/cdn-cgi/image/width=${w},format=auto/img/a/photo.jpg ${w}w`,
      ),
    );

    const rel = img(html, "rel");
    expect(rel.src).toBe("/cdn-cgi/image/format=auto/p/img/rel.jpg");
    expect(rel.sizes).toBe("50vw");
    expect(rel.srcset?.split(", ")).toHaveLength(DEFAULT_IMAGE_WIDTHS.length);

    expect(img(html, "abs").src).toBe("/cdn-cgi/image/format=auto/img/abs.jpg?v=2");
    expect(img(html, "abs").sizes).toBe("100vw");

    for (const [id, src] of [
      ["ext", "https://cdn.other.test/x.jpg"],
      ["proto", "//other.test/x.jpg"],
      ["data", "data:image/png;base64,iVBORw0KGgo="],
      ["svg", "/img/logo.svg"],
      ["done", "/cdn-cgi/image/width=100/img/x.jpg"],
      ["authored", "/img/s.jpg"],
      ["pic", "/img/p.jpg"],
    ] as const) {
      expect(img(html, id).src, id).toBe(src);
      if (id !== "authored") expect(img(html, id).srcset, id).toBeUndefined();
    }
    expect(img(html, "authored").srcset).toBe("/img/s-2x.jpg 2x");
    // A <picture> without <source> is an ordinary image.
    expect(img(html, "bare-pic").src).toBe("/cdn-cgi/image/format=auto/img/q.jpg");

    const hit = await t.page_("/p/1");
    const hitHtml = await hit.text();
    expect(img(hitHtml, "fixed").src).toBe(fixed.src);
    expect(hit.headers.get("accept-ch")).toContain("Sec-CH-DPR");
    expect(calls.n).toBe(1);
  });

  it("is off by default (Accept-CH is still sent) and follows path globs", async () => {
    const off = makeImages({}, { pageFetch: htmlFetch({ n: 0 }) });
    const page = await off.page_("/p/off");
    expect(page.headers.get("accept-ch")).toContain("Sec-CH-Width");
    expect(img(await page.text(), "fixed").src).toBe("/img/a/photo.jpg");

    const globs = makeImages({ IMAGE_REWRITE_HTML: "/p/*,/c/*" }, { pageFetch: htmlFetch({ n: 0 }) });
    expect(img(await (await globs.page_("/p/2")).text(), "fixed").srcset).toBeTruthy();
    expect(img(await (await globs.page_("/c/2")).text(), "fixed").srcset).toBeTruthy();
    expect(img(await (await globs.page_("/account/2")).text(), "fixed").srcset).toBeUndefined();

    const noCh = makeImages({ IMAGE_ACCEPT_CH: "false" }, { pageFetch: htmlFetch({ n: 0 }) });
    expect((await noCh.page_("/p/noch")).headers.get("accept-ch")).toBeNull();
  });
});

describe("imgRewrite (pure)", () => {
  const page = new URL("https://shop.test/c/shoes?page=2");
  const a = { src: "/img/a.jpg", srcset: null, sizes: null, width: null };
  it("skips paths with commas (srcset separators), encodes spaces, non-numeric widths → 100vw", () => {
    expect(imgRewrite({ ...a, src: "/img/a b.jpg" }, page, DEFAULT_IMAGE_WIDTHS)?.src).toBe(
      "/cdn-cgi/image/format=auto/img/a%20b.jpg",
    );
    expect(imgRewrite({ ...a, src: "/img/a,b.jpg" }, page, DEFAULT_IMAGE_WIDTHS)).toBeNull();
    expect(imgRewrite({ ...a, src: "" }, page, DEFAULT_IMAGE_WIDTHS)).toBeNull();
    expect(imgRewrite({ ...a, src: "javascript:alert(1)" }, page, DEFAULT_IMAGE_WIDTHS)).toBeNull();
    expect(imgRewrite({ ...a, width: "100%" }, page, DEFAULT_IMAGE_WIDTHS)?.sizes).toBe("100vw");
  });
  it("limits the srcset to 3× the width attribute", () => {
    const r = imgRewrite({ ...a, width: "100" }, page, DEFAULT_IMAGE_WIDTHS);
    expect(r?.srcset).toBe(
      "/cdn-cgi/image/width=160,format=auto/img/a.jpg 160w, /cdn-cgi/image/width=320,format=auto/img/a.jpg 320w",
    );
    expect(r?.src).toBe("/cdn-cgi/image/width=160,format=auto/img/a.jpg");
  });
});
