import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

describe("lockstep sim", () => {
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
