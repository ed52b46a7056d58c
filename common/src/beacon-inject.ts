/**
 * Streaming RUM beacon injection over HTML bytes.
 *
 * Why not HTMLRewriter: the edge only needs one insertion point (before the first `</body>`)
 * and one check (a `<script>` whose `src` already names the beacon). A full HTML parser costs
 * about a third of a MISS's CPU time on workerd; this scanner tokenises just enough to be
 * right: comments, quoted attribute values and the raw-text elements (`script`, `style`,
 * `textarea`, `title`, …) are skipped, so a `</body>` inside them is not an insertion point.
 * Bytes are never decoded or copied except a few bytes carried over a chunk boundary, and once
 * the tag is placed (or the page is found to carry the beacon already) the rest passes through
 * untouched.
 *
 * Pure: works on `Uint8Array` chunks, no runtime APIs.
 */

import { concatBytes } from "./bytes.ts";

const LT = 0x3c;
const GT = 0x3e;
const BANG = 0x21;
const SLASH = 0x2f;
const DASH = 0x2d;
const DQ = 0x22;
const SQ = 0x27;
const QUESTION = 0x3f;
const EQ = 0x3d;

/** Bytes needed after a `<` to classify it (`</textarea` + delimiter, with room to spare). */
const LOOKAHEAD = 12;
/** Longest script start tag kept for the `src` check; longer ones are not the beacon tag. */
const MAX_SCRIPT_TAG = 4096;

/** Elements whose content is raw text (or RCDATA): a `</body>` inside is text, not a tag. */
const RAW_TEXT = ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"];
const RAW_TEXT_BYTES = RAW_TEXT.map(ascii);
const BODY = ascii("body");
/** First letters of RAW_TEXT names: most tags (`a`, `div`, `p`…) are ruled out with one lookup. */
const RAW_TEXT_FIRST: Record<number, true> = Object.fromEntries(RAW_TEXT.map((n) => [n.charCodeAt(0), true]));

type Mode = "text" | "tag" | "comment" | "raw" | "done";

function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** HTML tag-name delimiter: whitespace, `/` or `>` (end of input counts as one). */
function isDelim(b: number | undefined): boolean {
  return (
    b === undefined ||
    b === 0x20 ||
    b === 0x09 ||
    b === 0x0a ||
    b === 0x0c ||
    b === 0x0d ||
    b === SLASH ||
    b === GT
  );
}

function isLetter(b: number | undefined): boolean {
  return b !== undefined && (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a;
}

/** ASCII case-insensitive match of `name` (lower case) at `at`. */
function matchName(buf: Uint8Array, at: number, name: Uint8Array): boolean {
  if (at + name.length > buf.length) return false;
  for (let k = 0; k < name.length; k++) {
    if (((buf[at + k] as number) | 0x20) !== name[k]) return false;
  }
  return true;
}

/**
 * `buf.indexOf(byte, from)` as a plain loop: on V8 a typed array's `indexOf` is a call into the
 * runtime, which costs more than scanning the few dozen bytes to the next `<` or quote.
 */
function find(buf: Uint8Array, byte: number, from: number): number {
  for (let k = from; k < buf.length; k++) if (buf[k] === byte) return k;
  return -1;
}

/** Index after the `>` closing the tag whose attributes start at `from`, or -1 when not in `buf`. */
function skipTag(buf: Uint8Array, from: number): number {
  let prev = 0;
  for (let k = from; k < buf.length; k++) {
    const b = buf[k] as number;
    if (b === GT) return k + 1;
    if ((b === DQ || b === SQ) && prev === EQ) {
      k = find(buf, b, k + 1);
      if (k === -1) return -1;
      prev = b;
    } else if (b > 0x20) prev = b;
  }
  return -1;
}

function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let k = from; k < to; k++) s += String.fromCharCode(buf[k] as number);
  return s;
}

const SRC_ATTR = /\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;

/** One element to inject: its HTML, and the path a `<script src>` already on the page names when the page has it. */
export interface InjectTag {
  html: string;
  path: string;
}

interface TagState {
  bytes: Uint8Array;
  path: string;
  present: boolean;
}

/**
 * Incremental injector: feed the body's chunks to `push`, then call `end`; every output byte
 * goes to `emit` in order. The tags go right before the first `</body>` outside comments and
 * raw text, or at the end of the document when there is none, in the order given; a tag is left
 * out when a `<script>` before that point has a `src` containing its path (so versioned copies
 * such as `/_rum/beacon.3f2a9c.js` count). Several tags cost one scan.
 */
export class BeaconInjector {
  private readonly tags: TagState[];
  /** Tags not found on the page so far. */
  private missing: number;
  private mode: Mode = "text";
  /** Unemitted bytes from the previous chunk that must be scanned again with the next one. */
  private carry: Uint8Array | null = null;
  /** In a tag: the open quote character, or 0. */
  private quote = 0;
  /** In a tag: the last byte that was not whitespace (a quote opens a value only after `=`). */
  private prevSig = 0;
  /** In a tag: index into RAW_TEXT of the element it opens, or -1. */
  private rawKind = -1;
  /** In a `<script>` start tag: its text so far (for the `src` check), or null when not collected. */
  private scriptTag: string | null = null;
  /** True once the outcome is known: injected, or the page already has the beacon. */
  get settled(): boolean {
    return this.mode === "done";
  }
  /** True when the tag was written into the output. */
  injected = false;

  /**
   * `tagHtml` is inserted verbatim; `beaconPath` is matched against script `src` values. Or a
   * list of tags (each with its own path), injected together.
   */
  constructor(tagHtml: string | readonly InjectTag[], beaconPath = "") {
    const list = typeof tagHtml === "string" ? [{ html: tagHtml, path: beaconPath }] : tagHtml;
    const enc = new TextEncoder();
    this.tags = list.map((t) => ({ bytes: enc.encode(t.html), path: t.path, present: false }));
    this.missing = this.tags.length;
    if (this.missing === 0) this.mode = "done";
  }

  /** The bytes to insert: the tags not found on the page, in order (empty when all are there). */
  private insertion(): Uint8Array {
    const tags = this.tags;
    if (tags.length === 1)
      return (tags[0] as TagState).present ? new Uint8Array(0) : (tags[0] as TagState).bytes;
    return concatBytes(tags.filter((t) => !t.present).map((t) => t.bytes));
  }

  /** Writes the insertion (if any) and settles. */
  private place(emit: (bytes: Uint8Array) => void): void {
    const bytes = this.insertion();
    if (bytes.length > 0) {
      emit(bytes);
      this.injected = true;
    }
    this.mode = "done";
  }

  /** Scans one chunk; emits every byte that can no longer be the start of a token. */
  push(chunk: Uint8Array, emit: (bytes: Uint8Array) => void): void {
    if (this.mode === "done") {
      if (chunk.length > 0) emit(chunk);
      return;
    }
    let buf = chunk;
    if (this.carry !== null) {
      buf = concatBytes([this.carry, chunk], this.carry.length + chunk.length);
      this.carry = null;
    }
    this.scan(buf, false, emit);
  }

  /** Flushes what is left and, when no insertion point was found, appends the tag. */
  end(emit: (bytes: Uint8Array) => void): void {
    if (this.mode !== "done") {
      const rest = this.carry ?? new Uint8Array(0);
      this.carry = null;
      this.scan(rest, true, emit);
    }
    if (this.mode !== "done") this.place(emit);
  }

  private scan(buf: Uint8Array, final: boolean, emit: (bytes: Uint8Array) => void): void {
    const len = buf.length;
    let i = 0;
    let from = 0; // first byte not yet emitted
    while (i < len && this.mode !== "done") {
      if (this.mode === "text") {
        const j = find(buf, LT, i);
        if (j === -1) {
          i = len;
          break;
        }
        if (!final && len - j < LOOKAHEAD) {
          this.hold(buf, from, j, emit);
          return;
        }
        const b1 = buf[j + 1];
        if (b1 === BANG && buf[j + 2] === DASH && buf[j + 3] === DASH) {
          this.mode = "comment";
          i = j + 4;
          // `<!-->` and `<!--->` are complete (empty) comments.
          if (buf[i] === GT) {
            this.mode = "text";
            i += 1;
          } else if (buf[i] === DASH && buf[i + 1] === GT) {
            this.mode = "text";
            i += 2;
          }
        } else if (b1 === SLASH && matchName(buf, j + 2, BODY) && isDelim(buf[j + 6])) {
          if (j > from) emit(buf.subarray(from, j));
          this.place(emit);
          from = j;
          i = len;
        } else if (isLetter(b1) || b1 === SLASH || b1 === BANG || b1 === QUESTION) {
          // Start tag; or end tag, doctype, CDATA, processing instruction (skipped to their `>`).
          let raw = -1;
          const first = (b1 as number) | 0x20;
          for (let k = 0; first in RAW_TEXT_FIRST && k < RAW_TEXT_BYTES.length; k++) {
            const name = RAW_TEXT_BYTES[k] as Uint8Array;
            if (name[0] !== first) continue;
            if (matchName(buf, j + 1, name) && isDelim(buf[j + 1 + name.length])) {
              raw = k;
              break;
            }
          }
          const at = isLetter(b1) ? j + 1 : j + 2;
          // Fast path for the common tag that ends in this chunk: no state to keep.
          const end = raw === -1 ? skipTag(buf, at) : -1;
          if (end !== -1) {
            i = end;
            continue;
          }
          this.mode = "tag";
          this.quote = 0;
          this.prevSig = 0;
          this.rawKind = raw;
          this.scriptTag = raw === 0 ? "" : null;
          i = at;
        } else {
          i = j + 1; // a lone `<` in text
        }
      } else if (this.mode === "tag") {
        // Hot loop (most of a page is tags): locals instead of fields, quoted values skipped natively.
        const start = i;
        let q = this.quote;
        let prev = this.prevSig;
        let closed = false;
        while (i < len) {
          if (q !== 0) {
            const e = find(buf, q, i);
            if (e === -1) {
              i = len;
              break;
            }
            i = e + 1;
            prev = q;
            q = 0;
            continue;
          }
          const b = buf[i] as number;
          i++;
          if (b === GT) {
            closed = true;
            break;
          }
          if ((b === DQ || b === SQ) && prev === EQ) q = b;
          else if (b > 0x20) prev = b;
        }
        this.quote = q;
        this.prevSig = prev;
        if (this.scriptTag !== null && this.scriptTag.length < MAX_SCRIPT_TAG) {
          this.scriptTag += latin1(buf, start, i);
        }
        if (closed) this.closeTag();
      } else if (this.mode === "comment") {
        let k = find(buf, GT, i);
        while (k !== -1 && !(k - 2 >= i && buf[k - 1] === DASH && buf[k - 2] === DASH)) {
          k = find(buf, GT, k + 1);
        }
        if (k === -1) {
          if (!final) {
            this.hold(buf, from, Math.max(i, len - 2), emit); // may be the `--` of a `-->` split over chunks
            return;
          }
          i = len;
        } else {
          this.mode = "text";
          i = k + 1;
        }
      } else {
        // Raw text: only `</name` followed by a delimiter ends it.
        const name = RAW_TEXT_BYTES[this.rawKind] as Uint8Array;
        let j = find(buf, LT, i);
        while (j !== -1) {
          if (!final && len - j < name.length + 3) {
            this.hold(buf, from, j, emit);
            return;
          }
          if (buf[j + 1] === SLASH && matchName(buf, j + 2, name) && isDelim(buf[j + 2 + name.length])) break;
          j = find(buf, LT, j + 1);
        }
        if (j === -1) {
          i = len;
        } else {
          // Continue as an end tag (skips to its `>`).
          this.mode = "tag";
          this.quote = 0;
          this.prevSig = 0;
          this.rawKind = -1;
          this.scriptTag = null;
          i = j + 2;
        }
      }
    }
    if (from < len) emit(buf.subarray(from, len));
  }

  /** Keeps `buf[at..]` for the next chunk and emits `buf[from..at]`. */
  private hold(buf: Uint8Array, from: number, at: number, emit: (bytes: Uint8Array) => void): void {
    if (at > from) emit(buf.subarray(from, at));
    this.carry = buf.slice(at);
  }

  /** At the `>` of a tag: checks a script's `src` and enters raw text where the element has it. */
  private closeTag(): void {
    if (this.scriptTag !== null) {
      const m = SRC_ATTR.exec(this.scriptTag);
      const src = m === null ? null : (m[1] ?? m[2] ?? m[3] ?? "");
      this.scriptTag = null;
      if (src !== null)
        for (const t of this.tags)
          if (!t.present && t.path !== "" && src.includes(t.path)) {
            t.present = true;
            this.missing--;
          }
      if (this.missing === 0) {
        this.mode = "done"; // the page carries every tag already
        return;
      }
    }
    this.mode = this.rawKind === -1 ? "text" : "raw";
  }
}

/**
 * One-shot form for a body that is already in memory: the bytes with the tag injected (the
 * same placement as the streaming form), or the input itself when the page has the beacon.
 * The result's `buffer` holds exactly its bytes when a copy was made.
 */
export function injectIntoBytes(
  html: Uint8Array,
  tagHtml: string | readonly InjectTag[],
  beaconPath = "",
): Uint8Array {
  const inj = new BeaconInjector(tagHtml, beaconPath);
  const parts: Uint8Array[] = [];
  const emit = (b: Uint8Array): void => {
    parts.push(b);
  };
  inj.push(html, emit);
  inj.end(emit);
  if (!inj.injected) return html;
  return concatBytes(parts);
}
