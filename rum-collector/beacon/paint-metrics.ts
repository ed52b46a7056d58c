import type { BeaconPayload } from "../../common/src/rum-types.ts";

/**
 * FCP, LCP and CLS read straight off their Performance Timeline entries, with web-vitals'
 * definitions (6.x): FCP and LCP are `startTime − activationStart` (≥ 0) of entries from before
 * the page was first hidden, LCP stops at the first keydown/click or hide, CLS is the largest
 * session window (gaps < 1 s, windows < 5 s) of shifts without recent input. After a
 * back/forward-cache restore FCP and LCP are the time to the second animation frame after
 * `pageshow` and CLS starts again at 0, as web-vitals reports them. INP stays with web-vitals.
 * Done here rather than with web-vitals' onFCP/onLCP/onCLS to keep the beacon in its size budget.
 */
export interface PaintSink {
  /** The current page view's vitals (a restore swaps in a new object). */
  vitals(): BeaconPayload["vitals"];
  /** The LCP entry of the page load (for the LCP sub-parts). */
  lcpEntry(entry: LargestContentfulPaint): void;
}

type Shift = PerformanceEntry & { value: number; hadRecentInput: boolean };

function observe(type: string, cb: (entries: PerformanceEntryList) => void): PerformanceObserver | undefined {
  try {
    const o = new PerformanceObserver((list) => cb(list.getEntries()));
    o.observe({ type, buffered: true });
    return o;
  } catch {
    // Entry type not supported in this browser: no value, as with web-vitals.
  }
}

/** Starts observing; returns the restore hook to call on `pageshow` with `persisted` (its timeStamp). */
export function observePaints(sink: PaintSink, activationStart: number): (restoredAt: number) => void {
  let hiddenAt = document.visibilityState === "hidden" && !document.prerendering ? 0 : Infinity;
  const at = (e: PerformanceEntry) => Math.max(e.startTime - activationStart, 0);
  const paints = (entries: PerformanceEntryList, lcp?: boolean) => {
    for (const e of entries) {
      if (e.startTime >= hiddenAt) continue;
      if (lcp) {
        sink.vitals().lcp = at(e);
        sink.lcpEntry(e as LargestContentfulPaint);
      } else if (e.name === "first-contentful-paint") sink.vitals().fcp = at(e);
    }
  };
  observe("paint", paints);
  const lcpObserver = observe("largest-contentful-paint", (entries) => paints(entries, true));
  // Also flushes the layout shifts not yet delivered, so a hide reads the final CLS.
  const stop = () => {
    if (cls) shifts(cls.takeRecords());
    if (lcpObserver) paints(lcpObserver.takeRecords(), true);
    lcpObserver?.disconnect();
  };
  addEventListener("keydown", stop, { once: true, capture: true });
  addEventListener("click", stop, { once: true, capture: true });
  addEventListener(
    "visibilitychange",
    (e) => {
      if (document.visibilityState === "hidden") {
        hiddenAt = Math.min(hiddenAt, e.timeStamp);
        stop();
      }
    },
    true,
  );

  let windowValue = 0;
  let windowEntries: Shift[] = [];
  const shifts = (entries: PerformanceEntryList) => {
    for (const e of entries as Shift[]) {
      if (e.hadRecentInput) continue;
      const first = windowEntries[0];
      const last = windowEntries.at(-1);
      if (first && last && e.startTime - last.startTime < 1000 && e.startTime - first.startTime < 5000) {
        windowValue += e.value;
        windowEntries.push(e);
      } else {
        windowValue = e.value;
        windowEntries = [e];
      }
      const v = sink.vitals();
      v.cls = Math.max(v.cls ?? 0, windowValue);
    }
  };
  const cls = observe("layout-shift", shifts);
  // Where layout shifts are observable, no shift is a CLS of 0 (web-vitals reports 0 too).
  if (cls) sink.vitals().cls ??= 0;

  return (restoredAt) => {
    windowValue = 0;
    windowEntries = [];
    if (cls) sink.vitals().cls = 0;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const v = sink.vitals();
        v.fcp = v.lcp = performance.now() - restoredAt;
      }),
    );
  };
}
