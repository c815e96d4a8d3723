import { describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";

describe("lockstep sim: raft", () => {
  // Raft runs with every fault kind, including membership changes under load.
  it("passes 1000 seeds of raft with all faults", () => {
    const { code, stdout } = runCli([
      "sim",
      "--protocol",
      "raft",
      "--seeds",
      "1000",
      "--jobs",
      "2",
    ]);
    expect(stdout).toMatch(/1000 seeds, 1000 passed, 0 failed/);
    expect(code).toBe(0);
  }, 1_200_000);
});
