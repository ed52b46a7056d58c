import sharp, { type Metadata, type Sharp, type SharpOptions } from "sharp";
import { readExifCopyright } from "../../common/src/image-exif.ts";
import {
  chooseImageFormat,
  type ImageOptions,
  type ImageOutputFormat,
} from "../../common/src/image-options.ts";
import type { ImageServiceConfig } from "./config.ts";
import { ImageServiceError } from "./errors.ts";
import { plainJpegFrame } from "./jpeg-frame.ts";
import { hexToRgba, planResize, trimBox } from "./plan.ts";
import { type SniffedFormat, sniffImageFormat } from "./sniff.ts";
import { SvgRefusedError, sanitizeSvg } from "./svg-sanitize.ts";

export { planResize } from "./plan.ts";

/** Quality per output format when the request gives none (matches the benchmark settings). */
export const DEFAULT_QUALITY: Readonly<Record<ImageOutputFormat, number>> = {
  jpeg: 80,
  webp: 75,
  avif: 50,
  png: 100,
  gif: 100,
};

export type TransformLimits = Pick<
  ImageServiceConfig,
  | "maxInputPixels"
  | "maxOutputDimension"
  | "maxOutputPixels"
  | "maxFrames"
  | "allowSvg"
  | "maxSvgBytes"
  | "transformTimeoutS"
  | "avifEffort"
  | "webpEffort"
>;

export interface TransformResult {
  data: Buffer;
  /** Encoded image format, `svg` for a sanitised vector passed on, `json` for `format=json`. */
  format: ImageOutputFormat | "svg" | "json";
  /** The produced content type (never the source's claim). */
  contentType: string;
  width: number;
  height: number;
  /** True when the output format depended on the request's Accept header. */
  negotiated: boolean;
}

const CONTENT_TYPES: Readonly<Record<TransformResult["format"], string>> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
  svg: "image/svg+xml",
  json: "application/json",
};

function outputFormatFor(
  opts: ImageOptions,
  input: SniffedFormat,
  accept: string | undefined,
  meta: { hasAlpha: boolean; animated: boolean },
): { format: ImageOutputFormat; negotiated: boolean } {
  const f = opts.format;
  if (f === "baseline-jpeg") return { format: "jpeg", negotiated: false };
  if (f !== undefined && f !== "auto" && f !== "json") return { format: f, negotiated: false };
  if (f === "auto") {
    if (opts.compression === "fast") return { format: meta.hasAlpha ? "png" : "jpeg", negotiated: false };
    return { format: chooseImageFormat(accept, meta), negotiated: true };
  }
  // No format asked for: keep the source's, except formats browsers cannot all show.
  if (input === "jpeg" || input === "png" || input === "webp" || input === "gif" || input === "avif") {
    return { format: input, negotiated: false };
  }
  return { format: meta.hasAlpha ? "png" : "jpeg", negotiated: false };
}

function classifySharpError(e: unknown): ImageServiceError {
  if (e instanceof ImageServiceError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(msg)) return new ImageServiceError(413, "Source image has too many pixels", msg);
  if (/unsupported image format/i.test(msg))
    return new ImageServiceError(415, "Unsupported source image format", msg);
  if (/timeout/i.test(msg)) return new ImageServiceError(503, "Image took too long to process", msg);
  return new ImageServiceError(422, "Source image could not be decoded", msg);
}

function sanitized(input: Buffer, limits: TransformLimits): Buffer {
  try {
    return Buffer.from(sanitizeSvg(input, limits.maxSvgBytes));
  } catch (e) {
    if (e instanceof SvgRefusedError) throw new ImageServiceError(422, e.message);
    throw e;
  }
}

/** What the transform needs from the source's header (from libvips, or jpeg-frame.ts for plain JPEGs). */
type SourceHeader = Pick<Metadata, "width" | "height"> &
  Partial<Pick<Metadata, "pageHeight" | "pages" | "hasAlpha" | "orientation" | "exif">>;

/** Requested output box in pixels (width × height × dpr²), when the request names both sides. */
function requestedBox(opts: ImageOptions): { w: number; h: number } {
  const dpr = opts.dpr ?? 1;
  return { w: Math.round((opts.width ?? 0) * dpr), h: Math.round((opts.height ?? 0) * dpr) };
}

function checkOutput(
  plan: { width: number; height: number; peakPixels: number },
  opts: ImageOptions,
  limits: TransformLimits,
): void {
  const { w, h } = requestedBox(opts);
  const fills =
    opts.fit === "pad" || opts.fit === "cover" || opts.fit === "squeeze" || opts.fit === "contain";
  // The request's own fault (400): a side over the dimension limit, or a filled box over the pixel budget.
  if (Math.max(w, h) > limits.maxOutputDimension) {
    throw new ImageServiceError(
      400,
      `Requested size exceeds the ${limits.maxOutputDimension} pixel dimension limit`,
    );
  }
  if (fills && w * h > limits.maxOutputPixels) {
    throw new ImageServiceError(
      400,
      `Requested ${w}x${h} output exceeds the ${limits.maxOutputPixels} output pixel budget`,
    );
  }
  // The source's shape (a thin strip scaled up, a huge source with no resize): 422.
  if (plan.width > limits.maxOutputDimension || plan.height > limits.maxOutputDimension) {
    throw new ImageServiceError(
      422,
      `Output ${plan.width}x${plan.height} exceeds the ${limits.maxOutputDimension} pixel dimension limit`,
    );
  }
  if (plan.width * plan.height > limits.maxOutputPixels || plan.peakPixels > limits.maxOutputPixels) {
    throw new ImageServiceError(
      422,
      `Output ${plan.width}x${plan.height} exceeds the ${limits.maxOutputPixels} output pixel budget`,
    );
  }
}

function encode(img: Sharp, format: ImageOutputFormat, opts: ImageOptions, limits: TransformLimits): Sharp {
  const quality = opts.quality ?? DEFAULT_QUALITY[format];
  switch (format) {
    case "jpeg":
      // Cloudflare: `jpeg` is progressive, `baseline-jpeg` sequential.
      return img.jpeg({ quality, progressive: opts.format !== "baseline-jpeg" });
    case "webp":
      return img.webp({ quality, effort: limits.webpEffort, lossless: quality === 100 });
    case "avif":
      return img.avif({ quality, effort: limits.avifEffort });
    case "png":
      // An explicit quality allows a palette (PNG8), as on Cloudflare.
      return img.png(opts.quality === undefined ? {} : { quality, palette: true });
    case "gif":
      return img.gif();
  }
}

/**
 * Transforms source bytes per options. Checks format by magic bytes and dimensions from the
 * header before any decoding (413 over `maxInputPixels`, frames over `maxFrames`, output over
 * the dimension/pixel budget), then runs sharp with `limitInputPixels` and a time limit. EXIF
 * orientation is applied first, then trim, flip, rotate, resize. SVG is sanitised and passed on
 * (rasterised only with `IMAGE_ALLOW_SVG` and an explicit raster format). Throws ImageServiceError.
 */
export async function transformImage(
  input: Buffer,
  opts: ImageOptions,
  accept: string | undefined,
  limits: TransformLimits,
): Promise<TransformResult> {
  let sniffed = sniffImageFormat(input);
  if (sniffed === undefined)
    throw new ImageServiceError(415, "Unsupported source image format", "unknown magic bytes");
  if (sniffed === "svg") {
    const clean = sanitized(input, limits);
    const raster = opts.format !== undefined && !["auto", "json"].includes(opts.format);
    if (!limits.allowSvg || !raster) {
      return {
        data: clean,
        format: "svg",
        contentType: CONTENT_TYPES.svg,
        width: 0,
        height: 0,
        negotiated: false,
      };
    }
    input = clean;
  }
  // A plain JPEG (no EXIF) is measured from its frame header here (jpeg-frame.ts); libvips then
  // gets exactly that many pixels as its limit, so it refuses before decoding any larger frame.
  const plain = sniffed === "jpeg" ? plainJpegFrame(input) : undefined;
  const base = {
    limitInputPixels:
      plain === undefined
        ? limits.maxInputPixels
        : Math.min(limits.maxInputPixels, plain.width * plain.height),
    failOn: "truncated" as const,
  };
  // A source that cannot be animated gets one sharp instance for the header and the pipeline (one
  // parse); GIF/WebP need the frame count first to choose the instance's `animated` option.
  const still =
    sniffed !== "gif" && sniffed !== "webp"
      ? sharp(input, { ...base, autoOrient: true, density: sniffed === "svg" ? 72 : undefined })
      : undefined;
  let meta: SourceHeader;
  try {
    // Header only: no pixels are decoded here, so a bomb is refused before it can allocate.
    meta = plain ?? (await (still ?? sharp(input, { limitInputPixels: false })).metadata());
  } catch (e) {
    throw classifySharpError(e);
  }
  const frameH = meta.pageHeight ?? meta.height;
  if (meta.width === undefined || frameH === undefined) {
    throw new ImageServiceError(422, "Source image could not be decoded", "no dimensions in header");
  }
  const framePixels = meta.width * frameH;
  if (framePixels > limits.maxInputPixels) {
    throw new ImageServiceError(
      413,
      "Source image has too many pixels",
      `${meta.width}x${frameH} > ${limits.maxInputPixels} pixels`,
    );
  }
  const pages = meta.pages ?? 1;
  const geometry =
    opts.trim !== undefined ||
    opts["trim.width"] !== undefined ||
    opts["trim.height"] !== undefined ||
    opts["trim.left"] !== undefined ||
    opts["trim.top"] !== undefined ||
    (opts.rotate ?? 0) !== 0 ||
    opts.flip !== undefined;
  // Trim/rotate/flip run on a still (first frame); animations keep their frames otherwise.
  const wantsAnim =
    opts.anim !== false && !geometry && pages > 1 && (sniffed === "gif" || sniffed === "webp");
  const { format, negotiated } = outputFormatFor(opts, sniffed, accept, {
    hasAlpha: meta.hasAlpha ?? false,
    animated: wantsAnim,
  });
  const animated = wantsAnim && (format === "webp" || format === "gif");
  if (animated && pages > limits.maxFrames) {
    throw new ImageServiceError(
      413,
      "Animation has too many frames",
      `${pages} frames > ${limits.maxFrames}`,
    );
  }
  if (animated && framePixels * pages > limits.maxInputPixels * 2) {
    throw new ImageServiceError(
      413,
      "Animation has too many pixels",
      `${pages} frames of ${framePixels} pixels`,
    );
  }
  const oriented = (meta.orientation ?? 1) >= 5;
  const srcW = oriented ? frameH : meta.width;
  const srcH = oriented ? meta.width : frameH;
  const trim = trimBox(srcW, srcH, opts);
  const quarter = opts.rotate === 90 || opts.rotate === 270;
  const w0 = trim?.width ?? srcW;
  const h0 = trim?.height ?? srcH;
  const plan = planResize(quarter ? h0 : w0, quarter ? w0 : h0, opts);
  checkOutput(plan, opts, limits);
  if (opts.format === "json") {
    const facts = {
      width: plan.width,
      height: plan.height,
      original: { file_size: input.length, width: srcW, height: srcH, format: `image/${sniffed}` },
    };
    return {
      data: Buffer.from(JSON.stringify(facts)),
      format: "json",
      contentType: CONTENT_TYPES.json,
      width: plan.width,
      height: plan.height,
      negotiated: false,
    };
  }

  const background = hexToRgba(opts.background ?? "ffffff");
  try {
    let source: Buffer = input;
    let raw: SharpOptions["raw"];
    if (trim !== undefined) {
      // Trim is in oriented pixels: orient and cut in a first pass, then carry on from raw pixels.
      const cut = await sharp(input, { ...base, autoOrient: true })
        .timeout({ seconds: limits.transformTimeoutS })
        .extract(trim)
        .raw()
        .toBuffer({ resolveWithObject: true });
      source = cut.data;
      raw = { width: cut.info.width, height: cut.info.height, channels: cut.info.channels };
      sniffed = "png";
    }
    let img = (
      raw !== undefined
        ? sharp(source, { raw, limitInputPixels: limits.maxInputPixels })
        : (still ?? sharp(source, { ...base, autoOrient: true, animated }))
    ).timeout({ seconds: limits.transformTimeoutS });
    if (opts.flip?.includes("h")) img = img.flop();
    if (opts.flip?.includes("v")) img = img.flip();
    if ((opts.rotate ?? 0) !== 0) img = img.rotate(opts.rotate);
    if (plan.resize) img = img.resize(plan.resize);
    if (plan.crop) img = img.extract(plan.crop);
    if (opts.blur !== undefined && opts.blur > 0) img = img.blur(Math.max(0.3, opts.blur / 2));
    if (opts.sharpen !== undefined && opts.sharpen > 0)
      img = img.sharpen({ sigma: 0.5 + opts.sharpen * 0.3 });
    // Cloudflare: 1 = no change, 0 = ignored.
    const brightness = opts.brightness || 1;
    const saturation = opts.saturation || 1;
    if (brightness !== 1 || saturation !== 1) img = img.modulate({ brightness, saturation });
    const contrast = opts.contrast || 1;
    if (contrast !== 1) img = img.linear(contrast, 128 * (1 - contrast));
    if (format === "jpeg" && (meta.hasAlpha ?? false)) img = img.flatten({ background });
    const metadata = opts.metadata ?? (format === "jpeg" ? "copyright" : "none");
    if (metadata === "keep") img = img.keepMetadata();
    else if (metadata === "copyright") {
      const copyright = readExifCopyright(meta.exif);
      if (copyright !== undefined) img = img.withExif({ IFD0: { Copyright: copyright } });
    }
    img = encode(img, format, opts, limits);
    const { data, info } = await img.toBuffer({ resolveWithObject: true });
    // The plan came from our own header read: libvips' frame must have had the same shape.
    if (plain !== undefined && (info.width !== plan.width || info.height !== plan.height)) {
      throw new ImageServiceError(
        422,
        "Source image could not be decoded",
        `frame header ${plain.width}x${plain.height} gave ${info.width}x${info.height}, planned ${plan.width}x${plan.height}`,
      );
    }
    return {
      data,
      format,
      contentType: CONTENT_TYPES[format],
      width: info.width,
      height: info.pageHeight ?? info.height,
      negotiated,
    };
  } catch (e) {
    throw classifySharpError(e);
  }
}
