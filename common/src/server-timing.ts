/**
 * `Server-Timing` parse/format (W3C Server Timing). Parsing follows what browsers expose:
 * entries with an invalid name are skipped, the first `dur`/`desc` of an entry wins, a missing
 * duration is 0 and a missing description "".
 */
import type { ServerTimingEntry } from "./rum-types.ts";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A metric to format: `dur` and `desc` are optional. */
export interface ServerTimingMetric {
  name: string;
  dur?: number | null;
  desc?: string | null;
}

/** Character scanner over one header value. */
class Scanner {
  s: string;
  i = 0;
  constructor(s: string) {
    this.s = s;
  }
  ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === " " || this.s[this.i] === "\t")) this.i++;
  }
  token(): string {
    const start = this.i;
    while (this.i < this.s.length && !' \t;,="'.includes(this.s[this.i] as string)) this.i++;
    return this.s.slice(start, this.i);
  }
  quoted(): string | null {
    // Assumes s[i] === '"'. Returns null when the string never closes.
    let out = "";
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i] as string;
      if (c === "\\") {
        if (this.i + 1 < this.s.length) out += this.s[this.i + 1];
        this.i += 2;
        continue;
      }
      if (c === '"') {
        this.i++;
        return out;
      }
      out += c;
      this.i++;
    }
    return null;
  }
  skipToComma(): void {
    let quoted = false;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '"') quoted = !quoted;
      else if (c === "\\" && quoted) this.i++;
      else if (c === "," && !quoted) return;
      this.i++;
    }
  }
}

function parseOne(header: string, out: ServerTimingEntry[]): void {
  const sc = new Scanner(header);
  while (sc.i < header.length) {
    sc.ws();
    const name = sc.token();
    let dur: number | undefined;
    let desc: string | undefined;
    let ok = TOKEN.test(name);
    sc.ws();
    while (ok && sc.s[sc.i] === ";") {
      sc.i++;
      sc.ws();
      const pname = sc.token().toLowerCase();
      sc.ws();
      let value = "";
      if (sc.s[sc.i] === "=") {
        sc.i++;
        sc.ws();
        if (sc.s[sc.i] === '"') {
          const q = sc.quoted();
          if (q === null) {
            ok = false;
            break;
          }
          value = q;
        } else value = sc.token();
        sc.ws();
      }
      if (pname === "dur" && dur === undefined) {
        const n = Number(value);
        dur = value !== "" && Number.isFinite(n) ? n : 0;
      } else if (pname === "desc" && desc === undefined) desc = value;
    }
    sc.ws();
    if (sc.i < header.length && sc.s[sc.i] !== ",") ok = false;
    if (ok) out.push({ name, duration: dur ?? 0, description: desc ?? "" });
    sc.skipToComma();
    sc.i++;
  }
}

/**
 * Parses one or more `Server-Timing` header values (an array = several header lines; a
 * combined comma-joined value works the same). Garbage entries are skipped, never thrown on.
 */
export function parseServerTiming(
  header: string | readonly string[] | null | undefined,
): ServerTimingEntry[] {
  const out: ServerTimingEntry[] = [];
  if (!header) return out;
  const list = typeof header === "string" ? [header] : header;
  for (const h of list) if (h) parseOne(h, out);
  return out;
}

/** Duration of the first entry named `name` (case-insensitive), or null when absent. */
export function serverTimingDuration(entries: readonly ServerTimingEntry[], name: string): number | null {
  const n = name.toLowerCase();
  for (const e of entries) if (e.name.toLowerCase() === n) return e.duration;
  return null;
}

/** Formats a duration with at most 3 decimals and no trailing zeros (negatives/NaN → 0). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "0";
  return String(Math.round(ms * 1000) / 1000);
}

/** Quotes a description unless it is a token; escapes `"` and `\`. */
export function formatDescription(desc: string): string {
  return TOKEN.test(desc) ? desc : `"${desc.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Formats one metric, e.g. `edge;dur=1.25` or `cdn-cache;desc=HIT`; returns "" for an invalid name. */
export function formatServerTimingMetric(m: ServerTimingMetric): string {
  if (!TOKEN.test(m.name)) return "";
  let s = m.name;
  if (m.dur !== undefined && m.dur !== null) s += `;dur=${formatDuration(m.dur)}`;
  if (m.desc !== undefined && m.desc !== null) s += `;desc=${formatDescription(m.desc)}`;
  return s;
}

/**
 * Formats metrics as one header value joined by ", " (metrics with invalid names are dropped).
 * Accepts parsed entries too (`duration`/`description`; a 0 duration and "" description are omitted).
 */
export function formatServerTiming(metrics: readonly (ServerTimingMetric | ServerTimingEntry)[]): string {
  const parts: string[] = [];
  for (const m of metrics) {
    const metric: ServerTimingMetric =
      "duration" in m
        ? { name: m.name, dur: m.duration || null, desc: m.description === "" ? null : m.description }
        : m;
    const s = formatServerTimingMetric(metric);
    if (s) parts.push(s);
  }
  return parts.join(", ");
}
