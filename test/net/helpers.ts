import { once } from "node:events";
import * as net from "node:net";
import type { ClientReplyMessage, ClientRequestMessage } from "../../src/core/client-messages.js";
import { clientReplySchema, clientRequestSchema } from "../../src/core/client-messages.js";
import { type ClusterConfig, simulatedCluster } from "../../src/core/config.js";
import type { Principal } from "../../src/core/crypto.js";
import type { WireTypes } from "../../src/core/protocol.js";
import { bytes, type Infer, int, tagged } from "../../src/core/schema.js";
import { type ChannelEvent, SecureChannel } from "../../src/net/channel.js";
import { ClientTransport, type ClientTransportOptions } from "../../src/net/client-connection.js";
import { createCounters, type NetCounters } from "../../src/net/counters.js";
import { FrameDecoder } from "../../src/net/frame.js";
import {
  type ClusterKeyFile,
  clientKeyFile,
  generateClusterKeys,
  keyRingFor,
  replicaKeyFile,
} from "../../src/net/keys.js";
import { type HandshakeKeys, handshakeKeys } from "../../src/net/session-keys.js";
import { ReplicaTransport, type ReplicaTransportOptions } from "../../src/net/transport.js";
import type { KeyRing } from "../../src/platform/node-crypto.js";

/** A tiny peer protocol for tests. */
export const testPeerSchema = tagged({
  ping: { n: int(0) },
  blob: { n: int(0), data: bytes() },
});
export type TestPeer = Infer<typeof testPeerSchema>;

export interface TestWire extends WireTypes {
  readonly peer: TestPeer;
  readonly request: ClientRequestMessage;
  readonly response: ClientReplyMessage;
}

export const testSchemas = {
  peer: testPeerSchema,
  request: clientRequestSchema,
  response: clientReplySchema,
};

/** n replicas without addresses (tests set them after listening on port 0). */
export function testCluster(n: number): ClusterConfig {
  return n === 1 ? simulatedCluster("single", 1, 0) : simulatedCluster("primary-backup", n, 1);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `condition` holds; fails after `timeoutMs` (bounded in time and count). */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000; i++) {
    if (condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * A hand-driven connection on a raw socket, so a test can play a misbehaving party: it runs
 * the real dialer handshake with whatever keys it is given, then lets the test write anything.
 */
export class RawDialer {
  readonly counters: NetCounters = createCounters();
  readonly socket: net.Socket;
  readonly channel: SecureChannel | undefined;
  readonly received: Uint8Array[] = [];
  readonly events: ChannelEvent[] = [];
  /** Every byte this side wrote, frame by frame (for replays). */
  readonly written: Uint8Array[] = [];
  closed = false;

  constructor(port: number, keys?: HandshakeKeys, target?: Principal) {
    this.socket = net.connect({ host: "127.0.0.1", port });
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
    });
    if (keys && target) {
      this.channel = SecureChannel.dial({ keys, counters: this.counters }, target);
      this.socket.on("data", (chunk: Buffer) => this.handle(this.channel!.receive(chunk)));
      this.handle(this.channel.start());
    } else {
      this.socket.resume(); // read and discard, so the peer's close is seen
    }
  }

  get established(): boolean {
    return this.channel?.established ?? false;
  }

  /** Seals and sends one message on the established channel. */
  send(message: Uint8Array): Uint8Array {
    const frame = this.channel!.seal(message);
    this.write(frame);
    return frame;
  }

  write(bytes: Uint8Array): void {
    this.written.push(bytes);
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    const closed = once(this.socket, "close");
    this.socket.destroy();
    await closed;
  }

  private handle(events: ChannelEvent[]): void {
    for (const event of events) {
      this.events.push(event);
      if (event.type === "send") this.write(event.bytes);
      if (event.type === "message") this.received.push(event.message);
    }
  }
}

/** Frames seen on one proxied connection, and a way to slip bytes into it. */
export interface ProxiedConnection {
  readonly index: number;
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Whole frames that went dialer → responder, in order. */
  readonly up: Uint8Array[];
  /** Whole frames that went responder → dialer, in order. */
  readonly down: Uint8Array[];
  injectUp(bytes: Uint8Array): void;
}

/**
 * A man in the middle on 127.0.0.1: forwards each connection to `target()` frame by frame,
 * records the frames, and lets a test rewrite or inject frames going up (dialer → responder).
 */
export class FrameProxy {
  readonly connections: ProxiedConnection[] = [];
  /** Rewrites each frame going up; the default passes it through. */
  onUp: (frame: Uint8Array, connection: ProxiedConnection) => Uint8Array[] = (frame) => [frame];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: () => number): Promise<FrameProxy> {
    const server = net.createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    const proxy = new FrameProxy(server, typeof address === "object" && address ? address.port : 0);
    server.on("connection", (client) => proxy.relay(client, target()));
    return proxy;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, port: number): void {
    const upstream = net.connect({ host: "127.0.0.1", port });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const connection: ProxiedConnection = {
      index: this.connections.length,
      client,
      upstream,
      up: [],
      down: [],
      injectUp: (bytes) => {
        if (!upstream.destroyed) upstream.write(bytes);
      },
    };
    this.connections.push(connection);
    const upDecoder = new FrameDecoder(64 << 20);
    const downDecoder = new FrameDecoder(64 << 20);
    client.on("data", (chunk: Buffer) => {
      for (const event of upDecoder.decode(chunk)) {
        if (event.type === "error") {
          upstream.destroy();
          return;
        }
        const bytes = Buffer.concat([event.frame.signed, event.frame.tag]);
        connection.up.push(bytes);
        for (const out of this.onUp(bytes, connection)) connection.injectUp(out);
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      for (const event of downDecoder.decode(chunk)) {
        if (event.type === "error") {
          client.destroy();
          return;
        }
        const bytes = Buffer.concat([event.frame.signed, event.frame.tag]);
        connection.down.push(bytes);
        if (!client.destroyed) client.write(bytes);
      }
    });
  }
}

export interface TestReplica {
  readonly id: number;
  transport: ReplicaTransport<TestWire>;
  port: number;
  readonly peerInbox: { from: number; msg: TestPeer }[];
  readonly clientInbox: { client: string; msg: ClientRequestMessage }[];
  /** The connection (route) each message of `clientInbox` came on, in the same order. */
  readonly clientRoutes: number[];
}

/** A cluster of real transports on 127.0.0.1 with ephemeral ports, and its keys. */
export class TestCluster {
  readonly replicas: TestReplica[] = [];
  readonly clients: ClientTransport<TestWire>[] = [];

  private constructor(
    readonly keys: ClusterKeyFile,
    readonly config: ClusterConfig,
    private readonly options: Partial<ReplicaTransportOptions<TestWire>>,
  ) {}

  static async start(
    n: number,
    options: Partial<ReplicaTransportOptions<TestWire>> = {},
    startOnly?: readonly number[],
  ): Promise<TestCluster> {
    const cluster = new TestCluster(generateClusterKeys(n), testCluster(n), options);
    for (let id = 0; id < n; id++) {
      cluster.replicas.push({
        id,
        transport: undefined as never,
        port: 0,
        peerInbox: [],
        clientInbox: [],
        clientRoutes: [],
      });
    }
    for (const id of startOnly ?? cluster.replicas.map((r) => r.id)) await cluster.startReplica(id);
    for (const r of cluster.replicas) if (r.transport) r.transport.connectPeers();
    return cluster;
  }

  replica(id: number): TestReplica {
    return this.replicas[id]!;
  }

  ringOf(principal: Principal): KeyRing {
    return principal.startsWith("c:")
      ? keyRingFor(clientKeyFile(this.keys, principal.slice(2)), principal)
      : keyRingFor(replicaKeyFile(this.keys, Number(principal.slice(1))), principal);
  }

  handshakeKeysOf(principal: Principal): HandshakeKeys {
    return handshakeKeys(this.ringOf(principal));
  }

  /** Starts (or restarts) replica `id` on `port` (0: a fresh ephemeral port) and wires addresses. */
  async startReplica(id: number, port = 0): Promise<TestReplica> {
    const r = this.replicas[id]!;
    const transport = new ReplicaTransport<TestWire>({
      self: id,
      config: this.config,
      keys: this.ringOf(`r${id}`),
      schemas: testSchemas,
      backoff: { initialMs: 10, maxMs: 100 },
      handshakeTimeoutMs: 1_000,
      ...this.options,
    });
    transport.onPeer((from, msg) => r.peerInbox.push({ from, msg }));
    transport.onClient((client, msg, route) => {
      r.clientInbox.push({ client, msg });
      r.clientRoutes.push(route);
    });
    r.transport = transport;
    r.port = await transport.listen("127.0.0.1", port);
    for (const other of this.replicas) {
      if (other.port) transport.setAddress(other.id, "127.0.0.1", other.port);
      if (other.transport && other !== r) other.transport.setAddress(id, "127.0.0.1", r.port);
    }
    for (const c of this.clients) c.setAddress(id, "127.0.0.1", r.port);
    return r;
  }

  client(clientId: string, options: Partial<ClientTransportOptions<TestWire>> = {}) {
    const client = new ClientTransport<TestWire>({
      clientId,
      config: this.config,
      keys: this.ringOf(`c:${clientId}`),
      schemas: testSchemas,
      backoff: { initialMs: 10, maxMs: 100 },
      ...options,
    });
    for (const r of this.replicas) if (r.port) client.setAddress(r.id, "127.0.0.1", r.port);
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const c of this.clients) await c.close();
    for (const r of this.replicas) await r.transport?.close();
  }
}

export function request(client: string, seq: number, cmd: string): ClientRequestMessage {
  return { type: "request", client, seq, ackedBelow: 0, cmd };
}

export function reply(client: string, seq: number, value: string): ClientReplyMessage {
  return { type: "reply", client, seq, result: { ok: true, value } };
}
