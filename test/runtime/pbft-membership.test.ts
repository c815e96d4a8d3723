import { afterAll, afterEach, describe, expect, test } from "vitest";
import { connect, type LockstepClient } from "../../src/client/index.js";
import { ClusterFixture, killAll, ProcessCluster, waitFor } from "./helpers.js";

// PBFT reconfiguration (docs/protocols/pbft.md, "Reconfiguration") on real processes
// (127.0.0.1): five replicas in the address book, four of them members; the client adds the
// spare, then removes replica 0, and the group keeps serving with f derived from each n.

const clients: LockstepClient[] = [];
const fixtures: ClusterFixture[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await killAll();
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

describe("membership changes on a PBFT cluster of real processes", () => {
  test("admin add brings the spare in by state transfer, admin remove takes a member out", async () => {
    const fixture = await ClusterFixture.create({
      protocol: "pbft",
      n: 5,
      settings: { members: [0, 1, 2, 3], checkpointInterval: 4, windowSize: 8 },
    });
    fixtures.push(fixture);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    const client = await connect({
      config: fixture.config,
      keys: fixture.clientKeys("cli"),
      timeoutMs: 15_000,
    });
    clients.push(client);
    const roleOf = async (id: number) => (await cluster.replica(id).status()).role;

    await client.invoke({ op: "put", key: "a", value: "1" });
    expect(await roleOf(4)).toBe("spare");

    const added = await client.admin({ op: "add", replica: 4 });
    expect(added).toMatchObject({ members: [0, 1, 2, 3, 4] });
    await waitFor(
      "replica 4 a member",
      async () => (["backup", "primary"].includes(await roleOf(4)) ? true : undefined),
      30_000,
    );
    await client.invoke({ op: "put", key: "b", value: "2" });
    expect(await client.query({ op: "get", key: "a" })).toMatchObject({ value: "1" });

    const removed = await client.admin({ op: "remove", replica: 0 });
    expect(removed).toMatchObject({ members: [1, 2, 3, 4] });
    await waitFor(
      "replica 0 a spare",
      async () => ((await roleOf(0)) === "spare" ? true : undefined),
      30_000,
    );
    await client.invoke({ op: "put", key: "c", value: "3" });
    expect(await client.query({ op: "get", key: "b" })).toMatchObject({ value: "2" });
    expect(await client.query({ op: "get", key: "c" })).toMatchObject({ value: "3" });
  }, 120_000);
});
