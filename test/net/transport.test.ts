import { afterEach, describe, expect, it } from "vitest";
import type { NetCounters } from "../../src/net/counters.js";
import { FrameKind } from "../../src/net/frame.js";
import type { HandshakeKeys } from "../../src/net/session-keys.js";
import { encode } from "../../src/platform/codec.js";
import {
  FrameProxy,
  RawDialer,
  reply,
  request,
  sleep,
  TestCluster,
  type TestPeer,
  testSchemas,
  waitFor,
} from "./helpers.js";

let cluster: TestCluster | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cluster?.close();
  cluster = undefined;
});

function track<T extends { close(): Promise<void> }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

const pings = (inbox: readonly { from: number; msg: TestPeer }[], from: number) =>
  inbox.filter((m) => m.from === from && m.msg.type === "ping").map((m) => m.msg.n);

/** Sends a ping and waits until it arrives: legitimate traffic still flows. */
async function pingThrough(c: TestCluster, from: number, to: number, n: number): Promise<void> {
  c.replica(from).transport.sendPeer(to, { type: "ping", n });
  await waitFor(
    () => pings(c.replica(to).peerInbox, from).includes(n),
    `ping ${n} r${from}→r${to}`,
  );
}

function delta(counters: NetCounters, before: NetCounters): Partial<NetCounters> {
  const out: Partial<NetCounters> = {};
  for (const key of Object.keys(counters) as (keyof NetCounters)[]) {
    const d = counters[key] - before[key];
    if (
      d !== 0 &&
      ![
        "bytesIn",
        "bytesOut",
        "framesIn",
        "framesOut",
        "messagesIn",
        "messagesOut",
        "pingsIn",
        "pingsOut",
      ].includes(key)
    )
      out[key] = d;
  }
  return out;
}

describe("ReplicaTransport and ClientTransport over loopback", () => {
  it("connects replicas (lower id dials) and a client, in both directions", async () => {
    cluster = await TestCluster.start(3);
    const c = cluster;
    await waitFor(() => c.replicas.every((r) => r.transport.connectedPeers().length === 2), "mesh");
    for (const a of [0, 1, 2])
      for (const b of [0, 1, 2]) if (a !== b) await pingThrough(c, a, b, 10 * a + b);

    const alice = c.client("alice");
    const responses: { from: number; value: unknown }[] = [];
    alice.onResponse((from, msg) => {
      if (msg.type === "reply" && msg.result.ok) responses.push({ from, value: msg.result.value });
    });
    expect(alice.send(0, request("alice", 1, "x"))).toBe(true);
    expect(alice.send(2, request("alice", 1, "y"))).toBe(true);
    await waitFor(
      () => c.replica(0).clientInbox.length === 1 && c.replica(2).clientInbox.length === 1,
      "requests",
    );
    expect(c.replica(0).clientInbox[0]).toEqual({ client: "alice", msg: request("alice", 1, "x") });
    expect(c.replica(0).transport.connectedClients()).toEqual(["alice"]);
    expect(c.replica(0).transport.sendClient("alice", reply("alice", 1, "done-0"))).toBe(true);
    expect(c.replica(2).transport.sendClient("alice", reply("alice", 1, "done-2"))).toBe(true);
    await waitFor(() => responses.length === 2, "responses");
    expect(responses.sort((a, b) => a.from - b.from)).toEqual([
      { from: 0, value: "done-0" },
      { from: 2, value: "done-2" },
    ]);
    // No one refused anything on the way.
    for (const r of c.replicas) {
      expect(r.transport.counters).toMatchObject({
        malformed: 0,
        badMac: 0,
        replayed: 0,
        unauthenticated: 0,
        unknownPeer: 0,
        schemaRejected: 0,
      });
    }
    expect(c.replica(1).transport.sendClient("bob", reply("bob", 1, "?"))).toBe(false);
    expect(c.replica(1).transport.counters.unroutable).toBe(1);
  });

  it("keeps unauthenticated sockets in their own budgets: idle strangers never lock a keyed client out (issue 15)", async () => {
    cluster = await TestCluster.start(1, {
      maxConnections: 2,
      maxUnauthenticated: 8,
      maxUnauthenticatedPerAddress: 4,
    });
    const c = cluster;
    const replica = c.replica(0);
    const t = replica.transport;
    expect(t.budgets).toMatchObject({
      authenticated: 2,
      unauthenticated: 8,
      unauthenticatedPerAddress: 4,
    });
    const idle = Array.from({ length: 20 }, () => track(new RawDialer(replica.port)));
    await waitFor(
      () => t.counters.refusedPerAddressBudget >= 16,
      "idle sockets past the per-address cap closed",
    );
    expect(t.unauthenticatedConnections()).toBeLessThanOrEqual(4);
    await waitFor(
      () => idle.filter((d) => d.closed).length >= 16,
      "the oldest idle sockets closed",
    );

    // A keyed client gets in while the idle sockets are held: it pushes out the oldest one.
    const alice = c.client("alice");
    expect(alice.send(0, request("alice", 1, "in"))).toBe(true);
    await waitFor(() => replica.clientInbox.length === 1, "alice's request");
    const bob = c.client("bob");
    expect(bob.send(0, request("bob", 1, "in"))).toBe(true);
    await waitFor(() => replica.clientInbox.length === 2, "bob's request");
    // A third client is over the authenticated budget: closed right after it authenticates.
    const carol = c.client("carol");
    carol.send(0, request("carol", 1, "refused"));
    await waitFor(() => t.counters.refusedAuthenticatedBudget >= 1, "carol refused");
    expect(t.clientConnections()).toBe(2);
    const { counters } = t;
    expect(counters.connectionsRejected).toBe(
      counters.refusedSocketLimit +
        counters.refusedUnauthenticatedBudget +
        counters.refusedPerAddressBudget +
        counters.refusedAuthenticatedBudget,
    );
  });

  it("keeps every connection of a client that shares its key, and replies on the right one", async () => {
    cluster = await TestCluster.start(1);
    const c = cluster;
    const [first, second] = [c.client("alice"), c.client("alice")];
    const got: { who: string; value: unknown }[] = [];
    for (const [who, client] of [
      ["first", first],
      ["second", second],
    ] as const) {
      client.onResponse((_from, msg) => {
        if (msg.type === "reply" && msg.result.ok) got.push({ who, value: msg.result.value });
      });
    }
    const replica = c.replica(0);
    expect(first.send(0, request("alice", 1, "from-first"))).toBe(true);
    await waitFor(() => replica.clientInbox.length === 1, "first request");
    expect(second.send(0, request("alice", 1, "from-second"))).toBe(true);
    await waitFor(() => replica.clientInbox.length === 2, "second request");
    // Neither displaced the other: two connections of one client.
    expect(replica.transport.connectedClients()).toEqual(["alice"]);
    expect(replica.transport.clientConnections()).toBe(2);
    const [routeOfFirst, routeOfSecond] = replica.clientRoutes as [number, number];
    expect(routeOfFirst).not.toBe(routeOfSecond);
    const t = replica.transport;
    expect(t.sendClient({ client: "alice", route: routeOfFirst }, reply("alice", 1, "a"))).toBe(
      true,
    );
    expect(t.sendClient({ client: "alice", route: routeOfSecond }, reply("alice", 1, "b"))).toBe(
      true,
    );
    expect(t.sendClient("alice", reply("alice", 1, "newest"))).toBe(true); // no route: the newest
    // A route of another client never carries alice's reply.
    expect(t.sendClient({ client: "bob", route: routeOfFirst }, reply("bob", 1, "?"))).toBe(false);
    await waitFor(() => got.length === 3, "replies");
    expect(got.sort((a, b) => String(a.value).localeCompare(String(b.value)))).toEqual([
      { who: "first", value: "a" },
      { who: "second", value: "b" },
      { who: "second", value: "newest" },
    ]);
    // When a connection is gone, its replies go to the client's newest remaining one.
    await second.close();
    await waitFor(() => t.clientConnections() === 1, "second connection closed");
    expect(
      t.sendClient({ client: "alice", route: routeOfSecond }, reply("alice", 1, "moved")),
    ).toBe(true);
    await waitFor(() => got.length === 4, "rerouted reply");
    expect(got.at(-1)).toEqual({ who: "first", value: "moved" });
    expect(t.counters.unauthenticated).toBe(0);
  });

  it("drops and counts hostile connections while legitimate traffic goes on", async () => {
    cluster = await TestCluster.start(3);
    const c = cluster;
    const r0 = c.replica(0).transport;
    const port = c.replica(0).port;
    await pingThrough(c, 1, 0, 1);

    const expectCounted = async (
      what: string,
      act: () => Promise<RawDialer>,
      counter: keyof NetCounters,
      closes = true,
    ) => {
      const before = { ...r0.counters };
      const raw = track(await act());
      await waitFor(() => r0.counters[counter] > before[counter], `${what} counted as ${counter}`);
      if (closes) await waitFor(() => raw.closed, `${what}: connection closed`);
      expect(delta(r0.counters, before), what).toEqual({ [counter]: 1 });
      await pingThrough(c, 1, 0, Math.floor(Math.random() * 1e9));
      return raw;
    };
    const established = async (keys: HandshakeKeys): Promise<RawDialer> => {
      const raw = new RawDialer(port, keys, "r0");
      await waitFor(() => raw.established, "raw handshake");
      return raw;
    };
    const alice = c.handshakeKeysOf("c:alice");

    await expectCounted(
      "garbage bytes",
      async () => {
        const raw = new RawDialer(port);
        raw.write(Buffer.from("00000040ee0102030405060708090a0b0c0d0e0f", "hex"));
        return raw;
      },
      "malformed",
    );
    await expectCounted(
      "oversized length before the handshake",
      async () => {
        const raw = new RawDialer(port);
        raw.write(Uint8Array.of(0x7f, 0xff, 0xff, 0xff, FrameKind.hello));
        return raw;
      },
      "oversized",
    );
    await expectCounted(
      "oversized length after the handshake",
      async () => {
        const raw = await established(alice);
        raw.write(Uint8Array.of(0x02, 0x00, 0x00, 0x00, FrameKind.data)); // 32 MiB > 16 MiB
        return raw;
      },
      "oversized",
    );
    await expectCounted(
      "forged MAC",
      async () => {
        const raw = await established(alice);
        const frame = Uint8Array.from(raw.channel!.seal(encode(request("alice", 1, "forged"))));
        frame[frame.length - 1]! ^= 0x55;
        raw.write(frame);
        return raw;
      },
      "badMac",
    );
    await expectCounted(
      "replayed frame within the connection",
      async () => {
        const raw = await established(alice);
        const frame = raw.send(encode(request("alice", 1, "once")));
        raw.write(frame);
        return raw;
      },
      "replayed",
    );
    await expectCounted(
      "unknown peer id r9 (answered like a known one)",
      async () => {
        const stranger: HandshakeKeys = {
          ...c.handshakeKeysOf("r1"),
          self: "r9",
          pairKey: () => new Uint8Array(32),
        };
        return new RawDialer(port, stranger, "r0");
      },
      "unauthenticated", // the same answer as a known id without its key (issue 15)
    );
    await expectCounted(
      "a client claiming r1",
      async () => {
        const liar: HandshakeKeys = { ...alice, self: "r1" };
        return new RawDialer(port, liar, "r0");
      },
      "unauthenticated",
    );
    await expectCounted(
      "handshake never finished",
      async () => new RawDialer(port),
      "unauthenticated",
    );

    // Authenticated but schema-invalid messages are dropped; the connection stays up.
    const raw = await expectCounted(
      "schema-invalid request",
      async () => {
        const raw = await established(alice);
        raw.send(encode({ type: "request", client: "alice", seq: -1 }));
        return raw;
      },
      "schemaRejected",
      false,
    );
    const before = { ...r0.counters };
    raw.send(Uint8Array.of(0xc1)); // not MessagePack
    raw.send(encode(request("bob", 1, "as bob"))); // names another client
    raw.send(encode(request("alice", 7, "legit")));
    const legit = () =>
      c.replica(0).clientInbox.filter((m) => m.msg.type === "request" && m.msg.cmd === "legit");
    await waitFor(() => legit().length === 1, "legit request on the same connection");
    expect(legit()[0]).toEqual({
      client: "alice",
      msg: request("alice", 7, "legit"),
    });
    expect(delta(r0.counters, before)).toEqual({ schemaRejected: 1, unauthenticated: 1 });
    expect(raw.closed).toBe(false);
  });

  it("keeps one connection per replica pair: a higher id may not dial a lower one", async () => {
    cluster = await TestCluster.start(3);
    const c = cluster;
    await waitFor(() => c.replicas.every((r) => r.transport.connectedPeers().length === 2), "mesh");
    const r1 = c.replica(1).transport;
    const raw = track(new RawDialer(c.replica(1).port, c.handshakeKeysOf("r2"), "r1"));
    await waitFor(() => raw.closed, "refused");
    expect(r1.counters.unknownPeer).toBe(1);
    // Each replica accepted exactly one connection from each lower id, and dialed the rest.
    await waitFor(() => raw.closed && r1.inboundConnections() === 1, "stray socket gone");
    expect(c.replicas.map((r) => r.transport.inboundConnections())).toEqual([0, 1, 2]);
    for (const r of c.replicas) expect(r.transport.counters.reconnects).toBe(0);
  });

  it("rejects forged, replayed and cross-connection frames on a live peer link, then recovers", async () => {
    // No liveness pings: the proxy below acts on "the next data frame", which must be a message.
    cluster = await TestCluster.start(2, { liveness: false }, [1]);
    const c = cluster;
    const proxy = track(await FrameProxy.start(() => c.replica(1).port));
    // r0 reaches r1 only through the man in the middle.
    const r0 = await c.startReplica(0);
    r0.transport.setAddress(1, "127.0.0.1", proxy.port);
    r0.transport.connectPeers();
    const r1 = c.replica(1).transport;
    await pingThrough(c, 0, 1, 1);
    const first = proxy.connections[0]!;
    const captured = first.up.at(-1)!; // a data frame of connection #1

    // 1. Replay within the connection: the proxy sends the next data frame twice.
    proxy.onUp = (frame, conn) => {
      if (conn.index === 0 && frame[4] === FrameKind.data) {
        proxy.onUp = (f) => [f];
        return [frame, frame];
      }
      return [frame];
    };
    await pingThrough(c, 0, 1, 2);
    await waitFor(() => r1.counters.replayed === 1, "replay counted");
    await pingThrough(c, 0, 1, 3); // over a new connection
    expect(proxy.connections.length).toBeGreaterThanOrEqual(2);

    // 2. A frame captured on connection #1 injected into the current connection.
    const current = proxy.connections.at(-1)!;
    current.injectUp(captured);
    await waitFor(() => r1.counters.badMac === 1, "cross-connection replay counted");
    await pingThrough(c, 0, 1, 4);

    // 3. Tampering: flip one bit of the next data frame in flight.
    proxy.onUp = (frame) => {
      if (frame[4] !== FrameKind.data) return [frame];
      proxy.onUp = (f) => [f];
      const forged = Uint8Array.from(frame);
      forged[forged.length - 40]! ^= 1;
      return [forged];
    };
    r0.transport.sendPeer(1, { type: "ping", n: 5 });
    await waitFor(() => r1.counters.badMac === 2, "tampered frame counted");
    await pingThrough(c, 0, 1, 6);

    // 4. The whole byte stream of connection #1 replayed on a fresh socket: the old CONFIRM fails.
    const replay = track(new RawDialer(c.replica(1).port));
    replay.write(Buffer.concat(first.up));
    await waitFor(() => replay.closed, "replayed handshake refused");
    expect(r1.counters.unauthenticated).toBe(1);
    expect(pings(c.replica(1).peerInbox, 0).filter((n) => n === 1)).toHaveLength(1);
    expect(r0.transport.counters.reconnects).toBeGreaterThanOrEqual(3);
  });

  it("reconnects after the peer restarts on the same port, and after the dialer restarts", async () => {
    cluster = await TestCluster.start(2);
    const c = cluster;
    await pingThrough(c, 0, 1, 1);
    const port = c.replica(1).port;
    await c.replica(1).transport.close();
    await waitFor(() => c.replica(0).transport.connectedPeers().length === 0, "r0 sees r1 gone");
    c.replica(0).transport.sendPeer(1, { type: "ping", n: 2 }); // waits in the queue
    await sleep(150);
    await c.startReplica(1, port);
    await waitFor(() => pings(c.replica(1).peerInbox, 0).includes(2), "queued ping after restart");
    expect(c.replica(0).transport.counters.reconnects).toBeGreaterThan(0);
    await pingThrough(c, 1, 0, 3);

    // The dialing side restarts: the accepting side takes the new connection in place of the old.
    const port0 = c.replica(0).port;
    await c.replica(0).transport.close();
    await waitFor(() => c.replica(1).transport.connectedPeers().length === 0, "r1 sees r0 gone");
    c.replica(1).transport.sendPeer(0, { type: "ping", n: 4 }); // waits in r1's queue for r0
    await c.startReplica(0, port0);
    c.replica(0).transport.connectPeers();
    await waitFor(
      () => pings(c.replica(0).peerInbox, 1).includes(4),
      "queued ping to the restarted dialer",
    );
    await pingThrough(c, 0, 1, 5);
  });

  it("bounds the queue for a peer that is down, dropping and counting the oldest", async () => {
    cluster = await TestCluster.start(2, { queue: { maxMessages: 10 } }, [0]);
    const c = cluster;
    const r0 = c.replica(0).transport;
    for (let n = 0; n < 50; n++) r0.sendPeer(1, { type: "ping", n });
    expect(r0.counters.queueDrops).toBe(40);
    expect(r0.queuedFor(1)).toBe(10);
    await c.startReplica(1);
    await waitFor(() => c.replica(1).peerInbox.length === 10, "the newest 10 pings");
    expect(pings(c.replica(1).peerInbox, 0)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
  });

  it("refuses to send a message larger than a frame", async () => {
    cluster = await TestCluster.start(2, { maxFrameBytes: 4096 });
    const r0 = cluster.replica(0).transport;
    expect(r0.sendPeer(1, { type: "blob", n: 0, data: new Uint8Array(5000) })).toBe(false);
    expect(r0.counters.oversizedSends).toBe(1);
    expect(r0.sendPeer(1, { type: "blob", n: 1, data: new Uint8Array(3000) })).toBe(true);
  });

  it("counts schema-invalid peer messages and responses", async () => {
    cluster = await TestCluster.start(2);
    const c = cluster;
    await pingThrough(c, 0, 1, 1);
    c.replica(0).transport.sendPeer(1, { type: "pong" } as unknown as TestPeer);
    await pingThrough(c, 0, 1, 2);
    expect(c.replica(1).transport.counters.schemaRejected).toBe(1);

    const alice = c.client("alice");
    const got: unknown[] = [];
    alice.onResponse((_from, msg) => got.push(msg));
    alice.send(1, request("alice", 1, "x"));
    await waitFor(() => c.replica(1).clientInbox.length === 1, "request");
    c.replica(1).transport.sendClient("alice", { type: "nonsense" } as never);
    c.replica(1).transport.sendClient("alice", reply("alice", 1, "ok"));
    await waitFor(() => got.length === 1, "valid reply");
    expect(alice.counters.schemaRejected).toBe(1);
  });

  it("a client refuses a replica that cannot sign as the replica it claims", async () => {
    cluster = await TestCluster.start(2, {}, [0]);
    const c = cluster;
    // Holds the client secret (so it can answer any client) but signs with r0's key, not r1's.
    const { ReplicaTransport } = await import("../../src/net/transport.js");
    const fake = new ReplicaTransport({
      self: 1,
      config: c.config,
      keys: { ...c.ringOf("r1"), signingKey: c.keys.replicas[0]!.privateKey! },
      schemas: testSchemas,
    });
    cleanups.push(() => fake.close());
    const port = await fake.listen("127.0.0.1", 0);
    const alice = c.client("alice");
    alice.setAddress(1, "127.0.0.1", port);
    alice.send(1, request("alice", 1, "to the fake"));
    await waitFor(() => alice.counters.unauthenticated >= 1, "fake replica refused");
    expect(alice.connected(1)).toBe(false);
  });

  it("keeps working when a handler throws", async () => {
    const errors: unknown[] = [];
    cluster = await TestCluster.start(2, { onError: (e) => errors.push(e) });
    const c = cluster;
    let calls = 0;
    c.replica(1).transport.onPeer((from, msg) => {
      calls++;
      if (msg.type === "ping" && msg.n === 1) throw new Error("handler bug");
      c.replica(1).peerInbox.push({ from, msg });
    });
    c.replica(0).transport.sendPeer(1, { type: "ping", n: 1 });
    await pingThrough(c, 0, 1, 2);
    expect(calls).toBe(2);
    expect(c.replica(1).transport.counters.handlerErrors).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it("applies backpressure to a slow peer: the socket buffer stays bounded, the queue drops oldest", async () => {
    cluster = await TestCluster.start(2, { queue: { maxMessages: 1000, maxBytes: 1 << 20 } }, [0]);
    const c = cluster;
    // A slow r1: authenticates properly, then stops reading.
    const { SecureChannel } = await import("../../src/net/channel.js");
    const { createCounters } = await import("../../src/net/counters.js");
    const net = await import("node:net");
    const slowKeys = c.handshakeKeysOf("r1");
    const received: number[] = [];
    let slowSocket: import("node:net").Socket | undefined;
    const server = net.createServer((socket) => {
      slowSocket = socket;
      socket.on("error", () => {});
      const channel = SecureChannel.accept(
        { keys: slowKeys, counters: createCounters() },
        () => true,
      );
      socket.on("data", (chunk: Buffer) => {
        for (const e of channel.receive(chunk)) {
          if (e.type === "send") socket.write(e.bytes);
          if (e.type === "established") socket.pause();
          if (e.type === "message") received.push(received.length);
        }
      });
    });
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    cleanups.push(async () => {
      slowSocket?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const address = server.address();
    const r0 = c.replica(0).transport;
    r0.setAddress(1, "127.0.0.1", typeof address === "object" && address ? address.port : 0);
    r0.connectPeers();
    await waitFor(() => r0.connectedPeers().includes(1), "slow peer connected");
    const blob = new Uint8Array(64 * 1024);
    const total = 400; // 25 MiB offered
    for (let n = 0; n < total; n++) {
      r0.sendPeer(1, { type: "blob", n, data: blob });
      if (n % 50 === 0) await sleep(5); // let the socket drain what the kernel takes
    }
    await sleep(50);
    expect(r0.counters.queueDrops).toBeGreaterThan(0);
    expect(r0.queuedFor(1)).toBeLessThanOrEqual(16); // 1 MiB of 64 KiB messages
    const sent = r0.counters.messagesOut;
    const queued = r0.queuedFor(1);
    expect(sent + r0.counters.queueDrops + queued).toBe(total);
    slowSocket?.resume();
    await waitFor(() => received.length === sent + queued, "drained", 10_000);
    expect(r0.queuedFor(1)).toBe(0);
    expect(received.length + r0.counters.queueDrops).toBe(total);
  });
});
