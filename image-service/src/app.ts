import { type Context, Hono } from "hono";
import {
  type ImageOptions,
  ImageOptionsError,
  parseImagePath,
  parseImageQuery,
} from "../../common/src/image-options.ts";
import { verifyImageSignature } from "../../common/src/image-signing.ts";
import type { ImageServiceConfig } from "./config.ts";
import { ImageServiceError } from "./errors.ts";
import { Limiter } from "./limiter.ts";
import { fetchSource } from "./source.ts";
import { transformImage } from "./transform.ts";

const defaultLog = (event: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(event)}\n`);

/**
 * Image service app: `GET /transform?url=<path or URL>&<options>[&sig=…]` (primary) and
 * `GET /cdn-cgi/image/<options>/<source>[?sig=…]` (Cloudflare's form), plus `GET /healthz`.
 * Requests admitted = concurrency + queueLimit (beyond that 503); transforms run `concurrency` at once.
 */
export function createImageApp(config: ImageServiceConfig): Hono {
  const log = config.log ?? defaultLog;
  const admission = new Limiter(config.concurrency + config.queueLimit, 0);
  const cpu = new Limiter(config.concurrency, Number.POSITIVE_INFINITY);
  const app = new Hono();
  // Every answer, image or error: browsers must take the produced content type as it is.
  app.use(async (c, next) => {
    await next();
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  });

  const fail = (c: Context, err: unknown, source: string | undefined): Response => {
    if (err instanceof ImageOptionsError) err = new ImageServiceError(400, err.message);
    if (!(err instanceof ImageServiceError)) {
      log({
        level: "error",
        msg: "internal image error",
        source,
        error: err instanceof Error ? err.stack : String(err),
      });
      return c.json({ error: "Internal image service error" }, 500);
    }
    log({
      level: "warn",
      msg: "image request refused",
      status: err.status,
      error: err.publicMessage,
      detail: err.detail,
      source,
    });
    if (err.status === 503) c.header("Retry-After", "1");
    c.header("Cache-Control", "no-store");
    return c.json({ error: err.publicMessage }, err.status);
  };

  const serveImage = async (c: Context, options: ImageOptions, source: string): Promise<Response> => {
    const started = performance.now();
    if (c.req.method === "HEAD") {
      // A HEAD would cost a full source download and transform for no body.
      c.header("Allow", "GET");
      throw new ImageServiceError(405, "HEAD is not served for transforms; use GET");
    }
    if (config.signingKey !== undefined) {
      const ok = await verifyImageSignature(config.signingKey, options, source, c.req.query("sig"));
      if (!ok) throw new ImageServiceError(403, "Invalid or missing signature", `bad sig for ${source}`);
    }
    return admission.run(async () => {
      const src = await fetchSource(source, config);
      const fetched = performance.now();
      const accept = c.req.header("accept");
      let began = fetched;
      const out = await cpu.run(() => {
        began = performance.now();
        return transformImage(src.bytes, options, accept, config);
      });
      const done = performance.now();
      const headers = new Headers({
        "Content-Type": out.contentType,
        "Content-Length": String(out.data.length),
        "Cache-Control": src.cacheControl ?? config.defaultCacheControl,
        "Server-Timing": [
          `img;dur=${(done - started).toFixed(1)}`,
          `img-fetch;dur=${(fetched - started).toFixed(1)}`,
          `img-queue;dur=${(began - fetched).toFixed(1)}`,
          `img-orig;desc=${src.bytes.length}`,
          `img-out;desc=${out.data.length}`,
          `img-fmt;desc=${out.format}`,
        ].join(", "),
        "X-Original-Bytes": String(src.bytes.length),
        "X-Image-Bytes": String(out.data.length),
        "X-Image-Format": out.format,
        "X-Content-Type-Options": "nosniff",
        // An SVG opened as a document must not run anything or load anything.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
      });
      if (out.width > 0) {
        headers.set("X-Image-Width", String(out.width));
        headers.set("X-Image-Height", String(out.height));
      }
      if (out.negotiated) headers.set("Vary", "Accept");
      if (src.lastModified !== undefined) headers.set("Last-Modified", src.lastModified);
      return new Response(
        new Uint8Array(out.data.buffer as ArrayBuffer, out.data.byteOffset, out.data.length),
        { headers },
      );
    });
  };

  app.get("/healthz", (c) => c.json({ ok: true, active: cpu.active, queued: cpu.queued }));

  app.get("/transform", async (c) => {
    const source = c.req.query("url");
    try {
      if (source === undefined || source === "")
        throw new ImageServiceError(400, "Expected a source path or URL for url");
      const options = parseImageQuery(new URL(c.req.url).searchParams);
      return await serveImage(c, options, source);
    } catch (e) {
      return fail(c, e, source);
    }
  });

  app.get("/cdn-cgi/image/*", async (c) => {
    let source: string | undefined;
    try {
      const parsed = parseImagePath(new URL(c.req.url).pathname);
      source = parsed.sourcePath;
      const extra = [...new URL(c.req.url).searchParams.keys()].filter((k) => k !== "sig");
      if (extra.length > 0) throw new ImageServiceError(400, `Unexpected query parameter ${extra[0]}`);
      return await serveImage(c, parsed.options, source);
    } catch (e) {
      return fail(c, e, source);
    }
  });

  app.notFound((c) => c.json({ error: "Not found" }, 404));
  app.onError((err, c) => fail(c, err, undefined));
  return app;
}
