/**
 * Opt-in HTML image rewriting (IMAGE_REWRITE_HTML): same-origin `<img>` get a variant `src`, a
 * `srcset` over the allow-listed widths and `sizes`; explicit `width`/`height` stay as they are.
 * `<img>` inside a `<picture>` that has `<source>` children is left to the author. Streams
 * (HTMLRewriter); never buffers the page. `withImageHtml` applies it to the
 * origin's HTML before the edge stores it, so cache HITs do not run the rewriter again.
 */
import { IMAGE_ACCEPT_CH, type ImageConfig, rewritesPath } from "./config.ts";
import type { FetchFn } from "./service-fetch.ts";
import { imgRewrite } from "./srcset.ts";

/** Returns the response with its HTML body's `<img>` rewritten (status and headers unchanged). */
export function rewriteImages(res: Response, pageUrl: URL, widths: readonly number[]): Response {
  let inPicture = false;
  let pictureHasSource = false;
  return new HTMLRewriter()
    .on("picture", {
      element(el) {
        inPicture = true;
        pictureHasSource = false;
        el.onEndTag(() => {
          inPicture = false;
          pictureHasSource = false;
        });
      },
    })
    .on("picture source", {
      element() {
        pictureHasSource = true;
      },
    })
    .on("img", {
      element(el) {
        if (inPicture && pictureHasSource) return;
        const r = imgRewrite(
          {
            src: el.getAttribute("src"),
            srcset: el.getAttribute("srcset"),
            sizes: el.getAttribute("sizes"),
            width: el.getAttribute("width"),
          },
          pageUrl,
          widths,
        );
        if (r === null) return;
        el.setAttribute("src", r.src);
        el.setAttribute("srcset", r.srcset);
        el.setAttribute("sizes", r.sizes);
      },
    })
    .transform(res);
}

function isHtml(ct: string | null): boolean {
  return ct?.toLowerCase().startsWith("text/html") === true;
}

/**
 * Wraps the page edge's origin fetch: 200 HTML answers to GET on paths IMAGE_REWRITE_HTML
 * selects get rewritten `<img>`; anything else is returned untouched. `originBase` is
 * the edge's ORIGIN_URL (its path prefix is removed to get the site path the globs match).
 */
/**
 * The page edge's `htmlHeaders` hook: adds IMAGE_ACCEPT_CH to `Accept-CH` (after the origin's own
 * hints) on 200 HTML pages; null when IMAGE_ACCEPT_CH=false. The edge calls it on the header copy
 * it makes anyway, so hints cost no extra Response per page.
 */
export function acceptChHeaders(cfg: ImageConfig): ((h: Headers) => void) | null {
  if (!cfg.acceptCh) return null;
  return (h) => {
    const prior = h.get("accept-ch");
    h.set("accept-ch", prior ? `${prior}, ${IMAGE_ACCEPT_CH}` : IMAGE_ACCEPT_CH);
  };
}

export function withImageHtml(cfg: ImageConfig, originBase: string, inner: FetchFn): FetchFn {
  const prefix = new URL(originBase).pathname.replace(/\/+$/, "");
  return async (req, init) => {
    const res = await inner(req, init);
    if (res.status !== 200 || (req.method !== "GET" && req.method !== "HEAD")) return res;
    if (!isHtml(res.headers.get("content-type"))) return res;
    // Most sites rewrite no paths: then the URL is not even parsed.
    const url = cfg.rewriteHtml === null ? null : new URL(req.url);
    const path =
      url === null
        ? ""
        : prefix && url.pathname.startsWith(prefix)
          ? url.pathname.slice(prefix.length) || "/"
          : url.pathname;
    if (url === null || res.body === null || req.method !== "GET" || !rewritesPath(cfg, path)) return res;
    const h = new Headers(res.headers);
    // The page's public URL: the edge sends the client's host and scheme as X-Forwarded-*.
    const host = req.headers.get("x-forwarded-host") ?? url.host;
    const proto = req.headers.get("x-forwarded-proto") ?? url.protocol.replace(":", "");
    const pageUrl = new URL(`${proto}://${host}${path}${url.search}`);
    const body = rewriteImages(
      new Response(res.body, { headers: { "content-type": "text/html" } }),
      pageUrl,
      cfg.negotiation.widths,
    ).body;
    h.delete("content-length");
    return new Response(body, { status: res.status, statusText: res.statusText, headers: h });
  };
}
