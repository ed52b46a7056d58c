/**
 * HTML for the demo shop. Pages are plain server-rendered HTML with a little inline CSS, no
 * script and no third-party resources, so they stay valid under `script-src 'self'`; the LCP
 * element of every page is an `<img>` with explicit width/height.
 */
import type { Catalogue, Category, Product } from "./catalogue.ts";
import { formatPrice } from "./catalogue.ts";

export type CartLine = { product: Product; quantity: number };

const CSS = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;background:#fafaf7}
a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}
header{background:#1d2b36;color:#fff;padding:.75rem 1.5rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header .logo{font-weight:700;font-size:1.3rem;color:#fff;margin-right:auto}header a{color:#e7eef5}
nav.cats{background:#fff;border-bottom:1px solid #e4e4df;padding:.5rem 1.5rem;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;font-size:.9rem}
form.search input{padding:.35rem .6rem;border-radius:4px;border:0;width:14rem}form.search button{padding:.35rem .8rem}
main{max-width:1200px;margin:0 auto;padding:1.5rem}
.crumbs{font-size:.85rem;color:#666;margin-bottom:1rem}.crumbs a{color:#666}
.hero img,.product img.main{width:100%;height:auto;border-radius:8px;background:#e9e4da}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:1rem;list-style:none;padding:0}
.card{background:#fff;border:1px solid #e4e4df;border-radius:8px;padding:.75rem}.card img{width:100%;height:auto;border-radius:4px;background:#e9e4da}
.card .price,.price{font-weight:600;color:#2a6b2a}.rating{color:#b7791f;font-size:.9rem}
.product{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:2rem}
@media (max-width:760px){.product{grid-template-columns:1fr}form.search input{width:9rem}}
button,.button{background:#0b5cad;color:#fff;border:0;border-radius:4px;padding:.6rem 1.2rem;font-size:1rem;cursor:pointer}
table.specs{border-collapse:collapse;width:100%}table.specs td{border-bottom:1px solid #eee;padding:.35rem .5rem}
.review{border-top:1px solid #eee;padding:.75rem 0}footer{background:#eeede8;padding:2rem 1.5rem;font-size:.85rem;color:#555;margin-top:3rem}
footer ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem}.notice{background:#fff8e1;border:1px solid #f0d98c;padding:.75rem;border-radius:6px}
`;

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function productPath(p: Product): string {
  return `/p/${p.id}`;
}

export function categoryPath(c: Category): string {
  return `/c/${c.slug}`;
}

export function imagePath(p: Product): string {
  return `/images/p/${p.id}.jpg`;
}

function img(p: Product, attrs: { lazy: boolean; className?: string; sizes?: string }): string {
  const loading = attrs.lazy ? ` loading="lazy" decoding="async"` : ` fetchpriority="high"`;
  const cls = attrs.className ? ` class="${attrs.className}"` : "";
  return `<img src="${imagePath(p)}" width="${p.image.width}" height="${p.image.height}" alt="${escapeHtml(p.name)}"${cls}${loading}>`;
}

function stars(rating: number): string {
  const full = Math.round(rating);
  return `${"★".repeat(full)}${"☆".repeat(5 - full)}`;
}

function productCard(p: Product): string {
  return `<li class="card"><a href="${productPath(p)}">${img(p, { lazy: true })}<span class="name">${escapeHtml(p.name)}</span></a>
<div class="price">${formatPrice(p.priceCents)}</div><div class="rating" title="${p.rating} out of 5">${stars(p.rating)} <small>(${p.reviewCount})</small></div></li>`;
}

function layout(catalogue: Catalogue, title: string, body: string, opts: { query?: string } = {}): string {
  const cats = catalogue.categories
    .map((c) => `<a href="${categoryPath(c)}">${escapeHtml(c.name)}</a>`)
    .join("\n");
  const footerCats = catalogue.categories
    .map((c) => `<li><a href="${categoryPath(c)}">${escapeHtml(c.name)}</a></li>`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Northwind Outfitters</title>
<meta name="description" content="Northwind Outfitters demo shop: ${escapeHtml(title)}">
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
<header>
<a class="logo" href="/">Northwind Outfitters</a>
<form class="search" action="/search" method="get" role="search"><input type="search" name="q" value="${escapeHtml(opts.query ?? "")}" placeholder="Search products" aria-label="Search products"> <button type="submit">Search</button></form>
<a href="/account">Account</a>
<a href="/cart">Cart</a>
</header>
<nav class="cats" aria-label="Categories">
${cats}
</nav>
<main>
${body}
</main>
<footer>
<p><strong>Shop by category</strong></p>
<ul>${footerCats}</ul>
<ul><li><a href="/">Home</a></li><li><a href="/search?q=leather">Leather goods</a></li><li><a href="/search?q=black">Black</a></li><li><a href="/account">Your account</a></li><li><a href="/cart">Cart</a></li><li><a href="/checkout">Checkout</a></li></ul>
<p>Northwind Outfitters is a demo retailer: free shipping on orders over $75, 30-day returns, two-year warranty on everything we sell. Prices include VAT where applicable.</p>
</footer>
</body>
</html>
`;
}

/** Home page: a hero product, featured products and every category. */
export function renderHome(catalogue: Catalogue): { html: string; productIds: number[] } {
  const featured = catalogue.categories
    .map((c) => catalogue.productById(c.productIds[0] ?? 0))
    .filter(isProduct);
  const bestsellers = catalogue.products.filter((p) => p.id % 17 === 3).slice(0, 8);
  const hero = featured[0] as Product;
  const categories = catalogue.categories
    .map(
      (c) =>
        `<li class="card"><a href="${categoryPath(c)}"><strong>${escapeHtml(c.name)}</strong></a><p>${escapeHtml(c.blurb)}</p><small>${c.productIds.length} products</small></li>`,
    )
    .join("\n");
  const body = `<section class="hero">
<a href="${productPath(hero)}">${img(hero, { lazy: false })}</a>
<h1>New season: ${escapeHtml(hero.name)}</h1>
<p>Fresh arrivals across all ten departments. Free shipping on orders over $75 and free returns for 30 days.</p>
<p><a class="button" href="${productPath(hero)}">Shop now</a></p>
</section>
<h2>Featured</h2>
<ul class="grid">${featured.map(productCard).join("\n")}</ul>
<h2>Bestsellers</h2>
<ul class="grid">${bestsellers.map(productCard).join("\n")}</ul>
<h2>Departments</h2>
<ul class="grid">${categories}</ul>`;
  return {
    html: layout(catalogue, "Home", body),
    productIds: [...featured, ...bestsellers].map((p) => p.id),
  };
}

/** Category page: breadcrumbs, the category's products, links to neighbouring categories. */
export function renderCategory(catalogue: Catalogue, category: Category): string {
  const products = category.productIds.map((id) => catalogue.productById(id)).filter(isProduct);
  const first = products[0] as Product;
  const body = `<div class="crumbs"><a href="/">Home</a> › ${escapeHtml(category.name)}</div>
<section class="hero">${img(first, { lazy: false })}</section>
<h1>${escapeHtml(category.name)}</h1>
<p>${escapeHtml(category.blurb)} ${products.length} products, sorted by popularity.</p>
<ul class="grid">${products.map(productCard).join("\n")}</ul>`;
  return layout(catalogue, category.name, body);
}

/** Product page: hero image, price, add-to-cart form, description, specs, reviews, related. */
export function renderProduct(catalogue: Catalogue, product: Product): string {
  const category = catalogue.categoryById(product.categoryId) as Category;
  const related = product.relatedIds.map((id) => catalogue.productById(id)).filter(isProduct);
  const moreInCategory = category.productIds
    .filter((id) => id !== product.id && !product.relatedIds.includes(id))
    .slice(0, 4)
    .map((id) => catalogue.productById(id))
    .filter(isProduct);
  const reviews = [0, 1, 2]
    .map((i) => {
      const stars5 = Math.max(1, Math.min(5, Math.round(product.rating + (i === 2 ? -1 : 0))));
      const author = ["Alex", "Sam", "Jordan", "Robin", "Kim", "Taylor"][(product.id + i) % 6];
      return `<div class="review"><div class="rating">${stars(stars5)}</div><p>${escapeHtml(product.description[i % product.description.length] ?? "")}</p><small>— ${author}, verified buyer</small></div>`;
    })
    .join("\n");
  const body = `<div class="crumbs"><a href="/">Home</a> › <a href="${categoryPath(category)}">${escapeHtml(category.name)}</a> › ${escapeHtml(product.name)}</div>
<article class="product">
<div>${img(product, { lazy: false, className: "main" })}</div>
<div>
<h1>${escapeHtml(product.name)}</h1>
<p class="price">${formatPrice(product.priceCents)}</p>
<p class="rating">${stars(product.rating)} ${product.rating} · <a href="#reviews">${product.reviewCount} reviews</a></p>
<form method="post" action="/cart"><input type="hidden" name="add" value="${product.id}"><button type="submit">Add to cart</button></form>
<p class="notice">In stock. Order within 4 hours for next-day delivery.</p>
${product.description.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n")}
<table class="specs">
<tr><td>Article number</td><td>NW-${String(product.id).padStart(5, "0")}</td></tr>
<tr><td>Material</td><td>${escapeHtml(product.material)}</td></tr>
<tr><td>Colour</td><td>${escapeHtml(product.colour)}</td></tr>
<tr><td>Department</td><td><a href="${categoryPath(category)}">${escapeHtml(category.name)}</a></td></tr>
<tr><td>Warranty</td><td>2 years</td></tr>
</table>
</div>
</article>
<section id="reviews"><h2>Reviews</h2>${reviews}</section>
<section><h2>Shipping and returns</h2>
<p>Orders placed before 2 pm ship the same day from our warehouse. Standard delivery takes two to four working days; express delivery arrives the next working day. Shipping is free on orders over $75.</p>
<p>Changed your mind? Return any unused item within 30 days for a full refund. Returns are free: print the label from your account page and drop the parcel at any pick-up point.</p>
<p>Questions about the ${escapeHtml(product.name)}? Our customer service team answers every message within one working day.</p>
</section>
<section><h2>Related products</h2><ul class="grid">${related.map(productCard).join("\n")}</ul></section>
<section><h2>More in ${escapeHtml(category.name)}</h2><ul class="grid">${moreInCategory.map(productCard).join("\n")}</ul></section>`;
  return layout(catalogue, product.name, body);
}

/** Search results page (an empty query shows the search form only). */
export function renderSearch(catalogue: Catalogue, query: string, results: Product[]): string {
  const heading = query ? `${results.length} results for “${escapeHtml(query)}”` : "Search the shop";
  const hero = results[0] ?? (catalogue.products[0] as Product);
  const popular = catalogue.products.filter((p) => p.id % 23 === 5).slice(0, 8);
  const list = results.length
    ? `<ul class="grid">${results.map(productCard).join("\n")}</ul>`
    : `<p>No products match. Try <a href="/search?q=leather">leather</a> or <a href="/search?q=black">black</a>.</p>`;
  const body = `<div class="crumbs"><a href="/">Home</a> › Search</div>
<h1>${heading}</h1>
<section class="hero">${img(hero, { lazy: false })}</section>
${list}
<h2>Popular right now</h2>
<ul class="grid">${popular.map(productCard).join("\n")}</ul>`;
  return layout(catalogue, query ? `Search: ${query}` : "Search", body, { query });
}

/** Cart page (personal): the lines from the `cart` cookie. */
export function renderCart(catalogue: Catalogue, lines: CartLine[]): string {
  const total = lines.reduce((sum, l) => sum + l.product.priceCents * l.quantity, 0);
  const rows = lines
    .map(
      (l) =>
        `<tr><td><a href="${productPath(l.product)}">${escapeHtml(l.product.name)}</a></td><td>${l.quantity}</td><td>${formatPrice(l.product.priceCents * l.quantity)}</td><td><form method="post" action="/cart"><input type="hidden" name="remove" value="${l.product.id}"><button type="submit">Remove</button></form></td></tr>`,
    )
    .join("\n");
  const suggestion = catalogue.products[(lines.length * 37) % catalogue.products.length] as Product;
  const body = `<div class="crumbs"><a href="/">Home</a> › Cart</div>
<h1>Your cart</h1>
${
  lines.length
    ? `<table class="specs"><tr><th>Product</th><th>Qty</th><th>Price</th><th></th></tr>${rows}</table><p class="price">Total ${formatPrice(total)}</p><p><a class="button" href="/checkout">Checkout</a></p>`
    : `<p>Your cart is empty. <a href="/">Continue shopping</a>.</p>`
}
<h2>You might also like</h2>
<div class="hero">${img(suggestion, { lazy: false })}</div>
<p><a href="${productPath(suggestion)}">${escapeHtml(suggestion.name)}</a> · ${formatPrice(suggestion.priceCents)}</p>`;
  return layout(catalogue, "Cart", body);
}

/** Checkout page (personal). */
export function renderCheckout(catalogue: Catalogue, lines: CartLine[], orderRef: string): string {
  const total = lines.reduce((sum, l) => sum + l.product.priceCents * l.quantity, 0);
  const first = lines[0]?.product ?? (catalogue.products[0] as Product);
  const body = `<div class="crumbs"><a href="/">Home</a> › <a href="/cart">Cart</a> › Checkout</div>
<h1>Checkout</h1>
<div class="hero">${img(first, { lazy: false })}</div>
<p>Order reference <strong>${escapeHtml(orderRef)}</strong> · ${lines.length} item(s) · total <span class="price">${formatPrice(total)}</span></p>
<form method="get" action="/account"><p><label>Email <input type="email" name="email" autocomplete="email"></label></p>
<p><label>Address <input type="text" name="address" autocomplete="street-address"></label></p><button type="submit">Place order</button></form>`;
  return layout(catalogue, "Checkout", body);
}

/** Account page (personal). */
export function renderAccount(catalogue: Catalogue, sessionId: string): string {
  const recent = catalogue.products.slice(sessionId.length % 10, (sessionId.length % 10) + 4);
  const hero = recent[0] as Product;
  const body = `<div class="crumbs"><a href="/">Home</a> › Account</div>
<h1>Your account</h1>
<p>Signed in (session ${escapeHtml(sessionId.slice(0, 8))}…). No orders in the last 90 days.</p>
<div class="hero">${img(hero, { lazy: false })}</div>
<h2>Recently viewed</h2>
<ul class="grid">${recent.map(productCard).join("\n")}</ul>`;
  return layout(catalogue, "Account", body);
}

/** Not-found page. */
export function renderNotFound(catalogue: Catalogue, path: string): string {
  const body = `<h1>Page not found</h1><p>We could not find <code>${escapeHtml(path)}</code>. Try the <a href="/">home page</a> or search.</p>`;
  return layout(catalogue, "Not found", body);
}

/** A page meant to be served with a strict Content-Security-Policy (no inline script allowed). */
export function renderCspPage(catalogue: Catalogue): string {
  const p = catalogue.products[0] as Product;
  const body = `<h1>Strict CSP page</h1>
<p>This page is served with <code>Content-Security-Policy: script-src 'self'; connect-src 'self'</code>. Only same-origin scripts may run and only same-origin connections are allowed.</p>
<div class="hero">${img(p, { lazy: false })}</div>
<p><a href="${productPath(p)}">${escapeHtml(p.name)}</a></p>`;
  return layout(catalogue, "CSP test", body);
}

function isProduct(p: Product | undefined): p is Product {
  return p !== undefined;
}
