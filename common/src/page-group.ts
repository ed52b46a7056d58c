/**
 * Page groups: a URL is reduced to a route pattern ("product", "/p/:id") before it is stored,
 * so no ids, query strings or personal data reach the rollups and the cardinality stays bounded.
 * Used by the edge (page-view log) and the collector (beacons) so both agree on the group.
 */

/** One route rule: `pattern` like `/p/:id` (`:name` = one segment, trailing `*` = the rest). */
export interface PageGroupRule {
  pattern: string;
  group: string;
}

/** Longest page group kept (longer default groups are cut, so a hostile URL cannot bloat rows). */
export const MAX_PAGE_GROUP_LENGTH = 100;
/** Most path segments kept by the default grouping. */
const MAX_SEGMENTS = 8;

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const LONG_HEX = /^[0-9a-f]{16,}$/i;
const GROUP_NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;

/** Strips scheme/host, query and fragment; always starts with "/" and has no trailing "/". */
function cleanPath(input: string): string {
  let p = input;
  const scheme = p.indexOf("://");
  if (scheme !== -1 && scheme < 10) {
    const slash = p.indexOf("/", scheme + 3);
    p = slash === -1 ? "/" : p.slice(slash);
  }
  const cut = p.search(/[?#]/);
  if (cut !== -1) p = p.slice(0, cut);
  if (!p.startsWith("/")) p = `/${p}`;
  p = p.replace(/\/{2,}/g, "/");
  if (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  return p;
}

function segments(path: string): string[] {
  return path === "/" ? [] : path.slice(1).split("/");
}

/** True for segments that identify one item rather than a route: numbers, uuids, hex, slugs with digits. */
function isIdLike(seg: string): boolean {
  if (/^\d+$/.test(seg)) return true;
  if (UUID.test(seg) || LONG_HEX.test(seg)) return true;
  // "blue-shirt-12345", "sku123456": a digit in a longer segment is almost always an id.
  if (seg.length >= 6 && /\d/.test(seg)) return true;
  return seg.length > 40;
}

function matches(patternSegs: string[], pathSegs: string[]): boolean {
  for (let i = 0; i < patternSegs.length; i++) {
    const p = patternSegs[i] as string;
    if (p === "*" && i === patternSegs.length - 1) return true;
    const s = pathSegs[i];
    if (s === undefined || s === "") return false;
    if (p.startsWith(":")) continue;
    if (p !== s) return false;
  }
  return patternSegs.length === pathSegs.length;
}

/**
 * Page group for a path or full URL. The first matching rule wins; without rules (or when none
 * matches) the path itself with id-like segments replaced by `:id`, the query dropped, at most
 * 8 segments and 100 characters.
 */
export function pageGroupFor(path: string, rules: readonly PageGroupRule[] = []): string {
  const clean = cleanPath(path);
  const segs = segments(clean);
  for (const r of rules) if (matches(segments(cleanPath(r.pattern)), segs)) return r.group;
  if (segs.length === 0) return "/";
  const out = segs.slice(0, MAX_SEGMENTS).map((s) => (isIdLike(s) ? ":id" : s.toLowerCase()));
  let g = `/${out.join("/")}`;
  if (segs.length > MAX_SEGMENTS) g += "/*";
  return g.length > MAX_PAGE_GROUP_LENGTH ? g.slice(0, MAX_PAGE_GROUP_LENGTH) : g;
}

/**
 * Parses rules from a config value like `/p/:id=product,/c/:slug=category,/=home` (comma or
 * newline separated, blanks ignored; empty text = no rules). Throws naming the bad entry.
 */
export function parsePageGroupRules(text: string): PageGroupRule[] {
  const rules: PageGroupRule[] = [];
  const entries = text.split(/[,\n]/);
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === "") continue;
    const eq = entry.lastIndexOf("=");
    if (eq === -1) throw new Error(`Invalid page group rule "${entry}": expected "<pattern>=<group>"`);
    const pattern = entry.slice(0, eq).trim();
    const group = entry.slice(eq + 1).trim();
    if (!pattern.startsWith("/"))
      throw new Error(`Invalid page group rule "${entry}": the pattern must start with "/"`);
    if (/[?#\s]/.test(pattern))
      throw new Error(`Invalid page group rule "${entry}": the pattern must be a path without query`);
    const segs = segments(cleanPath(pattern));
    if (segs.some((s, i) => s.includes("*") && (s !== "*" || i !== segs.length - 1)))
      throw new Error(`Invalid page group rule "${entry}": "*" is only allowed as the last segment`);
    if (segs.some((s) => s === ":"))
      throw new Error(`Invalid page group rule "${entry}": a ":" parameter needs a name`);
    if (!GROUP_NAME.test(group))
      throw new Error(
        `Invalid page group rule "${entry}": the group must be 1-100 characters of A-Z a-z 0-9 _ . : / -`,
      );
    rules.push({ pattern, group });
  }
  return rules;
}
