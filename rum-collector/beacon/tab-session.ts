import type { PrefetchArm } from "../../common/src/rum-types.ts";

/**
 * Per-tab state in `sessionStorage` (never a cookie), under documented keys:
 * `rum:sid` the session id, `rum:pv` the last page-view id of the tab, `rum:arm` the prefetch
 * arm (kept for the tab's life once assigned). Storage that throws (privacy modes) only means a
 * fresh session per page view.
 */
export interface TabSession {
  sid: string;
  /** Prefetch arm, or undefined when no experiment is configured. */
  arm?: PrefetchArm;
  /** Records `pvid` as the tab's current page view; returns the previous one (if any). */
  enter(pvid: string): string | undefined;
}

// Ids this script writes: 12 random bytes as hex.
const ID = /^[\da-f]{24}$/;

/** `n` random bytes as hex. */
export const randomHex = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");

/** Reads (`value` undefined) or writes a `rum:` key of sessionStorage; "" when unavailable. */
function store(key: string, value?: string): string {
  try {
    if (value) sessionStorage.setItem(`rum:${key}`, value);
    return sessionStorage.getItem(`rum:${key}`) || "";
  } catch {
    return value || "";
  }
}

/**
 * The tab's session; `arms` are the prefetch arm shares (`"holdout:0.1,ours:0.8,press:0.1"`,
 * weights normalised by their sum; default none → no arm).
 */
export function tabSession(arms: string | undefined): TabSession {
  let sid = store("sid");
  if (!ID.test(sid)) sid = store("sid", randomHex(12));
  let arm = store("arm");
  if (!/^(holdout|ours|press)$/.test(arm)) {
    arm = pickArm(sid, arms);
    store("arm", arm);
  }
  return {
    sid,
    arm: (arm || undefined) as PrefetchArm | undefined,
    enter(pvid) {
      const prev = store("pv");
      store("pv", pvid);
      return ID.test(prev) ? prev : undefined;
    },
  };
}

/**
 * The arm of session `sid` (random hex, so its first 32 bits are a uniform point in [0, 1)) for
 * `spec` (`name:share,…`), walked over the cumulative shares. Unknown names and non-positive
 * shares are ignored; no valid entry → "" (no arm).
 */
export function pickArm(sid: string, spec = ""): string {
  const entries = [...spec.matchAll(/(holdout|ours|press):([\d.]+)/g)];
  let x =
    (Number.parseInt(sid.slice(0, 8), 16) / 2 ** 32) * entries.reduce((s, m) => s + +(m[2] as string), 0);
  for (const [, name, share] of entries) {
    x -= +(share as string);
    if (x < 0) return name as string;
  }
  return "";
}

/** Network Information API subset (`navigator.connection`). */
interface Conn {
  saveData?: boolean;
  effectiveType?: string;
}

/**
 * True when the `press` arm may prefetch `a` (a link's URL) from page `here`: same origin, no
 * credentials, another page, not under Save-Data or a 2g/slow-2g connection, and not a path the
 * edge denies by default (`/cart`, `/checkout`, `/account`, `/login`, `/logout`, `/signin`,
 * `/signout`, `/register`, `/admin` and below, case-insensitive, percent-decoded; a word boundary
 * ends the name, so `/cart.html` is denied too) nor a `/search` with a query — the defaults of
 * common/src/prefetch/safety.ts (the beacon cannot see a site's PREFETCH_DENY_PATHS).
 */
export function pressAllowed(a: URL | HTMLAnchorElement, here: Location | URL, c?: Conn): boolean {
  try {
    return (
      a.origin === here.origin &&
      !(a.username || a.password) &&
      a.href.split("#")[0] !== here.href.split("#")[0] &&
      !c?.saveData &&
      !/2g/.test(c?.effectiveType as string) &&
      !/^\/+(search\b.*\?.|(cart|checkout|account|log(in|out)|sign(in|out)|register|admin)\b)/i.test(
        decodeURIComponent(a.pathname) + a.search,
      )
    );
  } catch {
    return false;
  }
}

/**
 * The `press` arm: on pointerdown on a link that `pressAllowed`, insert `<link rel=prefetch>`
 * for it (once per URL).
 */
export function prefetchOnPress(): void {
  const done = new Set();
  addEventListener(
    "pointerdown",
    (e) => {
      try {
        const a = (e.target as Element).closest("a[href]") as HTMLAnchorElement;
        const url = a.href.split("#")[0];
        if (!done.has(url) && pressAllowed(a, location, (navigator as { connection?: Conn }).connection)) {
          done.add(url);
          document.head.append(Object.assign(document.createElement("link"), { rel: "prefetch", href: url }));
        }
      } catch {
        // Not a link (closest → null), or no DOM: nothing to prefetch.
      }
    },
    { capture: true, passive: true },
  );
}
