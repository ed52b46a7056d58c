/**
 * Mergeable quantile sketch with log-spaced buckets (DDSketch): every quantile it answers is
 * within 1 % relative error of the exact sample quantile, and two sketches merge into exactly the
 * sketch of the union (bucket counts add), so rollups of any time range or dimension filter give
 * p50…p99 by merging. Values below 1e-6 (zeros included) share one zero bucket; negative and
 * non-finite values are ignored (durations and CLS are never negative).
 *
 * The sum is kept as an exact fixed-point integer (1e-6 units split in two safe integers) so that
 * merge is associative and commutative down to the serialised bytes, not just approximately.
 */

/** Relative accuracy: a bit under 1 % so float noise at bucket edges never pushes an answer over 1 %. */
export const SKETCH_RELATIVE_ACCURACY = 0.0099;
/** Smallest value with its own bucket; smaller values count in the zero bucket (answer 0). */
export const SKETCH_MIN_VALUE = 1e-6;
/** Largest value kept as is; larger values are clamped (1e12 ms ≈ 31 years). */
export const SKETCH_MAX_VALUE = 1e12;

const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
const MICRO = 1_000_000;
const FORMAT_VERSION = 1;

function bucketIndex(x: number): number {
  return Math.ceil(Math.log(x) / LOG_GAMMA);
}

function bucketValue(i: number): number {
  // Midpoint (in relative terms) of (γ^(i-1), γ^i]: at most α away from any value in the bucket.
  return (2 * GAMMA ** i) / (GAMMA + 1);
}

export class QuantileSketch {
  /** Bucket index → count. */
  readonly buckets = new Map<number, number>();
  zeroCount = 0;
  count = 0;
  /** Exact sum in 1e-6 units = sumHi * 1e6 + sumLo (0 ≤ sumLo < 1e6). */
  sumHi = 0;
  sumLo = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  /** Adds a value `n` times (default once); negative, NaN and infinite values are ignored. */
  add(value: number, n = 1): this {
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY || !(n > 0) || !Number.isInteger(n)) return this;
    const v = Math.min(value, SKETCH_MAX_VALUE);
    if (v < SKETCH_MIN_VALUE) this.zeroCount += n;
    else {
      const i = bucketIndex(v);
      this.buckets.set(i, (this.buckets.get(i) ?? 0) + n);
    }
    this.count += n;
    this.addMicro(Math.round(v * MICRO) * n);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    return this;
  }

  /**
   * Removes one earlier-added value (used when a page view's INP/CLS is replaced by a larger
   * one). Count, sum and buckets stay exact; min/max keep covering every value ever added.
   * Returns false (and changes nothing) when no value of that bucket is present.
   */
  remove(value: number): boolean {
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY) return false;
    const v = Math.min(value, SKETCH_MAX_VALUE);
    if (v < SKETCH_MIN_VALUE) {
      if (this.zeroCount === 0) return false;
      this.zeroCount--;
    } else {
      const i = bucketIndex(v);
      const c = this.buckets.get(i) ?? 0;
      if (c === 0) return false;
      if (c === 1) this.buckets.delete(i);
      else this.buckets.set(i, c - 1);
    }
    this.count--;
    this.addMicro(-Math.round(v * MICRO));
    return true;
  }

  private addMicro(micro: number): void {
    const hi = Math.trunc(micro / MICRO);
    this.sumHi += hi;
    this.sumLo += micro - hi * MICRO;
    if (this.sumLo >= MICRO) {
      this.sumLo -= MICRO;
      this.sumHi += 1;
    } else if (this.sumLo < 0) {
      this.sumLo += MICRO;
      this.sumHi -= 1;
    }
  }

  /** Sum of all values (exact to 1e-6 per value). */
  get sum(): number {
    return this.sumHi + this.sumLo / MICRO;
  }

  /** Merges `other` into this sketch (associative and commutative). */
  merge(other: QuantileSketch): this {
    if (other.count === 0 && other.buckets.size === 0 && other.zeroCount === 0) return this;
    for (const [i, c] of other.buckets) this.buckets.set(i, (this.buckets.get(i) ?? 0) + c);
    this.zeroCount += other.zeroCount;
    this.count += other.count;
    this.sumHi += other.sumHi;
    this.sumLo += other.sumLo;
    if (this.sumLo >= MICRO) {
      this.sumLo -= MICRO;
      this.sumHi += 1;
    }
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    return this;
  }

  /**
   * Value at quantile q in [0, 1] (the sample element of rank ⌊q·(count−1)⌋, within 1 %);
   * NaN for an empty sketch. Answers are clamped to [min, max]; q = 0 and 1 give min and max.
   */
  quantile(q: number): number {
    if (this.count <= 0 || !(q >= 0 && q <= 1)) return Number.NaN;
    // The extremes are known exactly.
    if (q === 0) return this.min;
    if (q === 1) return this.max;
    const rank = q * (this.count - 1);
    let seen = this.zeroCount;
    if (seen > rank) return 0;
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    let value = this.max;
    for (const k of keys) {
      seen += this.buckets.get(k) ?? 0;
      if (seen > rank) {
        value = bucketValue(k);
        break;
      }
    }
    return Math.min(Math.max(value, this.min), this.max);
  }

  /** Several quantiles in one pass over the sorted buckets (same answers as `quantile`). */
  quantiles(qs: readonly number[]): number[] {
    return qs.map((q) => this.quantile(q));
  }

  /**
   * Compact binary form for D1 BLOBs / R2: version, varint counts, float64 min/max, and the
   * sparse buckets as zigzag varint index deltas + varint counts (a few hundred bytes typically).
   */
  toBytes(): Uint8Array {
    const w = new ByteWriter();
    w.byte(FORMAT_VERSION);
    w.uvarint(this.count);
    w.uvarint(this.zeroCount);
    w.svarint(this.sumHi);
    w.uvarint(this.sumLo);
    w.f64(this.count > 0 ? this.min : 0);
    w.f64(this.count > 0 ? this.max : 0);
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    w.uvarint(keys.length);
    let prev = 0;
    for (const k of keys) {
      w.svarint(k - prev);
      w.uvarint(this.buckets.get(k) ?? 0);
      prev = k;
    }
    return w.finish();
  }

  /** Reads `toBytes()` output; throws on a truncated or unknown encoding. */
  static fromBytes(bytes: Uint8Array): QuantileSketch {
    const r = new ByteReader(bytes);
    const version = r.byte();
    if (version !== FORMAT_VERSION) throw new Error(`Unknown sketch format version ${version}`);
    const s = new QuantileSketch();
    s.count = r.uvarint();
    s.zeroCount = r.uvarint();
    s.sumHi = r.svarint();
    s.sumLo = r.uvarint();
    const min = r.f64();
    const max = r.f64();
    if (s.count > 0) {
      s.min = min;
      s.max = max;
    }
    const n = r.uvarint();
    let k = 0;
    for (let j = 0; j < n; j++) {
      k += r.svarint();
      s.buckets.set(k, r.uvarint());
    }
    if (!r.done()) throw new Error("Trailing bytes after sketch");
    return s;
  }

  /**
   * Merges a serialised sketch straight into this one (same result as
   * `merge(fromBytes(bytes))` without building the intermediate sketch: the query hot path).
   */
  mergeBytes(bytes: Uint8Array): this {
    const r = new ByteReader(bytes);
    const version = r.byte();
    if (version !== FORMAT_VERSION) throw new Error(`Unknown sketch format version ${version}`);
    const count = r.uvarint();
    const zeroCount = r.uvarint();
    const sumHi = r.svarint();
    const sumLo = r.uvarint();
    const min = r.f64();
    const max = r.f64();
    const n = r.uvarint();
    const keys: number[] = new Array(n);
    const counts: number[] = new Array(n);
    let k = 0;
    for (let j = 0; j < n; j++) {
      k += r.svarint();
      keys[j] = k;
      counts[j] = r.uvarint();
    }
    if (!r.done()) throw new Error("Trailing bytes after sketch");
    // Validated completely before anything changes, so a bad blob leaves this sketch intact.
    for (let j = 0; j < n; j++) {
      const key = keys[j] as number;
      this.buckets.set(key, (this.buckets.get(key) ?? 0) + (counts[j] as number));
    }
    this.zeroCount += zeroCount;
    this.sumHi += sumHi;
    this.sumLo += sumLo;
    if (this.sumLo >= MICRO) {
      this.sumLo -= MICRO;
      this.sumHi += 1;
    }
    if (count > 0) {
      if (min < this.min) this.min = min;
      if (max > this.max) this.max = max;
    }
    this.count += count;
    return this;
  }

  /** Merges a hex-encoded serialised sketch (SQLite `hex(blob)`), as `mergeBytes`. */
  mergeHex(hex: string): this {
    return this.mergeBytes(hexToBytes(hex));
  }

  /** Base64 of `toBytes()` (for JSON transports). */
  toBase64(): string {
    let bin = "";
    for (const b of this.toBytes()) bin += String.fromCharCode(b);
    return btoa(bin);
  }

  /** Reads `toBase64()` output. */
  static fromBase64(text: string): QuantileSketch {
    const bin = atob(text);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return QuantileSketch.fromBytes(bytes);
  }
}

/** Bytes of a hex string (either case); throws on odd length or a non-hex character. */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error("Odd-length hex sketch");
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    const hi = HEX_VALUE[hex.charCodeAt(2 * i)] ?? 255;
    const lo = HEX_VALUE[hex.charCodeAt(2 * i + 1)] ?? 255;
    if (hi > 15 || lo > 15) throw new Error("Invalid hex in sketch");
    bytes[i] = (hi << 4) | lo;
  }
  return bytes;
}

const HEX_VALUE = (() => {
  const t = new Uint8Array(128).fill(255);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

/** Sketch of the given values (convenience for tests and batch building). */
export function sketchOf(values: Iterable<number>): QuantileSketch {
  const s = new QuantileSketch();
  for (const v of values) s.add(v);
  return s;
}

/** Scratch for f64 encoding (one per isolate; encoding is synchronous). */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class ByteWriter {
  private buf = new Uint8Array(64);
  private n = 0;
  private ensure(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + extra));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.n++] = b;
  }
  /** Unsigned LEB128 for non-negative safe integers (division, not bit ops: values may exceed 2^32). */
  uvarint(v: number): void {
    let x = v;
    this.ensure(8);
    while (x >= 0x80) {
      this.buf[this.n++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.n++] = x;
  }
  svarint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  f64(v: number): void {
    this.ensure(8);
    F64[0] = v;
    // Little-endian, as DataView.setFloat64(…, true) writes it, on any host byte order.
    if (LITTLE_ENDIAN_HOST) this.buf.set(F64_BYTES, this.n);
    else for (let i = 0; i < 8; i++) this.buf[this.n + i] = F64_BYTES[7 - i] as number;
    this.n += 8;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

class ByteReader {
  private i = 0;
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  byte(): number {
    const b = this.bytes[this.i++];
    if (b === undefined) throw new Error("Truncated sketch");
    return b;
  }
  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 8; k++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new Error("Varint too long in sketch");
  }
  svarint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  f64(): number {
    if (this.i + 8 > this.bytes.length) throw new Error("Truncated sketch");
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.i, 8).getFloat64(0, true);
    this.i += 8;
    return v;
  }
  done(): boolean {
    return this.i === this.bytes.length;
  }
}
