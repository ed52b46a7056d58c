/**
 * The benchmark page: a deterministic 10 KB HTML product-listing page (exactly `size` bytes,
 * default 10240), the same bytes for the origin and for the hello-world Worker.
 */
export function benchPage(size = 10240) {
  const head =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench shop: category 4</title>' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    "<style>body{font-family:system-ui,sans-serif;margin:0}main{display:grid;grid-template-columns:repeat(4,1fr);gap:1rem}" +
    ".card{border:1px solid #ddd;padding:.5rem}.price{font-weight:700}</style></head><body>" +
    '<header><a href="/">Bench shop</a> &rsaquo; <a href="/c/4">Category 4</a></header><main>';
  const tail = "</main><footer>&copy; Bench shop</footer><!--pad--></body></html>";
  let items = "";
  for (let i = 1; head.length + items.length + tail.length < size; i++) {
    const item =
      `<article class="card"><a href="/p/${i}"><img src="/img/p${i}.jpg" alt="Product ${i}" width="200" height="200"></a>` +
      `<h2><a href="/p/${i}">Product ${i}</a></h2><p class="price">&euro;${(i * 7.3).toFixed(2)}</p></article>`;
    if (head.length + items.length + item.length + tail.length > size) break;
    items += item;
  }
  const pad = size - head.length - items.length - tail.length;
  // ASCII only, so string length = byte length.
  return head + items + tail.replace("<!--pad-->", `<!--${"x".repeat(pad + 3)}-->`);
}

/** Headers of the cacheable page (s-maxage 3600, app;dur=0), shared by origin and hello-world. */
export const CACHEABLE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "public, s-maxage=3600",
  "server-timing": "app;dur=0",
};

/** Headers of the never-cacheable page used for the MISS (pass-through) measurement. */
export const UNCACHEABLE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "server-timing": "app;dur=0",
};
