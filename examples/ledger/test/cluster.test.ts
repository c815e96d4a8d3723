import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ClientOf, connect, LockstepError } from "lockstep";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import {
  ClusterFixture,
  killAll,
  ProcessCluster,
  ReplicaProcess,
  sleep,
  waitFor,
} from "../../../test/runtime/helpers.js";
import type { ledger } from "../src/index.js";

// The built ledger module on three real replica processes (lockstep replica --service …): the
// leader is killed with SIGKILL under load, and the ledger's invariants are checked after.

const builtLedger = fileURLToPath(
  new URL("../../../dist-examples/ledger/src/index.js", import.meta.url),
);
const fixtures: ClusterFixture[] = [];
afterEach(async () => {
  await killAll();
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

const accounts = ["alice", "bob", "carol", "dave"];

function start(cluster: ProcessCluster, id: number): ReplicaProcess {
  const p = ReplicaProcess.spawn(cluster.fixture, id, ["--service", builtLedger]);
  cluster.replicas[id] = p;
  return p;
}

describe("ledger on three processes", () => {
  test("kill -9 of the leader under transfers: money is conserved, no account overdrawn, holds expire by the agreed clock", async () => {
    if (!existsSync(builtLedger)) throw new Error(`${builtLedger} is missing: run "npm run build"`);
    const fixture = await ClusterFixture.create({ n: 3 });
    fixtures.push(fixture);
    const cluster = new ProcessCluster(fixture);
    for (let id = 0; id < 3; id++) start(cluster, id);
    await Promise.all(cluster.replicas.map((r) => r!.ready()));
    await cluster.leader();

    const client: ClientOf<typeof ledger> = await connect<typeof ledger>({
      config: fixture.config,
      keys: fixture.clientKeys("teller"),
      timeoutMs: 10_000,
    });
    try {
      for (const account of accounts) {
        expect(await client.invoke({ op: "open", account, initial: 1000 })).toEqual({ ok: true });
      }
      const hold = await client.invoke({
        op: "hold",
        id: "rent",
        account: "alice",
        amount: 900,
        ttlMs: 1_500,
      });
      expect(hold.ok).toBe(true);
      expect(await client.query({ op: "balance", account: "alice" })).toEqual({
        found: true,
        balance: 1000,
        held: 900,
      });

      // Transfers from three concurrent loops; the leader dies while they run.
      let stop = false;
      let acknowledged = 0;
      let uncertain = 0;
      const loop = async (worker: number) => {
        for (let i = 0; !stop; i++) {
          const from = accounts[(worker + i) % 4]!;
          const to = accounts[(worker + i + 1 + (i % 3)) % 4]!;
          try {
            await client.invoke({ op: "transfer", from, to, amount: 1 + ((i * 37) % 120) });
            acknowledged++;
          } catch (error) {
            if (!(error instanceof LockstepError) || !error.indeterminate) throw error;
            uncertain++;
          }
        }
      };
      const loops = [0, 1, 2].map(loop);
      await waitFor("some transfers", () => acknowledged >= 30, 10_000, 10);
      const leader = await cluster.leader();
      await cluster.replica(leader).kill("SIGKILL");
      const before = acknowledged;
      await cluster.leader(10_000, leader);
      await waitFor(
        "transfers under the new leader",
        () => acknowledged >= before + 30,
        15_000,
        10,
      );
      start(cluster, leader);
      await cluster.replica(leader).ready();
      stop = true;
      await Promise.all(loops);

      // Invariants: money neither created nor destroyed; no account below its held funds.
      expect(await client.query({ op: "total" })).toEqual({ total: 4000, accounts: 4 });
      for (const account of accounts) {
        const b = await client.query({ op: "balance", account }); // typed Balance (PerOp)
        expect(b.found).toBe(true);
        expect(b.balance - b.held).toBeGreaterThanOrEqual(0);
      }

      // The hold expires by the agreed clock: once an entry after its expiry is applied, reads
      // (at that entry's time) show the funds free, and a capture finds it gone.
      await sleep(1_600);
      await client.invoke({ op: "transfer", from: "bob", to: "carol", amount: 1 });
      const alice = await client.query({ op: "balance", account: "alice" });
      expect(alice).toMatchObject({ found: true, held: 0 });
      expect(await client.invoke({ op: "capture", id: "rent", to: "bob" })).toEqual({
        ok: false,
        reason: "no-such-hold",
      });

      // The restarted old leader caught up and agrees.
      await waitFor(
        "every replica at the same applied index",
        async () => {
          const statuses = await cluster.statuses();
          return statuses.length === 3 && new Set(statuses.map((s) => s.appliedIndex)).size === 1;
        },
        10_000,
      );
      console.log(
        `ledger cluster: ${acknowledged} transfers acknowledged, ${uncertain} indeterminate, leader r${leader} killed`,
      );
    } finally {
      await client.close();
    }
  }, 120_000);
});
