import { describe, expect, it } from "vitest";
import {
  CHROME_ACCEPT,
  cache,
  DESKTOP_UA,
  MOBILE_UA,
  makeImages,
  OLD_ACCEPT,
  serviceCount,
  st,
  uniqueDir,
  WEBP_ACCEPT,
} from "./images/helpers.ts";

describe("image variants: negotiation and cache key", () => {
  it("resolves format=auto from Accept (WebP, JPEG) and caches each variant under its own key", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("neg")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=400,format=auto${src}`;
    const webp = await t.get(path, { accept: WEBP_ACCEPT });
    expect(webp.status).toBe(200);
    expect(webp.headers.get("content-type")).toBe("image/webp");
    expect(webp.headers.get("x-image-width")).toBe("480");
    expect(cache(webp)).toBe("MISS");
    const jpeg = await t.get(path, { accept: OLD_ACCEPT });
    expect(jpeg.headers.get("content-type")).toBe("image/jpeg");
    expect(cache(jpeg)).toBe("MISS");
    const again = await t.get(`${path}?utm_source=news&gclid=x`, { accept: WEBP_ACCEPT });
    expect(cache(again)).toBe("HIT");
    expect(again.headers.get("content-type")).toBe("image/webp");
    expect((await serviceCount(src)).count).toBe(2);
    expect(webp.headers.get("vary")).toBe("Accept");
    expect(webp.headers.get("accept-ch")).toContain("Sec-CH-Width");
    const t2 = st(again);
    expect(Number(t2.get("img-orig")?.description)).toBeGreaterThan(Number(t2.get("img-out")?.description));
  });
});
