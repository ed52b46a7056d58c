/**
 * Picks the concrete image variant the edge asks the image service for: width snapped to an
 * allow-list (bounded variants per image), format resolved from `Accept`, quality lowered for
 * Save-Data and slow connections. Pure: every input is passed in.
 */
import { chooseImageFormat, type ImageOptions, type ImageOutputFormat } from "./image-options.ts";

/** Device classes the edge derives from the User-Agent when no client hints are sent. */
export type ImageDeviceClass = "mobile" | "tablet" | "desktop" | "bot" | "other";

export interface NegotiationConfig {
  /** Allowed output widths in physical pixels, ascending. Default `DEFAULT_IMAGE_WIDTHS`. */
  widths: readonly number[];
  /** Viewport width (CSS px) assumed per device class when no hint is sent. */
  deviceViewport: Readonly<Record<ImageDeviceClass, number>>;
  /** DPR assumed per device class when no hint is sent. */
  deviceDpr: Readonly<Record<ImageDeviceClass, number>>;
  /** Default quality per output format when the request names none. */
  quality: Readonly<Record<ImageOutputFormat, number>>;
  /** Quality multiplier for `Save-Data: on` (default 0.65). */
  saveDataFactor: number;
  /** Quality multiplier per slow effective connection type (default 2g/slow-2g 0.6, 3g 0.85). */
  ectFactor: Readonly<Record<string, number>>;
  /** Quality values are rounded down to a multiple of this step so variants stay bounded (default 5). */
  qualityStep: number;
}

export const DEFAULT_IMAGE_WIDTHS = [160, 320, 480, 640, 768, 1024, 1280, 1536, 1920, 2560] as const;

/** Defaults documented in edge/README.md ("Images"). */
export const DEFAULT_NEGOTIATION: NegotiationConfig = {
  widths: DEFAULT_IMAGE_WIDTHS,
  deviceViewport: { mobile: 412, tablet: 820, desktop: 1440, bot: 1280, other: 1280 },
  deviceDpr: { mobile: 2.625, tablet: 2, desktop: 1, bot: 1, other: 1 },
  quality: { jpeg: 80, png: 90, webp: 75, avif: 50, gif: 80 },
  saveDataFactor: 0.65,
  ectFactor: { "slow-2g": 0.6, "2g": 0.6, "3g": 0.85 },
  qualityStep: 5,
};

/** Request facts that steer negotiation (header values as received, `null` when absent). */
export interface ImageClientHints {
  accept: string | null;
  /** `Sec-CH-Width`: intended display width in physical pixels. */
  width: string | null;
  /** `Sec-CH-DPR`. */
  dpr: string | null;
  /** `Sec-CH-Viewport-Width` (CSS px). */
  viewportWidth: string | null;
  /** `Save-Data`. */
  saveData: string | null;
  /** `ECT` client hint (effective connection type). */
  ect: string | null;
  /** `RTT` client hint (ms); optional. */
  rtt?: string | null;
  /** `Downlink` client hint (Mbit/s); optional. */
  downlink?: string | null;
  device: ImageDeviceClass;
}

export interface NegotiatedVariant {
  /** Options to send to the image service: concrete format, width (snapped only when edge-chosen), dpr folded in. */
  options: ImageOptions;
  /** Which input decided the width, for `Server-Timing` / debugging. */
  widthSource: "option" | "sec-ch-width" | "viewport-hint" | "device-class";
  /** Headers whose values changed the variant (for a `Vary`-free cache key this is informational). */
  usedHints: string[];
}

function positive(v: string | null, max: number): number | null {
  if (v === null) return null;
  const n = Number(v.trim());
  return Number.isFinite(n) && n > 0 && n <= max ? n : null;
}

/** Smallest allowed width ≥ `target`, or the largest allowed width when `target` exceeds all. */
export function snapWidth(target: number, widths: readonly number[]): number {
  for (const w of widths) if (w >= target) return w;
  return widths[widths.length - 1] ?? Math.round(target);
}

/** True when the hints say the connection is slow (Cloudflare's `slow-connection-quality` rule). */
export function isSlowConnection(hints: ImageClientHints): boolean {
  if (hints.saveData?.trim().toLowerCase() === "on") return true;
  const ect = hints.ect?.trim().toLowerCase();
  if (ect === "slow-2g" || ect === "2g" || ect === "3g") return true;
  const rtt = positive(hints.rtt ?? null, 1e6);
  if (rtt !== null && rtt > 150) return true;
  const downlink = hints.downlink == null ? null : Number(hints.downlink.trim());
  return downlink !== null && Number.isFinite(downlink) && downlink >= 0 && downlink < 5;
}

/**
 * Resolves the variant for one request. An explicit `width`/`height` is honoured exactly (× `dpr`,
 * never snapped); only a width the edge chooses itself (client hints, device class) snaps up to
 * the allow-list. `allowAvif` comes from the caller's cost guard; `source` facts are optional.
 * Edge-only options (`onerror`, `slow-connection-quality`) are not in the returned options.
 */
export function negotiateImage(
  requested: ImageOptions,
  hints: ImageClientHints,
  config: NegotiationConfig = DEFAULT_NEGOTIATION,
  source: { hasAlpha?: boolean; animated?: boolean; allowAvif?: boolean } = {},
): NegotiatedVariant {
  const used: string[] = [];
  const hintDpr = positive(hints.dpr, 4);
  if (hintDpr !== null) used.push("Sec-CH-DPR");
  const dpr = requested.dpr ?? 1;
  const options: ImageOptions = { ...requested };
  delete options.dpr;
  delete options.onerror;
  delete options["slow-connection-quality"];

  if (dpr !== 1) {
    // Cloudflare: trim "takes dpr into account"; dpr is folded away here, so the trim is scaled too.
    const scale = (n: number) => Math.round(n * dpr);
    if (options.trim !== undefined)
      options.trim = options.trim
        .split(";")
        .map((n) => scale(Number(n)))
        .join(";");
    for (const k of ["trim.width", "trim.height", "trim.left", "trim.top"] as const) {
      const v = options[k];
      if (v !== undefined) options[k] = scale(v);
    }
  }

  let widthSource: NegotiatedVariant["widthSource"] = "option";
  if (requested.width !== undefined || requested.height !== undefined) {
    // Explicit sizes are layout sizes (srcset `w` descriptors, intrinsic sizes): exactly as asked,
    // times `dpr=`; the DPR hint must not change them.
    if (requested.width !== undefined) options.width = Math.max(1, Math.round(requested.width * dpr));
    if (requested.height !== undefined) options.height = Math.max(1, Math.round(requested.height * dpr));
  } else {
    let target: number;
    const chWidth = positive(hints.width, 16384);
    const viewport = positive(hints.viewportWidth, 16384);
    if (chWidth !== null) {
      target = chWidth;
      widthSource = "sec-ch-width";
      used.push("Sec-CH-Width");
    } else if (viewport !== null) {
      target = viewport * (hintDpr ?? 1);
      widthSource = "viewport-hint";
      used.push("Sec-CH-Viewport-Width");
    } else {
      target = config.deviceViewport[hints.device] * config.deviceDpr[hints.device];
      widthSource = "device-class";
    }
    options.width = snapWidth(target * dpr, config.widths);
  }

  if (requested.format === "json") return { options, widthSource, usedHints: used };
  let format: ImageOutputFormat;
  if (requested.format === undefined || requested.format === "auto") {
    used.push("Accept");
    format =
      requested.compression === "fast"
        ? source.hasAlpha
          ? "png"
          : "jpeg"
        : chooseImageFormat(hints.accept, source);
    options.format = format;
  } else {
    format = requested.format === "baseline-jpeg" ? "jpeg" : requested.format;
  }

  const step = Math.max(1, config.qualityStep);
  const scq = requested["slow-connection-quality"];
  if (scq !== undefined && isSlowConnection(hints)) {
    options.quality = scq;
    used.push("Save-Data", "ECT", "RTT", "Downlink");
  } else if (requested.quality === undefined) {
    // Save-Data and slow ECT lower the default quality only; an explicit quality is kept as asked.
    let factor = 1;
    if (hints.saveData?.trim().toLowerCase() === "on") {
      factor *= config.saveDataFactor;
      used.push("Save-Data");
    }
    const ect = hints.ect?.trim().toLowerCase();
    const ectFactor = ect ? config.ectFactor[ect] : undefined;
    if (ectFactor !== undefined) {
      factor *= ectFactor;
      used.push("ECT");
    }
    const base = config.quality[format];
    options.quality = Math.max(step, Math.min(100, Math.floor((base * factor) / step) * step));
  }
  return { options, widthSource, usedHints: used };
}

/** Reads the negotiation inputs from request headers (`get` = `Headers.get`); `device` from the UA. */
export function imageHintsFrom(
  get: (name: string) => string | null,
  device: ImageDeviceClass,
): ImageClientHints {
  return {
    accept: get("accept"),
    width: get("sec-ch-width"),
    dpr: get("sec-ch-dpr"),
    viewportWidth: get("sec-ch-viewport-width"),
    saveData: get("save-data"),
    ect: get("ect"),
    rtt: get("rtt"),
    downlink: get("downlink"),
    device,
  };
}

/** `IMAGE_AVIF`: never, whenever `Accept` allows it, or only where it pays (default `guard`). */
export type AvifMode = "off" | "always" | "guard";

export interface AvifGuardFacts {
  mode: AvifMode;
  /** The request's `Accept` allows AVIF (q > 0). */
  acceptsAvif: boolean;
  /** Source size in bytes when known (a previous variant's `X-Original-Bytes`), else null. */
  sourceBytes: number | null;
  /** `IMAGE_AVIF_MIN_BYTES`: smaller sources stay WebP (AVIF's saving would not pay its encode). */
  minBytes: number;
  /** The AVIF variant of this exact request was already produced (cached at the edge). */
  variantReady: boolean;
}

/**
 * AVIF cost guard. `always`/`off` are what they say. `guard` (default): AVIF is served only once its
 * variant is ready; until then the request gets WebP and, when the source is known to be at least
 * `minBytes`, `warm` asks the caller to produce the AVIF variant in the background. So AVIF never
 * holds a response and is only made for large images that are actually requested.
 */
export function avifDecision(f: AvifGuardFacts): { allowAvif: boolean; warm: boolean } {
  if (f.mode === "off" || !f.acceptsAvif) return { allowAvif: false, warm: false };
  if (f.mode === "always" || f.variantReady) return { allowAvif: true, warm: false };
  return { allowAvif: false, warm: f.sourceBytes !== null && f.sourceBytes >= f.minBytes };
}
