import { afterEach, describe, expect, it } from "vitest";
import { checkLinearizability } from "../../src/check/linearizability/index.js";
import { connect, type LockstepClient } from "../../src/client/index.js";
import { createServiceKit } from "../../src/state-machines/registry.js";
import { type LoadResult, runLoad } from "../runtime/workload.js";
import { PbCluster, sleep } from "./primary-backup-processes.js";
import { runCliAsync } from "./run-cli.js";

// Primary/backup on real processes (issue 14): the pair and its Raft arbiter group, made by
// `lockstep init --protocol primary-backup`, on 127.0.0.1. `npm test` builds dist/ first; with
// vitest alone, run `npm run build` before.

const clusters: PbCluster[] = [];
const clients: LockstepClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const c of clusters.splice(0)) c.close();
});

async function newCluster(initArgs: readonly string[] = []): Promise<PbCluster> {
  const cluster = await PbCluster.create(initArgs);
  clusters.push(cluster);
  return cluster;
}

async function client(cluster: PbCluster, name = "checker"): Promise<LockstepClient> {
  const c = await connect({
    config: cluster.config,
    keys: cluster.clientKeys(name),
    timeoutMs: 5_000,
  });
  clients.push(c);
  return c;
}

/** Load through connect() clients (test/runtime/workload.ts): a history for the checker. */
function load(cluster: PbCluster, durationMs: number): Promise<LoadResult> {
  return runLoad({
    config: cluster.config,
    keys: (name) => cluster.clientKeys(name),
    clients: 4,
    durationMs,
    timeoutMs: 1_000,
    sharedKeys: ["a", "b", "c"],
  });
}

/** Every acknowledged write to a key of its own reads back; the history is linearizable. */
async function verify(cluster: PbCluster, result: LoadResult): Promise<void> {
  const reader = await client(cluster);
  let missing = 0;
  const entries = [...result.acknowledgedUnique];
  // Sixteen reads in flight: a read waits for the backup's confirmation, one by one is slow.
  const worker = async (): Promise<void> => {
    for (let next = entries.pop(); next !== undefined; next = entries.pop()) {
      const read = (await reader.query({ op: "get", key: next[0] })) as { value?: unknown };
      if (read.value !== next[1]) missing++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  expect(missing).toBe(0);
  const check = checkLinearizability(createServiceKit("kv").model, result.history);
  expect(check.verdict).toBe("ok");
  expect(result.history.length).toBe(result.completed + result.indeterminate);
}

/** Writes `count` keys one at a time, each retried through timeouts (same sequence number). */
async function writeKeys(
  c: LockstepClient,
  prefix: string,
  count: number,
): Promise<Map<string, string>> {
  const written = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}${i}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await c.invoke({ op: "put", key, value: key });
        break;
      } catch (error) {
        if (attempt >= 10) throw error;
      }
    }
    written.set(key, key);
  }
  return written;
}

async function readBack(c: LockstepClient, written: Map<string, string>): Promise<void> {
  for (const [key, value] of written) {
    expect(await c.query({ op: "get", key })).toEqual({ ok: true, value });
  }
}

describe("primary/backup on real processes", () => {
  it("SIGKILL of the primary under load: the backup goes live in a new epoch, nothing acknowledged is lost", async () => {
    const cluster = await newCluster();
    const first = await cluster.startAll();
    const running = load(cluster, 5_000);
    await sleep(1_500);
    await cluster.pair.signal(first.replica, "SIGKILL");
    const killedAt = performance.now();
    const next = await cluster.pair.leader(
      (s) => s.term > first.term && s.replica !== first.replica,
    );
    const failoverMs = performance.now() - killedAt;
    const result = await running;
    // The old primary comes back as the new primary's backup and catches up.
    cluster.pair.start(first.replica);
    const rejoined = await cluster.backupInSync(first.replica);
    expect(rejoined.term).toBeGreaterThanOrEqual(next.term);
    console.log(
      JSON.stringify({
        test: "pb primary SIGKILL",
        failoverMs: Math.round(failoverMs),
        completed: result.completed,
        indeterminate: result.indeterminate,
      }),
    );
    expect(result.completed).toBeGreaterThan(50);
    expect(result.acknowledgedUnique.size).toBeGreaterThan(5);
    await verify(cluster, result);
  }, 40_000);

  it("SIGKILL of the backup: the primary keeps serving, the restarted backup catches up (status: lag 0)", async () => {
    const cluster = await newCluster();
    const primary = await cluster.startAll();
    const backup = primary.replica === 0 ? 1 : 0;
    const c = await client(cluster, "writer");
    const written = await writeKeys(c, "before-", 20);
    await cluster.pair.signal(backup, "SIGKILL");
    // Alone, the primary must move to a new epoch through the arbiter and go on serving.
    for (const [k, v] of await writeKeys(c, "alone-", 40)) written.set(k, v);
    const alone = (await cluster.pair.status(primary.replica))!;
    expect(alone.leads).toBe(true);
    expect(alone.term).toBeGreaterThan(primary.term);
    // Replies carry their epoch over the real wire: the client knows the new one.
    expect(c.protocolStats.epoch).toBe(alone.term);
    cluster.pair.start(backup);
    await cluster.backupInSync(backup);
    const status = await runCliAsync(["status", "--config", `${cluster.dir}/cluster.json`]);
    expect(status.code).toBe(0);
    const row = status.stdout.split("\n").find((l) => l.startsWith(`r${backup} `));
    expect(row, status.stdout).toMatch(/^r\d\s+backup\s+\d+\s+r\d\s+\d+\s+\d+\s+\d+\s+0\s/);
    expect(status.stdout).toMatch(/^arbiter: raft group of 3, leader r\d/m);
    await readBack(c, written);
  }, 40_000);

  it("SIGSTOP of the primary past the failure timeout, then SIGCONT: it never serves in the old epoch again", async () => {
    const cluster = await newCluster();
    const first = await cluster.startAll();
    const running = load(cluster, 5_000);
    await sleep(1_000);
    await cluster.pair.signal(first.replica, "SIGSTOP");
    const next = await cluster.pair.leader(
      (s) => s.term > first.term && s.replica !== first.replica,
    );
    await sleep(1_000); // the new primary serves the load alone
    await cluster.pair.signal(first.replica, "SIGCONT");
    // The woken primary finds the newer epoch and follows it as a backup.
    const woke = await cluster.backupInSync(first.replica);
    expect(woke.term).toBeGreaterThanOrEqual(next.term);
    expect(woke.leads).toBe(false);
    const result = await running;
    console.log(
      JSON.stringify({
        test: "pb primary SIGSTOP",
        staleEpochReplies: result.protocolStats.staleEpochReplies ?? 0,
        oldPrimary: (await cluster.pair.status(first.replica))?.details,
      }),
    );
    expect(result.completed).toBeGreaterThan(50);
    await verify(cluster, result);
  }, 40_000);

  it("the arbiter's Raft leader SIGKILLed with the primary: the failover still completes", async () => {
    const cluster = await newCluster();
    const first = await cluster.startAll();
    const arbiterLeader = await cluster.arbiter.leader();
    const c = await client(cluster, "writer");
    const written = await writeKeys(c, "before-", 10);
    await Promise.all([
      cluster.pair.signal(first.replica, "SIGKILL"),
      cluster.arbiter.signal(arbiterLeader.replica, "SIGKILL"),
    ]);
    const next = await cluster.pair.leader(
      (s) => s.term > first.term && s.replica !== first.replica,
    );
    const newArbiterLeader = await cluster.arbiter.leader(
      (s) => s.replica !== arbiterLeader.replica,
    );
    expect(newArbiterLeader.term).toBeGreaterThan(arbiterLeader.term);
    for (const [k, v] of await writeKeys(c, "after-", 10)) written.set(k, v);
    expect((await cluster.pair.status(next.replica))?.leads).toBe(true);
    await readBack(c, written);
  }, 40_000);
});
