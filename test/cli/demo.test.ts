import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runCli } from "./run-cli.js";

// `lockstep demo` starts real replica processes (dist/runtime/replica-main.js): run
// `npm run build` first (npm test does it).

const root = mkdtempSync(join(tmpdir(), "lockstep-demo-test-"));

/** Replica processes whose command line names a folder under `root` (their --config path). */
function leftoverReplicas(): string[] {
  const result = spawnSync("pgrep", ["-af", root], { encoding: "utf8" });
  if (result.error) return []; // no pgrep here: nothing to check with
  return result.stdout.split("\n").filter((line) => line.includes("replica-main"));
}

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

interface LogLine {
  readonly msg: string;
  readonly fresh?: boolean;
}

function replicaLog(dir: string, id: number): LogLine[] {
  return readFileSync(join(dir, `replica-${id}.log`), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as LogLine);
}

describe("lockstep demo", () => {
  test("kills the leader, elects another, catches the restarted replica up, loses no write; a second run starts clean", () => {
    const dir = join(root, "demo");
    for (const run of [1, 2]) {
      const { code, stdout, stderr } = runCli(["demo", "--seconds", "1", "--dir", dir], {
        timeoutMs: 45_000,
      });
      expect(code, `run ${run}\n${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toContain(`data folder: ${dir}`);
      expect(stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(live while the demo runs/);
      expect(stdout).toContain("every replica started from an empty data folder");
      expect(stdout).toMatch(/SIGKILL r\d \(the leader\)/);
      expect(stdout).toMatch(
        /r\d elected leader for term \d+, [\d.]+ s after the kill; service continued: first write acknowledged [\d.]+ s after the kill/,
      );
      expect(stdout).toMatch(/r\d recovered .+ and caught up to index \d+ in [\d.]+ s/);
      const readBack = /read back (\d+)\/(\d+)/.exec(stdout);
      expect(readBack?.[1]).toBe(readBack?.[2]);
      expect(Number(readBack?.[2])).toBeGreaterThan(0);
      expect(stderr).toMatch(/ops\/s .* leader r\d term \d+ \| \d\/3 up/);
      expect(leftoverReplicas()).toEqual([]);

      // Every replica's first recovery in this run's log is from an empty data folder: the log
      // and the data were wiped, not carried over from run 1 (only the killed replica restarts).
      const recoveries = [0, 1, 2].map((id) =>
        replicaLog(dir, id).filter((line) => line.msg === "recovered"),
      );
      for (const lines of recoveries) expect(lines[0]?.fresh).toBe(true);
      expect(recoveries.map((lines) => lines.length).sort()).toEqual([1, 1, 2]);
      expect(recoveries.flat().filter((line) => line.fresh === false)).toHaveLength(1);

      // Something left in the folder after run 1 is gone after run 2.
      if (run === 1) writeFileSync(join(dir, "left-behind.txt"), "x");
      else expect(readdirSync(dir)).not.toContain("left-behind.txt");
    }
  }, 100_000);

  test("refuses to wipe a folder that is not a demo folder, and leaves it alone", () => {
    const dir = join(root, "precious");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "keep me");
    const { code, stderr } = runCli(["demo", "--dir", dir]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/not a demo folder/);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(["notes.txt"]);
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("keep me");
  });

  test.each([
    [["--seconds", "soon"], /--seconds must be a number/],
    [["--clients", "0"], /--clients must be from 1/],
    [["--seed", "3"], /--seed needs --simulated/],
    [["--bogus"], /unknown option --bogus \(see lockstep/],
    [["--protocol", "paxos"], /--protocol must be raft, pbft or primary-backup/],
  ])("rejects %j with one line and exit code 2", (args, message) => {
    const { code, stderr } = runCli(["demo", ...args, "--dir", join(root, "unused")]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  test("--protocol primary-backup: the primary is killed, the arbiter decides, the old primary comes back as the backup, no write is lost", () => {
    const dir = join(root, "pb-demo");
    const { code, stdout, stderr } = runCli(
      ["demo", "--protocol", "primary-backup", "--seconds", "1", "--dir", dir],
      { timeoutMs: 60_000 },
    );
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/pair up: r(\d) is primary in epoch \d+/);
    const victim = /SIGKILL r(\d) \(the primary\)/.exec(stdout)?.[1];
    expect(victim).toBeDefined();
    const decided = /arbiter decided: epoch (\d+) → r(\d) \(test-and-set/.exec(stdout);
    expect(decided?.[2]).not.toBe(victim);
    expect(stdout).toMatch(
      new RegExp(
        `r${decided?.[2]} went live as primary of epoch ${decided?.[1]}, [\\d.]+ s after the kill; first write acknowledged`,
      ),
    );
    expect(stdout).toMatch(
      new RegExp(`r${victim} is the new backup of r${decided?.[2]} \\(epoch \\d+\\), up to date`),
    );
    const readBack = /read back (\d+)\/(\d+)/.exec(stdout);
    expect(readBack?.[1]).toBe(readBack?.[2]);
    expect(Number(readBack?.[2])).toBeGreaterThan(0);
    expect(stderr).toMatch(/ops\/s .* leader r\d term \d+ \| \d\/2 up/);
    expect(leftoverReplicas()).toEqual([]);
  }, 70_000);

  test("--simulated still runs the narrated simulation", () => {
    const { code, stdout } = runCli(["demo", "--simulated", "--seed", "1"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/linearizability: ok/);
  });
});
