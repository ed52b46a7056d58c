import { describe, expect, it } from "vitest";
import { stepOrder } from "../images-order.mjs";

const tools = ["ours", "sharp", "vipsthumbnail", "imagemagick"];

describe("bench:images step order", () => {
  it("swaps ours and sharp on odd rep + image steps and keeps the external tools in place", () => {
    expect(stepOrder(tools, 0, 0)).toEqual(tools);
    expect(stepOrder(tools, 0, 1)).toEqual(["sharp", "ours", "vipsthumbnail", "imagemagick"]);
    expect(stepOrder(tools, 1, 0)).toEqual(["sharp", "ours", "vipsthumbnail", "imagemagick"]);
    expect(stepOrder(tools, 1, 1)).toEqual(tools);
  });

  it("gives every image both orders over two reps, and each order half the steps", () => {
    const firsts = [];
    for (let rep = 0; rep < 2; rep++) {
      for (let image = 0; image < 4; image++) firsts.push(`${image}:${stepOrder(tools, rep, image)[0]}`);
    }
    for (let image = 0; image < 4; image++) {
      expect(firsts).toContain(`${image}:ours`);
      expect(firsts).toContain(`${image}:sharp`);
    }
    expect(firsts.filter((f) => f.endsWith(":ours"))).toHaveLength(4);
  });

  it("leaves the order alone when a pair member is missing", () => {
    expect(stepOrder(["ours", "vipsthumbnail"], 0, 1)).toEqual(["ours", "vipsthumbnail"]);
  });
});
