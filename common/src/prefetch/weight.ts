/**
 * How much one observed transition counts. A bounce (the next page left again within
 * `bounceMs`) or a short dwell says the visitor did not want that page after all, so it weighs
 * less; an unknown dwell counts fully (the edge sees the navigation before the dwell is known).
 */

/** Dwell weighting. Defaults: bounce < 2 s weighs 0.25, short dwell < 10 s weighs 0.6. */
export interface DwellWeights {
  bounceMs: number;
  bounceWeight: number;
  shortDwellMs: number;
  shortDwellWeight: number;
}

export const DEFAULT_DWELL_WEIGHTS: Readonly<DwellWeights> = Object.freeze({
  bounceMs: 2000,
  bounceWeight: 0.25,
  shortDwellMs: 10_000,
  shortDwellWeight: 0.6,
});

/** Weight of a transition whose target page was kept open `dwellMs` (null = unknown → 1). */
export function transitionWeight(dwellMs: number | null, w: DwellWeights = DEFAULT_DWELL_WEIGHTS): number {
  if (dwellMs === null || !Number.isFinite(dwellMs) || dwellMs < 0) return 1;
  if (dwellMs < w.bounceMs) return w.bounceWeight;
  if (dwellMs < w.shortDwellMs) return w.shortDwellWeight;
  return 1;
}
