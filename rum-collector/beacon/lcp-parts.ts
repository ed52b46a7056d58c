import type { LcpParts } from "../../common/src/rum-types.ts";

/** The fields of the LCP image's Resource Timing entry that the sub-parts need. */
export interface LcpResourceTiming {
  startTime: number;
  requestStart: number;
  responseEnd: number;
}

/**
 * Splits LCP into web-vitals' four sub-parts (TTFB, resource load delay, resource load
 * duration, element render delay) the way its attribution build does, from the navigation's
 * `responseStart`/`activationStart` and the LCP resource's timing (undefined for a text LCP or
 * when no resource entry matches). Unlike the attribution build, the part boundaries are
 * clamped to [0, lcp] and rounded to 0.1 ms, so no part is negative and the parts always sum
 * to `lcp` rounded to 0.1 ms (the beacon's resolution).
 */
export function lcpParts(
  lcp: number,
  responseStart: number,
  activationStart: number,
  resource: LcpResourceTiming | undefined,
): LcpParts {
  const at = (x: number) => Math.round(Math.min(Math.max(x, 0), lcp) * 10);
  const ttfb = at(responseStart - activationStart);
  // Prefer requestStart (needs Timing-Allow-Origin cross-origin), else startTime, as web-vitals does.
  const requestStart = Math.max(
    ttfb,
    resource ? at((resource.requestStart || resource.startTime) - activationStart) : 0,
  );
  const responseEnd = Math.max(requestStart, resource ? at(resource.responseEnd - activationStart) : 0);
  return {
    ttfb: ttfb / 10,
    resourceLoadDelay: (requestStart - ttfb) / 10,
    resourceLoadDuration: (responseEnd - requestStart) / 10,
    elementRenderDelay: (at(lcp) - responseEnd) / 10,
  };
}
