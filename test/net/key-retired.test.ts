import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FrameKind, frameParts } from "../../src/net/frame.js";
import { DialerHandshake, ResponderHandshake } from "../../src/net/handshake.js";
import {
  type ClientKeyFile,
  clientKeyFile,
  generateClusterKeys,
  keyRingFor,
  replicaKeyFile,
} from "../../src/net/keys.js";
import { handshakeKeys } from "../../src/net/session-keys.js";

// Issue 15: a client holding a rotated-out key is told so; an outsider still learns nothing.

const keys = generateClusterKeys(2);
const v1 = 1_700_000_000_000;
const v2 = 1_700_000_500_000;

/** r0 as a replica whose access table says alice holds v2 now, after v1 and the first key. */
const responderKeys = handshakeKeys(
  keyRingFor(
    replicaKeyFile(keys, 0),
    "r0",
    (client) => (client === "alice" ? v2 : 0),
    (client) => (client === "alice" ? [v1, 0] : []),
  ),
);

function handshake(file: ClientKeyFile) {
  const dialer = new DialerHandshake(handshakeKeys(keyRingFor(file, `c:${file.clientId}`)), "r0");
  const responder = new ResponderHandshake(responderKeys, () => true);
  const answer = responder.onHello(frameParts(dialer.hello));
  return { dialer, answer };
}

describe("handshake: rotated-out client keys", () => {
  it("answers a genuine old key RETIRED, and the client reports keyRetired", () => {
    for (const version of [0, v1]) {
      const { dialer, answer } = handshake(clientKeyFile(keys, "alice", version));
      expect(answer).toMatchObject({ ok: false, counter: "keyRetired" });
      if (answer.ok || !answer.reply) throw new Error("expected a RETIRED reply");
      const frame = frameParts(answer.reply);
      expect(frame.kind).toBe(FrameKind.retired);
      const result = dialer.onChallenge(frame);
      expect(result).toMatchObject({ ok: false, counter: "keyRetired" });
      if (!result.ok) expect(result.detail).toMatch(/c:alice.*rotated out.*new key file/);
    }
  });

  it("lets the current key in", () => {
    const { answer } = handshake(clientKeyFile(keys, "alice", v2));
    expect(answer.ok).toBe(true);
  });

  it("answers an outsider exactly as before: unauthenticated, no reply, whoever it claims", () => {
    const forged: ClientKeyFile = {
      ...clientKeyFile(keys, "alice"),
      clientKey: new Uint8Array(randomBytes(32)),
    };
    for (const file of [
      forged,
      { ...forged, clientId: "bob" },
      { ...forged, clientId: "nobody" },
    ]) {
      const { answer } = handshake(file);
      expect(answer).toMatchObject({ ok: false, counter: "unauthenticated" });
      if (!answer.ok) expect(answer.reply).toBeUndefined();
    }
  });

  it("a RETIRED frame that does not prove the client's key is refused as unauthenticated", () => {
    const { dialer, answer } = handshake(clientKeyFile(keys, "alice", v1));
    if (answer.ok || !answer.reply) throw new Error("expected a RETIRED reply");
    // The same frame sent to another holder (of carol's key) does not verify for it.
    const carol = new DialerHandshake(
      handshakeKeys(keyRingFor(clientKeyFile(keys, "carol"), "c:carol")),
      "r0",
    );
    expect(carol.onChallenge(frameParts(answer.reply))).toMatchObject({
      ok: false,
      counter: "unauthenticated",
    });
    // And a tampered one does not verify for alice either.
    const tampered = Uint8Array.from(answer.reply);
    tampered[tampered.length - 1]! ^= 1;
    expect(dialer.onChallenge(frameParts(tampered))).toMatchObject({
      ok: false,
      counter: "unauthenticated",
    });
  });
});
