import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytesBarSvg, formatBytes } from "../src/charts/bytes-bar.ts";
import { fillGaps, lineChartSvg, linePath } from "../src/charts/line-chart.ts";
import { linearScale, niceStep, niceTicks } from "../src/charts/scale.ts";
import { formatMs, stackedBarSvg, stackSegments } from "../src/charts/stacked-bar.ts";

describe("scales", () => {
  it("maps domain ends to range ends, including inverted ranges", () => {
    const y = linearScale([0, 200], [100, 0]);
    expect(y(0)).toBe(100);
    expect(y(200)).toBe(0);
    expect(y(50)).toBe(75);
  });

  it("maps a zero-width domain to the range start instead of NaN", () => {
    expect(linearScale([5, 5], [10, 90])(5)).toBe(10);
  });

  it("picks 1-2-5 steps and ticks that cover the maximum", () => {
    expect(niceStep(1000, 5)).toBe(200);
    expect(niceStep(0.3, 3)).toBe(0.1);
    expect(niceTicks(2480, 4)).toEqual([0, 1000, 2000, 3000]);
    expect(niceTicks(0.31, 4)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(niceTicks(0)).toEqual([0, 1]);
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1e9, noNaN: true }),
        fc.integer({ min: 1, max: 10 }),
        (max, n) => {
          const t = niceTicks(max, n);
          expect(t[0]).toBe(0);
          expect(t[t.length - 1]).toBeGreaterThanOrEqual(max * (1 - 1e-9));
          for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1] as number);
        },
      ),
    );
  });
});

describe("stacked bars", () => {
  it("segments sum to the bar width exactly and keep their order", () => {
    const segs = stackSegments(
      [
        { key: "a", label: "A", value: 1 },
        { key: "b", label: "B", value: 1 },
        { key: "c", label: "C", value: 1 },
      ],
      100,
    );
    expect(segs.map((s) => s.width)).toEqual([33.33, 33.34, 33.33]);
    expect(segs.map((s) => s.x)).toEqual([0, 33.33, 66.67]);
  });

  it("any non-negative parts fill exactly the given width, contiguously (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 1, max: 2000, noNaN: true }),
        (values, width) => {
          fc.pre(values.some((v) => v > 0));
          const segs = stackSegments(
            values.map((v, i) => ({ key: `k${i}`, label: `k${i}`, value: v })),
            width,
          );
          const sum = segs.reduce((a, s) => a + s.width, 0);
          expect(sum).toBeCloseTo(Math.round(width * 100) / 100, 6);
          let x = 0;
          for (const s of segs) {
            expect(s.width).toBeGreaterThanOrEqual(0);
            expect(s.x).toBeCloseTo(x, 6);
            x += s.width;
          }
        },
      ),
    );
  });

  it("treats negative and non-finite parts as zero", () => {
    const segs = stackSegments(
      [
        { key: "a", label: "A", value: -5 },
        { key: "b", label: "B", value: Number.NaN },
        { key: "c", label: "C", value: 10 },
      ],
      50,
    );
    expect(segs.map((s) => s.width)).toEqual([0, 0, 50]);
  });

  it("an all-zero bar has zero-width segments", () => {
    const segs = stackSegments([{ key: "a", label: "A", value: 0 }], 50);
    expect(segs[0]?.width).toBe(0);
  });

  it("renders one rect per non-empty segment with a tooltip, escaping labels", () => {
    const svg = stackedBarSvg(
      stackSegments(
        [
          { key: "edge", label: "Edge <x>", value: 5 },
          { key: "backend", label: "Backend", value: 0 },
          { key: "download", label: "Download", value: 15 },
        ],
        80,
      ),
      { height: 10, canvasWidth: 100, markAt: 20 },
    ).value;
    expect(svg.match(/<rect /g)?.length).toBe(2);
    expect(svg).toContain('class="seg seg-edge" x="0" y="0" width="20"');
    expect(svg).toContain('class="seg seg-download" x="20" y="0" width="60"');
    expect(svg).toContain("Edge &lt;x&gt;: 5 ms");
    expect(svg).toContain('viewBox="0 0 100 10"');
    expect(svg).toContain('<line class="ttfb-mark"');
  });

  it("formats milliseconds", () => {
    expect(formatMs(0)).toBe("0 ms");
    expect(formatMs(3.14)).toBe("3.1 ms");
    expect(formatMs(412.4)).toBe("412 ms");
    expect(formatMs(2480)).toBe("2.48 s");
    expect(formatMs(null)).toBe("–");
  });
});

describe("line chart", () => {
  const x = linearScale([0, 10], [0, 100]);
  const y = linearScale([0, 100], [50, 0]);

  it("draws a path through the points and breaks it at gaps", () => {
    expect(
      linePath(
        [
          { t: 0, v: 0 },
          { t: 5, v: 50 },
          { t: 6, v: null },
          { t: 10, v: 100 },
        ],
        x,
        y,
      ),
    ).toBe("M0 50 L50 25 M100 0");
    expect(linePath([{ t: 0, v: null }], x, y)).toBe("");
  });

  it("fills missing buckets with gaps on a regular grid", () => {
    const filled = fillGaps(
      [
        { t: 60_000, v: 5 },
        { t: 240_000, v: 7 },
      ],
      30_000,
      300_000,
      60_000,
    );
    expect(filled).toEqual([
      { t: 0, v: null },
      { t: 60_000, v: 5 },
      { t: 120_000, v: null },
      { t: 180_000, v: null },
      { t: 240_000, v: 7 },
    ]);
    expect(linePath(filled, x, y)).toBe("M600000 47.5 M2400000 46.5"); // two runs: no line across the gap
  });

  it("renders axes, the path, dots and threshold lines", () => {
    const svg = lineChartSvg(
      [
        { t: 0, v: 1000 },
        { t: 60_000, v: 4500 },
      ],
      {
        width: 400,
        height: 200,
        from: 0,
        to: 60_000,
        format: formatMs,
        formatTime: (t) => `t${t / 1000}`,
        thresholds: { good: 2500, poor: 4000 },
        label: "LCP p75",
      },
    ).value;
    expect(svg).toContain('<path class="line" d="M64 ');
    expect(svg.match(/<circle /g)?.length).toBe(2);
    expect(svg).toContain('class="ref-good"');
    expect(svg).toContain('class="ref-poor"');
    expect(svg).toContain(">6.00 s<");
    expect(svg).toContain(">t60<");
  });

  it("leaves out a threshold line above the axis maximum", () => {
    const svg = lineChartSvg([{ t: 0, v: 100 }], {
      width: 400,
      height: 200,
      from: 0,
      to: 1,
      format: formatMs,
      formatTime: String,
      thresholds: { good: 200, poor: 500 },
      label: "INP",
    }).value;
    expect(svg).toContain('class="ref-good"');
    expect(svg).not.toContain('class="ref-poor"');
  });
});

describe("bytes bar", () => {
  it("formats bytes with SI units and keeps the sign", () => {
    expect(formatBytes(812)).toBe("812 B");
    expect(formatBytes(48_200)).toBe("48.2 kB");
    expect(formatBytes(3_410_000)).toBe("3.41 MB");
    expect(formatBytes(1_200_000_000)).toBe("1.20 GB");
    expect(formatBytes(-20_000)).toBe("−20.0 kB");
    expect(formatBytes(null)).toBe("–");
  });

  it("scales original and delivered to the largest row and clamps to the canvas", () => {
    const svg = bytesBarSvg(600, 150, 1200, { canvasWidth: 300 }).value;
    expect(svg).toContain('class="img-original" x="0" y="0" width="150"');
    expect(svg).toContain('class="img-delivered" x="0" y="3.5" width="37.5"');
    // A variant larger than the max (e.g. larger than its source) never overflows the canvas.
    expect(bytesBarSvg(100, 500, 100).value).toContain('class="img-delivered" x="0" y="3.5" width="300"');
    expect(bytesBarSvg(0, 0, 0).value).toContain('class="img-original" x="0" y="0" width="0"');
  });
});
