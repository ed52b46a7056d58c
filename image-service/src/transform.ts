import sharp, { type Metadata, type ResizeOptions } from "sharp";

interface RGBA {
  r: number;
  g: number;
  b: number;
  alpha: number;
}

import {
  chooseImageFormat,
  type ImageGravity,
  type ImageOptions,
  type ImageOutputFormat,
} from "../../common/src/image-options.ts";
import type { ImageServiceConfig } from "./config.ts";
import { ImageServiceError } from "./errors.ts";
import { type SniffedFormat, sniffImageFormat } from "./sniff.ts";

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
  | "maxFrames"
  | "allowSvg"
  | "transformTimeoutS"
  | "avifEffort"
  | "webpEffort"
>;

export interface TransformResult {
  data: Buffer;
  format: ImageOutputFormat;
  width: number;
  height: number;
  /** True when the output format depended on the request's Accept header. */
  negotiated: boolean;
}

export interface ResizePlan {
  /** Output size (before any padding is cropped away); undefined dimensions = no resize. */
  width: number;
  height: number;
  /** sharp resize call, or undefined to keep the size. */
  resize: ResizeOptions | undefined;
}

const POSITIONS: Readonly<Record<ImageGravity, string>> = {
  auto: "attention",
  center: "centre",
  top: "top",
  bottom: "bottom",
  left: "left",
  right: "right",
  "top-left": "left top",
  "top-right": "right top",
  "bottom-left": "left bottom",
  "bottom-right": "right bottom",
  attention: "attention",
  entropy: "entropy",
};

function hexToRgba(hex: string): RGBA {
  const n = (i: number) => Number.parseInt(hex.slice(i, i + 2), 16);
  return { r: n(0), g: n(2), b: n(4), alpha: hex.length === 8 ? n(6) / 255 : 1 };
}

/**
 * Decides output size and the sharp resize call for a source of `srcW`×`srcH` (already
 * oriented). Fits follow Cloudflare: scale-down (default) never enlarges; contain fits inside;
 * cover fills and crops; crop = cover when the source is large enough, else scale-down; pad =
 * contain then pad to the exact box with the background.
 */
export function planResize(srcW: number, srcH: number, opts: ImageOptions): ResizePlan {
  const dpr = opts.dpr ?? 1;
  const w = opts.width === undefined ? undefined : Math.round(opts.width * dpr);
  const h = opts.height === undefined ? undefined : Math.round(opts.height * dpr);
  if (w === undefined && h === undefined) return { width: srcW, height: srcH, resize: undefined };
  const fit = opts.fit ?? "scale-down";
  const position = POSITIONS[opts.gravity ?? "center"];
  const background = hexToRgba(opts.background ?? "ffffff");
  const scaleInside = (enlarge: boolean) => {
    const s = Math.min(
      w === undefined ? Infinity : w / srcW,
      h === undefined ? Infinity : h / srcH,
      enlarge ? Infinity : 1,
    );
    return { width: Math.max(1, Math.round(srcW * s)), height: Math.max(1, Math.round(srcH * s)) };
  };
  const inside = (enlarge: boolean): ResizePlan => {
    const size = scaleInside(enlarge);
    return { ...size, resize: { ...size, fit: "fill" } };
  };
  if (w === undefined || h === undefined) {
    // With one dimension every fit reduces to scaling; only scale-down and crop refuse to enlarge.
    return inside(fit !== "scale-down" && fit !== "crop");
  }
  switch (fit) {
    case "scale-down":
      return inside(false);
    case "contain":
      return inside(true);
    case "cover":
      return { width: w, height: h, resize: { width: w, height: h, fit: "cover", position } };
    case "crop":
      return srcW >= w && srcH >= h
        ? { width: w, height: h, resize: { width: w, height: h, fit: "cover", position } }
        : inside(false);
    case "pad":
      return { width: w, height: h, resize: { width: w, height: h, fit: "contain", position, background } };
  }
}

function outputFormatFor(
  opts: ImageOptions,
  input: SniffedFormat,
  accept: string | undefined,
  meta: { hasAlpha: boolean; animated: boolean },
): { format: ImageOutputFormat; negotiated: boolean } {
  if (opts.format !== undefined && opts.format !== "auto") return { format: opts.format, negotiated: false };
  if (opts.format === "auto") {
    return {
      format: chooseImageFormat(accept, { hasAlpha: meta.hasAlpha, animated: meta.animated }),
      negotiated: true,
    };
  }
  // No format asked for: keep the source's, except formats browsers cannot all show.
  if (input === "jpeg" || input === "png" || input === "webp" || input === "gif" || input === "avif") {
    return { format: input, negotiated: false };
  }
  return { format: meta.hasAlpha ? "png" : "jpeg", negotiated: false };
}

function classifySharpError(e: unknown): ImageServiceError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(msg)) return new ImageServiceError(413, "Source image has too many pixels", msg);
  if (/unsupported image format/i.test(msg))
    return new ImageServiceError(415, "Unsupported source image format", msg);
  if (/timeout/i.test(msg)) return new ImageServiceError(503, "Image took too long to process", msg);
  return new ImageServiceError(422, "Source image could not be decoded", msg);
}

/**
 * Transforms source bytes per options. Checks format by magic bytes and dimensions from the
 * header before any decoding (413 over `maxInputPixels`, frames over `maxFrames`), then runs one
 * sharp pipeline with `limitInputPixels` and a time limit. Throws ImageServiceError (4xx/503).
 */
export async function transformImage(
  input: Buffer,
  opts: ImageOptions,
  accept: string | undefined,
  limits: TransformLimits,
): Promise<TransformResult> {
  const sniffed = sniffImageFormat(input);
  if (sniffed === undefined)
    throw new ImageServiceError(415, "Unsupported source image format", "unknown magic bytes");
  if (sniffed === "svg" && !limits.allowSvg) {
    throw new ImageServiceError(415, "SVG sources are not rasterised", "IMAGE_ALLOW_SVG is off");
  }
  let meta: Metadata;
  try {
    // Header only: no pixels are decoded here, so a bomb is refused before it can allocate.
    meta = await sharp(input, { limitInputPixels: false }).metadata();
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
  const wantsAnim = opts.anim !== false && pages > 1 && (sniffed === "gif" || sniffed === "webp");
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
  const rotated = (meta.orientation ?? 1) >= 5;
  const srcW = rotated ? frameH : meta.width;
  const srcH = rotated ? meta.width : frameH;
  const plan = planResize(srcW, srcH, opts);
  if (plan.width > limits.maxOutputDimension || plan.height > limits.maxOutputDimension) {
    // A requested size (width or height × dpr) over the limit is the request's fault: 400. A size
    // within it that the source's shape stretches past the limit (a 20 px wide variant of a
    // 64 × 26,416 strip), or a source over the limit with no resize asked, is the source's: 422.
    const dpr = opts.dpr ?? 1;
    const asked = Math.max(Math.round((opts.width ?? 0) * dpr), Math.round((opts.height ?? 0) * dpr));
    throw new ImageServiceError(
      asked > limits.maxOutputDimension ? 400 : 422,
      `Output ${plan.width}x${plan.height} exceeds the ${limits.maxOutputDimension} pixel dimension limit`,
    );
  }

  const quality = opts.quality ?? DEFAULT_QUALITY[format];
  const background = hexToRgba(opts.background ?? "ffffff");
  try {
    let img = sharp(input, {
      limitInputPixels: limits.maxInputPixels,
      failOn: "truncated",
      autoOrient: true,
      animated,
      density: sniffed === "svg" ? 72 : undefined,
    }).timeout({ seconds: limits.transformTimeoutS });
    if (plan.resize) img = img.resize(plan.resize);
    if (opts.blur !== undefined && opts.blur > 0) img = img.blur(Math.max(0.3, opts.blur / 2));
    if (opts.sharpen !== undefined && opts.sharpen > 0)
      img = img.sharpen({ sigma: 0.5 + opts.sharpen * 0.3 });
    if (format === "jpeg" && (meta.hasAlpha ?? false)) img = img.flatten({ background });
    if (opts.metadata === "keep") img = img.keepMetadata();
    switch (format) {
      case "jpeg":
        img = img.jpeg({ quality });
        break;
      case "webp":
        img = img.webp({ quality, effort: limits.webpEffort });
        break;
      case "avif":
        img = img.avif({ quality, effort: limits.avifEffort });
        break;
      case "png":
        img = img.png({ quality, palette: quality < 100 });
        break;
      case "gif":
        img = img.gif();
        break;
    }
    const { data, info } = await img.toBuffer({ resolveWithObject: true });
    return { data, format, width: info.width, height: info.pageHeight ?? info.height, negotiated };
  } catch (e) {
    throw classifySharpError(e);
  }
}
