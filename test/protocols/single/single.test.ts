import { describe, expect, it } from "vitest";
import type {
  ClientReplyMessage,
  ClientRequestMessage,
  ReplyResult,
} from "../../../src/core/client-messages.js";
import { simulatedCluster } from "../../../src/core/config.js";
import { DurableStateBuilder } from "../../../src/core/durable-state-builder.js";
import { limits } from "../../../src/core/limits.js";
import type { LogEntry } from "../../../src/core/log-entry.js";
import { createRandom } from "../../../src/core/prng.js";
import {
  type DurableState,
  emptyDurableState,
  type PersistOp,
  type ProtocolDefinition,
} from "../../../src/core/protocol.js";
import { ReplicatedService } from "../../../src/core/replicated-service.js";
import type { Value } from "../../../src/core/value.js";
import { NodeCrypto } from "../../../src/platform/node-crypto.js";
import { singleDurableRules } from "../../../src/protocols/single/contract.js";
import {
  createSingleProtocol,
  type SingleWire,
  singleProtocol,
} from "../../../src/protocols/single/index.js";
import { type ReplicaEnvironment, ReplicaNode } from "../../../src/replica/replica-node.js";
import { kvService } from "../../../src/state-machines/kv/index.js";

type Event =
  | { kind: "reply"; client: string; msg: ClientReplyMessage }
  | { kind: "persist"; id: number; ops: readonly PersistOp[] };

/** Records replies and persists in the order the node hands them out. */
class FakeEnv implements ReplicaEnvironment<SingleWire> {
  readonly events: Event[] = [];
  sendPeer(): void {
    throw new Error("a single replica has no peers");
  }
  sendClient(client: string, msg: ClientReplyMessage): void {
    this.events.push({ kind: "reply", client, msg });
  }
  persist(id: number, ops: readonly PersistOp[]): void {
    this.events.push({ kind: "persist", id, ops });
  }
  replies(): ClientReplyMessage[] {
    return this.events.flatMap((e) => (e.kind === "reply" ? [e.msg] : []));
  }
  persists(): { id: number; ops: readonly PersistOp[] }[] {
    return this.events.flatMap((e) => (e.kind === "persist" ? [e] : []));
  }
  lastPersistId(): number {
    return this.persists().at(-1)?.id ?? 0;
  }
}

const crypto = new NodeCrypto({ self: "r0", macKeys: new Map(), verifyKeys: new Map() });

function start(
  options: {
    durable?: DurableState;
    settings?: { [key: string]: Value };
    protocol?: ProtocolDefinition<SingleWire>;
    seed?: number;
  } = {},
) {
  const durable = options.durable ?? emptyDurableState;
  const config = simulatedCluster("single", 1, 0, options.settings ?? {});
  const service = new ReplicatedService(kvService, config.sessions);
  if (durable.snapshot) service.restore(durable.snapshot.data);
  const core = (options.protocol ?? singleProtocol).createReplica({
    id: 0,
    config,
    random: createRandom(options.seed ?? 1),
    crypto,
    durable,
  });
  const env = new FakeEnv();
  const snapshots: number[] = [];
  const node = new ReplicaNode<SingleWire>(core, service, env, {
    onSnapshot: (index) => snapshots.push(index),
  });
  const send = (client: string, msg: ClientRequestMessage) =>
    node.handle({ type: "client", client, msg, mono: 0 });
  const register = (client: string) =>
    send(client, { type: "request", client, seq: 0, ackedBelow: 0, cmd: null });
  const command = (client: string, seq: number, cmd: Value, ackedBelow = seq) =>
    send(client, { type: "request", client, seq, ackedBelow, cmd });
  const query = (client: string, qid: number, q: Value) =>
    send(client, { type: "query", client, qid, q });
  /** Reports every persist so far as durable. */
  const sync = () => node.durable(env.lastPersistId());
  return { node, env, service, core, snapshots, send, register, command, query, sync };
}

/** What a replica finds on restart if exactly the persists with id ≤ upTo reached the disk. */
function recover(env: FakeEnv, upTo = Number.POSITIVE_INFINITY): DurableState {
  const builder = new DurableStateBuilder(singleDurableRules);
  for (const p of env.persists()) if (p.id <= upTo) for (const op of p.ops) builder.apply(op);
  return builder.build();
}

const putCmd = (key: string, value: string) => ({ op: "put", key, value });

/** The entries appended by a persist output. */
function appended(p: { ops: readonly PersistOp[] } | undefined): LogEntry[] {
  return (p?.ops ?? []).flatMap((op) => (op.type === "append" ? op.entries : []));
}
const reply = (client: string, seq: number, result: ReplyResult): ClientReplyMessage => ({
  type: "reply",
  client,
  seq,
  result,
});
const kvOk = (value: Value): ReplyResult => ({ ok: true, value });

describe("single protocol: durability before replies", () => {
  it("logs a request, and replies only after its persist is reported durable", () => {
    const r = start();
    r.node.handle({ type: "tick", now: 500, mono: 500 });
    r.register("c");
    expect(r.env.replies()).toEqual([]);
    const [p1] = r.env.persists();
    expect(p1!.id).toBe(1);
    expect(p1!.ops).toHaveLength(1);
    expect(p1!.ops[0]!.type).toBe("append");
    const e = appended(p1)[0]!;
    expect(e).toMatchObject({
      index: 1,
      term: 1,
      time: 500,
      payload: { type: "commands", commands: [{ client: "c", seq: 0, ackedBelow: 0, cmd: null }] },
    });
    r.node.durable(1);
    expect(r.env.replies()).toEqual([reply("c", 0, kvOk(null))]);

    r.command("c", 1, putCmd("k", "v1"), 1);
    expect(r.env.replies()).toHaveLength(1);
    expect(r.env.lastPersistId()).toBe(2);
    expect(r.service.appliedIndex).toBe(1); // not applied before it is durable
    r.node.durable(2);
    expect(r.env.replies().at(-1)).toEqual(reply("c", 1, kvOk({ ok: true, prev: null })));
    expect(r.service.appliedIndex).toBe(2);
    // every reply event comes after the persist of its entry
    const kinds = r.env.events.map((x) =>
      x.kind === "persist" ? `p${x.id}` : `r${(x.msg as { seq: number }).seq}`,
    );
    expect(kinds).toEqual(["p1", "r0", "p2", "r1"]);
    expect(r.core.status()).toMatchObject({ role: "leader", commitIndex: 2, lastIndex: 2 });
  });

  it("a persist reported durable covers all earlier ones, applied in log order", () => {
    const r = start();
    r.register("a");
    r.register("b");
    r.command("a", 1, putCmd("x", "1"));
    expect(r.env.persists().map((p) => p.id)).toEqual([1, 2, 3]);
    r.node.durable(2);
    expect(r.env.replies().map((m) => m.client)).toEqual(["a", "b"]);
    r.node.durable(3);
    expect(r.env.replies()).toHaveLength(3);
  });

  it("the planted bug ack-before-sync replies before the write is durable", () => {
    const correct = start();
    const buggy = start({ protocol: createSingleProtocol({ plantedBug: "ack-before-sync" }) });
    for (const r of [correct, buggy]) {
      r.register("c");
      r.command("c", 1, putCmd("k", "v"));
    }
    expect(correct.env.replies()).toEqual([]);
    expect(buggy.env.replies()).toEqual([
      reply("c", 0, kvOk(null)),
      reply("c", 1, kvOk({ ok: true, prev: null })),
    ]);
    // the buggy replica acknowledged a write that a crash right now would lose
    expect(recover(buggy.env, 0).entries).toEqual([]);
    expect(buggy.env.events.map((e) => e.kind)).toEqual(["persist", "reply", "persist", "reply"]);
    correct.sync();
    expect(correct.env.replies()).toEqual(buggy.env.replies());
  });

  it("answers each request once even when the client retries before durability", () => {
    const r = start();
    r.register("c");
    r.sync();
    r.command("c", 1, putCmd("k", "v"));
    r.command("c", 1, putCmd("k", "v"));
    r.sync();
    expect(r.env.replies().filter((m) => (m as { seq: number }).seq === 1)).toEqual([
      reply("c", 1, kvOk({ ok: true, prev: null })),
    ]);
    // a retry after the answer is logged again and answered from the session table
    r.command("c", 1, putCmd("k", "v"));
    r.sync();
    expect(r.env.replies().at(-1)).toEqual(reply("c", 1, kvOk({ ok: true, prev: null })));
    expect(r.service.query({ op: "get", key: "k" })).toEqual(kvOk({ ok: true, value: "v" }));
  });

  it("refuses admin requests at once", () => {
    const r = start();
    r.send("c", { type: "admin", client: "c", aid: 4, admin: { op: "add", replica: 1 } });
    expect(r.env.replies()).toEqual([
      {
        type: "adminReply",
        client: "c",
        aid: 4,
        result: {
          ok: false,
          error: "invalid",
          message: "a single replica has no membership to change",
        },
      },
    ]);
    expect(r.env.persists()).toEqual([]);
  });

  it("stamps entries with a time that never decreases, from the ticks", () => {
    const r = start();
    r.node.handle({ type: "tick", now: 100, mono: 100 });
    r.register("c");
    r.node.handle({ type: "tick", now: 50, mono: 50 }); // a clock that steps back
    r.command("c", 1, putCmd("k", "v"));
    r.node.handle({ type: "tick", now: 300, mono: 300 });
    r.command("c", 2, putCmd("k", "w"));
    const times = r.env
      .persists()
      .flatMap((p) =>
        p.ops.flatMap((op) => (op.type === "append" ? op.entries.map((e) => e.time) : [])),
      );
    expect(times).toEqual([100, 100, 300]);
  });
});

describe("single protocol: queries", () => {
  it("answers a query at the commit index: acknowledged writes are seen, unsynced ones not", () => {
    const r = start();
    r.register("c");
    r.command("c", 1, putCmd("k", "v1"));
    r.sync();
    r.command("c", 2, putCmd("k", "v2")); // logged, not durable, not acknowledged
    r.query("c", 1, { op: "get", key: "k" });
    expect(r.env.replies().at(-1)).toEqual({
      type: "queryReply",
      client: "c",
      qid: 1,
      result: kvOk({ ok: true, value: "v1" }),
    });
    r.sync();
    r.query("c", 2, { op: "get", key: "k" });
    expect(r.env.replies().at(-1)).toEqual({
      type: "queryReply",
      client: "c",
      qid: 2,
      result: kvOk({ ok: true, value: "v2" }),
    });
    // queries are not logged
    expect(r.env.persists()).toHaveLength(3);
  });

  it("answers an invalid query with invalid", () => {
    const r = start();
    r.query("c", 9, { op: "scan" });
    expect(r.env.replies()).toEqual([
      {
        type: "queryReply",
        client: "c",
        qid: 9,
        result: expect.objectContaining({ ok: false, error: "invalid" }),
      },
    ]);
  });
});

describe("single protocol: snapshots", () => {
  it("takes and persists a snapshot every snapshotEvery entries", () => {
    const r = start({ settings: { snapshotEvery: 2 } });
    r.register("c");
    r.sync();
    expect(r.snapshots).toEqual([]);
    for (let seq = 1; seq <= 4; seq++) {
      r.command("c", seq, putCmd("k", `v${seq}`));
      r.sync();
    }
    expect(r.snapshots).toEqual([2, 4]);
    const snapshotOps = r.env
      .persists()
      .flatMap((p) => p.ops.flatMap((op) => (op.type === "snapshot" ? [op] : [])));
    expect(snapshotOps.map((op) => op.meta)).toEqual([
      { index: 2, config: null, time: 0 },
      { index: 4, config: null, time: 0 },
    ]);
    const copy = new ReplicatedService(kvService);
    copy.restore(snapshotOps[1]!.data);
    expect(copy.appliedIndex).toBe(4);
    expect(copy.query({ op: "get", key: "k" })).toEqual(kvOk({ ok: true, value: "v3" }));
    // replies are unaffected
    expect(r.env.replies()).toHaveLength(5);
  });

  it("never snapshots with snapshotEvery 0", () => {
    const r = start({ settings: { snapshotEvery: 0 } });
    r.register("c");
    for (let seq = 1; seq <= 5; seq++) r.command("c", seq, putCmd("k", "v"));
    r.sync();
    expect(r.snapshots).toEqual([]);
  });

  it("rejects bad settings", () => {
    expect(() => start({ settings: { snapshotEvery: -1 } })).toThrow(/snapshotEvery/);
    expect(() => start({ settings: { maxBatchCommands: 0 } })).toThrow(/at least 1/);
    expect(() => start({ settings: { batch: 3 } })).toThrow(/unknown setting/);
  });
});

describe("single protocol: restart", () => {
  function runSome(settings: { [key: string]: Value } = {}) {
    const r = start({ settings });
    r.node.handle({ type: "tick", now: 1000, mono: 1000 });
    r.register("c");
    r.sync();
    r.command("c", 1, putCmd("k", "v1"));
    r.sync();
    r.command("c", 2, putCmd("j", "w"));
    r.sync();
    r.command("c", 3, putCmd("k", "v3"));
    r.sync();
    expect(r.env.replies().at(-1)).toEqual(reply("c", 3, kvOk({ ok: true, prev: "v1" })));
    return r;
  }

  const variants: { [key: string]: Value }[] = [{}, { snapshotEvery: 2 }];
  for (const settings of variants) {
    it(`re-applies the recovered log and dedups a retried command (${JSON.stringify(settings)})`, () => {
      const before = runSome(settings);
      const durable = recover(before.env);
      if ("snapshotEvery" in settings) {
        expect(durable.snapshot?.meta.index).toBe(4);
        expect(durable.entries).toEqual([]);
      } else {
        expect(durable.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
      }
      const after = start({ durable, settings, seed: 2 });
      // the client never saw the reply to seq 3 and retries it
      // (replaying a recovered entry may answer it at once: that result is already durable)
      after.command("c", 3, putCmd("k", "v3"), 3);
      after.sync();
      expect(after.env.replies()).toEqual([reply("c", 3, kvOk({ ok: true, prev: "v1" }))]);
      expect(after.service.appliedIndex).toBe(5);
      // state equals the state before the crash
      after.query("c", 1, { op: "get", key: "k" });
      expect(after.env.replies().at(-1)).toMatchObject({ result: kvOk({ ok: true, value: "v3" }) });
      // a new command runs normally
      after.command("c", 4, putCmd("k", "v4"), 4);
      after.sync();
      expect(after.env.replies().at(-1)).toEqual(reply("c", 4, kvOk({ ok: true, prev: "v3" })));
    });
  }

  it("recovers a snapshot plus the log tail after it", () => {
    const before = runSome({ snapshotEvery: 3 });
    const durable = recover(before.env);
    expect(durable.snapshot?.meta.index).toBe(3);
    expect(durable.entries.map((e) => e.index)).toEqual([4]);
    const after = start({ durable, settings: { snapshotEvery: 3 } });
    expect(after.service.appliedIndex).toBe(3);
    after.query("c", 1, { op: "get", key: "k" });
    expect(after.service.appliedIndex).toBe(4);
    expect(after.env.replies()).toEqual([
      { type: "queryReply", client: "c", qid: 1, result: kvOk({ ok: true, value: "v3" }) },
    ]);
    expect(after.core.status()).toMatchObject({ commitIndex: 4, lastIndex: 4 });
  });

  it("loses exactly the unsynced tail, which was never acknowledged", () => {
    const r = start();
    r.register("c");
    r.command("c", 1, putCmd("k", "v1"));
    r.sync();
    r.command("c", 2, putCmd("k", "v2"));
    expect(r.env.replies()).toHaveLength(2);
    const durable = recover(r.env, 2); // the crash loses persist 3
    const after = start({ durable });
    after.query("c", 1, { op: "get", key: "k" });
    expect(after.env.replies()).toEqual([
      { type: "queryReply", client: "c", qid: 1, result: kvOk({ ok: true, value: "v1" }) },
    ]);
    // the retry of the lost command now executes, once
    after.command("c", 2, putCmd("k", "v2"), 2);
    after.sync();
    expect(after.env.replies().at(-1)).toEqual(reply("c", 2, kvOk({ ok: true, prev: "v1" })));
  });

  it("continues entry times after a restart from the log", () => {
    const before = runSome();
    const after = start({ durable: recover(before.env) });
    after.command("c", 4, putCmd("k", "v4"), 4);
    expect(appended(after.env.persists()[0])[0]!.time).toBe(1000);
  });

  // BUG: after a restart from a snapshot with no log entries after it, SingleCore starts with
  // lastTime = 0 (it only looks at recovered entries), so the next entry can carry a time below
  // the entries already in the snapshot: log time goes backwards.
  it("continues entry times after a restart from a snapshot alone", () => {
    const before = runSome({ snapshotEvery: 2 });
    const durable = recover(before.env);
    expect(durable.entries).toEqual([]);
    const after = start({ durable, settings: { snapshotEvery: 2 } });
    after.command("c", 4, putCmd("k", "v4"), 4);
    expect(appended(after.env.persists()[0])[0]!.time).toBeGreaterThanOrEqual(1000);
  });

  it("rejects a replica id other than 0", () => {
    expect(() =>
      singleProtocol.createReplica({
        id: 1,
        config: simulatedCluster("single", 1, 0),
        random: createRandom(1),
        crypto,
        durable: emptyDurableState,
      }),
    ).toThrow(/replica id must be 0/);
  });
});

describe("single protocol definition", () => {
  it("needs one replica and admits no peer messages", () => {
    expect(singleProtocol.name).toBe("single");
    expect(singleProtocol.replicaCount.replicasFor(3)).toBe(1);
    expect(() => singleProtocol.schemas.peer.parse({ type: "anything" })).toThrow();
    expect(
      singleProtocol.schemas.request.parse({
        type: "request",
        client: "c",
        seq: 1,
        ackedBelow: 1,
        cmd: null,
      }),
    ).toBeTruthy();
    expect(() =>
      singleProtocol.schemas.request.parse({
        type: "request",
        client: "c",
        seq: -1,
        ackedBelow: 0,
        cmd: null,
      }),
    ).toThrow();
  });

  it("works end to end with its own client", () => {
    const r = start();
    const client = singleProtocol.createClient({
      clientId: "cli",
      config: simulatedCluster("single", 1, 0),
      random: createRandom(3),
      crypto,
    });
    const done: unknown[] = [];
    const pump = (outs: ReturnType<typeof client.step>) => {
      for (const o of outs) {
        if (o.type === "done") done.push(o);
        else r.send(client.clientId, o.msg);
      }
    };
    pump(
      client.step({ type: "invoke", opId: 1, op: { kind: "command", value: putCmd("a", "1") } }),
    );
    for (let i = 0; i < 4; i++) {
      r.sync();
      const replies = r.env.replies().splice(0);
      r.env.events.length = 0;
      for (const msg of replies) pump(client.step({ type: "response", from: 0, msg }));
    }
    pump(
      client.step({
        type: "invoke",
        opId: 2,
        op: { kind: "query", value: { op: "get", key: "a" } },
      }),
    );
    for (const msg of r.env.replies()) pump(client.step({ type: "response", from: 0, msg }));
    expect(done).toEqual([
      { type: "done", opId: 1, result: kvOk({ ok: true, prev: null }) },
      { type: "done", opId: 2, result: kvOk({ ok: true, value: "1" }) },
    ]);
  });
});

describe("single protocol: contract glue", () => {
  it("declares its status: always leads, never campaigns, no membership", () => {
    const r = start();
    const status = r.core.status();
    expect(singleProtocol.status.leads(status)).toBe(true);
    expect(singleProtocol.status.campaigning(status)).toBe(false);
    expect(singleProtocol.status.members(status)).toBeUndefined();
    expect(singleProtocol.status.roles).toContain(status.role);
  });

  it("validates its settings without building a core", () => {
    const good = simulatedCluster("single", 1, 0, { snapshotEvery: 5 });
    expect(singleProtocol.validateSettings(good)).toEqual([]);
    const bad = simulatedCluster("single", 1, 0, { snapshotEvery: -1, nope: 1 });
    expect(singleProtocol.validateSettings(bad).join("; ")).toMatch(
      /snapshotEvery.*nope|nope.*snapshotEvery/,
    );
    expect(singleProtocol.validateSettings(simulatedCluster("single", 2, 0))).toEqual([
      "single: exactly one replica",
    ]);
  });

  it("answers busy beyond the awaiting bound and logs nothing for those requests", () => {
    const r = start({ settings: { maxBatchCommands: 1_000_000 } });
    r.node.handle({ type: "tick", now: 1, mono: 1 });
    for (let seq = 1; seq <= limits.singleAwaiting + 2; seq++)
      r.command("c", seq, putCmd("k", "v"));
    const busy = r.env.replies().filter((m) => m.type === "reply" && !m.result.ok);
    expect(busy.map((m) => (m.type === "reply" ? m.seq : 0))).toEqual([
      limits.singleAwaiting + 1,
      limits.singleAwaiting + 2,
    ]);
    expect(busy[0]).toMatchObject({ result: { ok: false, error: "busy" } });
    r.core.assertInvariants?.();
  });

  it("assertInvariants holds through a run, and catches a commit index beyond the log", () => {
    const r = start();
    r.node.handle({ type: "tick", now: 1, mono: 1 });
    r.register("c");
    r.core.assertInvariants?.();
    r.sync();
    r.command("c", 1, putCmd("k", "v"));
    r.sync();
    r.core.assertInvariants?.();
    // Corrupt its state as a bug would: the check must notice.
    (r.core as unknown as { committed: number }).committed = 99;
    expect(() => r.core.assertInvariants?.()).toThrow(/single invariant: commit index 99 beyond/);
  });
});
