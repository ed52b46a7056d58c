import sharp, { type Sharp } from "sharp";
import { describe, expect, it } from "vitest";
import { parseImageConfig } from "../src/config.ts";
import { transformImage } from "../src/transform.ts";
import { photoJpeg } from "./helpers.ts";

// bench:images compares the service with sharp in-process (bench/images.mjs `sharpOut`); the
// comparison is only fair while both do the same work, so the service's output for the bench's
// settings must be sharp's output byte for byte (same encoder options, same resize).
describe("bench:images parity with sharp in-process", () => {
  const limits = parseImageConfig({ IMAGE_AVIF_EFFORT: "0", IMAGE_WEBP_EFFORT: "4" });
  const cases = [
    { format: "webp", quality: 75, peer: (p: Sharp) => p.webp({ quality: 75, effort: 4 }) },
    { format: "jpeg", quality: 80, peer: (p: Sharp) => p.jpeg({ quality: 80, progressive: true }) },
    { format: "avif", quality: 50, peer: (p: Sharp) => p.avif({ quality: 50, effort: 0 }) },
  ] as const;

  for (const c of cases) {
    it(`${c.format} q${c.quality}, 800×600 → 400 wide: the same bytes as the bench's sharp pipeline`, async () => {
      const source = await photoJpeg(800, 600, 92, 7);
      const ours = await transformImage(
        source,
        { width: 400, format: c.format, quality: c.quality },
        undefined,
        limits,
      );
      const peer = await c.peer(sharp(source).resize({ width: 400 })).toBuffer();
      expect(ours.width).toBe(400);
      expect(ours.data.equals(peer)).toBe(true);
    });
  }
});
