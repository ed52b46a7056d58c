/**
 * Additions to an origin HTML page that the edge applies in its own single pass over the body:
 * a part that wraps the origin fetch (the prefetch part: `Speculation-Rules` header and arm
 * script) registers them on the origin Response instead of rewriting the body itself, and the
 * edge sets the headers on the client headers (origin.ts `clientHeaders`) and injects the tags
 * together with the RUM beacon (rum-inject.ts `injectHtml`). One scan, one body copy and no
 * second Response per page instead of one each per part.
 */
import type { InjectTag } from "../../common/src/beacon-inject.ts";

export interface HtmlAdditions {
  /** Headers to set on the page (lower-case names). */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Elements to inject before `</body>`, in order, ahead of the beacon. */
  tags: readonly InjectTag[];
}

const PENDING = new WeakMap<Response, HtmlAdditions>();

/** Registers additions for an origin response (the edge applies them when it handles `res`). */
export function deferHtmlAdditions(res: Response, add: HtmlAdditions): void {
  PENDING.set(res, add);
}

/** The additions registered for `res`, or undefined. */
export function htmlAdditions(res: Response): HtmlAdditions | undefined {
  return PENDING.get(res);
}
