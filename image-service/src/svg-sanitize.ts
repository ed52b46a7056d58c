/**
 * SVG sanitiser: a strict allow-list over a DOM from `@xmldom/xmldom` (a maintained, pure-JS XML
 * parser; DOMPurify would need a browser DOM). The output is re-serialised from the allowed
 * elements and attributes only, never the input text. Refused (→ 422 with the reason): scripts,
 * event handlers, `foreignObject` and other embedding elements, any reference that leaves the
 * document (href, `url()`, `@import`), DOCTYPE/entities, malformed XML, nesting deeper than
 * `MAX_DEPTH`, more than `MAX_ELEMENTS` elements, or `<use>` fan-out above `MAX_EXPANDED`
 * rendered nodes (or a `<use>` cycle). Dropped silently: comments, editor metadata, unknown
 * elements and attributes, animation elements and links (`<a>` is unwrapped).
 */
import { DOMParser, type Element, type Node } from "@xmldom/xmldom";
import { ATTRIBUTES, DROPPED, ELEMENTS, HOSTILE, UNWRAPPED } from "./svg-allowlist.ts";

const SVG_NS = "http://www.w3.org/2000/svg";
const XLINK_NS = "http://www.w3.org/1999/xlink";

export const MAX_DEPTH = 64;
export const MAX_ELEMENTS = 20_000;
/** Rendered nodes after expanding every `<use>` (a "billion laughs" made of `<use>` stays small). */
export const MAX_EXPANDED = 100_000;

/** Thrown when the SVG must be refused; `message` is safe to show to clients. */
export class SvgRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SvgRefusedError";
  }
}

const refuse = (why: string): never => {
  throw new SvgRefusedError(`SVG refused: ${why}`);
};

const RASTER_DATA_URL = /^data:image\/(png|jpeg|gif|webp|avif);base64,[a-z0-9+/=\s]*$/i;

/** CSS (a `style` attribute or `<style>`) may only reference fragments of this document. */
function checkCss(css: string): void {
  const lower = css.toLowerCase().replace(/\\/g, "");
  if (lower.includes("@import")) refuse("CSS @import");
  if (/expression\s*\(|javascript:|-moz-binding|behavior\s*:/.test(lower)) refuse("active CSS");
  for (const m of lower.matchAll(/url\s*\(\s*(['"]?)\s*([^)'"]*)/g)) {
    if (!(m[2] ?? "").startsWith("#")) refuse(`external reference url(${(m[2] ?? "").slice(0, 40)})`);
  }
}

function checkHref(tag: string, value: string): void {
  const v = value.trim();
  if (v.startsWith("#") && /^#[\w.:-]*$/.test(v)) return;
  if ((tag === "image" || tag === "feImage") && RASTER_DATA_URL.test(v)) return;
  refuse(`external reference in ${tag} href`);
}

const escapeText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, "&quot;");

/** The value without whitespace and control characters (`java\tscript:` is still a script URL). */
const squeezed = (v: string) => [...v].filter((c) => c.charCodeAt(0) > 32).join("");

interface Walk {
  elements: number;
  /** id → element (for `<use>` expansion). */
  ids: Map<string, Element>;
}

function attributes(el: Element, tag: string, walk: Walk): string {
  let out = "";
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i);
    if (a === null) continue;
    const name = a.localName ?? a.name;
    const value = a.value;
    if (/^on/i.test(name)) refuse(`event handler ${name} on <${tag}>`);
    if (/javascript:|vbscript:|data:text\/html/i.test(squeezed(value))) {
      refuse(`script URL in ${name}`);
    }
    if (name === "href" && (a.namespaceURI === null || a.namespaceURI === XLINK_NS)) {
      checkHref(tag, value);
      out += ` href="${escapeAttr(value.trim())}"`;
      continue;
    }
    if (a.namespaceURI !== null || a.prefix) continue; // xmlns:*, editor namespaces, xml:space
    if (name === "src" || name === "xml:base") refuse(`external reference in ${name}`);
    if (!ATTRIBUTES.has(name)) continue;
    if (name === "id") walk.ids.set(value, el);
    if (value.toLowerCase().includes("url(") || name === "style") checkCss(value);
    out += ` ${name}="${escapeAttr(value)}"`;
  }
  return out;
}

function serialize(node: Node, depth: number, walk: Walk): string {
  let out = "";
  for (let child = node.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType === child.TEXT_NODE || child.nodeType === child.CDATA_SECTION_NODE) {
      const parent = (node as Element).localName;
      if (parent === "style") checkCss(child.nodeValue ?? "");
      out += escapeText(child.nodeValue ?? "");
      continue;
    }
    if (child.nodeType === child.PROCESSING_INSTRUCTION_NODE) refuse("processing instruction");
    if (child.nodeType !== child.ELEMENT_NODE) continue; // comments
    out += element(child as Element, depth + 1, walk);
  }
  return out;
}

function element(el: Element, depth: number, walk: Walk): string {
  if (depth > MAX_DEPTH) refuse(`nesting deeper than ${MAX_DEPTH}`);
  if (++walk.elements > MAX_ELEMENTS) refuse(`more than ${MAX_ELEMENTS} elements`);
  const tag = el.localName ?? el.nodeName;
  if (HOSTILE.has(tag)) refuse(`<${tag}> element`);
  if (el.namespaceURI !== SVG_NS) return ""; // other vocabularies (editor data) are dropped
  if (DROPPED.has(tag)) return "";
  if (UNWRAPPED.has(tag)) return serialize(el, depth, walk);
  if (!ELEMENTS.has(tag)) return "";
  const root = depth === 0 ? ` xmlns="${SVG_NS}"` : "";
  return `<${tag}${root}${attributes(el, tag, walk)}>${serialize(el, depth, walk)}</${tag}>`;
}

/** Rendered nodes when every `<use>` is expanded; a cycle or more than MAX_EXPANDED refuses. */
function expandedSize(root: Element, ids: Map<string, Element>): number {
  const memo = new Map<Element, number>();
  const active = new Set<Element>();
  const size = (el: Element): number => {
    const known = memo.get(el);
    if (known !== undefined) return known;
    if (active.has(el)) refuse("<use> reference cycle");
    active.add(el);
    let n = 1;
    if (el.localName === "use") {
      const href = el.getAttribute("href") ?? el.getAttributeNS(XLINK_NS, "href") ?? "";
      const target = href.startsWith("#") ? ids.get(href.slice(1)) : undefined;
      if (target !== undefined) n += size(target);
    }
    for (let c = el.firstChild; c !== null; c = c.nextSibling) {
      if (c.nodeType === c.ELEMENT_NODE) n += size(c as Element);
      if (n > MAX_EXPANDED) refuse(`<use> expands to more than ${MAX_EXPANDED} nodes`);
    }
    active.delete(el);
    memo.set(el, n);
    return n;
  };
  return size(root);
}

/**
 * Returns a sanitised SVG document (UTF-8 bytes) or throws SvgRefusedError. `maxBytes` bounds
 * the input (default 1 MiB); compressed SVG (SVGZ) is never inflated and never reaches here.
 */
export function sanitizeSvg(input: Uint8Array, maxBytes = 1024 * 1024): Uint8Array {
  if (input.length > maxBytes) refuse(`larger than ${maxBytes} bytes`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch {
    return refuse("not valid UTF-8");
  }
  if (/<!DOCTYPE|<!ENTITY|<!ATTLIST|<!ELEMENT/i.test(text)) refuse("DOCTYPE or entity declarations");
  if (/<\?xml-stylesheet/i.test(text)) refuse("external stylesheet");
  let doc: ReturnType<DOMParser["parseFromString"]>;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== "warning") throw new SvgRefusedError(`SVG refused: malformed XML (${message})`);
      },
    }).parseFromString(text, "image/svg+xml");
  } catch (e) {
    return refuse(e instanceof SvgRefusedError ? e.message.replace(/^SVG refused: /, "") : "malformed XML");
  }
  const root = doc.documentElement;
  if (root === null || root.localName !== "svg" || root.namespaceURI !== SVG_NS) {
    refuse("root element is not <svg> in the SVG namespace");
  }
  const walk: Walk = { elements: 0, ids: new Map() };
  const out = element(root as Element, 0, walk);
  expandedSize(root as Element, walk.ids);
  return new TextEncoder().encode(out);
}
