/**
 * Path normalisation for rule matching and cache keys (RFC 3986 §6.2.2): percent-encoded
 * unreserved characters are decoded, other escapes keep their meaning with upper-case hex, and a
 * path that hides structure from the edge is refused: an encoded "/" or "\" (`%2F`, `%5C`) or an
 * encoded dot-segment (`%2E%2E`) or a dot-segment with path parameters (`..;`), which origins
 * decode differently from the edge's rules.
 * Plain dot-segments never reach here (the URL parser resolves them).
 */

export type NormalizedPath = { ok: true; path: string } | { ok: false; reason: string };

const HEX = /^[0-9A-Fa-f]{2}$/;

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

/**
 * Normalises a URL path (starting with "/"). Returns the path unchanged (same string) when it
 * holds no "%" and no dot-segment, which is the common case and costs one scan.
 */
export function normalizePath(path: string): NormalizedPath {
  if (path.indexOf("%") === -1) return checkSegments(path);
  let out = "";
  for (let i = 0; i < path.length; i++) {
    const ch = path.charAt(i);
    if (ch !== "%") {
      out += ch;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return { ok: false, reason: `malformed percent-escape in path at offset ${i}` };
    const code = Number.parseInt(hex, 16);
    if (code === 0x2f || code === 0x5c)
      return { ok: false, reason: "encoded slash or backslash (%2F, %5C) in path" };
    if (code === 0x00) return { ok: false, reason: "encoded NUL (%00) in path" };
    out += isUnreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return checkSegments(out);
}

function checkSegments(path: string): NormalizedPath {
  if (path.indexOf("/.") === -1) return { ok: true, path };
  for (const seg of path.split("/")) {
    // `..;x` is `..` to servlet containers (path parameters): refused like a dot-segment.
    const s = seg.indexOf(";") === -1 ? seg : seg.slice(0, seg.indexOf(";"));
    if (s === "." || s === "..") return { ok: false, reason: "dot-segment (. or ..) in path" };
  }
  return { ok: true, path };
}
