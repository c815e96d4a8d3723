import { describe, expect, it } from "vitest";
import { simulatedCluster } from "../../../src/core/config.js";
import { createRandom } from "../../../src/core/prng.js";
import type { ClientOutput } from "../../../src/core/protocol.js";
import { NodeCrypto } from "../../../src/platform/node-crypto.js";
import {
  type PbClientReply,
  PrimaryBackupClient,
  type PrimaryBackupWire,
  pbClientReplySchema,
  pbClientRequestSchema,
} from "../../../src/protocols/primary-backup/index.js";
import { campaignAndAnswer, makeCore, ofType, pairedPair, persistAll, tick } from "./harness.js";

const request = (seq: number, epoch?: number) =>
  ({
    type: "client",
    client: "c0",
    mono: 0,
    msg: {
      type: "request",
      client: "c0",
      seq,
      ackedBelow: seq,
      cmd: ["put", "k", seq],
      ...(epoch === undefined ? {} : { epoch }),
    },
  }) as const;

describe("primary/backup replicas and client epochs", () => {
  it("every reply carries the epoch of the replica that sent it", () => {
    const { p, b } = pairedPair();
    const refused = ofType([...b.step(request(1, 1))], "reply");
    expect(refused.map((r) => r.msg)).toEqual([
      {
        type: "reply",
        client: "c0",
        seq: 1,
        result: { ok: false, error: "not-leader", leader: 0 },
        epoch: 1,
      },
    ]);
    const served = [...p.step(request(1, 1))];
    expect(ofType(served, "persist")).toHaveLength(1); // logged: same epoch as the client's
    expect(ofType(served, "reply")).toEqual([]);
  });

  it("a primary that meets a client from a newer epoch refuses, stops serving and asks the arbiter", () => {
    const { p } = pairedPair();
    const out = [...p.step(request(1, 2))];
    persistAll(p, out);
    expect(ofType(out, "reply").map((r) => r.msg)).toEqual([
      { type: "reply", client: "c0", seq: 1, result: { ok: false, error: "not-leader" }, epoch: 1 },
    ]);
    expect(ofType(out, "persist").filter((o) => o.ops.some((op) => op.type === "append"))).toEqual(
      [],
    );
    expect(p.status()).toMatchObject({ role: "campaigning", term: 1 });
    expect(p.status().details).toMatchObject({ clientEpochRefusals: 1 });
    p.assertInvariants();
    // Later requests, even with its own epoch, find no primary here.
    const again = ofType([...p.step(request(2, 1))], "reply");
    expect(again[0]?.msg.result).toMatchObject({ ok: false, error: "not-leader" });
    // The arbiter names the replica that won epoch 2: the old primary follows it.
    campaignAndAnswer(p, 1);
    expect(p.status()).toMatchObject({ role: "recovering", term: 2, leader: 1 });
    p.assertInvariants();
  });

  it("a client's epoch is never adopted by itself: if nobody won it, the primary goes on in the next", () => {
    const p = makeCore(0);
    persistAll(p, campaignAndAnswer(p, 0));
    expect(p.status()).toMatchObject({ role: "primary", term: 1 });
    const out = [...p.step(request(1, 9))];
    persistAll(p, out);
    expect(p.status()).toMatchObject({ role: "campaigning", term: 1 });
    // Nobody held epoch 2: this replica wins it (the arbiter decides, not the client).
    const won = campaignAndAnswer(p, 0);
    persistAll(p, won);
    expect(p.status()).toMatchObject({ role: "primary", term: 2 });
    // Still older than the client's 9: refused again, and the next epoch asked for.
    p.step(request(1, 9));
    expect(p.status()).toMatchObject({ role: "campaigning" });
    p.assertInvariants();
  });

  it("the planted bug old-epoch-client-served serves the newer client, and the invariant catches it", () => {
    const p = makeCore(0, { bug: "old-epoch-client-served" });
    persistAll(p, campaignAndAnswer(p, 0));
    const out = [...p.step(request(1, 2))];
    expect(ofType(out, "persist")).toHaveLength(1); // logged, as if still primary
    expect(p.status().role).toBe("primary");
    expect(() => p.assertInvariants()).toThrow(/live in epoch 1 after a client came from epoch 2/);
  });

  it("a request without an epoch (or an older one) is served as before", () => {
    const p = makeCore(0);
    persistAll(p, campaignAndAnswer(p, 0));
    persistAll(p, [...p.step(tick())]);
    expect(ofType([...p.step(request(1))], "persist")).toHaveLength(1);
    expect(ofType([...p.step(request(2, 0))], "persist")).toHaveLength(1);
    expect(p.status().role).toBe("primary");
  });
});

type Out = ClientOutput<PrimaryBackupWire>;

function makeClient(): PrimaryBackupClient {
  return new PrimaryBackupClient({
    clientId: "c1",
    config: simulatedCluster("primary-backup", 2, 1),
    random: createRandom(7),
    crypto: new NodeCrypto({ self: "c:c1", macKeys: new Map(), verifyKeys: new Map() }),
    retryTicks: 4,
  });
}

const sends = (out: readonly Out[]) =>
  out.flatMap((o) => (o.type === "send" ? [{ to: o.to, msg: o.msg }] : []));

/** Opens the client's session at whichever replica it asked, answered from `epoch`. */
function openSession(c: PrimaryBackupClient, epoch: number) {
  const first = sends(c.step({ type: "invoke", opId: 1, op: { kind: "command", value: ["x"] } }));
  expect(first[0]?.msg).toMatchObject({ type: "request", seq: 0, epoch: 0 });
  const reply: PbClientReply = {
    type: "reply",
    client: "c1",
    seq: 0,
    result: { ok: true, value: null },
    epoch,
  };
  const out = sends(c.step({ type: "response", from: first[0]!.to, msg: reply }));
  return { to: first[0]!.to, command: out[0]!.msg };
}

describe("the primary/backup client and epochs", () => {
  it("sends the highest epoch it has seen with every request", () => {
    const c = makeClient();
    const { command } = openSession(c, 4);
    expect(command).toMatchObject({ type: "request", seq: 1, epoch: 4 });
    expect(c.knownEpoch).toBe(4);
  });

  it("drops and counts a reply from an older epoch; the request stays pending and is retried", () => {
    const c = makeClient();
    const { to } = openSession(c, 4);
    const stale: PbClientReply = {
      type: "reply",
      client: "c1",
      seq: 1,
      result: { ok: true, value: "from a deposed primary" },
      epoch: 3,
    };
    expect(c.step({ type: "response", from: to, msg: stale })).toEqual([]);
    expect(c.stats()).toEqual({ staleEpochReplies: 1, epoch: 4 });
    // Not finished, and the sender is taken as not the primary: the request goes to the other
    // replica at the next tick, without waiting for the retry timeout (4 ticks).
    const retried = sends(c.step({ type: "tick", now: 1 }));
    expect(retried).toEqual([
      {
        to: 1 - to,
        msg: { type: "request", client: "c1", seq: 1, ackedBelow: 1, cmd: ["x"], epoch: 4 },
      },
    ]);
    // The answer from the current epoch finishes it; a newer epoch raises the known one.
    const fresh: PbClientReply = { ...stale, result: { ok: true, value: "ok" }, epoch: 5 };
    const done = c.step({ type: "response", from: 1 - to, msg: fresh });
    expect(done).toEqual([{ type: "done", opId: 1, result: { ok: true, value: "ok" } }]);
    expect(c.knownEpoch).toBe(5);
  });

  it("takes a reply without an epoch (the runtime's own refusals carry none)", () => {
    const c = makeClient();
    const { to } = openSession(c, 2);
    const busy: PbClientReply = {
      type: "reply",
      client: "c1",
      seq: 1,
      result: { ok: false, error: "busy", retryAfterMs: 10 },
    };
    c.step({ type: "response", from: to, msg: busy });
    expect(c.stats()).toEqual({ staleEpochReplies: 0, epoch: 2 });
  });
});

describe("primary/backup client message schemas", () => {
  it("accept an optional non-negative integer epoch and nothing else extra", () => {
    const base = { type: "request", client: "c1", seq: 1, ackedBelow: 1, cmd: 1 };
    expect(pbClientRequestSchema.parse(base)).toEqual(base);
    expect(pbClientRequestSchema.parse({ ...base, epoch: 3 })).toEqual({ ...base, epoch: 3 });
    expect(() => pbClientRequestSchema.parse({ ...base, epoch: -1 })).toThrow(/epoch/);
    expect(() => pbClientRequestSchema.parse({ ...base, epoch: "3" })).toThrow(/epoch/);
    expect(() => pbClientRequestSchema.parse({ ...base, view: 3 })).toThrow(/view/);
    const reply = { type: "queryReply", client: "c1", qid: 2, result: { ok: true, value: 1 } };
    expect(pbClientReplySchema.parse({ ...reply, epoch: 0 })).toEqual({ ...reply, epoch: 0 });
    expect(() => pbClientReplySchema.parse({ ...reply, epoch: 1.5 })).toThrow(/epoch/);
    expect(() => pbClientReplySchema.parse(null)).toThrow();
  });
});
