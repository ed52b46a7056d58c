import { describe, expect, it } from "vitest";
import { makeImages, serviceCount, uniqueDir, WEBP_ACCEPT } from "./images/helpers.ts";

async function asked(src: string): Promise<URLSearchParams> {
  return new URLSearchParams((await serviceCount(src)).last ?? "");
}

describe("/cdn-cgi/image/ options as Cloudflare documents them", () => {
  it("dpr multiplies an explicit width and height; a height-only request stays height-only", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const dir = uniqueDir("dpr");
    const a = await t.get(`/cdn-cgi/image/width=150,height=100,fit=cover,dpr=2${dir}/a/photo.jpg`, {
      accept: WEBP_ACCEPT,
    });
    expect([a.headers.get("x-image-width"), a.headers.get("x-image-height")]).toEqual(["300", "200"]);
    const b = await t.get(`/cdn-cgi/image/height=90${dir}/b/photo.jpg`, { accept: WEBP_ACCEPT });
    expect([b.headers.get("x-image-width"), b.headers.get("x-image-height")]).toEqual(["120", "90"]);
    expect((await asked(`${dir}/b/photo.jpg`)).has("width")).toBe(false);
  });

  it("passes fit, gravity, rotate, trim and metadata through to the service unchanged", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("pass")}/photo.jpg`;
    const res = await t.get(
      `/cdn-cgi/image/width=200,height=100,fit=crop,g=0.5x0.25,rotate=90,trim=10;10;10;10,metadata=none,format=jpeg${src}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect([res.headers.get("x-image-width"), res.headers.get("x-image-height")]).toEqual(["200", "100"]);
    const q = await asked(src);
    expect([q.get("fit"), q.get("gravity"), q.get("rotate"), q.get("trim"), q.get("metadata")]).toEqual([
      "crop",
      "0.5x0.25",
      "90",
      "10;10;10;10",
      "none",
    ]);
  });

  it("uses slow-connection-quality (scq) only for slow connections", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const dir = uniqueDir("scq");
    await t.get(`/cdn-cgi/image/width=100,quality=80,scq=40${dir}/fast/photo.jpg`, {
      accept: WEBP_ACCEPT,
      ect: "4g",
    });
    expect((await asked(`${dir}/fast/photo.jpg`)).get("quality")).toBe("80");
    await t.get(`/cdn-cgi/image/width=100,quality=80,scq=40${dir}/slow/photo.jpg`, {
      accept: WEBP_ACCEPT,
      rtt: "400",
    });
    const slow = await asked(`${dir}/slow/photo.jpg`);
    expect(slow.get("quality")).toBe("40");
    expect(slow.has("slow-connection-quality")).toBe(false);
  });

  it("format=json answers the image facts", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const res = await t.get(`/cdn-cgi/image/width=300,format=json${uniqueDir("json")}/photo.jpg`);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toMatchObject({
      width: 300,
      height: 225,
      original: { width: 1200, height: 900 },
    });
  });
});
