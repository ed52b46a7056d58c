/**
 * The demo shop's catalogue: 10 categories × 20 products, generated from a fixed seed so every
 * run (and every test) sees the same names, prices, related products and image sizes.
 */

import { seededRandom } from "../../common/src/seeded-random.ts";

/** Small deterministic PRNG (mulberry32); the catalogue must not change between runs. */
export { seededRandom };

export type Category = {
  id: number;
  slug: string;
  name: string;
  blurb: string;
  productIds: number[];
};

export type Product = {
  id: number;
  slug: string;
  name: string;
  categoryId: number;
  /** Price in cents (integers avoid float rounding in totals). */
  priceCents: number;
  rating: number;
  reviewCount: number;
  material: string;
  colour: string;
  description: string[];
  relatedIds: number[];
  image: { width: number; height: number };
};

export type Catalogue = {
  categories: Category[];
  products: Product[];
  categoryById(id: number): Category | undefined;
  categoryBySlug(slug: string): Category | undefined;
  productById(id: number): Product | undefined;
  search(query: string, limit?: number): Product[];
};

const CATEGORY_DEFS: Array<{ name: string; nouns: string[]; basePrice: number; blurb: string }> = [
  {
    name: "Running Shoes",
    nouns: ["Runner", "Trail Shoe", "Racer", "Trainer"],
    basePrice: 89,
    blurb: "Cushioned, light and made to go the distance.",
  },
  {
    name: "Jackets",
    nouns: ["Parka", "Shell Jacket", "Puffer", "Windbreaker"],
    basePrice: 129,
    blurb: "Layers for wind, rain and the first frost.",
  },
  {
    name: "Bags",
    nouns: ["Tote", "Messenger Bag", "Weekender", "Crossbody"],
    basePrice: 69,
    blurb: "Carry more, look sharper.",
  },
  {
    name: "Watches",
    nouns: ["Field Watch", "Chronograph", "Diver", "Dress Watch"],
    basePrice: 179,
    blurb: "Timepieces for every wrist and every budget.",
  },
  {
    name: "Kitchen",
    nouns: ["Skillet", "Dutch Oven", "Chef Knife", "Kettle"],
    basePrice: 49,
    blurb: "Tools that make weeknight cooking a pleasure.",
  },
  {
    name: "Lamps",
    nouns: ["Desk Lamp", "Floor Lamp", "Pendant", "Reading Light"],
    basePrice: 59,
    blurb: "Warm light for long evenings.",
  },
  {
    name: "Chairs",
    nouns: ["Lounge Chair", "Stool", "Dining Chair", "Rocker"],
    basePrice: 149,
    blurb: "Sit well: chairs built to last decades.",
  },
  {
    name: "Headphones",
    nouns: ["Over-Ear Headphones", "Earbuds", "Studio Monitors", "Headset"],
    basePrice: 99,
    blurb: "Hear every detail, block out the rest.",
  },
  {
    name: "Backpacks",
    nouns: ["Daypack", "Rolltop", "Travel Pack", "Laptop Backpack"],
    basePrice: 79,
    blurb: "From the commute to the summit.",
  },
  {
    name: "Sunglasses",
    nouns: ["Aviators", "Wayfarers", "Round Frames", "Sport Shades"],
    basePrice: 59,
    blurb: "Polarised lenses, frames that fit.",
  },
];

const ADJECTIVES = [
  "Classic",
  "Urban",
  "Alpine",
  "Coastal",
  "Nordic",
  "Everyday",
  "Pro",
  "Vintage",
  "Summit",
  "Metro",
  "Heritage",
  "Aero",
  "Harbor",
  "Canyon",
  "Luxe",
  "Field",
];
const MATERIALS = [
  "Leather",
  "Canvas",
  "Wool",
  "Steel",
  "Oak",
  "Recycled",
  "Linen",
  "Carbon",
  "Suede",
  "Cotton",
];
const COLOURS = ["Black", "Sand", "Olive", "Navy", "Rust", "Stone", "Forest", "Cream", "Slate", "Burgundy"];
const SENTENCES = [
  "Designed in our studio and tested by people who use it every day.",
  "Every seam is double-stitched so it keeps its shape season after season.",
  "The finish ages gracefully and only gets better with use.",
  "Ships in plastic-free packaging made from recycled board.",
  "Backed by our two-year warranty and free repairs for life.",
  "A favourite of our customers for its comfort and understated look.",
  "Made in small batches by a family-owned workshop we have worked with for ten years.",
  "Lightweight without giving up the durability you expect from us.",
  "Pairs well with the rest of the collection, so mix and match freely.",
  "Care is simple: wipe clean and store away from direct sunlight.",
  "Independent testers rated it top of its class for value.",
  "Each piece is inspected by hand before it leaves the warehouse.",
];

const PRODUCTS_PER_CATEGORY = 20;

function slugify(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

function pick<T>(list: readonly T[], r: () => number): T {
  return list[Math.floor(r() * list.length)] as T;
}

/** Builds the catalogue (default seed 2026: 10 categories, 200 products). */
export function createCatalogue(seed = 2026): Catalogue {
  const r = seededRandom(seed);
  const categories: Category[] = CATEGORY_DEFS.map((def, i) => ({
    id: i + 1,
    slug: slugify(def.name),
    name: def.name,
    blurb: def.blurb,
    productIds: [],
  }));
  const products: Product[] = [];
  const usedNames = new Set<string>();
  for (const [ci, def] of CATEGORY_DEFS.entries()) {
    const category = categories[ci] as Category;
    for (let k = 0; k < PRODUCTS_PER_CATEGORY; k++) {
      const id = products.length + 1;
      let name = "";
      let material = "";
      // Names must be unique so search results and titles are unambiguous.
      for (let attempt = 0; attempt < 50; attempt++) {
        material = pick(MATERIALS, r);
        name = `${pick(ADJECTIVES, r)} ${material} ${pick(def.nouns, r)}`;
        if (!usedNames.has(name)) break;
      }
      if (usedNames.has(name)) name = `${name} ${id}`;
      usedNames.add(name);
      // Shop prices end in .99.
      const priceCents = Math.round(def.basePrice * (0.6 + r() * 1.4)) * 100 - 1;
      const description: string[] = [];
      const paragraphs = 3;
      for (let p = 0; p < paragraphs; p++) {
        const sentences: string[] = [];
        for (let s = 0; s < 3; s++) sentences.push(pick(SENTENCES, r));
        description.push(sentences.join(" "));
      }
      const width = 1600 + 100 * Math.floor(r() * 5);
      products.push({
        id,
        slug: slugify(name),
        name,
        categoryId: category.id,
        priceCents,
        rating: Math.round((3.2 + r() * 1.8) * 10) / 10,
        reviewCount: Math.floor(r() * 400),
        material,
        colour: pick(COLOURS, r),
        description,
        relatedIds: [],
        image: { width, height: Math.round((width * 3) / 4) },
      });
      category.productIds.push(id);
    }
  }
  // Related products: mostly the same category, plus two "customers also bought" from elsewhere,
  // so a shopper following related links wanders across the whole shop.
  for (const product of products) {
    const category = categories[product.categoryId - 1] as Category;
    const related = new Set<number>();
    while (related.size < 4) {
      const id = pick(category.productIds, r);
      if (id !== product.id) related.add(id);
    }
    while (related.size < 6) {
      const id = 1 + Math.floor(r() * products.length);
      if (id !== product.id && products[id - 1]?.categoryId !== product.categoryId) related.add(id);
    }
    product.relatedIds = [...related];
  }
  const bySlug = new Map(categories.map((c) => [c.slug, c]));
  return {
    categories,
    products,
    categoryById: (id) => categories[id - 1],
    categoryBySlug: (slug) => bySlug.get(slug),
    productById: (id) => (Number.isInteger(id) ? products[id - 1] : undefined),
    search(query, limit = 24) {
      const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
      if (terms.length === 0) return [];
      return products
        .filter((p) => {
          const hay = `${p.name} ${p.colour} ${categories[p.categoryId - 1]?.name ?? ""}`.toLowerCase();
          return terms.every((t) => hay.includes(t));
        })
        .slice(0, limit);
    },
  };
}

/** Formats cents as a price string, e.g. 12999 → "$129.99". */
export function formatPrice(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}
