import { describe, expect, it } from "vitest";
import { createCatalogue } from "../src/catalogue.ts";

describe("catalogue", () => {
  it("has 10 categories and 200 products with unique names", () => {
    const c = createCatalogue();
    expect(c.categories).toHaveLength(10);
    expect(c.products).toHaveLength(200);
    expect(new Set(c.products.map((p) => p.name)).size).toBe(200);
    for (const cat of c.categories) expect(cat.productIds).toHaveLength(20);
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const a = createCatalogue();
    const b = createCatalogue();
    expect(b.products.map((p) => [p.name, p.priceCents, p.relatedIds])).toEqual(
      a.products.map((p) => [p.name, p.priceCents, p.relatedIds]),
    );
    expect(
      createCatalogue(7).products[0]?.name === a.products[0]?.name &&
        createCatalogue(7).products[1]?.name === a.products[1]?.name,
    ).toBe(false);
  });

  it("relates every product to six others, four from its own category", () => {
    const c = createCatalogue();
    for (const p of c.products) {
      expect(p.relatedIds).toHaveLength(6);
      expect(p.relatedIds).not.toContain(p.id);
      const same = p.relatedIds.filter((id) => c.productById(id)?.categoryId === p.categoryId);
      expect(same.length).toBe(4);
    }
  });

  it("gives images 1600–2000 px wide in 4:3 and prices ending in .99", () => {
    for (const p of createCatalogue().products) {
      expect(p.image.width).toBeGreaterThanOrEqual(1600);
      expect(p.image.width).toBeLessThanOrEqual(2000);
      expect(p.image.height).toBe(Math.round((p.image.width * 3) / 4));
      expect(p.priceCents % 100).toBe(99);
    }
  });

  it("searches case-insensitively with all terms required", () => {
    const c = createCatalogue();
    const hits = c.search("LEATHER");
    expect(hits.length).toBeGreaterThan(0);
    for (const p of hits) expect(p.name.toLowerCase()).toContain("leather");
    expect(c.search("leather zzzz")).toEqual([]);
    expect(c.search("   ")).toEqual([]);
  });
});
