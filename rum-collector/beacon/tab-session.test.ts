import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { pickArm } from "./tab-session.ts";

const sid = () => randomBytes(12).toString("hex");

describe("pickArm", () => {
  it("assigns arms in the configured shares (weights normalised by their sum)", () => {
    const counts: Record<string, number> = {};
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const arm = pickArm(sid(), "holdout:1,ours:8,press:1");
      counts[arm] = (counts[arm] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(["holdout", "ours", "press"]);
    expect((counts.holdout ?? 0) / n).toBeCloseTo(0.1, 1);
    expect((counts.ours ?? 0) / n).toBeCloseTo(0.8, 1);
    expect((counts.press ?? 0) / n).toBeCloseTo(0.1, 1);
  });

  it("is a pure function of the session id, so a tab keeps its arm", () => {
    const s = sid();
    const arm = pickArm(s, "holdout:0.1,ours:0.8,press:0.1");
    for (let i = 0; i < 5; i++) expect(pickArm(s, "holdout:0.1,ours:0.8,press:0.1")).toBe(arm);
    expect(pickArm("00000000aaaaaaaaaaaaaaaa", "holdout:0.1,ours:0.8,press:0.1")).toBe("holdout");
    expect(pickArm("ffffffffaaaaaaaaaaaaaaaa", "holdout:0.1,ours:0.8,press:0.1")).toBe("press");
  });

  it("no experiment without a valid spec; unknown arms and zero shares are ignored", () => {
    expect(pickArm(sid(), undefined)).toBe("");
    expect(pickArm(sid(), "")).toBe("");
    expect(pickArm(sid(), "control:1")).toBe("");
    for (let i = 0; i < 200; i++) expect(pickArm(sid(), "holdout:0,control:5,press:1")).toBe("press");
  });
});
