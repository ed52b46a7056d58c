/**
 * Origin HTML prepared for speculation before the edge stores it (so cache HITs carry it and
 * pay nothing): the `Speculation-Rules` header naming this page's rules document and the arm
 * script injected before `</body>` with the same scanner as the RUM beacon. `acceptEct` asks for
 * the `ECT` client hint (slow connections get no speculation) where no other part does.
 */
import { BeaconInjector, injectIntoBytes } from "../../../common/src/beacon-inject.ts";
import { deferHtmlAdditions } from "../html-additions.ts";
import { ARM_SCRIPT_PATH, armScriptTag, RULES_PATH } from "./arm-script.ts";
import type { RulesDocument } from "./rules.ts";

type FetchFn = (req: Request, init?: RequestInit) => Promise<Response>;

/** The arm script's path as matched against a page's scripts (a page that loads it gets no second copy). */
const ARM_PATH = ARM_SCRIPT_PATH.replace(/\.js$/, "");

/** Bodies up to this length are rewritten in memory; longer ones are streamed. */
const BUFFER_MAX = 256 * 1024;
/** Longest page path we speculate from (longer ones get no rules). */
export const MAX_PAGE_PATH = 1024;

/** The rules document URL for a page path. */
export function rulesUrl(path: string): string {
  return `${RULES_PATH}?p=${encodeURIComponent(path)}`;
}

function injected(res: Response, tag: string): BodyInit | null {
  const body = res.body;
  if (body === null) return null;
  const inj = new BeaconInjector(tag, ARM_PATH);
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        if (inj.settled) out.enqueue(chunk);
        else inj.push(chunk, (b) => out.enqueue(b));
      },
      flush(out) {
        inj.end((b) => out.enqueue(b));
      },
    }),
  );
}

/** Stored-header hook: adds `ECT` to `Accept-CH` unless it is there. */
export function acceptEct(h: Headers): void {
  const ch = h.get("accept-ch");
  if (!ch || !/(^|,)\s*ect\s*(,|$)/i.test(ch)) h.set("accept-ch", ch ? `${ch}, ECT` : "ECT");
}

/** An inline rules element; `<` is escaped so no value can close the script element. */
export function inlineRulesTag(doc: RulesDocument): string {
  return `<script type="speculationrules">${JSON.stringify(doc).replace(/</g, "\\u003c")}</script>`;
}

/**
 * Adds the rules (the header naming the rules document, or `inline` rules when given) and the
 * arm script to a page response.
 */
export async function prepareHtml(
  res: Response,
  pagePath: string,
  inline: RulesDocument | null = null,
  defer = false,
): Promise<Response> {
  if (pagePath.length > MAX_PAGE_PATH) return res;
  const url = rulesUrl(pagePath);
  const tag = (inline === null ? "" : inlineRulesTag(inline)) + armScriptTag(url);
  if (defer) {
    // The edge sets the header and injects the tag in its own pass over the page (with the beacon).
    deferHtmlAdditions(res, {
      headers: inline === null ? [["speculation-rules", `"${url}"`]] : [],
      tags: [{ html: tag, path: ARM_PATH }],
    });
    return res;
  }
  const h = new Headers(res.headers);
  if (inline === null) h.set("speculation-rules", `"${url}"`);
  const len = res.headers.get("content-length");
  let body: BodyInit | null;
  if (len !== null && Number(len) <= BUFFER_MAX && res.body !== null) {
    body = injectIntoBytes(new Uint8Array(await res.arrayBuffer()), tag, ARM_PATH);
    h.set("content-length", String((body as Uint8Array).byteLength));
  } else {
    body = injected(res, tag);
    h.delete("content-length");
  }
  return new Response(body, { status: res.status, statusText: res.statusText, headers: h });
}

/**
 * Wraps the edge's origin fetch: GET 200 HTML responses get `prepareHtml` (path relative to
 * `originBase`); `inlineRules` (inline delivery) gives the rules for a page request, or null.
 * `defer`: register the header and tag for the edge to apply (html-additions.ts) instead of
 * rewriting the response here; the edge's fetch uses it, so a page is scanned once.
 */
export function withSpeculationHtml(
  originBase: string,
  inner: FetchFn,
  inlineRules: ((req: Request, pagePath: string) => Promise<RulesDocument | null>) | null = null,
  defer = false,
): FetchFn {
  const prefix = new URL(originBase).pathname.replace(/\/+$/, "");
  return async (req, init) => {
    const path = new URL(req.url).pathname;
    const page = prefix && path.startsWith(prefix) ? path.slice(prefix.length) || "/" : path;
    // Inline rules are computed alongside the origin request (a model load overlaps it).
    const rules =
      inlineRules === null || req.method !== "GET"
        ? null
        : inlineRules(req, page).catch((): RulesDocument | null => null);
    const res = await inner(req, init);
    if (res.status !== 200 || req.method !== "GET") return res;
    if (!(res.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html")) return res;
    try {
      return await prepareHtml(res, page, rules === null ? null : ((await rules) ?? {}), defer);
    } catch {
      return res;
    }
  };
}
