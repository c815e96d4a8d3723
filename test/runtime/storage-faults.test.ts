import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { connect } from "../../src/client/index.js";
import { ClusterFixture, killAll, ProcessCluster, ReplicaProcess, waitFor } from "./helpers.js";

// Damage a stopped replica's WAL, then start it again (real processes; see crash-recovery.test.ts).

const fixtures: ClusterFixture[] = [];
afterEach(async () => {
  await killAll();
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

/** Byte offsets of the records of a WAL segment ([u32 length][u32 crc][payload]). */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  let at = 0;
  while (at + 8 <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (at + 8 + length > bytes.length) break;
    offsets.push(at);
    at += 8 + length;
  }
  return offsets;
}

function segments(dataDir: string): string[] {
  return fs
    .readdirSync(dataDir)
    .filter((name) => /^wal-\d{10}\.log$/.test(name))
    .sort();
}

describe("damaged write-ahead logs", () => {
  test("a torn tail is cut and reported, the replica rejoins; a corrupt record in the middle stops it naming file and offset", async () => {
    const fixture = await ClusterFixture.create({ tickMs: 10, settings: { snapshotEvery: 1000 } });
    fixtures.push(fixture);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    const client = await connect({ config: fixture.config, keys: fixture.clientKeys("writer") });
    try {
      for (let i = 0; i < 40; i++)
        await client.invoke({ op: "put", key: `k${i % 5}`, value: `v${i}` });
      const leader = await cluster.leader();
      const victim = (leader + 1) % 3;
      const dataDir = fixture.dataDir(victim);
      await waitFor("the victim to apply every write", async () => {
        const [v, l] = await Promise.all([
          cluster.replica(victim).status(),
          cluster.replica(leader).status(),
        ]);
        return v.appliedIndex >= l.commitIndex;
      });

      // ---- a torn write: the process died while writing a record that never became durable
      // (the segment ends inside a record nobody acknowledged): recovery cuts it, the replica rejoins.
      await cluster.replica(victim).kill("SIGTERM");
      expect(cluster.replica(victim).exitCode).toBe(0);
      expect(cluster.replica(victim).log("stopped")).toBeDefined();
      let last = path.join(dataDir, segments(dataDir).at(-1)!);
      let size = fs.statSync(last).size;
      const lastRecord = recordOffsets(fs.readFileSync(last)).at(-1)!;
      const partial = fs
        .readFileSync(last)
        .subarray(lastRecord, lastRecord + Math.floor((size - lastRecord) / 2));
      fs.appendFileSync(last, partial);

      for (let i = 0; i < 10; i++) await client.invoke({ op: "put", key: "after", value: `a${i}` });
      let restarted = cluster.start(victim);
      await restarted.ready();
      let warned = restarted.log("truncated a torn WAL tail");
      expect(warned).toMatchObject({
        level: "warn",
        file: path.basename(last),
        offset: size,
        bytesDropped: partial.length,
      });
      const status = await restarted.status();
      expect(status.recovery.truncatedTail).toMatchObject({
        file: path.basename(last),
        offset: size,
      });
      let target = (await cluster.replica(leader).status()).commitIndex;
      const rejoinStart = performance.now();
      await waitFor("the replica with the torn tail to rejoin", async () => {
        return (await restarted.status()).appliedIndex >= target;
      });
      const tornRejoinMs = performance.now() - rejoinStart;
      expect(
        (await restarted.metrics()).get(`lockstep_recovery_truncated_tail{replica="${victim}"}`),
      ).toBe(1);
      const tornWrite = {
        offset: warned?.offset,
        bytesDropped: warned?.bytesDropped,
        rejoinMs: Math.round(tornRejoinMs),
      };

      // ---- cut the last record in half even though it was durable and acknowledged. That is
      // outside Raft's fault model (the leader remembers this follower's match index and ignores
      // its rejections), so the replica starts and reports the cut, and catches up once a new
      // leader probes it afresh.
      await restarted.kill("SIGTERM");
      last = path.join(dataDir, segments(dataDir).at(-1)!);
      size = fs.statSync(last).size;
      fs.truncateSync(last, size - 5);
      restarted = cluster.start(victim);
      await restarted.ready();
      warned = restarted.log("truncated a torn WAL tail");
      expect(warned).toMatchObject({
        level: "warn",
        file: path.basename(last),
        reason: "record cut short",
      });
      expect(warned?.offset as number).toBeLessThan(size - 5);
      const third = [0, 1, 2].find((id) => id !== leader && id !== victim)!;
      await client.admin({ op: "transfer", to: third });
      await waitFor(
        "leadership to move",
        async () => (await cluster.replica(third).status()).role === "leader",
      );
      await client.invoke({ op: "put", key: "after-transfer", value: "x" });
      target = (await cluster.replica(third).status()).commitIndex;
      await waitFor("the replica that lost an acknowledged record to catch up", async () => {
        return (await restarted.status()).appliedIndex >= target;
      });
      const cutAcknowledged = { offset: warned?.offset, bytesDropped: warned?.bytesDropped };

      // ---- a corrupt record before the end: refuse to start, naming the file and offset
      await restarted.kill("SIGTERM");
      const first = path.join(dataDir, segments(dataDir)[0]!);
      const bytes = fs.readFileSync(first);
      const firstLength = bytes.readUInt32LE(0);
      const secondOffset = 8 + firstLength;
      expect(bytes.length).toBeGreaterThan(secondOffset + 200); // more records follow
      bytes[secondOffset + 9] = (bytes[secondOffset + 9] ?? 0) ^ 0xff;
      fs.writeFileSync(first, bytes);

      const startedAt = performance.now();
      const broken = ReplicaProcess.spawn(fixture, victim);
      const exit = await broken.exited;
      const refusedMs = performance.now() - startedAt;
      expect(exit.code).toBe(1);
      expect(broken.plainErrors).toHaveLength(1);
      const line = broken.plainErrors[0]!;
      expect(line).toContain("lockstep replica: storage error");
      expect(line).toContain(
        `${path.basename(first)} at offset ${secondOffset}: checksum mismatch`,
      );
      expect(line).toContain("refusing to start");

      // The other two keep serving.
      expect(await client.invoke({ op: "put", key: "still", value: "up" })).toMatchObject({
        ok: true,
      });
      console.log(
        JSON.stringify({
          tornWrite,
          cutAcknowledged,
          corruptOffset: secondOffset,
          refusedMs: Math.round(refusedMs),
          refusal: line,
        }),
      );
    } finally {
      await client.close();
    }
  });
});
