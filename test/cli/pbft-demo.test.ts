import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runCli } from "./run-cli.js";

// `lockstep demo --protocol pbft` (what `npm start -- --protocol pbft` runs) starts real replica
// processes: run `npm run build` first (npm test does it).

const root = mkdtempSync(join(tmpdir(), "lockstep-pbft-demo-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function leftoverReplicas(): string[] {
  const result = spawnSync("pgrep", ["-af", root], { encoding: "utf8" });
  if (result.error) return [];
  return result.stdout.split("\n").filter((line) => line.includes("replica-main"));
}

describe("lockstep demo --protocol pbft", () => {
  test("a Byzantine primary is voted out by a view change, wrong replies are out-voted, a killed replica catches up by state transfer, no write is lost", () => {
    const dir = join(root, "demo");
    const { code, stdout, stderr } = runCli(
      ["demo", "--protocol", "pbft", "--seconds", "1", "--dir", dir],
      { timeoutMs: 90_000 },
    );
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain("4-replica PBFT key-value cluster (f = 1)");
    expect(stdout).toMatch(/cluster up: r0 is the primary of view 0/);
    expect(stdout).toContain("restart it as a BYZANTINE replica: equivocate");
    expect(stdout).toMatch(/the backups changed view: r[1-3] is primary of view [1-9]/);
    const outvoted = /the clients out-voted (\d+) of them/.exec(stdout);
    expect(Number(outvoted?.[1])).toBeGreaterThan(0);
    expect(stdout).toMatch(/r0 fetched the state at checkpoint \d+ .* caught up/);
    const readBack = /read back (\d+)\/(\d+)/.exec(stdout);
    expect(readBack?.[1]).toBe(readBack?.[2]);
    expect(Number(readBack?.[2])).toBeGreaterThan(0);
    expect(stdout).toMatch(/replies out-voted +[1-9]\d* while a backup sent wrong replies/);
    expect(stdout).toMatch(/messages rejected +\d+/);
    expect(stderr).toMatch(/ops\/s .* primary r\d view \d+ \| \d\/4 up/);
    // The replica's own loud warning reached its log.
    expect(readFileSync(join(dir, "replica-0.log"), "utf8")).toContain(
      "r0 runs as a BYZANTINE replica (corrupt-replies)",
    );
    expect(leftoverReplicas()).toEqual([]);
  }, 100_000);

  test("refuses an unknown protocol with a usage error", () => {
    const { code, stderr } = runCli(["demo", "--protocol", "paxos", "--dir", join(root, "x")]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--protocol must be raft, pbft or primary-backup/);
  });
});
