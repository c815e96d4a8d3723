import { afterAll, afterEach, describe, expect, test } from "vitest";
import { checkLinearizability } from "../../src/check/linearizability/index.js";
import { connect } from "../../src/client/index.js";
import { createServiceKit } from "../../src/state-machines/registry.js";
import { ClusterFixture, killAll, ProcessCluster, sleep, waitFor } from "./helpers.js";
import { longestGap, runLoad } from "./workload.js";

// Real replica processes (node dist/runtime/replica-main.js) on 127.0.0.1. `npm test` builds
// dist/ first (pretest); with vitest alone, run `npm run build` before.

const fixtures: ClusterFixture[] = [];
afterEach(async () => {
  await killAll();
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

const settings = {
  snapshotEvery: 50,
  compactionSlack: 10,
  electionTicks: 20,
  heartbeatTicks: 4,
};

async function appliedEverywhere(cluster: ProcessCluster, index: number): Promise<boolean> {
  const statuses = await cluster.statuses();
  return (
    statuses.length === cluster.replicas.length && statuses.every((s) => s.appliedIndex >= index)
  );
}

describe("replica processes under SIGKILL", () => {
  test("kill the leader, then a follower, under load: acknowledged writes survive and the history is linearizable", async () => {
    const fixture = await ClusterFixture.create({ tickMs: 10, settings });
    fixtures.push(fixture);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    await cluster.leader();

    const loadStart = performance.now();
    const load = runLoad({
      config: fixture.config,
      keys: (name) => fixture.clientKeys(name),
      clients: 5,
      durationMs: 6_000,
      timeoutMs: 400, // short, so that operations caught by a failover time out (indeterminate)
      sharedKeys: ["a", "b", "c"],
    });

    // 1. SIGKILL the leader mid-load.
    await sleep(1_200);
    const oldLeader = await cluster.leader();
    const killedAt = performance.now();
    await cluster.replica(oldLeader).kill("SIGKILL");
    const newLeader = await cluster.leader(5_000, oldLeader);
    const electedMs = performance.now() - killedAt;

    // 2. Restart it; it rejoins as a follower.
    await sleep(500);
    const restartedAt = performance.now();
    cluster.start(oldLeader);
    await cluster.replica(oldLeader).ready();
    const target = (await cluster.replica(newLeader).status()).commitIndex;
    await waitFor("the old leader to catch up", async () => {
      const s = await cluster.replica(oldLeader).status();
      return s.appliedIndex >= target;
    });
    const rejoinMs = performance.now() - restartedAt;

    // 3. SIGKILL a follower, restart it.
    const leaderNow = await cluster.leader();
    const follower = [0, 1, 2].find((id) => id !== leaderNow)!;
    const followerKilledAt = performance.now();
    await cluster.replica(follower).kill("SIGKILL");
    await sleep(700);
    cluster.start(follower);
    await cluster.replica(follower).ready();

    const result = await load;
    const loadEnd = performance.now();

    // Every replica converges to the same applied index.
    const finalLeader = await cluster.leader();
    const commit = (await cluster.replica(finalLeader).status()).commitIndex;
    await waitFor("every replica to apply the final commit index", () =>
      appliedEverywhere(cluster, commit),
    );

    // Every acknowledged write to a key of its own is still there.
    const reader = await connect({ config: fixture.config, keys: fixture.clientKeys("reader") });
    let missing = 0;
    try {
      for (const [key, value] of result.acknowledgedUnique) {
        const read = (await reader.query({ op: "get", key })) as { value: string | null };
        if (read.value !== value) missing++;
      }
    } finally {
      await reader.close();
    }

    const kit = createServiceKit("kv");
    const check = checkLinearizability(kit.model, result.history);
    const gapAroundLeaderKill = longestGap(result.okTimes, killedAt, killedAt + 2_000);
    const gapAroundFollowerKill = longestGap(
      result.okTimes,
      followerKilledAt,
      followerKilledAt + 1_500,
    );
    console.log(
      JSON.stringify({
        completed: result.completed,
        failedDefinite: result.failed,
        indeterminate: result.indeterminate,
        errors: Object.fromEntries(result.errors),
        historyChecked: result.history.length,
        verdict: check.verdict,
        checkMs: Math.round(check.elapsedMs),
        uniqueWritesReadBack: result.acknowledgedUnique.size,
        missing,
        electedMs: Math.round(electedMs),
        rejoinMs: Math.round(rejoinMs),
        longestGapAfterLeaderKillMs: Math.round(gapAroundLeaderKill),
        longestGapAfterFollowerKillMs: Math.round(gapAroundFollowerKill),
        loadMs: Math.round(loadEnd - loadStart),
      }),
    );
    if (check.verdict !== "ok") {
      for (const p of check.partitions.filter((p) => p.verdict !== "ok")) {
        console.log(p.verdict, p.counterexample?.explanation);
      }
    }
    expect(result.completed).toBeGreaterThan(300);
    expect(result.acknowledgedUnique.size).toBeGreaterThan(20);
    expect(missing).toBe(0);
    expect(check.verdict).toBe("ok");
    expect(result.history.length).toBe(result.completed + result.indeterminate);
  });

  test("a restarted follower catches up from the log, and after a long absence by snapshot", async () => {
    const fixture = await ClusterFixture.create({ tickMs: 10, settings });
    fixtures.push(fixture);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    const client = await connect({ config: fixture.config, keys: fixture.clientKeys("writer") });
    try {
      for (let i = 0; i < 30; i++)
        await client.invoke({ op: "put", key: `k${i % 7}`, value: `v${i}` });
      const leader = await cluster.leader();
      const follower = (leader + 1) % 3;

      // Short absence: a few entries, served from the leader's log.
      await cluster.replica(follower).kill("SIGKILL");
      for (let i = 0; i < 5; i++) await client.invoke({ op: "put", key: "short", value: `s${i}` });
      let start = performance.now();
      cluster.start(follower);
      await cluster.replica(follower).ready();
      let target = (await cluster.replica(leader).status()).commitIndex;
      const fromLog = await waitFor("the follower to catch up from the log", async () => {
        const s = await cluster.replica(follower).status();
        return s.appliedIndex >= target ? s : undefined;
      });
      const logCatchUpMs = performance.now() - start;
      expect(fromLog.snapshots.installed).toBe(0);
      // It replayed its own WAL on start (entries after its own snapshot, if any).
      expect(fromLog.recovery.entries + (fromLog.recovery.snapshotIndex ?? 0)).toBeGreaterThan(0);

      // Long absence: > snapshotEvery + compactionSlack entries, compacted away on the leader.
      await cluster.replica(follower).kill("SIGKILL");
      const downAt = (await cluster.replica(leader).status()).lastIndex;
      for (let i = 0; i < 200; i++) {
        await client.invoke({ op: "put", key: `long${i % 13}`, value: `l${i}` });
        if (i >= 80 && (await cluster.replica(leader).status()).lastIndex > downAt + 130) break;
      }
      const leaderStatus = await cluster.replica(leader).status();
      expect(leaderStatus.snapshotIndex).toBeGreaterThan(downAt + settings.compactionSlack);
      start = performance.now();
      cluster.start(follower);
      await cluster.replica(follower).ready();
      target = (await cluster.replica(leader).status()).commitIndex;
      const fromSnapshot = await waitFor("the follower to catch up by snapshot", async () => {
        const s = await cluster.replica(follower).status();
        return s.appliedIndex >= target ? s : undefined;
      });
      const snapshotCatchUpMs = performance.now() - start;
      expect(fromSnapshot.snapshots.installed).toBeGreaterThanOrEqual(1);
      expect(fromSnapshot.snapshotIndex).toBeGreaterThan(downAt);
      expect(cluster.replica(follower).log("snapshot installed")).toBeDefined();

      // The caught-up follower serves the data: after a leadership transfer to it, reads agree.
      await client.admin({ op: "transfer", to: follower });
      await waitFor(
        "the follower to lead",
        async () => (await cluster.replica(follower).status()).role === "leader",
      );
      expect(await client.query({ op: "get", key: "long5" })).toMatchObject({ ok: true });
      expect(await client.query({ op: "get", key: "short" })).toEqual({ ok: true, value: "s4" });
      console.log(
        JSON.stringify({
          logCatchUpMs: Math.round(logCatchUpMs),
          replayedEntries: fromLog.recovery.entries,
          snapshotCatchUpMs: Math.round(snapshotCatchUpMs),
          installedSnapshotIndex: fromSnapshot.snapshots.lastInstalledIndex,
          entriesWhileDown: target - downAt,
        }),
      );
    } finally {
      await client.close();
    }
  });
});
