/**
 * Options of the next-page model, validated once into a typed object (messages name the key).
 */

/** Model options; every field has a default (see `DEFAULT_MODEL_OPTIONS`). */
export interface ModelOptions {
  /** Longest URL context (pages before the next one, consecutive repeats collapsed). Default 4. */
  maxOrder: number;
  /** Absolute discount per context, in weight units (0 < d < 1 keeps unseen mass). Default 0.8. */
  discount: number;
  /** Use the "last two pages + set of earlier pages" context above the longest order. Default true. */
  bagContext: boolean;
  /** Share of the prediction given to pages seen earlier in the session (0 = off). Default 0.2. */
  recencyWeight: number;
  /** Weight ratio between a page seen one step earlier and the next older one. Default 0.8. */
  recencyDecay: number;
  /** Half-life of transition weights in ms (Infinity = no decay). Default 6 h. */
  halfLifeMs: number;
}

/** Defaults: validated on held-out splits of the development click streams (scripts/eval-prefetch). */
export const DEFAULT_MODEL_OPTIONS: Readonly<ModelOptions> = Object.freeze({
  maxOrder: 4,
  discount: 0.8,
  bagContext: true,
  recencyWeight: 0.2,
  recencyDecay: 0.8,
  halfLifeMs: 6 * 3600_000,
});

/** Most context length accepted (longer contexts only cost memory on real click streams). */
export const MAX_ORDER_LIMIT = 8;

function num(key: string, v: unknown, lo: number, hi: number, loOpen = false): number {
  if (typeof v !== "number" || Number.isNaN(v) || (loOpen ? v <= lo : v < lo) || v > hi)
    throw new RangeError(
      `Expected number ${loOpen ? ">" : "≥"} ${lo} and ≤ ${hi} for ${key} but received ${String(v)}`,
    );
  return v;
}

/** Fills defaults and validates; throws a RangeError naming the key on a bad value. */
export function resolveModelOptions(input: Partial<ModelOptions> = {}): ModelOptions {
  const o = { ...DEFAULT_MODEL_OPTIONS, ...input };
  const maxOrder = num("maxOrder", o.maxOrder, 1, MAX_ORDER_LIMIT);
  if (!Number.isInteger(maxOrder))
    throw new RangeError(`Expected integer for maxOrder but received ${maxOrder}`);
  if (typeof o.bagContext !== "boolean")
    throw new RangeError(`Expected boolean for bagContext but received ${String(o.bagContext)}`);
  return {
    maxOrder,
    discount: num("discount", o.discount, 0, 1, true),
    bagContext: o.bagContext,
    recencyWeight: num("recencyWeight", o.recencyWeight, 0, 1),
    recencyDecay: num("recencyDecay", o.recencyDecay, 0, 1),
    halfLifeMs: num("halfLifeMs", o.halfLifeMs, 0, Number.POSITIVE_INFINITY, true),
  };
}
