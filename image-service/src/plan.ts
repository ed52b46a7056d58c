/**
 * Output geometry per Cloudflare's `fit` modes, computed from the source size (after EXIF
 * orientation, trim and rotate) before anything is decoded, so limits are checked up front.
 */
import type { ResizeOptions } from "sharp";
import { gravityPoint } from "../../common/src/image-option-values.ts";
import type { ImageOptions } from "../../common/src/image-options.ts";

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface ResizePlan {
  /** Output size. */
  width: number;
  height: number;
  /** sharp resize call, or undefined to keep the (trimmed, rotated) size. */
  resize: ResizeOptions | undefined;
  /** Region cut from the resized image (cover/crop with a focal point), or undefined. */
  crop: Box | undefined;
  /** Largest intermediate image (pixels) the plan makes, for the output-pixel budget. */
  peakPixels: number;
}

/** Focal points for named gravities; `auto`/`attention`/`entropy` use sharp's saliency strategies. */
const FOCAL: Readonly<Record<string, { x: number; y: number }>> = {
  center: { x: 0.5, y: 0.5 },
  top: { x: 0.5, y: 0 },
  bottom: { x: 0.5, y: 1 },
  left: { x: 0, y: 0.5 },
  right: { x: 1, y: 0.5 },
  "top-left": { x: 0, y: 0 },
  "top-right": { x: 1, y: 0 },
  "bottom-left": { x: 0, y: 1 },
  "bottom-right": { x: 1, y: 1 },
};
const STRATEGY: Readonly<Record<string, "attention" | "entropy">> = {
  auto: "attention",
  attention: "attention",
  entropy: "entropy",
};

export function hexToRgba(hex: string): { r: number; g: number; b: number; alpha: number } {
  const n = (i: number) => Number.parseInt(hex.slice(i, i + 2), 16);
  return { r: n(0), g: n(2), b: n(4), alpha: hex.length === 8 ? n(6) / 255 : 1 };
}

/** The part of the (oriented) source that `trim` keeps, or undefined when nothing is trimmed. */
export function trimBox(srcW: number, srcH: number, opts: ImageOptions): Box | undefined {
  const [t = 0, r = 0, b = 0, l = 0] = (opts.trim ?? "0;0;0;0").split(";").map(Number);
  const left = opts["trim.left"] ?? l;
  const top = opts["trim.top"] ?? t;
  const width = opts["trim.width"] ?? srcW - left - r;
  const height = opts["trim.height"] ?? srcH - top - b;
  if (left === 0 && top === 0 && width === srcW && height === srcH) return undefined;
  return {
    left: Math.min(left, srcW - 1),
    top: Math.min(top, srcH - 1),
    width: Math.max(1, Math.min(width, srcW - Math.min(left, srcW - 1))),
    height: Math.max(1, Math.min(height, srcH - Math.min(top, srcH - 1))),
  };
}

/** Scales `srcW`×`srcH` by `s` and cuts a `boxW`×`boxH` region around the gravity's focal point. */
function coverPlan(
  srcW: number,
  srcH: number,
  s: number,
  boxW: number,
  boxH: number,
  gravity: string | undefined,
): ResizePlan {
  const sw = Math.max(boxW, Math.round(srcW * s));
  const sh = Math.max(boxH, Math.round(srcH * s));
  const strategy = STRATEGY[gravity ?? ""];
  if (strategy !== undefined) {
    // sharp's saliency crop: one resize call straight to the box.
    const resize: ResizeOptions = { width: boxW, height: boxH, fit: "cover", position: strategy };
    return { width: boxW, height: boxH, resize, crop: undefined, peakPixels: sw * sh };
  }
  const focal = gravityPoint(gravity) ?? FOCAL[gravity ?? "center"] ?? { x: 0.5, y: 0.5 };
  const left = Math.min(sw - boxW, Math.max(0, Math.round(focal.x * sw - boxW / 2)));
  const top = Math.min(sh - boxH, Math.max(0, Math.round(focal.y * sh - boxH / 2)));
  const resize: ResizeOptions | undefined =
    sw === srcW && sh === srcH ? undefined : { width: sw, height: sh, fit: "fill" };
  const crop =
    left === 0 && top === 0 && sw === boxW && sh === boxH
      ? undefined
      : { left, top, width: boxW, height: boxH };
  return { width: boxW, height: boxH, resize, crop, peakPixels: sw * sh };
}

/**
 * Decides output size and the sharp calls for a source of `srcW`×`srcH` (oriented, trimmed,
 * rotated). `scale-down` (default), `crop` and `aspect-crop` never enlarge; `contain`, `cover`,
 * `pad` and `squeeze` may. With one dimension every fit scales, keeping the aspect ratio.
 */
export function planResize(srcW: number, srcH: number, opts: ImageOptions): ResizePlan {
  const dpr = opts.dpr ?? 1;
  const w = opts.width === undefined ? undefined : Math.max(1, Math.round(opts.width * dpr));
  const h = opts.height === undefined ? undefined : Math.max(1, Math.round(opts.height * dpr));
  const none = { width: srcW, height: srcH, resize: undefined, crop: undefined, peakPixels: srcW * srcH };
  if (w === undefined && h === undefined) return none;
  const fit = opts.fit ?? "scale-down";
  const inside = (enlarge: boolean): ResizePlan => {
    const s = Math.min(
      w === undefined ? Infinity : w / srcW,
      h === undefined ? Infinity : h / srcH,
      enlarge ? Infinity : 1,
    );
    if (s === 1) return none;
    const width = Math.max(1, Math.round(srcW * s));
    const height = Math.max(1, Math.round(srcH * s));
    return {
      width,
      height,
      resize: { width, height, fit: "fill" },
      crop: undefined,
      peakPixels: width * height,
    };
  };
  if (w === undefined || h === undefined) {
    return inside(fit !== "scale-down" && fit !== "crop" && fit !== "aspect-crop");
  }
  switch (fit) {
    case "scale-down":
      return inside(false);
    case "contain":
      return inside(true);
    case "squeeze":
      return {
        width: w,
        height: h,
        resize: { width: w, height: h, fit: "fill" },
        crop: undefined,
        peakPixels: w * h,
      };
    case "cover":
      return coverPlan(srcW, srcH, Math.max(w / srcW, h / srcH), w, h, opts.gravity);
    case "crop": {
      // Shrink as far as still covering the box, never enlarge; a smaller side stays as it is.
      const s = Math.min(1, Math.max(w / srcW, h / srcH));
      const boxW = Math.min(w, Math.round(srcW * s));
      const boxH = Math.min(h, Math.round(srcH * s));
      return coverPlan(srcW, srcH, s, boxW, boxH, opts.gravity);
    }
    case "aspect-crop": {
      const s = Math.max(w / srcW, h / srcH);
      if (s < 1) return coverPlan(srcW, srcH, s, w, h, opts.gravity);
      // Too small to fill the box: keep the size, cut to the box's aspect ratio.
      const k = Math.min(srcW / w, srcH / h);
      return coverPlan(
        srcW,
        srcH,
        1,
        Math.max(1, Math.round(w * k)),
        Math.max(1, Math.round(h * k)),
        opts.gravity,
      );
    }
    case "pad": {
      const background = hexToRgba(opts.background ?? "ffffff");
      const resize: ResizeOptions = { width: w, height: h, fit: "contain", background, position: "centre" };
      return { width: w, height: h, resize, crop: undefined, peakPixels: w * h };
    }
  }
}
