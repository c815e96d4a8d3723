import type { KeyObject } from "node:crypto";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { maxRetiredKeyVersions } from "../core/access.js";
import type { Principal } from "../core/crypto.js";
import { encodeFrame, type Frame, FrameKind, tagBytes } from "./frame.js";
import { type ParsedPrincipal, parsePrincipal } from "./principal.js";
import {
  deriveLinkKey,
  deriveSessionKey,
  type HandshakeKeys,
  labeled,
  labeledMac,
} from "./session-keys.js";

/**
 * The connection handshake (docs/net.md, "Handshake"): three frames that prove both ends hold
 * the pair key and agree on a fresh session key.
 *
 *   HELLO     dialer → responder   version, nonceD, dialer principal, responder principal
 *   CHALLENGE responder → dialer   nonceR, responder's Ed25519 signature (replicas) or nothing
 *   CONFIRM   dialer → responder   dialer's Ed25519 signature (replicas) or nothing
 *
 * Each tag is HMAC(link key, label ‖ every earlier handshake frame ‖ this frame), so CHALLENGE
 * is fresh to the dialer (it covers nonceD) and CONFIRM fresh to the responder (it covers
 * nonceR); a frame captured from another connection never verifies. The session key is
 * HKDF(link key, SHA-256(HELLO ‖ CHALLENGE ‖ CONFIRM)). A side that knows the other's public
 * key also demands its signature over the transcript, which binds a replica's identity even for
 * holders of a shared secret (docs/net.md, "What the keys prove").
 *
 * A dialer whose configuration names a cluster id appends it to HELLO (covered by the HELLO
 * tag). A responder with another id answers REFUSE carrying its own id instead of CHALLENGE,
 * so both ends can say "another cluster" rather than "bad key". Either side without an id
 * skips the check (configurations written before cluster ids).
 */
export const handshakeVersion = 1;
export const nonceBytes = 32;
/** Handshake frames are small; until a connection is authenticated it may send no more than this. */
export const maxHandshakeFrameBytes = 1024;

export type HandshakeFailure = {
  readonly ok: false;
  readonly counter: "malformed" | "unknownPeer" | "unauthenticated" | "wrongCluster" | "keyRetired";
  readonly detail: string;
  /** Bytes to send the dialer before closing (a REFUSE frame), if any. */
  readonly reply?: Uint8Array;
};

/** Stands in for the pair key of a dialer this node holds no key for (never matches a real one). */
const decoyPairKey: Uint8Array = randomBytes(32);

/**
 * Retired keys a responder tries for a client HELLO that fails with the current key: always
 * this many MACs (decoys fill up), so the work does not tell an outsider which client ids exist
 * or were rotated. The access table keeps no more than this many retired versions per client.
 */
export const retiredKeyChecks = maxRetiredKeyVersions;

/** Cluster ids: 1 to 64 of [A-Za-z0-9._-] (validateClusterConfig checks the same). */
const maxClusterIdBytes = 64;

/** A REFUSE frame telling a dialer which cluster it reached (unauthenticated: zero tag). */
function encodeRefuse(clusterId: string): Uint8Array {
  const id = Buffer.from(clusterId, "utf8");
  return encodeFrame(
    FrameKind.refuse,
    Buffer.concat([Uint8Array.of(id.length), id]),
    () => new Uint8Array(tagBytes),
  );
}

function decodeRefuse(body: Uint8Array): string | undefined {
  if (body.length < 1 || body[0] !== body.length - 1 || body[0]! > maxClusterIdBytes) {
    return undefined;
  }
  return Buffer.from(body.subarray(1)).toString("utf8");
}

export interface SessionSecret {
  readonly key: KeyObject;
  readonly peer: Principal;
  readonly role: "dialer" | "responder";
}

const fail = (counter: HandshakeFailure["counter"], detail: string): HandshakeFailure => ({
  ok: false,
  counter,
  detail,
});

function tagMatches(expected: Uint8Array, tag: Uint8Array): boolean {
  return tag.length === tagBytes && timingSafeEqual(expected, tag);
}

/** Concatenates a frame's covered bytes and tag: the frame as sent. */
function whole(frame: Frame): Uint8Array {
  return Buffer.concat([frame.signed, frame.tag]);
}

function writeSignature(signature: Uint8Array | undefined): Uint8Array {
  const sig = signature ?? new Uint8Array(0);
  const out = Buffer.allocUnsafe(2 + sig.length);
  out.writeUInt16BE(sig.length, 0);
  out.set(sig, 2);
  return out;
}

/** Reads `[u16 length][signature]` that must fill `bytes` exactly. */
function readSignature(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < 2) return undefined;
  const length = (bytes[0]! << 8) | bytes[1]!;
  if (bytes.length !== 2 + length) return undefined;
  return bytes.subarray(2);
}

function encodeHello(
  nonce: Uint8Array,
  dialer: Principal,
  responder: Principal,
  clusterId: string | undefined,
): Uint8Array {
  const d = Buffer.from(dialer, "utf8");
  const r = Buffer.from(responder, "utf8");
  if (d.length > 255 || r.length > 255) throw new RangeError("principal longer than 255 bytes");
  const c = Buffer.from(clusterId ?? "", "utf8");
  if (c.length > maxClusterIdBytes) throw new RangeError("cluster id longer than 64 bytes");
  return Buffer.concat([
    Uint8Array.of(handshakeVersion),
    nonce,
    Uint8Array.of(d.length),
    d,
    Uint8Array.of(r.length),
    r,
    // Without a cluster id the HELLO is exactly the one of earlier versions.
    ...(c.length > 0 ? [Uint8Array.of(c.length), c] : []),
  ]);
}

function decodeHello(
  body: Uint8Array,
): { nonce: Uint8Array; dialer: string; responder: string; clusterId?: string } | string {
  if (body.length < 1 + nonceBytes + 2) return "HELLO too short";
  if (body[0] !== handshakeVersion) return `unsupported handshake version ${body[0]}`;
  let at = 1;
  const nonce = body.subarray(at, at + nonceBytes);
  at += nonceBytes;
  const dLength = body[at++]!;
  if (at + dLength + 1 > body.length) return "HELLO dialer name overruns the frame";
  const dialer = Buffer.from(body.subarray(at, at + dLength)).toString("utf8");
  at += dLength;
  const rLength = body[at++]!;
  if (at + rLength > body.length) return "HELLO responder name overruns the frame";
  const responder = Buffer.from(body.subarray(at, at + rLength)).toString("utf8");
  at += rLength;
  if (at === body.length) return { nonce, dialer, responder };
  const cLength = body[at++]!;
  if (cLength === 0 || cLength > maxClusterIdBytes || at + cLength !== body.length) {
    return "HELLO cluster id does not end the frame";
  }
  const clusterId = Buffer.from(body.subarray(at)).toString("utf8");
  return { nonce, dialer, responder, clusterId };
}

/** The dialing side: sends HELLO, checks CHALLENGE, answers CONFIRM. */
export class DialerHandshake {
  /** The HELLO frame to send first. */
  readonly hello: Uint8Array;
  private readonly linkKey: KeyObject;

  /** Throws if this node holds no key for `target` (a configuration error, not an attack). */
  constructor(
    private readonly keys: HandshakeKeys,
    readonly target: Principal,
    nonce: Uint8Array = randomBytes(nonceBytes),
    private readonly clusterId?: string,
  ) {
    const pairKey = keys.pairKey(target);
    if (!pairKey) throw new Error(`${keys.self} holds no key shared with ${target}`);
    this.linkKey = deriveLinkKey(pairKey, keys.self, target);
    this.hello = encodeFrame(
      FrameKind.hello,
      encodeHello(nonce, keys.self, target, clusterId),
      (signed) => labeledMac(this.linkKey, "hello", [signed]),
    );
  }

  onChallenge(
    frame: Frame,
  ): { ok: true; confirm: Uint8Array; session: SessionSecret } | HandshakeFailure {
    if (frame.kind === FrameKind.refuse) {
      const theirs = decodeRefuse(frame.body);
      return fail(
        "wrongCluster",
        theirs === undefined
          ? `${this.target} refused the connection (malformed REFUSE)`
          : `${this.target} at this address belongs to cluster "${theirs}", not "${this.clusterId ?? ""}" (another cluster's replica on the configured port?)`,
      );
    }
    if (frame.kind === FrameKind.retired) {
      const expected = labeledMac(this.linkKey, "retired", [this.hello, frame.signed]);
      if (!tagMatches(expected, frame.tag))
        return fail("unauthenticated", `RETIRED from ${this.target} does not prove the key`);
      return fail(
        "keyRetired",
        `${this.target} refused the key of ${this.keys.self}: it was rotated out (lockstep keys rotate); connect with the new key file`,
      );
    }
    if (frame.kind !== FrameKind.challenge) {
      return fail("unauthenticated", `expected CHALLENGE, got frame kind ${frame.kind}`);
    }
    if (frame.body.length < nonceBytes + 2) return fail("malformed", "CHALLENGE too short");
    const expected = labeledMac(this.linkKey, "challenge", [this.hello, frame.signed]);
    if (!tagMatches(expected, frame.tag)) {
      return fail("unauthenticated", `CHALLENGE from ${this.target} does not prove the key`);
    }
    const signature = readSignature(frame.body.subarray(nonceBytes));
    if (!signature) return fail("malformed", "CHALLENGE signature field is malformed");
    const challenge = whole(frame);
    const verify = this.keys.verifier(this.target);
    if (verify) {
      const signed = labeled("challenge-signature", [
        this.hello,
        frame.body.subarray(0, nonceBytes),
      ]);
      if (!verify(signed, signature)) {
        return fail("unauthenticated", `CHALLENGE from ${this.target} lacks a valid signature`);
      }
    }
    const mySignature = this.keys.sign?.(labeled("confirm-signature", [this.hello, challenge]));
    const confirm = encodeFrame(FrameKind.confirm, writeSignature(mySignature), (signed) =>
      labeledMac(this.linkKey, "confirm", [this.hello, challenge, signed]),
    );
    const key = deriveSessionKey(this.linkKey, [this.hello, challenge, confirm]);
    return { ok: true, confirm, session: { key, peer: this.target, role: "dialer" } };
  }
}

/** The accepting side: checks HELLO, sends CHALLENGE, checks CONFIRM. */
export class ResponderHandshake {
  private hello: Uint8Array | undefined;
  private challenge: Uint8Array | undefined;
  private linkKey: KeyObject | undefined;
  private peer: Principal | undefined;

  /** `admit` says which authenticated-to-be principals may connect at all. */
  constructor(
    private readonly keys: HandshakeKeys,
    private readonly admit: (peer: ParsedPrincipal) => boolean,
    private readonly nonce: Uint8Array = randomBytes(nonceBytes),
    private readonly clusterId?: string,
  ) {}

  onHello(frame: Frame): { ok: true; challenge: Uint8Array; peer: Principal } | HandshakeFailure {
    if (frame.kind !== FrameKind.hello) {
      return fail("unauthenticated", `expected HELLO, got frame kind ${frame.kind}`);
    }
    const hello = decodeHello(frame.body);
    if (typeof hello === "string") return fail("malformed", hello);
    const who = parsePrincipal(hello.dialer);
    if (!who) return fail("malformed", `HELLO names no principal: ${JSON.stringify(hello.dialer)}`);
    const dialer = hello.dialer as Principal;
    // Checked before the key: another cluster's keys would only fail as "does not prove its
    // key", which hides the real mistake from both operators.
    if (hello.clusterId !== undefined && this.clusterId && hello.clusterId !== this.clusterId) {
      return {
        ...fail(
          "wrongCluster",
          `${dialer} dialed from cluster "${hello.clusterId}"; this is cluster "${this.clusterId}"`,
        ),
        reply: encodeRefuse(this.clusterId),
      };
    }
    if (hello.responder !== this.keys.self) {
      return fail(
        "unknownPeer",
        `HELLO from ${dialer} is for ${JSON.stringify(hello.responder)}, not ${this.keys.self}`,
      );
    }
    // A dialer we hold no key for is answered exactly like one with a wrong key (same counter,
    // same close, the same MAC work against a decoy key): otherwise an outsider could list the
    // replica and client ids a replica knows by trying names.
    const pairKey = dialer === this.keys.self ? undefined : this.keys.pairKey(dialer);
    const linkKey = deriveLinkKey(pairKey ?? decoyPairKey, dialer, this.keys.self);
    const expected = labeledMac(linkKey, "hello", [frame.signed]);
    if (!tagMatches(expected, frame.tag) || !pairKey) {
      if (who.type === "client") {
        const retired = this.retiredKeyAnswer(frame, dialer);
        if (retired) return retired;
      }
      return fail("unauthenticated", `HELLO claiming ${dialer} does not prove a key`);
    }
    // Only now, with the claim proven, apply the policy (so an impostor is counted as one).
    if (!this.admit(who))
      return fail("unknownPeer", `${dialer} may not connect to ${this.keys.self}`);
    const helloBytes = whole(frame);
    const signature = this.keys.sign?.(labeled("challenge-signature", [helloBytes, this.nonce]));
    const challenge = encodeFrame(
      FrameKind.challenge,
      Buffer.concat([this.nonce, writeSignature(signature)]),
      (signed) => labeledMac(linkKey, "challenge", [helloBytes, signed]),
    );
    this.hello = helloBytes;
    this.challenge = challenge;
    this.linkKey = linkKey;
    this.peer = dialer;
    return { ok: true, challenge, peer: dialer };
  }

  /**
   * A client HELLO that proves a key the client held before a rotation: its holder is no
   * outsider (it knows a key only the client and the replicas ever had), so it is told why it is
   * refused, in a RETIRED frame only that key verifies, instead of being left to time out.
   */
  private retiredKeyAnswer(frame: Frame, dialer: Principal): HandshakeFailure | undefined {
    const retired = this.keys.retiredPairKeys(dialer);
    let proven: KeyObject | undefined;
    for (let i = 0; i < retiredKeyChecks; i++) {
      const key = retired[i];
      const linkKey = deriveLinkKey(key ?? decoyPairKey, dialer, this.keys.self);
      const matches = tagMatches(labeledMac(linkKey, "hello", [frame.signed]), frame.tag);
      if (matches && key && !proven) proven = linkKey;
    }
    if (!proven) return undefined;
    const helloBytes = whole(frame);
    const linkKey = proven;
    return {
      ...fail("keyRetired", `HELLO from ${dialer} proves a key that was rotated out`),
      reply: encodeFrame(FrameKind.retired, new Uint8Array(0), (signed) =>
        labeledMac(linkKey, "retired", [helloBytes, signed]),
      ),
    };
  }

  onConfirm(frame: Frame): { ok: true; session: SessionSecret } | HandshakeFailure {
    const { hello, challenge, linkKey, peer } = this;
    if (!hello || !challenge || !linkKey || !peer) {
      return fail("unauthenticated", "CONFIRM before HELLO");
    }
    if (frame.kind !== FrameKind.confirm) {
      return fail("unauthenticated", `expected CONFIRM, got frame kind ${frame.kind}`);
    }
    const expected = labeledMac(linkKey, "confirm", [hello, challenge, frame.signed]);
    if (!tagMatches(expected, frame.tag)) {
      return fail("unauthenticated", `CONFIRM from ${peer} does not prove the key`);
    }
    const signature = readSignature(frame.body);
    if (!signature) return fail("malformed", "CONFIRM signature field is malformed");
    const verify = this.keys.verifier(peer);
    if (verify && !verify(labeled("confirm-signature", [hello, challenge]), signature)) {
      return fail("unauthenticated", `CONFIRM from ${peer} lacks a valid signature`);
    }
    const key = deriveSessionKey(linkKey, [hello, challenge, whole(frame)]);
    return { ok: true, session: { key, peer, role: "responder" } };
  }
}
