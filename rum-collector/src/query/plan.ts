/**
 * Which rollup rows answer a time range: the coarsest granularity that exactly covers each part
 * of the range and has been downsampled (day, then hour, then minute at the ragged edges).
 * Where the finer rows are already gone (retention), the part is widened to the coarser bucket.
 */
import { DAY_MS, type Granularity, HOUR_MS, MINUTE_MS } from "../store/metrics.ts";

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

/** Plans segments covering [from, to) (rounded outward to whole minutes), in time order. */
export function planSegments(p: PlanInput): Segment[] {
  const coarsest = ORDER.indexOf(p.coarsest ?? "day");
  const hourDone = p.hourDone ?? Number.NEGATIVE_INFINITY;
  const dayDone = p.dayDone ?? Number.NEGATIVE_INFINITY;
  const minuteKept = p.minuteKeptFrom ?? Number.NEGATIVE_INFINITY;
  const hourKept = p.hourKeptFrom ?? Number.NEGATIVE_INFINITY;
  let t = Math.floor(p.from / MINUTE_MS) * MINUTE_MS;
  const end = Math.ceil(p.to / MINUTE_MS) * MINUTE_MS;
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
