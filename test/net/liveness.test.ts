import { once } from "node:events";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { sleep, TestCluster, type TestPeer, waitFor } from "./helpers.js";

/**
 * A relay that can cut the link the way a partition does: while cut, bytes on every connection
 * it holds vanish and new connections are refused; after the heal, connections made during or
 * before the cut stay black holes (as a TCP connection in retransmission backoff does for tens
 * of seconds), and only new connections carry bytes again.
 */
class PartitionRelay {
  private cutNow = false;
  private readonly dead = new Set<net.Socket>();
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<PartitionRelay> {
    const server = net.createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    const relay = new PartitionRelay(
      server,
      typeof address === "object" && address ? address.port : 0,
    );
    server.on("connection", (socket) => relay.relay(socket, target));
    return relay;
  }

  cut(): void {
    this.cutNow = true;
    for (const s of this.sockets) this.dead.add(s);
  }

  heal(): void {
    this.cutNow = false;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, port: number): void {
    if (this.cutNow) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: "127.0.0.1", port });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on("error", () => {});
      // A black hole neither forwards bytes nor passes on a close: the other end never learns.
      from.on("data", (chunk) => {
        if (!this.dead.has(from)) to.write(chunk);
      });
      from.on("close", () => {
        this.sockets.delete(from);
        if (!this.dead.has(from)) to.destroy();
      });
    }
  }
}

let cluster: TestCluster | undefined;
let relay: PartitionRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
  await cluster?.close();
  cluster = undefined;
});

const received = (inbox: readonly { from: number; msg: TestPeer }[], from: number, n: number) =>
  inbox.some((m) => m.from === from && m.msg.type === "ping" && m.msg.n === n);

/** Two replicas, r0 dialing r1 through a relay that can cut the link. */
async function relayedPair(liveness: false | { intervalMs: number; timeoutIntervals: number }) {
  cluster = await TestCluster.start(2, { liveness }, [1]);
  relay = await PartitionRelay.start(cluster.replica(1).port);
  await cluster.startReplica(0);
  cluster.replica(0).transport.setAddress(1, "127.0.0.1", relay.port);
  cluster.replica(0).transport.connectPeers();
  const c = cluster;
  await waitFor(() => c.replica(0).transport.connectedPeers().length === 1, "link up");
  return { c, r: relay };
}

describe("peer link liveness", () => {
  it("drops a link that went silent and redials it after the heal; traffic flows both ways", async () => {
    const { c, r } = await relayedPair({ intervalMs: 20, timeoutIntervals: 5 });
    const [r0, r1] = [c.replica(0), c.replica(1)];
    r0.transport.sendPeer(1, { type: "ping", n: 1 });
    await waitFor(() => received(r1.peerInbox, 0, 1), "first message");
    r.cut();
    for (let i = 0; i < 20; i++) r0.transport.sendPeer(1, { type: "ping", n: 100 + i });
    await waitFor(
      () => r0.transport.counters.linkTimeouts > 0 && r1.transport.counters.linkTimeouts > 0,
      "both ends to time the silent link out",
      3_000,
    );
    expect(r0.transport.livePeers()).toEqual([]);
    expect(r1.transport.livePeers()).toEqual([]);
    r.heal();
    r0.transport.sendPeer(1, { type: "ping", n: 2 });
    r1.transport.sendPeer(0, { type: "ping", n: 3 });
    await waitFor(
      () => received(r1.peerInbox, 0, 2) && received(r0.peerInbox, 1, 3),
      "messages after the heal",
      3_000,
    );
    expect(r0.transport.counters.reconnects).toBeGreaterThan(0);
    await waitFor(() => r0.transport.livePeers().length === 1, "r0 to count the link live");
    expect(r0.transport.peerLinks()[0]).toMatchObject({ replica: 1, state: "live" });
  });

  it("without liveness the same cut stalls the link: the socket looks up, nothing arrives", async () => {
    // The defect the liveness check fixes (issue 11): TCP alone does not notice.
    const { c, r } = await relayedPair(false);
    r.cut();
    await sleep(300);
    r.heal();
    c.replica(0).transport.sendPeer(1, { type: "ping", n: 7 });
    await sleep(700);
    expect(c.replica(0).transport.connectedPeers()).toEqual([1]);
    expect(received(c.replica(1).peerInbox, 0, 7)).toBe(false);
  });

  it("keeps idle links live with pings in both directions and never times them out", async () => {
    cluster = await TestCluster.start(3, { liveness: { intervalMs: 20, timeoutIntervals: 5 } });
    const c = cluster;
    await waitFor(() => c.replicas.every((r) => r.transport.livePeers().length === 2), "mesh");
    await sleep(500);
    for (const r of c.replicas) {
      expect(r.transport.counters.linkTimeouts).toBe(0);
      expect(r.transport.counters.pingsIn).toBeGreaterThan(0);
      expect(r.transport.counters.pingsOut).toBeGreaterThan(0);
      expect(r.transport.counters.schemaRejected).toBe(0);
      expect(r.transport.livePeers().length).toBe(2);
      expect(r.peerInbox).toEqual([]);
    }
  });
});
