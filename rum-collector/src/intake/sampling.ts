/**
 * Per-page-view sampling: the decision is a pure function of the page-view id, so every send
 * of one page view (seq 0 and its updates) is kept or dropped together, in every isolate.
 */

/** FNV-1a 32-bit hash of a string, as an unsigned integer. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** True when the page view `pvid` is kept at sample `rate` (0–1; 1 keeps all, 0 none). */
export function isSampledIn(pvid: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return fnv1a32(pvid) / 0x1_0000_0000 < rate;
}
