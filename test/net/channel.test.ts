import { createHmac, createSecretKey, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/core/crypto.js";
import { type ChannelEvent, SecureChannel } from "../../src/net/channel.js";
import { createCounters, type NetCounters } from "../../src/net/counters.js";
import { encodeFrame, FrameKind } from "../../src/net/frame.js";
import {
  clientKeyFile,
  generateClusterKeys,
  keyRingFor,
  replicaKeyFile,
} from "../../src/net/keys.js";
import type { ParsedPrincipal } from "../../src/net/principal.js";
import { Direction, FrameSealer } from "../../src/net/session.js";
import { type HandshakeKeys, handshakeKeys } from "../../src/net/session-keys.js";

const keys = generateClusterKeys(3);
const ring = (p: Principal) =>
  handshakeKeys(
    p.startsWith("c:")
      ? keyRingFor(clientKeyFile(keys, p.slice(2)), p)
      : keyRingFor(replicaKeyFile(keys, Number(p.slice(1))), p),
  );
const anyone = (_: ParsedPrincipal) => true;

function sends(events: readonly ChannelEvent[]): Uint8Array[] {
  return events.flatMap((e) => (e.type === "send" ? [e.bytes] : []));
}

interface Pair {
  dialer: SecureChannel;
  responder: SecureChannel;
  dc: NetCounters;
  rc: NetCounters;
  /** Frames each side wrote, in order. */
  wire: { fromDialer: Uint8Array[]; fromResponder: Uint8Array[] };
  dialerEvents: ChannelEvent[];
  responderEvents: ChannelEvent[];
}

/** Runs a handshake in memory, passing every frame across until both sides are quiet. */
function connect(
  dialerKeys: HandshakeKeys,
  target: Principal,
  responderKeys: HandshakeKeys,
  admit = anyone,
): Pair {
  const dc = createCounters();
  const rc = createCounters();
  const dialer = SecureChannel.dial({ keys: dialerKeys, counters: dc }, target);
  const responder = SecureChannel.accept({ keys: responderKeys, counters: rc }, admit);
  const pair: Pair = {
    dialer,
    responder,
    dc,
    rc,
    wire: { fromDialer: [], fromResponder: [] },
    dialerEvents: [],
    responderEvents: [],
  };
  let toResponder = sends(dialer.start());
  for (let round = 0; round < 4 && toResponder.length > 0; round++) {
    pair.wire.fromDialer.push(...toResponder);
    const r = toResponder.flatMap((b) => responder.receive(b));
    pair.responderEvents.push(...r);
    const toDialer = sends(r);
    pair.wire.fromResponder.push(...toDialer);
    const d = toDialer.flatMap((b) => dialer.receive(b));
    pair.dialerEvents.push(...d);
    toResponder = sends(d);
  }
  return pair;
}

const text = (s: string) => new TextEncoder().encode(s);
const messages = (events: readonly ChannelEvent[]) =>
  events.flatMap((e) => (e.type === "message" ? [new TextDecoder().decode(e.message)] : []));
const closedBy = (events: readonly ChannelEvent[]) =>
  events.flatMap((e) => (e.type === "closed" ? [e.counter] : []));

describe("SecureChannel handshake", () => {
  it("authenticates two replicas (with signatures) and carries messages both ways", () => {
    const p = connect(ring("r0"), "r1", ring("r1"));
    expect(p.dialer.established && p.responder.established).toBe(true);
    expect(p.dialer.peer).toBe("r1");
    expect(p.responder.peer).toBe("r0");
    expect(p.wire.fromDialer).toHaveLength(2); // HELLO, CONFIRM
    expect(p.wire.fromResponder).toHaveLength(1); // CHALLENGE
    expect(messages(p.responder.receive(p.dialer.seal(text("hi r1"))))).toEqual(["hi r1"]);
    expect(messages(p.dialer.receive(p.responder.seal(text("hi r0"))))).toEqual(["hi r0"]);
    expect(p.rc.framesIn).toBe(1);
  });

  it("authenticates a client with its derived key only", () => {
    const p = connect(ring("c:alice"), "r2", ring("r2"));
    expect(p.responder.peer).toBe("c:alice");
    expect(p.dialer.peer).toBe("r2");
  });

  it("gives each connection its own session key", () => {
    const a = connect(ring("r0"), "r1", ring("r1"));
    const b = connect(ring("r0"), "r1", ring("r1"));
    const frame = a.dialer.seal(text("for a"));
    expect(closedBy(b.responder.receive(frame))).toEqual(["badMac"]);
    expect(b.rc.badMac).toBe(1);
  });

  it("rejects a client claiming to be a replica", () => {
    const alice = ring("c:alice");
    const liar: HandshakeKeys = { ...alice, self: "r1", pairKey: (p) => alice.pairKey(p) };
    const p = connect(liar, "r0", ring("r0"));
    expect(p.responder.closed).toBe(true);
    expect(p.rc.unauthenticated).toBe(1);
    expect(closedBy(p.responderEvents)).toEqual(["unauthenticated"]);
  });

  it("answers a HELLO claiming an unknown id exactly like one claiming a known id without its key", () => {
    // Issue 15: r9 used to be answered unknownPeer and r2 unauthenticated, which let an outsider
    // list the replica ids a replica knows.
    const claiming = (self: Principal) => {
      const forger: HandshakeKeys = { ...ring("r0"), self, pairKey: () => new Uint8Array(32) };
      const p = connect(forger, "r1", ring("r1"));
      return {
        closed: p.responder.closed,
        closedBy: closedBy(p.responderEvents),
        sentBack: p.wire.fromResponder.map((b) => b.length),
        counters: { ...p.rc, bytesIn: 0 }, // the HELLO is longer for a longer name
      };
    };
    const unknown = claiming("r9");
    const known = claiming("r2");
    expect(unknown).toEqual(known);
    expect(known.closedBy).toEqual(["unauthenticated"]);
    expect(known.sentBack).toEqual([]);
    // A client id is no different: any name gets the same answer.
    expect(claiming("c:nobody")).toEqual(known);
  });

  it("rejects wrong targets and refused principals as unknownPeer", () => {
    // A HELLO addressed to r2 arriving at r1 (a misrouted or replayed HELLO).
    const r0 = ring("r0");
    const toR2 = SecureChannel.dial({ keys: r0, counters: createCounters() }, "r2");
    const rc = createCounters();
    const r1 = SecureChannel.accept({ keys: ring("r1"), counters: rc }, anyone);
    expect(closedBy(sends(toR2.start()).flatMap((b) => r1.receive(b)))).toEqual(["unknownPeer"]);
    const noClients = (peer: ParsedPrincipal) => peer.type === "replica";
    expect(connect(ring("c:alice"), "r1", ring("r1"), noClients).rc.unknownPeer).toBe(1);
  });

  it("rejects a replayed handshake: HELLO answers, but the old CONFIRM fails", () => {
    const first = connect(ring("c:alice"), "r1", ring("r1"));
    const rc = createCounters();
    const victim = SecureChannel.accept({ keys: ring("r1"), counters: rc }, anyone);
    const events = first.wire.fromDialer.flatMap((b) => victim.receive(b));
    expect(sends(events)).toHaveLength(1); // a fresh CHALLENGE
    expect(closedBy(events)).toEqual(["unauthenticated"]);
    expect(victim.established).toBe(false);
  });

  it("rejects a CHALLENGE from a responder that cannot sign as the replica it claims", () => {
    // Holds the right pair key (say, a leaked cluster file) but not r1's signing key.
    const r1 = ring("r1");
    const impostor: HandshakeKeys = { ...r1, sign: ring("r2").sign };
    const p = connect(ring("r0"), "r1", impostor);
    expect(p.dc.unauthenticated).toBe(1);
    expect(p.dialer.established).toBe(false);
    const unsigned: HandshakeKeys = { ...r1, sign: undefined };
    expect(connect(ring("r0"), "r1", unsigned).dc.unauthenticated).toBe(1);
    // A client without public keys does not ask for the signature.
    const blind: HandshakeKeys = { ...ring("c:alice"), verifier: () => undefined };
    expect(connect(blind, "r1", unsigned).dialer.established).toBe(true);
  });

  it("counts data before the handshake as unauthenticated and handshake frames after it as malformed", () => {
    const p = connect(ring("r0"), "r1", ring("r1"));
    const rc = createCounters();
    const fresh = SecureChannel.accept({ keys: ring("r1"), counters: rc }, anyone);
    expect(closedBy(fresh.receive(p.dialer.seal(text("early"))))).toEqual(["unauthenticated"]);
    const hello = encodeFrame(FrameKind.hello, new Uint8Array(40), () => new Uint8Array(32));
    expect(closedBy(p.responder.receive(hello))).toEqual(["malformed"]);
  });

  it("counts a replayed or reordered frame within a connection, and a reflected one", () => {
    const p = connect(ring("r0"), "r1", ring("r1"));
    const f0 = p.dialer.seal(text("zero"));
    const f1 = p.dialer.seal(text("one"));
    expect(messages(p.responder.receive(f0))).toEqual(["zero"]);
    const events = p.responder.receive(Buffer.concat([f0, f1]));
    expect(closedBy(events)).toEqual(["replayed"]);
    expect(messages(events)).toEqual([]);

    const q = connect(ring("r0"), "r1", ring("r1"));
    const g0 = q.dialer.seal(text("zero"));
    const g1 = q.dialer.seal(text("one"));
    expect(closedBy(q.responder.receive(g1))).toEqual(["replayed"]);
    expect(messages(q.responder.receive(g0))).toEqual([]); // closed: ignored

    const r = connect(ring("r0"), "r1", ring("r1"));
    expect(closedBy(r.dialer.receive(r.dialer.seal(text("mirror"))))).toEqual(["badMac"]);
  });

  it("carries a batch of messages in one frame, and refuses an authentic frame with a broken batch", () => {
    const p = connect(ring("r0"), "r1", ring("r1"));
    const frame = p.dialer.sealBatch([text("a"), text(""), text("ccc")]);
    expect(messages(p.responder.receive(frame))).toEqual(["a", "", "ccc"]);
    expect([p.rc.framesIn, p.rc.messagesIn]).toEqual([1, 3]);

    // A sender that MACs a body whose message length overruns the frame (a bug, not an attack).
    const key = createSecretKey(randomBytes(32));
    const session = { key, peer: "r0" as const, role: "responder" as const };
    const rc = createCounters();
    const receiver = SecureChannel.fromSession({ keys: ring("r1"), counters: rc }, session);
    const sealed = Buffer.from(new FrameSealer(key, Direction.dialerToResponder).seal(text("xyz")));
    sealed.writeUInt32BE(99, 13); // the message length field
    const signed = sealed.subarray(0, sealed.length - 32);
    const tag = createHmac("sha256", key).update(Uint8Array.of(0)).update(signed).digest();
    tag.copy(sealed, sealed.length - 32);
    expect(closedBy(receiver.receive(sealed))).toEqual(["malformed"]);
  });

  it("limits frames before authentication to the handshake size", () => {
    const rc = createCounters();
    const fresh = SecureChannel.accept({ keys: ring("r1"), counters: rc }, anyone);
    const big = encodeFrame(FrameKind.hello, new Uint8Array(2000), () => new Uint8Array(32));
    expect(closedBy(fresh.receive(big.subarray(0, 5)))).toEqual(["oversized"]);
  });

  it("counts a stream cut inside a frame as malformed", () => {
    const p = connect(ring("r0"), "r1", ring("r1"));
    const frame = p.dialer.seal(text("cut"));
    expect(p.responder.receive(frame.subarray(0, 10))).toEqual([]);
    expect(closedBy(p.responder.end())).toEqual(["malformed"]);
  });
});
