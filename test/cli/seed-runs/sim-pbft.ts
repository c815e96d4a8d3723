import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";

describe("lockstep sim: pbft", () => {
  // PBFT: 3f+1 replicas with f Byzantine ones in 60% of the seeds (the adversary's catalog) and
  // every fault kind on the correct ones. Short runs (3 clients, 1 s of faults, then up to 30 s
  // for every operation to finish) keep 1000 seeds inside CI's budget: each message is signed,
  // MAC'd and checked, so a PBFT second costs several Raft seconds. Longer runs:
  // scripts/sim-soak.sh.
  it.each([
    ["4", "1", "1000"],
    ["7", "2", "50"],
  ])(
    "passes pbft with %s replicas (f=%s) for %s seeds with all faults and Byzantine replicas",
    (replicas, f, seeds) => {
      const { code, stdout } = runCli(
        [
          "sim",
          "--protocol",
          "pbft",
          "--replicas",
          replicas,
          "--f",
          f,
          "--seeds",
          seeds,
          "--clients",
          "3",
          "--duration",
          "1",
          "--jobs",
          "2",
        ],
        { timeoutMs: 1_200_000 },
      );
      expect(stdout, stdout.slice(-3000)).toMatch(
        new RegExp(`${seeds} seeds, ${seeds} passed, 0 failed`),
      );
      expect(code).toBe(0);
    },
    1_200_000,
  );

  // Twins (src/sim/twins-scenario.ts): seeds 1..1000 are the first 1000 enumerated scenarios of
  // a twinned replica on 4 replicas; the scenario owns the partitions, no other faults. One
  // client and 0.3 s of load keep it to about 3 CPU minutes (1000 × ~0.18 s). More:
  // `--first 1001`, or npm run soak. Seed 402 once left replica 3 behind past the liveness bound
  // (docs/protocols/pbft.md, "Catching up without a checkpoint").
  it("passes 1000 Twins scenarios of pbft (a twinned replica: two honest copies, one identity)", () => {
    const { code, stdout } = runCli(
      [
        "sim",
        "--protocol",
        "pbft",
        "--twins",
        "--seeds",
        "1000",
        "--clients",
        "1",
        "--duration",
        "0.3",
        "--faults",
        "none",
        "--jobs",
        "2",
        "--out",
        mkdtempSync(join(tmpdir(), "lockstep-twins-")),
      ],
      { timeoutMs: 1_200_000 },
    );
    expect(stdout, stdout.slice(-3000)).toMatch(/1000 seeds, 1000 passed, 0 failed/);
    expect(code).toBe(0);
  }, 1_200_000);

  // Two twins at once (f = 2, 7 replicas): both faulty replicas run as two honest copies each,
  // the copies A on one side and the copies B on the other, the twins hearing each other. CI
  // runs 40 scenarios (about 15 CPU seconds); planted view-change-drops-certificates is caught by
  // this setting at seed 63 (docs/protocols/pbft.md). More: --seeds 1000 by hand.
  it("passes Twins scenarios with two twinned replicas of seven", () => {
    const { code, stdout } = runCli(
      [
        "sim",
        "--protocol",
        "pbft",
        "--twins",
        "--twin-count",
        "2",
        "--replicas",
        "7",
        "--f",
        "2",
        "--seeds",
        "40",
        "--clients",
        "1",
        "--duration",
        "0.3",
        "--faults",
        "none",
        "--jobs",
        "2",
        "--out",
        mkdtempSync(join(tmpdir(), "lockstep-twins2-")),
      ],
      { timeoutMs: 600_000 },
    );
    expect(stdout, stdout.slice(-3000)).toMatch(/40 seeds, 40 passed, 0 failed/);
    expect(code).toBe(0);
  }, 600_000);
});
