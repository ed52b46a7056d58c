/**
 * Validated reads of boomerang beacon parameters. Each reader returns undefined for an absent
 * parameter and for an invalid one; an invalid one (not a number, negative, out of the schema's
 * bounds, an unknown flag value) is also counted, so the page view keeps its other fields and
 * carries how many were dropped (`PageViewMessage.invalidFields`). Pure.
 */
import { MAX_CLS, MAX_DURATION_MS } from "../../../common/src/beacon-schema.ts";
import { fnv1a32 } from "./sampling.ts";

/** Read access to the beacon's parameters (URLSearchParams fits). */
export interface Params {
  get(name: string): string | null;
  has(name: string): boolean;
}

/** A parameter reader that counts the invalid values it drops. */
export interface ParamReader {
  /** A number in `min…max` (an integer when `integer`). */
  num(name: string, min: number, max: number, integer?: boolean): number | undefined;
  /** A duration in ms (0 … 10 min). */
  ms(name: string): number | undefined;
  /** An epoch timestamp in ms (after 2000-01-01, before 2100). */
  epoch(name: string): number | undefined;
  /** A CLS score written as a plain decimal (boomerang's `c.cls`), 0 … MAX_CLS. */
  cls(name: string): number | undefined;
  /** A flag: absent → false; `""`, `1`, `true` → true; `0`, `false` → false; anything else counted, false. */
  flag(name: string): boolean;
  /** A string matching `pattern`. */
  match(name: string, pattern: RegExp): string | undefined;
  /** Counts one invalid field found by the caller. */
  invalid(): void;
  /** Invalid fields dropped so far. */
  readonly invalidCount: number;
}

const EPOCH_MIN = Date.UTC(2000, 0, 1);
const EPOCH_MAX = Date.UTC(2100, 0, 1);
const DECIMAL = /^(0|[1-9]\d*)?(\.\d+)?$/;

/** A reader over `params` with its own invalid-field count. */
export function paramReader(params: Params): ParamReader {
  let invalid = 0;
  const raw = (name: string): string | undefined => {
    const s = params.get(name);
    return s === null || s === "" ? undefined : s;
  };
  const reader: ParamReader = {
    num(name, min, max, integer = false) {
      const s = raw(name);
      if (s === undefined) return undefined;
      const n = Number(s);
      if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
        invalid++;
        return undefined;
      }
      return n;
    },
    ms: (name) => reader.num(name, 0, MAX_DURATION_MS),
    epoch: (name) => reader.num(name, EPOCH_MIN, EPOCH_MAX),
    cls(name) {
      const s = raw(name);
      if (s === undefined) return undefined;
      if (!DECIMAL.test(s) || s === "." || !(Number(s) <= MAX_CLS)) {
        invalid++;
        return undefined;
      }
      return Number(s);
    },
    flag(name) {
      const s = params.get(name);
      if (s === null) return false;
      if (s === "" || s === "1" || s === "true") return true;
      if (s !== "0" && s !== "false") invalid++;
      return false;
    },
    match(name, pattern) {
      const s = raw(name);
      if (s === undefined) return undefined;
      if (!pattern.test(s)) {
        invalid++;
        return undefined;
      }
      return s;
    },
    invalid() {
      invalid++;
    },
    get invalidCount() {
      return invalid;
    },
  };
  return reader;
}

/**
 * A page-view id derived from what identifies one page view on a beacon without a (valid) `pid`:
 * `b` + 16 hex chars of two FNV-1a hashes over `parts` (e.g. session id, start time, URL). The
 * same beacon always gives the same id, so its retries and updates land on one page view.
 */
export function derivedPageViewId(parts: readonly string[]): string {
  const key = parts.join("\u0001");
  const a = fnv1a32(key).toString(16).padStart(8, "0");
  const b = fnv1a32(`pv\u0002${key}`).toString(16).padStart(8, "0");
  return `b${a}${b}`;
}
