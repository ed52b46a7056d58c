import fc from "fast-check";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { parseImageConfig } from "../src/config.ts";
import { ImageServiceError } from "../src/errors.ts";
import { transformImage } from "../src/transform.ts";
import { photoJpeg } from "./helpers.ts";

const limits = parseImageConfig({});
let seeds: Buffer[] = [];

beforeAll(async () => {
  const jpeg = await photoJpeg(64, 48);
  seeds = [
    jpeg,
    await sharp(jpeg).png().toBuffer(),
    await sharp(jpeg).webp().toBuffer(),
    await sharp(jpeg).gif().toBuffer(),
  ];
});

// Either a valid image or an ImageServiceError with a client status: never another exception.
async function outcome(input: Buffer): Promise<number> {
  try {
    await transformImage(input, { width: 20, format: "webp" }, undefined, limits);
    return 200;
  } catch (e) {
    expect(e).toBeInstanceOf(ImageServiceError);
    return (e as ImageServiceError).status;
  }
}

describe("corrupted inputs", () => {
  it("random bytes, truncations and byte flips of real images give 200 or a 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        async (which, cut, flips) => {
          const seed = seeds[which] as Buffer;
          const buf = Buffer.from(seed.subarray(0, Math.max(1, Math.floor(seed.length * cut))));
          for (const [at, value] of flips) buf[at % buf.length] = value;
          expect([200, 413, 415, 422]).toContain(await outcome(buf));
        },
      ),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 512 }), async (bytes) => {
        expect([413, 415, 422]).toContain(await outcome(Buffer.from(bytes)));
      }),
      { numRuns: 40 },
    );
  });
});
