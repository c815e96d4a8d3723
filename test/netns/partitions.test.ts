import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLinearizability } from "../../src/check/linearizability/index.js";
import type { Value } from "../../src/core/value.js";
import type { Operation } from "../../src/model/history.js";
import type { ClientOperation } from "../../src/state-machines/index.js";
import { kvModel } from "../../src/state-machines/index.js";

// Real replica processes in Linux network namespaces, partitioned with iptables DROP rules, a
// client process in a namespace of its own recording a history (scripts/netns-partitions.mjs
// does the work; docs/operations.md, "Partition tests in network namespaces"). Needs Linux, root,
// `ip`, `iptables` and a build (`npm test` builds first). Elsewhere every test is skipped with
// the reason printed.

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const script = join(root, "scripts/netns-partitions.mjs");
/**
 * Issue 11's goal: after any heal, a majority that exists serves writes again within 1 s. The
 * script checks that goal on hand runs (`--goal-ms`, default 1000) and every run prints its
 * measured gaps. CI shares 2 vCPUs between five replica processes, the client driver and the
 * test runner, so the assertions here allow a margin over the goal: 1.5 s for the regression
 * scenario (the old transport stalled 2.0-2.7 s there in 4 of 5 runs) and 2 s for the
 * five-replica and mixed scenarios, where one CI run measured 1.1 s.
 */
const regressionBoundMs = 1_500;
const ciBoundMs = 2_000;

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runScript(args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: root });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

interface Summary {
  readonly skipped?: string;
  readonly history: string;
  readonly operations: number;
  readonly completed: number;
  readonly uniqueWritesReadBack: number;
  readonly missing: readonly string[];
  readonly verdict: string;
  readonly availability: readonly {
    event: string;
    writesBackMs: number | null;
    longestWriteGapMs: number;
  }[];
  readonly seconds: number;
  /** The arbiter-cut scenario of primary/backup (scripts/netns-partitions.mjs). */
  readonly primaryBackup?: {
    readonly cutOff: number;
    readonly other: number;
    readonly epoch: number;
    readonly cutOffCommitAtCut: number | null;
    readonly cutOffCommitAtEnd: number | null;
    readonly cutOffLedNewerEpoch: boolean;
    readonly cutOffRoles: readonly string[];
    readonly otherLive: { readonly epoch: number; readonly afterMs: number } | null;
    readonly problems: readonly string[];
  };
}

let skipReason: string | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  // The script checks the machine (and removes leftovers of a crashed run) before anything else.
  const probe = await runScript(["--cleanup"], 60_000);
  if (probe.code !== 0) {
    const line = probe.stdout.trim().split("\n").at(-1) ?? "";
    skipReason = line.startsWith("{")
      ? (JSON.parse(line) as { skipped?: string }).skipped
      : probe.stderr.trim();
    skipReason ??= `netns-partitions --cleanup exited ${probe.code}`;
    console.log(`netns partition tests skipped: ${skipReason}`);
  }
});

afterAll(async () => {
  if (!skipReason) await runScript(["--cleanup"], 60_000);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs one scenario, then checks its history here with the project's checker. */
async function scenario(
  args: readonly string[],
  timeoutMs: number,
  boundMs: number = ciBoundMs,
): Promise<Summary> {
  const out = mkdtempSync(join(tmpdir(), "lockstep-netns-"));
  dirs.push(out);
  const result = await runScript([...args, "--quiet", "--out", out], timeoutMs);
  const last = result.stdout.trim().split("\n").at(-1) ?? "";
  if (!last.startsWith("{")) {
    throw new Error(`netns-partitions ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  const summary = JSON.parse(last) as Summary;
  console.log(
    JSON.stringify({
      scenario: args.join(" "),
      seconds: summary.seconds,
      operations: summary.operations,
      readBack: summary.uniqueWritesReadBack,
      availability: summary.availability,
      ...(summary.primaryBackup ? { primaryBackup: summary.primaryBackup } : {}),
    }),
  );
  const history = JSON.parse(readFileSync(summary.history, "utf8")) as Operation<
    ClientOperation,
    Value
  >[];
  const check = checkLinearizability(kvModel, history);
  expect(check.verdict, "linearizable history").toBe("ok");
  expect(summary.verdict).toBe("ok");
  expect(summary.missing, "acknowledged writes lost").toEqual([]);
  expect(summary.completed).toBeGreaterThan(100);
  expect(summary.uniqueWritesReadBack).toBeGreaterThan(10);
  for (const a of summary.availability) {
    expect(a.writesBackMs, `first write after ${a.event}`).not.toBeNull();
    expect(a.longestWriteGapMs, `longest write gap after ${a.event}`).toBeLessThanOrEqual(boundMs);
  }
  return summary;
}

describe("partitions on real processes in network namespaces", () => {
  // The regression test of issue 11. Before peer link liveness, 3 of 3 runs failed here (longest
  // write gap after the kill 1.1, 2.3 and 2.3 s: the leader's socket to the healed follower sat
  // in TCP retransmission backoff); shorter isolations often passed by luck of the RTO phase.
  it("issue 11: isolate a follower 30 s, heal, kill -9 the other follower: writes go on within the bound", async (context) => {
    if (skipReason) return context.skip(skipReason);
    const summary = await scenario(
      ["--scenario", "heal-kill", "--isolate-ms", "30000"],
      150_000,
      regressionBoundMs,
    );
    expect(summary.availability.map((a) => a.event)).toEqual(["heal", "kill"]);
  });

  it("isolate the leader, one-way, a bridge node, SIGSTOP/SIGCONT, kill -9 and restart (3 replicas)", async (context) => {
    if (skipReason) return context.skip(skipReason);
    const summary = await scenario(["--scenario", "mixed", "--hold-ms", "3000"], 180_000);
    expect(summary.availability.length).toBeGreaterThanOrEqual(5);
  });

  it("majority and minority of 5 replicas, then heal", async (context) => {
    if (skipReason) return context.skip(skipReason);
    await scenario(
      ["--scenario", "majority-minority", "--replicas", "5", "--hold-ms", "4000"],
      120_000,
    );
  });

  // Issue 14: split brain is impossible. The primary is cut from the arbiter (a 3-replica Raft
  // group in namespaces of its own) and from its backup; the clients reach both. The backup
  // wins the next epoch and serves; the primary, unable to reach the arbiter, must not go live:
  // it commits nothing more and never leads a newer epoch. After the heal it follows the
  // newer epoch; no acknowledged write is lost and the history is linearizable.
  it("primary/backup: the primary cut from the arbiter and its backup stops; the backup takes over", async (context) => {
    if (skipReason) return context.skip(skipReason);
    const summary = await scenario(
      ["--protocol", "primary-backup", "--scenario", "arbiter-cut", "--hold-ms", "2000"],
      120_000,
    );
    const pb = summary.primaryBackup!;
    expect(pb.problems).toEqual([]);
    expect(pb.cutOffLedNewerEpoch).toBe(false);
    expect(pb.cutOffCommitAtEnd).toBe(pb.cutOffCommitAtCut);
    expect(pb.otherLive?.epoch).toBeGreaterThan(pb.epoch);
    expect(pb.cutOffRoles).toContain("campaigning");
    expect(summary.availability.map((a) => a.event)).toEqual(["arbiter-cut", "heal"]);
  });
});
