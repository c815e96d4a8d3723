import { randomBytes } from "node:crypto";
import { once } from "node:events";
import * as net from "node:net";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { connect } from "../../src/client/index.js";
import { type ChannelEvent, SecureChannel } from "../../src/net/channel.js";
import { createCounters } from "../../src/net/counters.js";
import {
  clientKeyFile,
  generateClusterKeys,
  type KeyFile,
  keyRingFor,
} from "../../src/net/keys.js";
import { handshakeKeys } from "../../src/net/session-keys.js";
import { encode } from "../../src/platform/codec.js";
import { ClusterFixture, killAll, metric, ProcessCluster, sleep, waitFor } from "./helpers.js";

const fixtures: ClusterFixture[] = [];
afterEach(async () => {
  await killAll();
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

const sockets = new Set<net.Socket>();
afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets.clear();
});

/** A raw TCP connection to a replica; resolves when the replica closes it (or after 3 s). */
async function rawSend(port: number, bytes: Uint8Array): Promise<void> {
  const socket = net.connect({ host: "127.0.0.1", port });
  sockets.add(socket);
  socket.on("error", () => {});
  socket.resume();
  await once(socket, "connect");
  socket.write(bytes);
  await Promise.race([once(socket, "close"), sleep(3_000)]);
  socket.destroy();
  sockets.delete(socket);
}

/** A hand-driven authenticated client connection: runs the real handshake, then writes anything. */
class RawClient {
  readonly socket: net.Socket;
  readonly channel: SecureChannel;
  closed = false;

  constructor(port: number, keys: KeyFile, clientId: string, target: `r${number}`) {
    this.socket = net.connect({ host: "127.0.0.1", port });
    sockets.add(this.socket);
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
    });
    this.channel = SecureChannel.dial(
      { keys: handshakeKeys(keyRingFor(keys, `c:${clientId}`)), counters: createCounters() },
      target,
    );
    this.socket.on("data", (chunk: Buffer) => this.handle(this.channel.receive(chunk)));
    this.handle(this.channel.start());
  }

  private handle(events: ChannelEvent[]): void {
    for (const e of events)
      if (e.type === "send" && !this.socket.destroyed) this.socket.write(e.bytes);
  }

  async established(): Promise<void> {
    await waitFor("the handshake", () => this.channel.established || this.closed, 3_000, 10);
    if (!this.channel.established) throw new Error("handshake refused");
  }

  seal(message: unknown): Uint8Array {
    return this.channel.seal(encode(message));
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  async waitClosed(): Promise<boolean> {
    await waitFor("the replica to close the connection", () => this.closed, 3_000, 10).catch(
      () => {},
    );
    this.socket.destroy();
    return this.closed;
  }
}

describe("hostile input on the replica ports", () => {
  test("garbage, oversized headers, forged MACs, replays and foreign sessions are counted and the cluster keeps serving", async () => {
    const fixture = await ClusterFixture.create({ tickMs: 10 });
    fixtures.push(fixture);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    await cluster.leader();
    const client = await connect({ config: fixture.config, keys: fixture.clientKeys("alice") });
    const mallory = fixture.clientKeys("mallory");
    const stranger = clientKeyFile(generateClusterKeys(3), "mallory"); // keys of another cluster
    try {
      // Background load by an honest client throughout the attack.
      let honestOk = 0;
      let honestFailed = 0;
      let attacking = true;
      const honest = (async () => {
        for (let i = 0; i < 100_000 && attacking; i++) {
          try {
            await client.invoke({ op: "put", key: "honest", value: `h${i}` });
            honestOk++;
          } catch {
            honestFailed++;
          }
        }
      })();

      const ports = fixture.config.replicas.map((r) => r.port!);
      let connections = 0;
      for (const [id, port] of ports.entries()) {
        const target = `r${id}` as const;
        // Garbage: a frame length below the minimum, then random bytes.
        const garbage = Buffer.concat([Buffer.from([0, 0, 0, 10, 4]), randomBytes(64)]);
        // An oversized length header (2 GiB - 1) before any handshake.
        const oversized = Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 0, 0, 0]);
        const attacks: Promise<void>[] = [];
        for (let k = 0; k < 10; k++) {
          attacks.push(
            rawSend(port, garbage),
            rawSend(port, oversized),
            rawSend(port, randomBytes(2048)),
          );
        }
        await Promise.all(attacks);
        connections += attacks.length;

        // A client key from another cluster: the handshake fails.
        const wrongKey = new RawClient(port, stranger, "mallory", target);
        expect(await wrongKey.waitClosed()).toBe(true);

        // Forged MAC: a valid frame with one tag byte flipped.
        const forger = new RawClient(port, mallory, "mallory", target);
        await forger.established();
        const forged = forger.seal({
          type: "query",
          client: "mallory",
          qid: 1,
          q: { op: "get", key: "x" },
        });
        forged[forged.length - 1]! ^= 0x01;
        forger.write(forged);
        expect(await forger.waitClosed()).toBe(true);

        // Replay: the same authentic frame twice.
        const replayer = new RawClient(port, mallory, "mallory", target);
        await replayer.established();
        const frame = replayer.seal({
          type: "query",
          client: "mallory",
          qid: 1,
          q: { op: "get", key: "x" },
        });
        replayer.write(frame);
        replayer.write(frame);
        expect(await replayer.waitClosed()).toBe(true);

        // Authentic but hostile content: not a request, and a request for another client's session.
        const liar = new RawClient(port, mallory, "mallory", target);
        await liar.established();
        liar.write(liar.seal({ type: "nonsense", x: [1, 2, 3] }));
        liar.write(
          liar.seal({
            type: "request",
            client: "alice.0123456789ab",
            seq: 1,
            ackedBelow: 1,
            cmd: { op: "del", key: "honest" },
          }),
        );
        liar.write(
          liar.seal({ type: "request", client: "alice", seq: 0, ackedBelow: 0, cmd: null }),
        );
        await sleep(100);
        expect(liar.closed).toBe(false); // schema rejections keep the connection
        liar.socket.destroy();
        connections += 4;
      }

      await sleep(300);
      attacking = false;
      await honest;
      // Still serving after the attack.
      expect(await client.invoke({ op: "put", key: "after", value: "attack" })).toMatchObject({
        ok: true,
      });

      const report: Record<string, unknown> = { connections, honestOk, honestFailed };
      for (const [id] of ports.entries()) {
        const r = cluster.replica(id);
        expect(r.alive).toBe(true);
        expect(r.logs.filter((l) => l.level === "error")).toEqual([]);
        const m = await r.metrics();
        const counts = {
          malformed: metric(m, "lockstep_net_malformed_total", id),
          oversized: metric(m, "lockstep_net_oversized_total", id),
          badMac: metric(m, "lockstep_net_bad_mac_total", id),
          replayed: metric(m, "lockstep_net_replayed_total", id),
          unauthenticated: metric(m, "lockstep_net_unauthenticated_total", id),
          schemaRejected: metric(m, "lockstep_net_schema_rejected_total", id),
          foreignSession: metric(m, "lockstep_client_requests_foreign_session_total", id),
          handlerErrors: metric(m, "lockstep_net_handler_errors_total", id),
        };
        report[`r${id}`] = counts;
        expect(counts.malformed).toBeGreaterThanOrEqual(10);
        expect(counts.oversized).toBeGreaterThanOrEqual(10);
        expect(counts.badMac).toBeGreaterThanOrEqual(1);
        expect(counts.replayed).toBeGreaterThanOrEqual(1);
        expect(counts.unauthenticated).toBeGreaterThanOrEqual(3); // wrong key, and the two foreign sessions
        expect(counts.schemaRejected).toBeGreaterThanOrEqual(1);
        expect(counts.foreignSession).toBe(2);
        expect(counts.handlerErrors).toBe(0);
      }
      // mallory's requests for alice's sessions never ran: the key holds the last honest value.
      const read = (await client.query({ op: "get", key: "honest" })) as { value: string | null };
      expect(read.value).toMatch(/^h\d+$/);
      expect(honestOk).toBeGreaterThan(20);
      console.log(JSON.stringify(report));
    } finally {
      await client.close();
    }
  });
});
