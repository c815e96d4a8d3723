import { describe, expect, it } from "vitest";
import type { LogEntry } from "../../../src/core/log-entry.js";
import type { AppendMessage } from "../../../src/protocols/primary-backup/index.js";
import {
  campaignAndAnswer,
  deliver,
  makeCore,
  type Out,
  ofType,
  pairedPair,
  persistAll,
  sentTo,
  tick,
} from "./harness.js";

const request = (seq: number, cmd = ["put", "k", seq]) =>
  ({
    type: "client",
    client: "c0",
    mono: 0,
    msg: { type: "request", client: "c0", seq, ackedBelow: seq, cmd },
  }) as const;

describe("primary/backup: going live", () => {
  it("asks the arbiter for the next epoch only after failTicks of silence and once its asking is durable", () => {
    const core = makeCore(0);
    let ticks = 0;
    let asked: Out[] = [];
    let askedPersisted = false;
    while (asked.length === 0 && ticks < 50) {
      ticks++;
      const out = [...core.step(tick())];
      asked = ofType(out, "external");
      for (const p of ofType(out, "persist")) {
        // The campaign first writes `asked` to disk; nothing goes to the arbiter until durable.
        expect(p.ops[0]).toMatchObject({ type: "hardState", state: { asked: 1 } });
        expect(asked).toEqual([]);
        askedPersisted = true;
      }
      persistAll(core, out);
    }
    expect(askedPersisted).toBe(true);
    expect(ticks).toBeGreaterThan(4); // failTicks
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ request: { epoch: 1, replica: 0 } });
    expect(core.status().role).toBe("campaigning");
  });

  it("the winner persists its epoch and an epoch-start entry, then serves; the loser follows it and says why", () => {
    const winner = makeCore(0);
    const out = campaignAndAnswer(winner, 0);
    const persisted = ofType(out, "persist").flatMap((p) => p.ops);
    expect(persisted[0]).toMatchObject({ type: "hardState", state: { epoch: 1, eligible: true } });
    expect(persisted[1]).toMatchObject({ type: "append" });
    expect(winner.status()).toMatchObject({ role: "primary", term: 1, leader: 0 });
    const append = sentTo(out, 1)[0] as AppendMessage;
    expect(append).toMatchObject({ type: "append", epoch: 1, prevIndex: 0, paired: false });
    expect(append.entries[0]).toMatchObject({ index: 1, term: 1, payload: { type: "noop" } });

    const loser = makeCore(1);
    campaignAndAnswer(loser, 0);
    expect(loser.status()).toMatchObject({ role: "recovering", term: 1, leader: 0 });
    expect(loser.status().details).toMatchObject({
      eligible: false,
      lastLoss: "lost epoch 1 to replica 0; rejoining as its backup",
    });
  });

  it("a lost arbiter answer is never a win: the replica asks again and does not serve", () => {
    const core = makeCore(0);
    for (let i = 0; i < 30; i++) {
      const out = [...core.step(tick())];
      persistAll(core, out);
      for (const ask of ofType(out, "external"))
        core.step({ type: "external", id: ask.id, result: { ok: false, error: "timed out" } });
    }
    expect(core.status().role).toBe("campaigning");
    const refused = core.step(request(1));
    expect(ofType(refused, "reply")[0]?.msg).toMatchObject({
      result: { ok: false, error: "not-leader" },
    });
  });

  it("winning an epoch asked for by an earlier incarnation does not go live in it, but in the next", () => {
    const durable = {
      hardState: { epoch: 0, eligible: true, asked: 1 },
      snapshot: undefined,
      entries: [],
      records: new Map(),
    };
    const core = makeCore(0, { durable });
    const out = campaignAndAnswer(core, 0);
    expect(core.status().role).toBe("campaigning");
    expect(core.status().term).toBe(1);
    persistAll(core, out);
    const next = campaignAndAnswer(core, 0);
    expect(core.status()).toMatchObject({ role: "primary", term: 2 });
    expect(ofType(next, "persist")[0]?.ops[0]).toMatchObject({ state: { epoch: 2 } });
  });
});

describe("primary/backup: the output rule", () => {
  it("pairs with a backup that acked the whole log, and tells it so", () => {
    const { p, b } = pairedPair();
    expect(p.status().details).toMatchObject({ pairedWith: 1, backupLag: 0 });
    expect(b.status()).toMatchObject({ role: "backup", term: 1, leader: 0 });
    expect(b.status().details).toMatchObject({ eligible: true });
  });

  it("applies (and so answers) a command only after its own write is durable and the backup acked", () => {
    const { p, b } = pairedPair();
    const out = [...p.step(request(1))];
    const persist = ofType(out, "persist");
    expect(persist).toHaveLength(1);
    expect(ofType(out, "apply")).toEqual([]);
    // Durable at the primary: still nothing, the backup has not acked.
    expect(ofType(persistAll(p, out), "apply")).toEqual([]);
    const acks = deliver(0, out, b);
    const applied = deliver(1, acks, p);
    const apply = ofType(applied, "apply");
    expect(apply).toHaveLength(1);
    expect(apply[0]!.entries.at(-1)!.payload).toMatchObject({ type: "commands" });
    const replies = p.step({
      type: "applied",
      upTo: apply[0]!.entries.at(-1)!.index,
      results: [
        {
          index: apply[0]!.entries.at(-1)!.index,
          client: "c0",
          seq: 1,
          result: { ok: true, value: 1 },
        },
      ],
    });
    expect(ofType(replies, "reply")[0]?.msg).toMatchObject({
      type: "reply",
      seq: 1,
      result: { ok: true },
    });
  });

  it("the planted bug reply-before-backup-ack applies without the backup's ack", () => {
    const { p } = pairedPair();
    // Rebuild the pair with the bug: same steps, different core.
    const buggy = makeCore(0, { bug: "reply-before-backup-ack" });
    const live = campaignAndAnswer(buggy, 0);
    persistAll(buggy, live);
    const out = [...buggy.step(request(1))];
    expect(ofType(persistAll(buggy, out), "apply")).toHaveLength(1);
    // The correct core, paired, does not.
    const ok = [...p.step(request(1))];
    expect(ofType(persistAll(p, ok), "apply")).toEqual([]);
  });

  it("in durable mode the backup acks after its write; on receipt, at once", () => {
    for (const [ackOn, durable] of [
      ["durable", true],
      ["receipt", false],
    ] as const) {
      const p = makeCore(0, { settings: { ackOn } });
      const b = makeCore(1, { settings: { ackOn } });
      const live = campaignAndAnswer(p, 0);
      const step = [...b.step({ type: "peer", from: 0, msg: sentTo(live, 1)[0]! })];
      const write = ofType(step, "persist").find((p) => p.ops.some((op) => op.type === "append"))!;
      const ack = ofType(step, "send")[0]!;
      expect(ack.msg).toMatchObject({ type: "ack", ok: true, index: 1 });
      expect(ack.after).toBe(durable ? write.id : 0);
    }
  });

  it("batches commands while the paired backup has an append unacknowledged; its ack ships them as one entry", () => {
    const { p, b } = pairedPair();
    const first = [...p.step(request(1))];
    expect(sentTo(first, 1)).toHaveLength(1); // nothing in flight: logged and shipped at once
    // The backup has not acked entry 1: the next commands wait, nothing is written or sent.
    const waiting = [...p.step(request(2)), ...p.step(request(3))];
    expect(ofType(waiting, "persist")).toEqual([]);
    expect(sentTo(waiting, 1)).toEqual([]);
    persistAll(p, first);
    const afterAck = deliver(1, deliver(0, first, b), p);
    const appends = sentTo(afterAck, 1).filter((m) => m.type === "append" && m.entries.length > 0);
    expect(appends).toHaveLength(1);
    const entries = appends[0]!.type === "append" ? appends[0]!.entries : [];
    expect(entries).toHaveLength(1);
    expect(entries[0]!.payload).toMatchObject({
      type: "commands",
      commands: [{ seq: 2 }, { seq: 3 }],
    });
    expect(ofType(afterAck, "persist")).toHaveLength(1);
    // A batch whose ack is lost waits one tick at most.
    const lostAck = [...p.step(request(4))];
    expect(ofType(lostAck, "persist")).toEqual([]);
    const ticked = [...p.step(tick())];
    expect(ofType(ticked, "persist")).toHaveLength(1);
  });

  it("a primary deposed while commands wait in its batch answers them not-leader (they never took effect)", () => {
    const { p } = pairedPair();
    p.step(request(1));
    expect(ofType([...p.step(request(2))], "persist")).toEqual([]); // waits for the ack of 1
    // An ack from a newer epoch (another replica went live meanwhile): the primary steps down.
    const deposed = [
      ...p.step({
        type: "peer",
        from: 1,
        msg: { type: "ack", epoch: 3, ok: false, index: 0, last: 0, commit: 0, round: 0 },
      }),
    ];
    expect(p.status().role).not.toBe("primary");
    const replies = ofType(deposed, "reply").map((r) => r.msg);
    expect(replies).toEqual([
      { type: "reply", client: "c0", seq: 2, result: { ok: false, error: "not-leader" }, epoch: 3 },
    ]);
  });

  it("ships a new entry to the backup before writing it locally (the two proceed in parallel)", () => {
    const { p } = pairedPair();
    const out = [...p.step(request(1))];
    const send = out.findIndex((o) => o.type === "send" && o.to === 1);
    const write = out.findIndex(
      (o) => o.type === "persist" && o.ops.some((op) => op.type === "append"),
    );
    expect(send).toBeGreaterThanOrEqual(0);
    expect(write).toBeGreaterThan(send);
    expect(out[send]).toMatchObject({ after: 0 }); // the send waits for no local write
  });

  it("answers busy once the paired backup lags maxBackupLag entries behind", () => {
    const { p } = pairedPair({ maxBackupLag: 2, maxBatchCommands: 1 });
    const results = [1, 2, 3].map((seq) => ofType(p.step(request(seq)), "reply")[0]?.msg);
    expect(results[0]).toBeUndefined();
    expect(results[1]).toBeUndefined();
    expect(results[2]).toMatchObject({ result: { ok: false, error: "busy" } });
  });

  it("a paired primary answers a read only after the backup confirmed its epoch", () => {
    const { p, b } = pairedPair();
    const query = {
      type: "client",
      client: "c0",
      mono: 0,
      msg: { type: "query", client: "c0", qid: 1, q: ["get", "k"] },
    } as const;
    const out = [...p.step(query)];
    expect(ofType(out, "query")).toEqual([]);
    const confirmed = deliver(1, deliver(0, out, b), p);
    expect(ofType(confirmed, "query")).toHaveLength(1);
  });
});

describe("primary/backup: epochs", () => {
  it("refuses an older epoch's append, and the old primary steps down on hearing the newer epoch", () => {
    const { p, b } = pairedPair();
    // The backup takes over (epoch 2) while the old primary still thinks it leads.
    const won = campaignAndAnswer(b, 1);
    expect(b.status()).toMatchObject({ role: "primary", term: 2 });
    persistAll(b, won);
    const stale = [...p.step(request(7))];
    const refusal = deliver(0, stale, b);
    const ack = sentTo(refusal, 0)[0];
    expect(ack).toMatchObject({ type: "ack", ok: false, epoch: 2 });
    deliver(1, refusal, p);
    expect(p.status()).toMatchObject({ role: "recovering", term: 2 });
    expect(p.status().details).toMatchObject({ eligible: false });
  });

  it("a paused primary that wakes after a newer epoch exists answers no read and no write", () => {
    const { p, b } = pairedPair();
    persistAll(b, campaignAndAnswer(b, 1)); // the backup took over while the primary slept
    const query = {
      type: "client",
      client: "c0",
      mono: 0,
      msg: { type: "query", client: "c0", qid: 9, q: ["get", "k"] },
    } as const;
    const woke = [...p.step(query), ...p.step(request(8))];
    persistAll(p, woke);
    expect(ofType(woke, "query")).toEqual([]);
    expect(ofType(woke, "apply")).toEqual([]);
    const after = deliver(1, deliver(0, woke, b), p);
    expect(ofType(after, "query")).toEqual([]);
    expect(ofType(after, "apply")).toEqual([]);
    expect(ofType(after, "reply")).toEqual([]);
    expect(p.status()).toMatchObject({ role: "recovering", term: 2 });
  });

  it("the new primary consumes every entry it received before serving", () => {
    const { p, b } = pairedPair();
    // Entries reach the backup, but their commit never does (the primary dies first).
    const out = [...p.step(request(1))];
    persistAll(p, out);
    deliver(0, out, b);
    const lastReceived = b.status().lastIndex;
    expect(b.status().commitIndex).toBeLessThan(lastReceived);
    const live = campaignAndAnswer(b, 1);
    const applied = ofType([...live, ...persistAll(b, live)], "apply").flatMap((a) => a.entries);
    expect(applied.map((e) => e.index)).toContain(lastReceived);
    expect(b.status().commitIndex).toBe(lastReceived + 1); // and the new epoch's first entry
  });

  it("the backup keeps the primary's time and seed (it replays, never recomputes)", () => {
    const { p, b } = pairedPair();
    const out = [...p.step(tick(987_654)), ...p.step(request(1))];
    persistAll(p, out);
    const sent = sentTo(out, 1).flatMap((m) => (m.type === "append" ? m.entries : []));
    const stored = deliver(0, out, b)
      .flatMap((o) => (o.type === "persist" ? o.ops : []))
      .flatMap((op) => (op.type === "append" ? op.entries : [])) as LogEntry[];
    expect(stored.length).toBeGreaterThan(0);
    for (const e of stored) expect(sent).toContainEqual(e);
    expect(stored.some((e) => e.time === 987_654)).toBe(true);
  });
});

describe("primary/backup: a new backup", () => {
  it("gets a snapshot when the primary compacted what it lacks, installs it and follows the log", () => {
    const p = makeCore(0, { settings: { snapshotEvery: 2, maxBatchCommands: 1 } });
    const live = campaignAndAnswer(p, 0);
    const all: Out[] = [...live, ...persistAll(p, live)];
    for (let seq = 1; seq <= 3; seq++) {
      const out = [...p.step(request(seq))];
      all.push(...out, ...persistAll(p, out));
    }
    // Alone (not paired), the primary commits on its own durability; snapshot what it applied.
    const applied = ofType(all, "apply").flatMap((a) => a.entries);
    const last = applied.at(-1)!.index;
    const snapOut = [...p.step({ type: "applied", upTo: last, results: [] })];
    expect(ofType(snapOut, "takeSnapshot")[0]).toMatchObject({ index: last });
    p.step({ type: "snapshotTaken", index: last, data: new Uint8Array([1, 2, 3]) });

    const b = makeCore(1);
    const hello = [...p.step(tick()), ...p.step(tick())];
    const first = deliver(0, hello, b);
    // The backup's log is empty: it nacks, and the primary, having compacted, sends a snapshot.
    const transfer = deliver(1, first, p);
    const snap = sentTo(transfer, 1).find((m) => m.type === "snapshot");
    expect(snap).toMatchObject({ type: "snapshot", epoch: 1, index: last });
    const installed = deliver(0, transfer, b);
    expect(ofType(installed, "installSnapshot")[0]).toMatchObject({ meta: { index: last } });
    expect(b.status().commitIndex).toBe(last);
  });
});

describe("primary/backup: bad input", () => {
  it("drops and counts appends whose entries do not continue prevIndex, or come from a later epoch", () => {
    const b = makeCore(1);
    const entry = { index: 3, term: 1, time: 0, seed: 0, payload: { type: "noop" } } as const;
    const gap = b.step({
      type: "peer",
      from: 0,
      msg: {
        type: "append",
        epoch: 1,
        prevIndex: 0,
        prevEpoch: 0,
        entries: [entry],
        commit: 0,
        paired: false,
        round: 0,
      },
    });
    const future = b.step({
      type: "peer",
      from: 0,
      msg: {
        type: "append",
        epoch: 1,
        prevIndex: 2,
        prevEpoch: 0,
        entries: [{ ...entry, term: 2 }],
        commit: 0,
        paired: false,
        round: 0,
      },
    });
    const stranger = b.step({
      type: "peer",
      from: 7,
      msg: { type: "ack", epoch: 9, ok: true, index: 0, last: 0, commit: 0, round: 0 },
    });
    expect([...gap, ...future, ...stranger]).toEqual([]);
    expect(b.status()).toMatchObject({ term: 0, lastIndex: 0 });
    expect(b.status().details).toMatchObject({ droppedMessages: 3 });
  });
});
