/**
 * Offline evaluation of next-page predictors on click streams (one session per line, page
 * tokens separated by spaces). Protocol: train on the first `trainShare` of the sessions, test
 * on the rest; every test transition page_i → page_{i+1} with page_{i+1} ≠ page_i is one
 * prediction from the session so far, with page_i removed from the candidates ("no-self").
 */
import { type Candidate, NextPageModel } from "../common/src/prefetch/model.ts";
import type { ModelOptions } from "../common/src/prefetch/options.ts";

/** A predictor: ranked candidates (with probabilities) for the session so far. */
export interface Predictor {
  name: string;
  train(sessions: readonly string[][]): void;
  predict(path: readonly string[]): Candidate[];
}

const byToken = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Ranked, normalised candidates from counts, without `self`; ties broken by token string. */
function ranked(counts: ReadonlyMap<string, number> | undefined, self: string): Candidate[] {
  if (!counts) return [];
  let total = 0;
  for (const [p, c] of counts) if (p !== self) total += c;
  const out: Candidate[] = [];
  for (const [p, c] of counts) if (p !== self && c > 0) out.push({ page: p, p: c / total });
  return out.sort((a, b) => b.p - a.p || byToken(a.page, b.page));
}

function bump(m: Map<string, Map<string, number>>, key: string, next: string): void {
  let row = m.get(key);
  if (!row) {
    row = new Map();
    m.set(key, row);
  }
  row.set(next, (row.get(next) ?? 0) + 1);
}

/** Most popular next page (transition targets counted over the training sessions). */
export function popular(): Predictor {
  const pop = new Map<string, number>();
  return {
    name: "popular",
    train(sessions) {
      for (const s of sessions)
        for (let i = 1; i < s.length; i++) pop.set(s[i] as string, (pop.get(s[i] as string) ?? 0) + 1);
    },
    predict: (path) => ranked(pop, path[path.length - 1] as string),
  };
}

/** First-order Markov (successors of the current page; popularity when it was never seen). */
export function markov1(): Predictor {
  const base = popular();
  const m = new Map<string, Map<string, number>>();
  return {
    name: "markov1",
    train(sessions) {
      base.train(sessions);
      for (const s of sessions)
        for (let i = 0; i + 1 < s.length; i++) bump(m, s[i] as string, s[i + 1] as string);
    },
    predict(path) {
      const cur = path[path.length - 1] as string;
      return m.has(cur) ? ranked(m.get(cur), cur) : base.predict(path);
    },
  };
}

/** Second-order Markov on the raw sequence, backing off to first order, then to popularity. */
export function markov2(): Predictor {
  const first = markov1();
  const m = new Map<string, Map<string, number>>();
  return {
    name: "markov2",
    train(sessions) {
      first.train(sessions);
      for (const s of sessions)
        for (let i = 1; i + 1 < s.length; i++) bump(m, `${s[i - 1]} ${s[i]}`, s[i + 1] as string);
    },
    predict(path) {
      const cur = path[path.length - 1] as string;
      if (path.length >= 2) {
        const row = m.get(`${path[path.length - 2]} ${cur}`);
        if (row) return ranked(row, cur);
      }
      return first.predict(path);
    },
  };
}

/** The product's model (common/src/prefetch/model.ts), no time decay offline. */
export function ours(options: Partial<ModelOptions> = {}): Predictor {
  const model = new NextPageModel({ halfLifeMs: Number.POSITIVE_INFINITY, ...options });
  return {
    name: "ours",
    train(sessions) {
      for (const s of sessions) model.observeSession(s);
    },
    predict: (path) => model.predict(path, { k: 3 }),
  };
}

/** Thresholds at which precision and coverage are reported. */
export const THRESHOLDS = [0, 0.1, 0.2, 0.3, 0.5] as const;

export interface MethodResult {
  transitions: number;
  noSelfTop1: number;
  noSelfTop3: number;
  /** Per threshold: top-3 candidates with p ≥ threshold speculated. */
  atThreshold: Array<{ threshold: number; precision: number; coverage: number; perPage: number }>;
}

const pct = (a: number, b: number) => (b === 0 ? 0 : Math.round((10000 * a) / b) / 100);

/** Scores one trained predictor on the test sessions (percentages rounded to 0.01). */
export function score(pred: Predictor, test: readonly string[][]): MethodResult {
  let n = 0;
  let t1 = 0;
  let t3 = 0;
  const spec = THRESHOLDS.map(() => ({ pages: 0, hits: 0 }));
  for (const s of test) {
    for (let i = 0; i + 1 < s.length; i++) {
      const next = s[i + 1] as string;
      if (next === s[i]) continue;
      n++;
      const top = pred.predict(s.slice(0, i + 1)).slice(0, 3);
      if (top[0]?.page === next) t1++;
      if (top.some((c) => c.page === next)) t3++;
      THRESHOLDS.forEach((th, j) => {
        const chosen = top.filter((c) => c.p >= th);
        const acc = spec[j] as { pages: number; hits: number };
        acc.pages += chosen.length;
        if (chosen.some((c) => c.page === next)) acc.hits++;
      });
    }
  }
  return {
    transitions: n,
    noSelfTop1: pct(t1, n),
    noSelfTop3: pct(t3, n),
    atThreshold: THRESHOLDS.map((threshold, j) => {
      const a = spec[j] as { pages: number; hits: number };
      return {
        threshold,
        precision: pct(a.hits, a.pages),
        coverage: pct(a.hits, n),
        perPage: n === 0 ? 0 : Math.round((100 * a.pages) / n) / 100,
      };
    }),
  };
}

/** Splits non-empty session lines into token arrays. */
export function parseSessions(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t !== "") out.push(t.split(/\s+/));
  }
  return out;
}
