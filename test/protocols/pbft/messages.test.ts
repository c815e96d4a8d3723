import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/core/crypto.js";
import { decode, encode } from "../../../src/platform/codec.js";
import {
  makeCommit,
  makeReply,
  signCheckpoint,
  signPrePrepare,
  signPrepare,
} from "../../../src/protocols/pbft/authenticator.js";
import { genesisCheckpoint } from "../../../src/protocols/pbft/checkpoints.js";
import {
  type PbftReplicaMessage,
  pbftReplicaMessageSchema,
  pbftReplySchema,
} from "../../../src/protocols/pbft/messages.js";
import {
  buildNewView,
  buildViewChange,
  planNewView,
} from "../../../src/protocols/pbft/view-change.js";
import { batchOf, certificate, digestOf, request, testCluster, zeros } from "./fixtures.js";

const c = testCluster(4);
const r1 = request(c, "alice", 1, { put: ["x", 1] });
const batch = batchOf(c, 5, r1);
const d = digestOf("d");
const params = {
  quorums: c.q,
  interval: 8,
  genesisDigest: zeros,
  windowSize: 32,
};

function samples(): PbftReplicaMessage[] {
  const vcs = [1, 2, 3].map((r) =>
    buildViewChange(c.replica(r), r, 1, genesisCheckpoint(zeros), [certificate(c, 0, 1, batch)]),
  );
  const planned = planNewView(c.replica(1), params, 1, vcs);
  if (!planned.ok) throw new Error("plan");
  return [
    r1,
    signPrePrepare(c.replica(0), { view: 0, seq: 1, batch, replica: 0 }, [r1]),
    signPrepare(c.replica(1), { view: 0, seq: 1, digest: d, replica: 1 }),
    makeCommit(c.replica(1), 4, { view: 0, seq: 1, digest: d, replica: 1 }),
    signCheckpoint(c.replica(1), { seq: 8, stateDigest: d, replica: 1 }),
    vcs[0]!,
    buildNewView(c.replica(1), 1, planned.plan, vcs),
    { type: "fetch", replica: 2, seq: 8, stateDigest: d, chunk: 0, mac: d },
    {
      type: "statechunk",
      replica: 2,
      seq: 8,
      stateDigest: d,
      chunk: 0,
      chunks: 1,
      total: 3,
      data: new Uint8Array([1, 2, 3]),
      path: [],
      mac: d,
    },
    { type: "fetchrequests", replica: 2, digests: [d], mac: d },
  ];
}

describe("replica message schema", () => {
  it.each(samples().map((m) => [m.type, m] as const))("%s survives encode/decode", (_t, m) => {
    // Compared as encoded bytes: node:crypto returns Buffers, the decoder plain Uint8Arrays.
    const bytes = encode(m);
    expect(toHex(encode(decode(bytes, pbftReplicaMessageSchema)))).toBe(toHex(bytes));
  });

  const pp = signPrePrepare(c.replica(0), { view: 0, seq: 1, batch, replica: 0 });
  const prepare = signPrepare(c.replica(1), { view: 0, seq: 1, digest: d, replica: 1 });
  it.each([
    ["a 31-byte digest", { ...prepare, digest: d.subarray(0, 31) }, "digest"],
    ["a 63-byte signature", { ...prepare, sig: prepare.sig.subarray(0, 63) }, "sig"],
    ["seq 0", { ...prepare, seq: 0 }, "seq"],
    ["a negative view", { ...prepare, view: -1 }, "view"],
    ["a fractional view", { ...prepare, view: 0.5 }, "view"],
    ["a replica id beyond the limit", { ...prepare, replica: 1024 }, "replica"],
    ["an unknown field", { ...prepare, extra: 1 }, "extra"],
    ["an unknown type", { ...prepare, type: "prepared" }, "type"],
    [
      "a batch digest of the wrong size",
      { ...pp, batch: { time: 0, requests: [zeros.subarray(1)] } },
      "batch.requests[0]",
    ],
    [
      "a non-array authenticator",
      { type: "commit", view: 0, seq: 1, digest: d, replica: 1, auth: d },
      "auth",
    ],
  ])("refuses %s", (_name, message, path) => {
    expect(() => decode(encode(message), pbftReplicaMessageSchema)).toThrow(
      expect.objectContaining({ path }),
    );
  });

  it("refuses piggybacked requests inside a certificate's pre-prepare", () => {
    const cert = certificate(c, 0, 1, batch);
    const vc = buildViewChange(c.replica(1), 1, 1, genesisCheckpoint(zeros), [
      { ...cert, prePrepare: { ...cert.prePrepare, inline: [r1] } },
    ]);
    expect(() => decode(encode(vc), pbftReplicaMessageSchema)).toThrow(
      expect.objectContaining({ path: "prepared[0].prePrepare.inline" }),
    );
  });
});

describe("reply schema", () => {
  it("accepts full and digest replies and refuses a bad MAC length", () => {
    const fields = { view: 0, timestamp: 1, client: "alice", replica: 1, tentative: true };
    const full = makeReply(c.replica(1), fields, [1, "two"], true);
    const short = makeReply(c.replica(1), fields, [1, "two"], false);
    for (const reply of [full, short]) {
      const bytes = encode(reply);
      expect(toHex(encode(decode(bytes, pbftReplySchema)))).toBe(toHex(bytes));
    }
    expect(() => decode(encode({ ...full, mac: d.subarray(1) }), pbftReplySchema)).toThrow(
      expect.objectContaining({ path: "mac" }),
    );
  });
});
