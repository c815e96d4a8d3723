import { describe, expect, it } from "vitest";
import { fdBudget, parseSoftFdLimit, softFdLimit } from "../../src/runtime/fd-budget.js";

const procLimits = (soft: string, hard: string) =>
  [
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max processes             63459                63459                processes ",
    `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     `,
    "Max locked memory         8388608              8388608              bytes     ",
  ].join("\n");

describe("file descriptor budget", () => {
  it("reads the soft limit from /proc/self/limits text", () => {
    expect(parseSoftFdLimit(procLimits("1024", "524288"))).toBe(1024);
    expect(parseSoftFdLimit(procLimits("unlimited", "unlimited"))).toBe(2 ** 20);
    expect(parseSoftFdLimit("no such line")).toBeUndefined();
    expect(softFdLimit("/nonexistent/limits")).toBe(1024);
    expect(softFdLimit()).toBeGreaterThan(0);
  });

  it("keeps a reserve for storage and shares the rest between the two ports", () => {
    const small = fdBudget(1024, 3, 1024 + 128 + 3);
    expect(small).toEqual({ softLimit: 1024, reserve: 256, httpSockets: 64, replicaSockets: 702 });
    const large = fdBudget(65_536, 3, 1024 + 128 + 3);
    expect(large.reserve).toBe(8192);
    expect(large.httpSockets).toBe(64);
    expect(large.replicaSockets).toBe(1155);
    for (const limit of [64, 256, 300, 1024, 4096, 20_000]) {
      const b = fdBudget(limit, 5, 1160);
      expect(b.httpSockets).toBeGreaterThanOrEqual(1);
      expect(b.replicaSockets).toBeGreaterThanOrEqual(1);
      if (limit >= 512) {
        // Every socket the replica may hold still leaves the reserve free.
        expect(b.httpSockets + b.replicaSockets + 4 + b.reserve).toBeLessThanOrEqual(limit);
      }
    }
  });
});
