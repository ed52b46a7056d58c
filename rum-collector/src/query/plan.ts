/**
 * Which rollup rows answer a time range: the coarsest granularity that exactly covers each part
 * of the range and has been downsampled (day, then hour, then minute at the ragged edges).
 * Where the finer rows are already gone (retention), the part is widened to the coarser bucket.
 */
import {
  DAY_MS,
  type Granularity,
  HOUR_MS,
  MINUTE_MS,
  type Resolution,
} from "../../../common/src/query-contract.ts";

export type { Resolution };

export interface Segment {
  granularity: Granularity;
  from: number;
  to: number;
}

export interface PlanInput {
  from: number;
  to: number;
  /** Downsampling watermarks (null = nothing downsampled yet). */
  hourDone: number | null;
  dayDone: number | null;
  /** Oldest bucket start still kept per granularity (retention); null = everything kept. */
  minuteKeptFrom?: number | null;
  hourKeptFrom?: number | null;
  /** Coarsest granularity allowed (a time series at `hour` must not use day rows). */
  coarsest?: Granularity;
}

const ORDER: Granularity[] = ["minute", "hour", "day"];

/**
 * Plans segments covering [from, to) (rounded outward to whole minutes, and to whole hours/days
 * at an edge whose minute/hour rows are past retention), in time order.
 */
export function planSegments(p: PlanInput): Segment[] {
  const coarsest = ORDER.indexOf(p.coarsest ?? "day");
  const hourDone = p.hourDone ?? Number.NEGATIVE_INFINITY;
  const dayDone = p.dayDone ?? Number.NEGATIVE_INFINITY;
  const minuteKept = p.minuteKeptFrom ?? Number.NEGATIVE_INFINITY;
  const hourKept = p.hourKeptFrom ?? Number.NEGATIVE_INFINITY;
  let t = Math.floor(p.from / MINUTE_MS) * MINUTE_MS;
  let end = Math.ceil(p.to / MINUTE_MS) * MINUTE_MS;
  // Ragged edges whose finer rows are gone (retention) are widened FIRST, so that a widened
  // range that now spans whole days is read from day rows, not from every hour row of them.
  const hourOf = (x: number) => Math.floor(x / HOUR_MS) * HOUR_MS;
  const dayOf = (x: number) => Math.floor(x / DAY_MS) * DAY_MS;
  if (coarsest >= 1 && t < minuteKept && hourOf(t) + HOUR_MS <= hourDone) t = hourOf(t);
  if (coarsest >= 2 && t % HOUR_MS === 0 && t < hourKept && dayOf(t) + DAY_MS <= dayDone) t = dayOf(t);
  if (
    coarsest >= 1 &&
    end % HOUR_MS !== 0 &&
    end - MINUTE_MS < minuteKept &&
    hourOf(end) + HOUR_MS <= hourDone
  )
    end = hourOf(end) + HOUR_MS;
  if (
    coarsest >= 2 &&
    end % HOUR_MS === 0 &&
    end % DAY_MS !== 0 &&
    end - HOUR_MS < hourKept &&
    dayOf(end) + DAY_MS <= dayDone
  )
    end = dayOf(end) + DAY_MS;
  const out: Segment[] = [];
  const push = (granularity: Granularity, from: number, to: number) => {
    const last = out[out.length - 1];
    if (last && last.granularity === granularity && last.to === from) last.to = to;
    else out.push({ granularity, from, to });
  };
  while (t < end) {
    const day = Math.floor(t / DAY_MS) * DAY_MS;
    const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
    const canDay = coarsest >= 2 && day + DAY_MS <= dayDone;
    const canHour = coarsest >= 1 && hour + HOUR_MS <= hourDone;
    if (canDay && ((t === day && day + DAY_MS <= end) || hour < hourKept)) {
      push("day", day, day + DAY_MS);
      t = day + DAY_MS;
    } else if (canHour && ((t === hour && hour + HOUR_MS <= end) || t < minuteKept)) {
      push("hour", hour, hour + HOUR_MS);
      t = hour + HOUR_MS;
    } else {
      const next = Math.min(hour + HOUR_MS, end);
      push("minute", t, next);
      t = next;
    }
  }
  return out;
}

/** Automatic series interval for a range: minute up to 3 h, hour up to 7 days, else day. */
export function autoInterval(from: number, to: number): Granularity {
  const span = to - from;
  if (span <= 3 * HOUR_MS) return "minute";
  if (span <= 7 * DAY_MS) return "hour";
  return "day";
}

/** Describes how `segments` (from `planSegments`) cover the requested [from, to). */
export function describeResolution(from: number, to: number, segments: readonly Segment[]): Resolution {
  const first = segments[0];
  const last = segments[segments.length - 1];
  const iso = (t: number) => new Date(t).toISOString();
  const base = {
    requestedFrom: iso(from),
    requestedTo: iso(to),
    startGranularity: first?.granularity ?? null,
    endGranularity: last?.granularity ?? null,
  };
  if (!first || !last) return { ...base, exact: true, note: null };
  const exact = first.from === from && last.to === to;
  let note: string | null = null;
  if (!exact) {
    const widened = [first, last].some(
      (s) => s.granularity !== "minute" && ((s === first && s.from !== from) || (s === last && s.to !== to)),
    );
    note = widened
      ? "minute rows of the range's edge are past retention: widened to whole hours (or days)"
      : "rounded outward to whole minutes";
  }
  return { ...base, exact, note };
}
