import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { hostAddress, isPublicAddress } from "./address-policy.ts";
import type { ImageServiceConfig } from "./config.ts";
import { ImageServiceError } from "./errors.ts";

export interface FetchedSource {
  bytes: Buffer;
  /** Final URL after redirects. */
  url: string;
  contentType: string | undefined;
  cacheControl: string | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
}

type SourcePolicy = Pick<
  ImageServiceConfig,
  "origins" | "allowPrivateNetworks" | "maxSourceBytes" | "fetchTimeoutMs" | "maxRedirects" | "resolve"
>;

const defaultResolve = async (hostname: string): Promise<string[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** Resolves the request's `url` parameter (a path on the first origin, or an absolute URL) to a URL. */
export function resolveSourceUrl(source: string, origins: readonly string[]): URL {
  if (source.startsWith("/") && !source.startsWith("//")) {
    const base = origins.find((o) => o !== "*");
    if (base === undefined) throw new ImageServiceError(400, "Relative source needs a configured origin");
    return new URL(source, base);
  }
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new ImageServiceError(
      400,
      "Expected a source path or http(s) URL for url",
      `unparsable: ${source}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ImageServiceError(
      400,
      "Expected a source path or http(s) URL for url",
      `scheme ${url.protocol}`,
    );
  }
  return url;
}

/** Throws 403 unless the URL's origin is allowed; returns whether it was listed explicitly (not via `*`). */
function checkOrigin(url: URL, origins: readonly string[]): boolean {
  if (url.username !== "" || url.password !== "") {
    throw new ImageServiceError(403, "Source not allowed", `credentials in source URL ${url.origin}`);
  }
  if (origins.includes(url.origin)) return true;
  if (origins.includes("*")) return false;
  throw new ImageServiceError(403, "Source not allowed", `origin ${url.origin} not in IMAGE_ORIGINS`);
}

/** Resolves the host and refuses non-public addresses unless the operator configured them. */
async function checkedAddresses(url: URL, explicit: boolean, policy: SourcePolicy): Promise<string[]> {
  const host = hostAddress(url.hostname);
  // An IP literal or `localhost` listed in IMAGE_ORIGINS is the operator's explicit choice.
  const trusted = policy.allowPrivateNetworks || (explicit && (isIP(host) !== 0 || host === "localhost"));
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await (policy.resolve ?? defaultResolve)(host);
    } catch (e) {
      throw new ImageServiceError(502, "Source host could not be resolved", `${host}: ${String(e)}`);
    }
    if (addresses.length === 0) throw new ImageServiceError(502, "Source host could not be resolved", host);
  }
  if (!trusted) {
    const bad = addresses.find((a) => !isPublicAddress(a));
    if (bad !== undefined) {
      throw new ImageServiceError(403, "Source not allowed", `${host} resolves to non-public address ${bad}`);
    }
  }
  if (host === "localhost" && !policy.allowPrivateNetworks && addresses.some((a) => isPublicAddress(a))) {
    throw new ImageServiceError(403, "Source not allowed", `localhost resolves to public address`);
  }
  return addresses;
}

/** A lookup that answers only the addresses already checked, so DNS cannot change between check and connect. */
function pinnedLookup(addresses: string[]): LookupFunction {
  return (_hostname, options, callback) => {
    const list = addresses.map((address) => ({ address, family: isIP(address) }));
    if (options.all) (callback as (e: null, a: typeof list) => void)(null, list);
    else {
      const first = list[0] as { address: string; family: number };
      callback(null, first.address, first.family);
    }
  };
}

interface HopResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body?: Buffer;
}

function requestOnce(
  url: URL,
  addresses: string[],
  policy: SourcePolicy,
  signal: AbortSignal,
): Promise<HopResult> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === "https:" ? https : http;
    const req = mod.request(url, {
      method: "GET",
      headers: { accept: "image/*", "accept-encoding": "identity", "user-agent": "edge-rum-image-service" },
      lookup: pinnedLookup(addresses),
      signal,
    });
    req.on("error", (e) => {
      if (signal.aborted) reject(new ImageServiceError(504, "Source timed out", `${url.href}: ${String(e)}`));
      else
        reject(
          e instanceof ImageServiceError
            ? e
            : new ImageServiceError(502, "Source fetch failed", `${url.href}: ${String(e)}`),
        );
    });
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        resolve({ status, headers: res.headers });
        return;
      }
      const declared = Number(res.headers["content-length"] ?? Number.NaN);
      if (declared > policy.maxSourceBytes) {
        req.destroy();
        reject(
          new ImageServiceError(413, "Source image too large", `${declared} bytes declared by ${url.href}`),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on("data", (chunk: Buffer) => {
        total += chunk.length;
        if (total > policy.maxSourceBytes) {
          req.destroy();
          reject(
            new ImageServiceError(
              413,
              "Source image too large",
              `over ${policy.maxSourceBytes} bytes from ${url.href}`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks, total) }));
      res.on("error", (e) =>
        reject(
          signal.aborted
            ? new ImageServiceError(504, "Source timed out", url.href)
            : new ImageServiceError(502, "Source fetch failed", `${url.href}: ${String(e)}`),
        ),
      );
    });
    req.end();
  });
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/**
 * Fetches a source image under the SSRF policy: allowed origins only, resolved addresses checked
 * (and pinned for the connection), each redirect hop re-checked (default max 3), byte limit
 * (default 25 MB) and one time limit for the whole fetch (default 10 s).
 */
export async function fetchSource(source: string, policy: SourcePolicy): Promise<FetchedSource> {
  let url = resolveSourceUrl(source, policy.origins);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), policy.fetchTimeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      const explicit = checkOrigin(url, policy.origins);
      const addresses = await checkedAddresses(url, explicit, policy);
      if (controller.signal.aborted) throw new ImageServiceError(504, "Source timed out", url.href);
      const res = await requestOnce(url, addresses, policy, controller.signal);
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        const location = header(res.headers, "location");
        if (location === undefined)
          throw new ImageServiceError(502, "Source fetch failed", `${res.status} without Location`);
        if (hop >= policy.maxRedirects) {
          throw new ImageServiceError(
            502,
            "Source redirected too often",
            `more than ${policy.maxRedirects} hops at ${url.href}`,
          );
        }
        try {
          url = new URL(location, url);
        } catch {
          throw new ImageServiceError(502, "Source fetch failed", `unparsable redirect Location ${location}`);
        }
        if (url.protocol !== "http:" && url.protocol !== "https:") {
          throw new ImageServiceError(403, "Source not allowed", `redirect to scheme ${url.protocol}`);
        }
        continue;
      }
      if (res.status === 404 || res.status === 410) {
        throw new ImageServiceError(404, "Source image not found", `${res.status} from ${url.href}`);
      }
      if (res.body === undefined)
        throw new ImageServiceError(502, "Source fetch failed", `${res.status} from ${url.href}`);
      return {
        bytes: res.body,
        url: url.href,
        contentType: header(res.headers, "content-type"),
        cacheControl: header(res.headers, "cache-control"),
        etag: header(res.headers, "etag"),
        lastModified: header(res.headers, "last-modified"),
      };
    }
  } finally {
    clearTimeout(timer);
  }
}
