import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { markov1, markov2, ours, parseSessions, popular, score } from "../eval-prefetch-lib.ts";

const train = parseSessions("a b c\na b c\nx b d\nx b d\nx b d\nb e\na a b c\n");

describe("eval-prefetch methods", () => {
  it("second order uses the pair, backs off to first order, then popularity", () => {
    const m = markov2();
    m.train(train);
    expect(m.predict(["a", "b"])[0]?.page).toBe("c");
    expect(m.predict(["x", "b"])[0]?.page).toBe("d");
    expect(m.predict(["q", "b"])[0]?.page).toBe("c"); // first order: b → c and b → d 3 times each, tie by token
    expect(m.predict(["zzz"])[0]?.page).toBe("b"); // popularity of next pages
    const m1 = markov1();
    m1.train(train);
    expect(m1.predict(["b"]).map((c) => c.page)).toEqual(["c", "d", "e"]);
    const pop = popular();
    pop.train(train);
    expect(pop.predict(["b"]).map((c) => c.page)[0]).toBe("c");
  });

  it("scores no-self transitions only, with the current page removed", () => {
    const m = markov2();
    m.train(train);
    const r = score(m, parseSessions("a b c\nb b e\n"));
    expect(r.transitions).toBe(3); // a→b, b→c, b→e (b→b skipped)
    expect(r.noSelfTop3).toBe(100);
    const o = ours();
    o.train(train);
    expect(score(o, parseSessions("x b d\n")).noSelfTop1).toBe(100);
  });

  it("prints the table and writes the JSON (CLI)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "eval-prefetch-"));
    const data = path.join(dir, "s.txt");
    writeFileSync(data, `${Array.from({ length: 50 }, (_, i) => (i % 2 ? "a b c" : "x b d")).join("\n")}\n`);
    const out = path.join(dir, "r.json");
    const run = spawnSync(process.execPath, ["scripts/eval-prefetch.ts", data, "--json", out], {
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/markov2/);
    const json = JSON.parse(readFileSync(out, "utf8"));
    expect(Object.keys(json.methods)).toEqual(["popular", "markov1", "markov2", "ours"]);
    expect(json.methods.ours.noSelfTop3).toBeTypeOf("number");
    const bad = spawnSync(process.execPath, ["scripts/eval-prefetch.ts", data, "--train", "7"], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--train/);
  });

  describe("CLI input and output errors: one clear line, exit 2", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "eval-prefetch-err-"));
    const sessions = `${Array.from({ length: 50 }, (_, i) => (i % 2 ? "a b c" : "x b d")).join("\n")}\n`;
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["scripts/eval-prefetch.ts", ...args], { encoding: "utf8" });
    const oneLine = (r: ReturnType<typeof run>, re: RegExp) => {
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^eval:prefetch: /);
    };

    it("reads a .gz input", () => {
      const gz = path.join(dir, "s.txt.gz");
      writeFileSync(gz, gzipSync(sessions));
      const r = run(gz);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/train 40 sessions, test 10 sessions/);
    });

    it("rejects a corrupt gzip", () => {
      const bad = path.join(dir, "bad.gz");
      writeFileSync(bad, gzipSync(sessions).subarray(0, 30));
      oneLine(run(bad), /cannot decompress .*bad\.gz/);
    });

    it("rejects a missing file", () => {
      oneLine(run(path.join(dir, "missing.txt")), /cannot read .*missing\.txt/);
    });

    it("rejects an empty file", () => {
      const empty = path.join(dir, "empty.txt");
      writeFileSync(empty, "");
      oneLine(run(empty), /empty\.txt holds no sessions/);
    });

    it("reports a JSON file that cannot be written", () => {
      const data = path.join(dir, "ok.txt");
      writeFileSync(data, sessions);
      oneLine(run(data, "--json", path.join(dir, "no-such-dir", "r.json")), /cannot write .*r\.json/);
    });
  });
});
