/**
 * The four parts of a request URL the edge needs, read from `Request.url` by string slicing
 * instead of a `new URL` per request. `Request.url` is already the URL parser's serialisation, so
 * for plain `http(s)://host[:port]/path[?query]` URLs slicing gives exactly what `URL` would;
 * anything else (credentials, other schemes, odd shapes) falls back to `new URL`.
 */

/** What the proxy reads from a URL; a `URL` object satisfies it too. */
export interface UrlParts {
  /** "http:" or "https:" (as `URL.protocol`). */
  protocol: string;
  /** host[:port] (as `URL.host`). */
  host: string;
  /** Starts with "/" (as `URL.pathname`). */
  pathname: string;
  /** "" or "?…" without the fragment; a bare "?" is "" (as `URL.search`). */
  search: string;
}

/** Splits a serialised request URL (defaults: none; falls back to `new URL` when the shape is unusual). */
export function urlParts(url: string): UrlParts {
  const colon = url.indexOf(":");
  const protocol = colon === 4 ? "http:" : colon === 5 ? "https:" : "";
  const hostStart = colon + 3;
  const slash = url.indexOf("/", hostStart);
  if (
    protocol === "" ||
    !url.startsWith(protocol === "http:" ? "http://" : "https://") ||
    slash === -1 ||
    hostStart === slash
  ) {
    return new URL(url);
  }
  const host = url.slice(hostStart, slash);
  // Credentials (not part of URL.host) or a query/fragment before the path: let URL decide.
  if (host.includes("@") || host.includes("?") || host.includes("#")) return new URL(url);
  let end = url.indexOf("#", slash);
  if (end === -1) end = url.length;
  const q = url.indexOf("?", slash);
  if (q === -1 || q > end) return { protocol, host, pathname: url.slice(slash, end), search: "" };
  return { protocol, host, pathname: url.slice(slash, q), search: end - q > 1 ? url.slice(q, end) : "" };
}
