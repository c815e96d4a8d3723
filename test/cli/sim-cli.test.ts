import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

describe("lockstep sim", () => {
  // Raft runs with every fault kind, including membership changes under load.
  it.each([["single"], ["raft"], ["primary-backup"]])(
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

  // The faulty client (--faulty-client) in 30% of the seeds, next to 3 correct clients, with
  // every fault kind and Byzantine replicas: 1000 seeds, about 90 s on two quiet threads
  // (npm run soak for more).
  it("passes pbft with a faulty client for 1000 seeds", () => {
    const { code, stdout } = runCli(
      [
        "sim",
        "--protocol",
        "pbft",
        "--faulty-client",
        "--seeds",
        "1000",
        "--clients",
        "3",
        "--duration",
        "1",
        "--jobs",
        "2",
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

  it("refuses --twin-count without --twins, above f, or without enough replicas", () => {
    const cases: [string[], RegExp][] = [
      [["--twin-count", "2"], /--twin-count needs --twins/],
      [["--twins", "--twin-count", "2"], /--twin-count 2 twins more replicas than f = 1 tolerates/],
      [
        ["--twins", "--twin-count", "2", "--f", "2", "--replicas", "6"],
        /needs more than 6 replicas, got 6/,
      ],
      [["--twins", "--twin-count", "0"], /twin-count/],
    ];
    for (const [extra, message] of cases) {
      const { code, stderr } = runCli(["sim", "--protocol", "pbft", "--seeds", "1", ...extra]);
      expect(code, extra.join(" ")).toBe(2);
      expect(stderr).toMatch(message);
    }
  });

  it("refuses --twins for a protocol that tolerates crashes only", () => {
    const { code, stderr } = runCli(["sim", "--protocol", "raft", "--twins"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--twins needs a Byzantine-fault-tolerant protocol; raft/);
  });

  it("fails the broken variant, prints a replay command that reproduces the same trace hash, and writes history and trace", () => {
    const out = mkdtempSync(join(tmpdir(), "lockstep-sim-"));
    const first = runCli([
      "sim",
      "--protocol",
      "single-ack-before-sync",
      "--seeds",
      "10",
      "--jobs",
      "2",
      "--out",
      out,
    ]);
    expect(first.code).toBe(1);
    const fail = /FAIL seed (\d+) \(trace ([0-9a-f]{16})\)/.exec(first.stdout);
    expect(fail, first.stdout).not.toBeNull();
    const replay = /replay: npx lockstep (sim .*)/.exec(first.stdout);
    expect(replay).not.toBeNull();
    const again = runCli([...replay![1]!.split(" "), "--out", out]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`trace ${fail![2]}`);
    const saved = JSON.parse(
      readFileSync(join(out, `single-ack-before-sync-seed-${fail![1]}.json`), "utf8"),
    );
    expect(saved.traceHash).toBe(fail![2]);
    expect(saved.sameRunAsFirstAttempt).toBe(true);
    expect(saved.history.length).toBeGreaterThan(0);
    expect(
      readFileSync(join(out, `single-ack-before-sync-seed-${fail![1]}.trace.txt`), "utf8"),
    ).toMatch(/crash r0 machine/);
  }, 300_000);

  it.each([
    [["sim"], /--protocol is required/],
    [["sim", "--protocol", "nope"], /unknown protocol "nope"/],
    [["sim", "--protocol", "single", "--seeds", "ten"], /--seeds expects an integer/],
    [["sim", "--protocol", "single", "--seeds", "0"], /--seeds must be from 1/],
    [["sim", "--protocol", "single", "--faults", "fire"], /unknown fault "fire"/],
    [["sim", "--protocol", "single", "--bogus"], /unknown option --bogus \(see lockstep/],
    [["sim", "--protocol", "single", "--service", "sql"], /--service must be one of/],
    [
      ["sim", "--protocol", "single", "--trace", "t.json"],
      /--trace FILE records one run: give --seed/,
    ],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("rejects %j with one clear line and exit code 2", (args, message) => {
    const { code, stderr } = runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("has --help on every command", () => {
    const top = runCli(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: lockstep/);
    const commands = ["init", "replica", "up", "status", "kv", "bench", "sim", "demo"];
    for (const command of commands) {
      // The top-level help lists every command, and each one answers --help with its own usage.
      expect(top.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
      const { code, stdout, stderr } = runCli([command, "--help"]);
      expect(code, `${command} --help`).toBe(0);
      expect(stderr).toBe("");
      expect(stdout).toMatch(new RegExp(`lockstep ${command}`));
    }
  });
});
