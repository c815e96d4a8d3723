import { afterEach, describe, expect, it } from "vitest";
import type { ClusterConfig } from "../../src/core/config.js";
import { ReplicaTransport } from "../../src/net/transport.js";
import {
  request,
  TestCluster,
  type TestWire,
  testCluster,
  testSchemas,
  waitFor,
} from "./helpers.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const named = (clusterId: string | undefined): ClusterConfig =>
  clusterId === undefined ? testCluster(2) : { ...testCluster(2), clusterId };

/** r0 of a cluster configured with `dialerId`, dialing r1 configured with `responderId` (same keys). */
async function pair(dialerId: string | undefined, responderId: string | undefined) {
  const cluster = await TestCluster.start(2, { config: named(dialerId) }, [0]);
  closers.push(() => cluster.close());
  const errors: string[] = [];
  const r1 = new ReplicaTransport<TestWire>({
    self: 1,
    config: named(responderId),
    keys: cluster.ringOf("r1"),
    schemas: testSchemas,
    onError: (error) => errors.push((error as Error).message),
  });
  closers.push(() => r1.close());
  const port = await r1.listen("127.0.0.1", 0);
  const r0 = cluster.replica(0).transport;
  r0.setAddress(1, "127.0.0.1", port);
  return { cluster, r0, r1, port, errors };
}

describe("cluster id in the handshake", () => {
  it("refuses a replica of another cluster on both ends, naming both ids", async () => {
    const { r0, r1 } = await pair("alpha", "beta");
    r0.connectPeers();
    await waitFor(
      () => r0.counters.wrongCluster > 0 && r1.counters.wrongCluster > 0,
      "both ends to count the refusal",
    );
    expect(r0.connectedPeers()).toEqual([]);
    expect(r1.connectedPeers()).toEqual([]);
    // Counted as what it is, not as a failed proof of the key.
    expect(r1.counters.unauthenticated).toBe(0);
    expect(r0.counters.unauthenticated).toBe(0);
  });

  it("reports the refusal with both ids through onError (rate-limited), and to a client", async () => {
    const { cluster, r1, port, errors } = await pair("alpha", "beta");
    cluster.replica(0).transport.connectPeers();
    await waitFor(() => errors.length > 0, "the responder to report");
    expect(errors[0]).toMatch(/r0 dialed from cluster "alpha"; this is cluster "beta"/);
    // A client configured for cluster alpha reaching r1 of cluster beta learns why.
    const client = cluster.client("alice", { config: named("alpha") });
    client.setAddress(1, "127.0.0.1", port);
    client.send(1, request("alice", 1, "x"));
    await waitFor(() => client.refusal !== undefined, "the client to learn the refusal");
    expect(client.refusal).toMatch(/belongs to cluster "beta", not "alpha"/);
    expect(r1.counters.wrongCluster).toBeGreaterThan(0);
  });

  it("connects when ids match, and when either configuration has none (older configs)", async () => {
    for (const [a, b] of [
      ["same", "same"],
      [undefined, "beta"],
      ["alpha", undefined],
    ] as const) {
      const { r0, r1 } = await pair(a, b);
      r0.connectPeers();
      await waitFor(() => r0.connectedPeers().length === 1, `link ${a}/${b}`);
      r0.sendPeer(1, { type: "ping", n: 1 });
      await waitFor(() => r1.counters.messagesIn > 0, `a message ${a}/${b}`);
      expect(r0.counters.wrongCluster + r1.counters.wrongCluster).toBe(0);
      for (const close of closers.splice(0).reverse()) await close();
    }
  });
});
