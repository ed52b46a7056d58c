/**
 * Serves the beacon script from the Worker itself (not as a static asset: wrangler dev matches
 * assets before the Worker, so they would bypass our headers). `/_rum/beacon.js` is short-cached
 * with an ETag (what the edge injects); `/_rum/beacon.<version>.js` is immutable for a year.
 * The script's default site id (used when the tag has no `data-site`) is filled in here.
 */
import { SITE_ID_PATTERN } from "../../common/src/beacon-schema.ts";
import { jsonError } from "../../common/src/http-response.ts";
import {
  BEACON_ARMS_PLACEHOLDER,
  BEACON_SITE_PLACEHOLDER,
  BEACON_TEMPLATE,
  BEACON_TEMPLATE_HASH,
} from "./beacon-asset.generated.ts";

/** Site id the served script reports to when its tag has no `data-site` and none is configured. */
export const DEFAULT_BEACON_SITE = "demo";
/** Browser cache lifetime of the unversioned `/_rum/beacon.js` (seconds). */
export const BEACON_MAX_AGE_S = 300;

export interface BeaconAssetOptions {
  /** Site id embedded as the script's default (default "demo"); must match `SITE_ID_PATTERN`. */
  defaultSite?: string;
  /**
   * Default prefetch arm shares embedded in the script (`RUM_PREFETCH_ARMS`, e.g.
   * "holdout:0.1,ours:0.8,press:0.1"); default "" = no experiment unless the tag sets its own.
   */
  prefetchArms?: string;
}

export interface BeaconScript {
  body: string;
  /** Content version: SHA-256 of the build mixed with the embedded site id. */
  version: string;
  /** `/_rum/beacon.<version>.js`. */
  versionedPath: string;
}

const scripts = new Map<string, BeaconScript>();
const PATH = /\/beacon(?:\.([0-9a-z]{1,64}))?\.js$/;

/**
 * The script as served for `defaultSite` (default "demo") and default prefetch arm shares
 * `prefetchArms` (default ""), memoised per pair.
 */
export function beaconScript(defaultSite: string = DEFAULT_BEACON_SITE, prefetchArms = ""): BeaconScript {
  const key = `${defaultSite}\n${prefetchArms}`;
  let s = scripts.get(key);
  if (!s) {
    if (!SITE_ID_PATTERN.test(defaultSite)) {
      throw new Error(
        `Invalid beacon default site: must match ${SITE_ID_PATTERN} (got ${JSON.stringify(defaultSite)})`,
      );
    }
    const version = `${BEACON_TEMPLATE_HASH}${hash53(prefetchArms ? key : defaultSite)}`;
    s = {
      body: BEACON_TEMPLATE.replaceAll(
        JSON.stringify(BEACON_SITE_PLACEHOLDER),
        JSON.stringify(defaultSite),
      ).replaceAll(JSON.stringify(BEACON_ARMS_PLACEHOLDER), JSON.stringify(prefetchArms)),
      version,
      versionedPath: `/_rum/beacon.${version}.js`,
    };
    scripts.set(key, s);
  }
  return s;
}

/**
 * Answers `GET|HEAD /_rum/beacon.js` and `/_rum/beacon.<version>.js` (any prefix before
 * `/beacon…js` works, so the collector can be mounted elsewhere). Unversioned: `max-age=300`
 * + ETag, 304 on a matching `If-None-Match`. Versioned: one year, immutable; an outdated
 * version redirects (302) to the unversioned file. Other methods 405, other paths 404 (JSON).
 * Never sets cookies. Options default: `defaultSite` "demo", `prefetchArms` "" (none).
 */
export function beaconAssetResponse(request: Request, options: BeaconAssetOptions = {}): Response {
  const url = new URL(request.url);
  const match = PATH.exec(url.pathname);
  if (!match) return jsonError(404, `no beacon script at ${url.pathname}`);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return jsonError(405, `method ${request.method} not allowed (use GET or HEAD)`, { Allow: "GET, HEAD" });
  }
  const script = beaconScript(options.defaultSite, options.prefetchArms);
  const requested = match[1];
  if (requested !== undefined && requested !== script.version) {
    // An old pinned version: hand out the current script rather than nothing.
    return new Response(null, {
      status: 302,
      headers: {
        Location: new URL("beacon.js", url).pathname,
        "Cache-Control": `public, max-age=${BEACON_MAX_AGE_S}`,
      },
    });
  }
  const etag = `"${script.version}"`;
  const headers: Record<string, string> = {
    "Content-Type": "application/javascript; charset=utf-8",
    "Cache-Control":
      requested === undefined ? `public, max-age=${BEACON_MAX_AGE_S}` : "public, max-age=31536000, immutable",
    ETag: etag,
    "X-Content-Type-Options": "nosniff",
    // Loadable from other origins, also with `crossorigin` + Subresource Integrity and under COEP.
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
  };
  if (etagMatches(request.headers.get("If-None-Match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : script.body, { status: 200, headers });
}

function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

/** cyrb53: a small, fast 53-bit string hash (not cryptographic), as 11 base-36 chars at most. */
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
