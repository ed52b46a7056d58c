/**
 * Product photos for the demo shop: real JPEG bytes (1600–2000 px wide, a few hundred KB, like
 * an unoptimised retailer's originals) drawn from the product id, encoded once with sharp and
 * kept in memory. The fine grain is deliberate: it gives the JPEGs photo-like sizes, so the
 * image service and the edge have real bytes to save.
 */
import sharp from "sharp";

export type ProductImage = { bytes: Buffer; etag: string; width: number; height: number; renderMs: number };

type Shape = "sphere" | "box" | "bottle";

/** Draws the raw RGB pixels of one product photo (a shaded object on a gradient with grain). */
function drawPixels(id: number, width: number, height: number, grain: number): Buffer {
  // A clamped array saturates at 0/255 for free, so the grain never wraps around.
  const px = new Uint8ClampedArray(width * height * 3);
  let s = Math.imul(id, 2654435761) >>> 0 || 1;
  const [aR, aG, aB] = [236, 228, 214];
  const [bR, bG, bB] = [150 + ((id * 13) % 80), 120 + ((id * 7) % 70), 100 + ((id * 29) % 90)];
  const [oR, oG, oB] = [40 + ((id * 37) % 180), 40 + ((id * 71) % 180), 40 + ((id * 53) % 180)];
  const shape: Shape = (["sphere", "box", "bottle"] as const)[id % 3] ?? "sphere";
  const cx = width / 2;
  const cy = height * 0.5;
  const rx = Math.min(width, height) * (shape === "bottle" ? 0.18 : 0.3);
  const ry = Math.min(width, height) * (shape === "bottle" ? 0.38 : 0.3);
  const shadowY = cy + ry * 1.04;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const dy = (y - cy) / ry;
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      let R = aR + (bR - aR) * t;
      let G = aG + (bG - aG) * t;
      let B = aB + (bB - aB) * t;
      const dx = (x - cx) / rx;
      const inside =
        shape === "box"
          ? Math.abs(dx) < 0.9 && Math.abs(dy) < 0.9 && dx ** 4 + dy ** 4 < 0.6
          : dx * dx + dy * dy < 1;
      if (inside) {
        // Light from the top left.
        const shade = 1.3 - 0.6 * Math.sqrt((dx + 0.4) ** 2 + (dy + 0.4) ** 2);
        R = oR * shade;
        G = oG * shade;
        B = oB * shade;
      } else {
        const sx = (x - cx) / (rx * 1.2);
        const sy = (y - shadowY) / (ry * 0.1);
        const d = sx * sx + sy * sy;
        if (d < 1) {
          const k = 0.6 + 0.4 * d;
          R *= k;
          G *= k;
          B *= k;
        }
      }
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const n = (((s & 255) - 128) * grain) / 128;
      px[o++] = R + n;
      px[o++] = G + n;
      px[o++] = B + n;
    }
  }
  return Buffer.from(px.buffer);
}

/** Encodes one product photo as JPEG (quality 82, grain 10 → roughly 250–400 KB at 1800 px). */
export async function renderProductImage(id: number, width: number, height: number): Promise<ProductImage> {
  const started = performance.now();
  const pixels = drawPixels(id, width, height, 10);
  const bytes = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 82 })
    .toBuffer();
  const etag = `"img-${id}-${width}x${height}-${bytes.length}"`;
  return { bytes, etag, width, height, renderMs: performance.now() - started };
}

/** Lazily renders and caches images by id; concurrent requests for one id share one render. */
export function createImageStore(): {
  get(id: number, width: number, height: number): Promise<ProductImage>;
  size(): number;
} {
  const cache = new Map<number, Promise<ProductImage>>();
  return {
    get(id, width, height) {
      let image = cache.get(id);
      if (!image) {
        image = renderProductImage(id, width, height);
        cache.set(id, image);
        // A failed render must not poison the cache for later requests.
        image.catch(() => cache.delete(id));
      }
      return image;
    },
    size: () => cache.size,
  };
}
