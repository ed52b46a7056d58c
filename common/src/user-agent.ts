/**
 * Coarse client classification from a User-Agent string: a device class and a browser family,
 * the two bounded dimensions the collector keeps (the raw UA is dropped right after). A few
 * regular expressions instead of a full UA parser keep the Worker bundle small; anything not
 * recognised is "other". Client hints are not used (beacons do not send them).
 */

export type DeviceClass = "mobile" | "tablet" | "desktop" | "bot" | "other";
export type BrowserFamily = "chrome" | "safari" | "firefox" | "edge" | "samsung" | "other";

export interface UserAgentClass {
  device: DeviceClass;
  browser: BrowserFamily;
}

const BOT = /bot\b|bot\/|crawl|spider|slurp|facebookexternalhit|lighthouse|pagespeed|curl\/|wget\//i;
// Tablets first: Android tablets omit "Mobile"; iPadOS 13+ sends a desktop Safari UA and
// therefore counts as desktop (not detectable from the UA alone).
const TABLET = /iPad|Tablet|PlayBook|Kindle|Silk\/|Android(?!.*Mobile)/i;
const MOBILE = /Mobi|iPhone|iPod|Android|Windows Phone|IEMobile|Opera Mini/i;
const DESKTOP = /Windows NT|Macintosh|X11|Linux|CrOS/;

/**
 * Longest User-Agent prefix that is classified; the rest is ignored. Real UAs are < 300 chars,
 * and the look-ahead in TABLET makes the cost grow with the length (a 16 KB UA took 11 ms).
 */
export const MAX_UA_LENGTH = 512;

/**
 * Classifies a User-Agent (null/empty → `{ device: "other", browser: "other" }`) from its first
 * MAX_UA_LENGTH (512) characters. Headless Chrome counts as desktop Chrome (synthetic monitoring
 * uses it); declared crawlers are "bot".
 */
export function classifyUserAgent(ua: string | null | undefined): UserAgentClass {
  if (!ua) return { device: "other", browser: "other" };
  const cut = ua.length > MAX_UA_LENGTH ? ua.slice(0, MAX_UA_LENGTH) : ua;
  return { device: deviceClass(cut), browser: browserFamily(cut) };
}

function deviceClass(ua: string): DeviceClass {
  if (BOT.test(ua)) return "bot";
  if (TABLET.test(ua)) return "tablet";
  if (MOBILE.test(ua)) return "mobile";
  if (DESKTOP.test(ua)) return "desktop";
  return "other";
}

function browserFamily(ua: string): BrowserFamily {
  // Order matters: Edge, Samsung and Opera all carry "Chrome/" and "Safari/" tokens too.
  if (/Edg(e|A|iOS)?\//.test(ua)) return "edge";
  if (ua.includes("SamsungBrowser/")) return "samsung";
  if (/OPR\/|Opera|YaBrowser\/|UCBrowser\//.test(ua)) return "other";
  if (ua.includes("Firefox/") || ua.includes("FxiOS/")) return "firefox";
  if (/(Headless)?Chrome\/|CriOS\/|Chromium\//.test(ua)) return "chrome";
  if (ua.includes("Safari/") && (ua.includes("Version/") || /iPhone|iPad|iPod/.test(ua))) return "safari";
  return "other";
}

/** Entries of the per-isolate User-Agent class cache. */
export const UA_CACHE_SIZE = 512;
// Real traffic repeats a few hundred UA strings, and classifying one runs several regular
// expressions (one with a look-ahead over the whole string). The map's insertion order makes it
// an LRU: a hit moves the entry to the end, the oldest entry is dropped when it is full.
const uaCache = new Map<string, UserAgentClass>();

/**
 * `classifyUserAgent` through a bounded LRU cache (UA_CACHE_SIZE entries per isolate), keyed on
 * the UA cut to MAX_UA_LENGTH, so an entry holds at most 512 chars.
 */
export function classifyUserAgentCached(raw: string | null): UserAgentClass {
  if (!raw) return classifyUserAgent(raw);
  const ua = raw.length > MAX_UA_LENGTH ? raw.slice(0, MAX_UA_LENGTH) : raw;
  const hit = uaCache.get(ua);
  if (hit !== undefined) {
    uaCache.delete(ua);
    uaCache.set(ua, hit);
    return hit;
  }
  const cls = classifyUserAgent(ua);
  if (uaCache.size >= UA_CACHE_SIZE) uaCache.delete(uaCache.keys().next().value as string);
  uaCache.set(ua, cls);
  return cls;
}

/** Number of User-Agents in the cache (for tests). */
export function uaCacheSize(): number {
  return uaCache.size;
}
