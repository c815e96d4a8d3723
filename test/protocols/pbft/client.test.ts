import { describe, expect, it } from "vitest";
import { simulatedCluster } from "../../../src/core/config.js";
import { createRandom } from "../../../src/core/prng.js";
import type { ClientOutput } from "../../../src/core/protocol.js";
import type { Value } from "../../../src/core/value.js";
import { makeReply } from "../../../src/protocols/pbft/authenticator.js";
import { PbftClient } from "../../../src/protocols/pbft/client.js";
import type { Reply } from "../../../src/protocols/pbft/messages.js";
import type { PbftWire } from "../../../src/protocols/pbft/wire.js";
import { testCluster } from "./fixtures.js";

/**
 * PbftClient (client.ts) against hand-made replies from four replicas with real keys: how many
 * matching replies each kind of request needs, and that forged, misaddressed or wrong replies
 * never reach `done`. Every output of every step is printed and compared.
 */
const keys = testCluster(4, ["alice", "bob"]);

function client(settings: { [key: string]: Value } = {}, retryTicks = 5) {
  return new PbftClient({
    clientId: "alice",
    config: simulatedCluster("pbft", 4, 1, settings),
    random: createRandom(1),
    crypto: keys.client("alice"),
    retryTicks,
  });
}

function show(outs: readonly ClientOutput<PbftWire>[]): string {
  return outs
    .map((o) => {
      switch (o.type) {
        case "send":
        case "broadcast": {
          const r = o.msg;
          const to = o.type === "send" ? `send to=${o.to}` : "broadcast";
          return `${to} request ts=${r.timestamp}${r.readOnly ? " ro" : ""} op=${JSON.stringify(r.op)}`;
        }
        case "done":
          return `done op=${o.opId} ${JSON.stringify(o.result)}${o.indeterminate ? " indeterminate" : ""}`;
        default:
          return JSON.stringify(o);
      }
    })
    .join("\n");
}

/** A reply from `replica` (signed with its own key unless `by` says who really made it). */
function reply(
  replica: number,
  timestamp: number,
  result: Value,
  opts: { full?: boolean; view?: number; by?: number; client?: string } = {},
): Reply {
  return makeReply(
    keys.replica(opts.by ?? replica),
    {
      view: opts.view ?? 0,
      timestamp,
      client: opts.client ?? "alice",
      replica,
      tentative: false,
    },
    result,
    opts.full ?? true,
  );
}

const ok = (value: Value) => ({ ok: true, value }) as Value;

function respond(c: PbftClient, from: number, r: Reply): string {
  return show(c.step({ type: "response", from, msg: r }));
}

/** Opens alice's session: invoke, then 2f+1 replies for timestamp 0. */
function opened(settings: { [key: string]: Value } = {}): PbftClient {
  const c = client(settings);
  c.step({
    type: "invoke",
    opId: 1,
    op: { kind: "command", value: { op: "put", key: "x", value: 7 } },
  });
  for (const r of [0, 1, 2]) c.step({ type: "response", from: r, msg: reply(r, 0, ok(null)) });
  return c;
}

describe("PbftClient", () => {
  it("opens its session, then sends the command to the primary", () => {
    const c = client();
    expect(
      show(
        c.step({
          type: "invoke",
          opId: 1,
          op: { kind: "command", value: { op: "put", key: "x", value: 7 } },
        }),
      ),
    ).toMatchInlineSnapshot(`"send to=0 request ts=0 op={"kind":"command","value":null}"`);
    expect(respond(c, 0, reply(0, 0, ok(null)))).toBe("");
    expect(respond(c, 1, reply(1, 0, ok(null), { full: false }))).toBe("");
    expect(respond(c, 2, reply(2, 0, ok(null), { full: false }))).toMatchInlineSnapshot(
      `"send to=0 request ts=1 op={"kind":"command","value":{"op":"put","key":"x","value":7}}"`,
    );
  });

  it("with read-only queries on (the default), an ordered request needs 2f+1 matching replies", () => {
    const c = opened();
    expect(respond(c, 1, reply(1, 1, ok(7)))).toBe("");
    expect(respond(c, 2, reply(2, 1, ok(7), { full: false }))).toBe("");
    expect(respond(c, 3, reply(3, 1, ok(7), { full: false }))).toMatchInlineSnapshot(
      `"done op=1 {"ok":true,"value":7}"`,
    );
  });

  it("with read-only queries off, f+1 matching committed replies are enough", () => {
    const c = opened({ readOnlyQueries: false });
    expect(respond(c, 1, reply(1, 1, ok(7)))).toBe("");
    expect(respond(c, 2, reply(2, 1, ok(7), { full: false }))).toMatchInlineSnapshot(
      `"done op=1 {"ok":true,"value":7}"`,
    );
  });

  it("a forged, misaddressed, repeated or wrong reply never completes a request", () => {
    const c = opened({ readOnlyQueries: false });
    // Made by replica 3 but claiming to be replica 2 (its MAC is not replica 2's).
    expect(respond(c, 2, reply(2, 1, ok(8), { by: 3 }))).toBe("");
    // A reply from replica 2 arriving from replica 3's address.
    expect(respond(c, 3, reply(2, 1, ok(8)))).toBe("");
    // A reply for bob.
    expect(respond(c, 1, reply(1, 1, ok(8), { client: "bob" }))).toBe("");
    // A full result that does not match the digest it claims.
    const lie = { ...reply(1, 1, ok(7)), result: ok(8) };
    expect(respond(c, 1, lie)).toBe("");
    // One Byzantine replica's wrong result, sent twice: still one vote.
    expect(respond(c, 3, reply(3, 1, ok(8)))).toBe("");
    expect(respond(c, 3, reply(3, 1, ok(8)))).toBe("");
    // One honest reply does not match it; f+1 honest ones decide the true result.
    expect(respond(c, 1, reply(1, 1, ok(7)))).toBe("");
    expect(respond(c, 2, reply(2, 1, ok(7), { full: false }))).toMatchInlineSnapshot(
      `"done op=1 {"ok":true,"value":7}"`,
    );
  });

  it("a read-only query goes to every replica and needs 2f+1 matching replies", () => {
    const c = opened();
    // The command (ts 1) completes first so the query gets ts 2.
    for (const r of [1, 2, 3]) c.step({ type: "response", from: r, msg: reply(r, 1, ok(7)) });
    expect(
      show(c.step({ type: "invoke", opId: 2, op: { kind: "query", value: { get: "x" } } })),
    ).toMatchInlineSnapshot(`"broadcast request ts=2 ro op={"kind":"query","value":{"get":"x"}}"`);
    expect(respond(c, 0, reply(0, 2, ok(7)))).toBe("");
    expect(respond(c, 1, reply(1, 2, ok(7)))).toBe("");
    expect(respond(c, 2, reply(2, 2, ok(7)))).toMatchInlineSnapshot(
      `"done op=2 {"ok":true,"value":7}"`,
    );
  });

  it("a read-only query whose replies conflict is sent again as an ordered request", () => {
    const c = opened();
    for (const r of [1, 2, 3]) c.step({ type: "response", from: r, msg: reply(r, 1, ok(7)) });
    c.step({ type: "invoke", opId: 2, op: { kind: "query", value: { get: "x" } } });
    expect(respond(c, 0, reply(0, 2, ok(7)))).toBe("");
    expect(respond(c, 1, reply(1, 2, ok(7)))).toBe("");
    expect(respond(c, 2, reply(2, 2, ok(6)))).toBe("");
    // 2 against 2: 2f+1 matching can no longer happen.
    expect(respond(c, 3, reply(3, 2, ok(6)))).toMatchInlineSnapshot(
      `"send to=0 request ts=3 op={"kind":"query","value":{"get":"x"}}"`,
    );
    // Late read-only replies for ts 2 are ignored; the ordered one (ts 3) decides.
    expect(respond(c, 2, reply(2, 2, ok(7)))).toBe("");
    for (const r of [1, 2]) expect(respond(c, r, reply(r, 3, ok(7)))).toBe("");
    expect(respond(c, 3, reply(3, 3, ok(7)))).toMatchInlineSnapshot(
      `"done op=2 {"ok":true,"value":7}"`,
    );
  });

  it("a request not answered in time is broadcast to every replica", () => {
    const c = opened();
    for (let t = 0; t < 4; t++) expect(show(c.step({ type: "tick", now: t }))).toBe("");
    expect(show(c.step({ type: "tick", now: 5 }))).toMatchInlineSnapshot(
      `"broadcast request ts=1 op={"kind":"command","value":{"op":"put","key":"x","value":7}}"`,
    );
  });

  it("enough matching digests without the full result: the client waits two ticks, then asks everyone", () => {
    const c = opened();
    for (const r of [0, 2, 3]) expect(respond(c, r, reply(r, 1, ok(7), { full: false }))).toBe("");
    // The designated replica (1) is only slow, usually: no broadcast at once, one after 2 ticks.
    expect(show(c.step({ type: "tick", now: 1 }))).toBe("");
    expect(show(c.step({ type: "tick", now: 2 }))).toMatchInlineSnapshot(
      `"broadcast request ts=1 op={"kind":"command","value":{"op":"put","key":"x","value":7}}"`,
    );
    expect(respond(c, 1, reply(1, 1, ok(7)))).toMatchInlineSnapshot(
      `"done op=1 {"ok":true,"value":7}"`,
    );
  });

  it("a full result arriving within the grace completes the request with nothing sent again", () => {
    const c = opened();
    for (const r of [0, 2, 3]) expect(respond(c, r, reply(r, 1, ok(7), { full: false }))).toBe("");
    expect(show(c.step({ type: "tick", now: 1 }))).toBe("");
    expect(respond(c, 1, reply(1, 1, ok(7)))).toMatchInlineSnapshot(
      `"done op=1 {"ok":true,"value":7}"`,
    );
    for (let t = 2; t < 12; t++) expect(show(c.step({ type: "tick", now: t }))).toBe("");
  });
});

describe("PbftClient with a spare outside the membership (PbftSettings.members)", () => {
  const keys5 = testCluster(5, ["alice"]);
  const settings = { members: [0, 1, 2, 4], readOnlyQueries: false };
  const from = (replica: number, timestamp: number, result: Value, full = true) =>
    makeReply(
      keys5.replica(replica),
      { view: 0, timestamp, client: "alice", replica, tentative: false },
      result,
      full,
    );

  it("never counts the spare's reply: f+1 of the members decide", () => {
    const c = new PbftClient({
      clientId: "alice",
      config: simulatedCluster("pbft", 5, 1, settings),
      random: createRandom(1),
      crypto: keys5.client("alice"),
      retryTicks: 5,
    });
    c.step({ type: "invoke", opId: 1, op: { kind: "command", value: null } });
    for (const r of [0, 1]) c.step({ type: "response", from: r, msg: from(r, 0, ok(null)) });
    // Replica 3 is a spare: its (validly signed) reply is not a vote.
    expect(respond(c, 3, from(3, 1, ok(null)))).toBe("");
    expect(respond(c, 1, from(1, 1, ok(null)))).toBe("");
    expect(respond(c, 4, from(4, 1, ok(null), false))).toMatchInlineSnapshot(
      `"done op=1 {"ok":true,"value":null}"`,
    );
  });
});

describe("PbftClient learning a membership change from replies", () => {
  const keys5 = testCluster(5, ["alice"]);
  const settings = { readOnlyQueries: false };
  /** A reply of `replica` that carries the membership `config` (replicas do once a change took effect). */
  const from = (
    replica: number,
    timestamp: number,
    result: Value,
    config?: { epoch: number; members: number[] },
  ) =>
    makeReply(
      keys5.replica(replica),
      {
        view: 0,
        timestamp,
        client: "alice",
        replica,
        tentative: false,
        ...(config ? { config } : {}),
      },
      result,
      true,
    );
  const removed4 = { epoch: 1, members: [0, 1, 2, 3] };

  function opened(): PbftClient {
    const c = new PbftClient({
      clientId: "alice",
      config: simulatedCluster("pbft", 5, 1, settings),
      random: createRandom(1),
      crypto: keys5.client("alice"),
      retryTicks: 5,
    });
    c.step({ type: "invoke", opId: 1, op: { kind: "command", value: null } });
    for (const r of [0, 1]) c.step({ type: "response", from: r, msg: from(r, 0, ok(null)) });
    return c;
  }

  it("adopts a membership f+1 known members report, then never counts a removed replica", () => {
    const c = opened();
    // One member's word is not enough (it may lie); its reply is not a vote of the old epoch either.
    expect(respond(c, 0, from(0, 1, ok(1), removed4))).toBe("");
    // A second member reports the same membership: adopted; the request is asked again of everyone.
    expect(respond(c, 1, from(1, 1, ok(1), removed4))).toMatchInlineSnapshot(
      `"broadcast request ts=1 op={"kind":"command","value":null}"`,
    );
    // Replica 4 was removed: its replies are no votes any more, so with a lying member (3) it
    // cannot make up the f+1 = 2 matching replies for a wrong result.
    expect(respond(c, 4, from(4, 1, ok(9)))).toBe("");
    expect(respond(c, 4, from(4, 1, ok(9), removed4))).toBe("");
    expect(respond(c, 3, from(3, 1, ok(9), removed4))).toBe("");
    expect(respond(c, 2, from(2, 1, ok(1), removed4))).toMatchInlineSnapshot(
      `"done op=1 {"ok":true,"value":1}"`,
    );
  });

  it("one lying member cannot make it adopt a membership", () => {
    const c = opened();
    const fake = { epoch: 7, members: [1, 2, 3, 4] };
    expect(respond(c, 4, from(4, 1, ok(9), fake))).toBe("");
    expect(respond(c, 4, from(4, 1, ok(9), fake))).toBe("");
    // Still the configured membership: two matching epoch-0 replies decide.
    expect(respond(c, 0, from(0, 1, ok(1)))).toBe("");
    expect(respond(c, 1, from(1, 1, ok(1)))).toMatchInlineSnapshot(
      `"done op=1 {"ok":true,"value":1}"`,
    );
  });
});
