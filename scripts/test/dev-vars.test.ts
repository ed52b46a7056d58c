import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureDevVars, localToken, parseDotenv, SECRET_KEYS } from "../dev-vars.mjs";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), "dev-vars-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe(".dev.vars (npm start's local secrets)", () => {
  it("first run writes random 43-character tokens for every secret, readable only by the owner", () => {
    const dir = tmp();
    const first = ensureDevVars(dir);
    expect(first.added).toEqual([...SECRET_KEYS]);
    const values = Object.values(first.tokens);
    for (const v of values) expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(values).size).toBe(values.length);
    expect(statSync(first.file).mode & 0o077).toBe(0);
    expect(parseDotenv(readFileSync(first.file, "utf8"))).toEqual(first.tokens);
  });

  it("later runs reuse the tokens; a file missing a key gets only that key", () => {
    const dir = tmp();
    const first = ensureDevVars(dir);
    const again = ensureDevVars(dir);
    expect(again.added).toEqual([]);
    expect(again.tokens).toEqual(first.tokens);

    const partial = tmp();
    writeFileSync(path.join(partial, ".dev.vars"), '# mine\nDASH_TOKEN="my-own-dash-token"\nOTHER=1');
    const filled = ensureDevVars(partial);
    expect(filled.added).toEqual(["EDGE_ADMIN_TOKEN", "RUM_QUERY_TOKEN"]);
    expect(filled.tokens.DASH_TOKEN).toBe("my-own-dash-token");
    expect(readFileSync(filled.file, "utf8")).toMatch(
      /^# mine\nDASH_TOKEN="my-own-dash-token"\nOTHER=1\nEDGE_ADMIN_TOKEN="/,
    );
  });

  it("parses dotenv lines: quotes, export, comments", () => {
    expect(parseDotenv("A=1\n export B = 'two' \n# C=3\nD=\"x=y\"\nnot a line")).toEqual({
      A: "1",
      B: "two",
      D: "x=y",
    });
  });

  it("localToken: the environment, else .dev.vars, else undefined (for rum:sql and rum:replay)", () => {
    const dir = tmp();
    const saved = process.env.DASH_TOKEN;
    delete process.env.DASH_TOKEN;
    try {
      expect(localToken("DASH_TOKEN", dir)).toBeUndefined();
      const { tokens } = ensureDevVars(dir);
      expect(localToken("DASH_TOKEN", dir)).toBe(tokens.DASH_TOKEN);
      process.env.DASH_TOKEN = "from-the-environment";
      expect(localToken("DASH_TOKEN", dir)).toBe("from-the-environment");
    } finally {
      if (saved === undefined) delete process.env.DASH_TOKEN;
      else process.env.DASH_TOKEN = saved;
    }
  });
});
