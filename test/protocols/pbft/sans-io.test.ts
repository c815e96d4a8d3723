import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * src/protocols/pbft is sans-IO and may import only src/core and itself. Checked here until the
 * project-wide lint rule for protocols lands.
 */
const dir = join(import.meta.dirname, "../../../src/protocols/pbft");
const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));

describe("src/protocols/pbft stays sans-IO", () => {
  it.each(files)("%s imports only src/core and its siblings", (file) => {
    const source = readFileSync(join(dir, file), "utf8");
    const specifiers = [...source.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]!);
    for (const s of specifiers)
      expect(s).toMatch(/^(\.\/[\w-]+\.js|\.\.\/\.\.\/core\/[\w-]+\.js)$/);
  });

  it.each(files)("%s uses no clock, randomness, timer, Promise or Node global", (file) => {
    const code = readFileSync(join(dir, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
    for (const banned of [
      /\bDate\b/,
      /Math\.random/,
      /\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/,
      /\bPromise\b|\basync\b|\bawait\b/,
      /\bprocess\./,
      /\bBuffer\b/,
      /\brequire\(/,
    ]) {
      expect(code).not.toMatch(banned);
    }
  });
});
