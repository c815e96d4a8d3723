import { describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";

describe("lockstep sim: single and primary-backup", () => {
  it.each([["single"], ["primary-backup"]])(
    "passes 1000 seeds of %s with all faults",
    (protocol) => {
      const { code, stdout } = runCli([
        "sim",
        "--protocol",
        protocol,
        "--seeds",
        "1000",
        "--jobs",
        "2",
      ]);
      expect(stdout).toMatch(/1000 seeds, 1000 passed, 0 failed/);
      expect(code).toBe(0);
    },
    1_200_000,
  );

  // The systematic crash sweep (src/sim/crash-sweep.ts): seed S crashes the first primary or
  // backup once, at the boundary S enumerates; 1000 seeds cover the first 125 boundaries of both
  // in all four ways (before/after, process/machine crash).
  it("passes the primary-backup crash sweep over 1000 enumerated boundaries", () => {
    const { code, stdout } = runCli(
      [
        "sim",
        "--protocol",
        "primary-backup",
        "--crash-sweep",
        "--faults",
        "none",
        "--duration",
        "1",
        "--seeds",
        "1000",
        "--jobs",
        "2",
      ],
      { timeoutMs: 600_000 },
    );
    expect(stdout, stdout.slice(-3000)).toMatch(/1000 seeds, 1000 passed, 0 failed/);
    expect(code).toBe(0);
  }, 600_000);
});
