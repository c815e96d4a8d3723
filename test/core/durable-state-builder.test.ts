import { describe, expect, it } from "vitest";
import { DurableStateBuilder } from "../../src/core/durable-state-builder.js";
import type { LogEntry } from "../../src/core/log-entry.js";
import { noLogRules, type PersistOp } from "../../src/core/protocol.js";
import { raftDurableRules } from "../../src/protocols/raft/contract.js";

const e = (index: number, term = 1): LogEntry => ({
  index,
  term,
  time: index,
  seed: 0,
  payload: { type: "noop" },
});
const append = (...entries: LogEntry[]): PersistOp => ({ type: "append", entries });
const snapshot = (index: number, tag = index): PersistOp => ({
  type: "snapshot",
  meta: { index, protocol: { term: 1 }, config: null },
  data: new Uint8Array([tag]),
});

function build(...ops: PersistOp[]) {
  const b = new DurableStateBuilder(raftDurableRules);
  for (const op of ops) b.apply(op);
  return b.build();
}
const shape = (ops: PersistOp[]) => build(...ops).entries.map((x) => [x.index, x.term]);

describe("DurableStateBuilder", () => {
  it("starts empty", () => {
    expect(build()).toEqual({
      hardState: undefined,
      snapshot: undefined,
      entries: [],
      records: new Map(),
    });
  });

  it("appends contiguous entries", () => {
    expect(shape([append(e(1), e(2)), append(e(3))])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
  });

  it("an append replaces the stored tail from its first index", () => {
    expect(shape([append(e(1), e(2), e(3), e(4)), append(e(2, 2), e(3, 2))])).toEqual([
      [1, 1],
      [2, 2],
      [3, 2],
    ]);
    expect(shape([append(e(1), e(2)), append(e(1, 3))])).toEqual([[1, 3]]);
  });

  it("an empty append changes nothing", () => {
    expect(shape([append(e(1), e(2)), append()])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  it("throws on a gap or non-contiguous entries", () => {
    expect(() => build(append(e(2)))).toThrow(/gap/);
    expect(() => build(append(e(1)), append(e(3)))).toThrow(/gap after 1/);
    expect(() => build(append(e(1), e(3)))).toThrow(/non-contiguous/);
  });

  it("truncate drops entries from an index on", () => {
    const base = [append(e(1), e(2), e(3), e(4))];
    expect(shape([...base, { type: "truncate", from: 3 }])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(shape([...base, { type: "truncate", from: 1 }])).toEqual([]);
    expect(shape([...base, { type: "truncate", from: 9 }])).toHaveLength(4);
    // a truncate then an append continuing from the cut
    expect(shape([...base, { type: "truncate", from: 2 }, append(e(2, 5))])).toEqual([
      [1, 1],
      [2, 5],
    ]);
  });

  it("hard state: the last one wins", () => {
    const s = build({ type: "hardState", state: { term: 1 } }, append(e(1)), {
      type: "hardState",
      state: { term: 3, vote: 2 },
    });
    expect(s.hardState).toEqual({ term: 3, vote: 2 });
  });

  it("a snapshot compacts the log and keeps the tail that continues it", () => {
    const s = build(append(e(1), e(2), e(3), e(4), e(5)), snapshot(3));
    expect(s.snapshot?.meta.index).toBe(3);
    expect(s.entries.map((x) => x.index)).toEqual([4, 5]);
    // appends continue after the snapshot
    expect(
      build(append(e(1), e(2)), snapshot(2), append(e(3))).entries.map((x) => x.index),
    ).toEqual([3]);
    // and from the snapshot when nothing is left
    expect(build(snapshot(7), append(e(8), e(9))).entries.map((x) => x.index)).toEqual([8, 9]);
    expect(() => build(snapshot(7), append(e(9)))).toThrow(/gap after 7/);
  });

  it("a snapshot beyond the log drops the stale log", () => {
    const s = build(append(e(1), e(2)), snapshot(10));
    expect(s.snapshot?.meta.index).toBe(10);
    expect(s.entries).toEqual([]);
  });

  it("an older or equal snapshot is ignored", () => {
    const s = build(append(e(1), e(2), e(3)), snapshot(3, 30), snapshot(2, 20), snapshot(3, 31));
    expect(s.snapshot?.meta.index).toBe(3);
    expect(Array.from(s.snapshot!.data)).toEqual([30]);
  });

  it("build returns a copy that later ops do not change", () => {
    const b = new DurableStateBuilder(raftDurableRules);
    b.apply(append(e(1)));
    const first = b.build();
    b.apply(append(e(2)));
    expect(first.entries).toHaveLength(1);
    expect(b.build().entries).toHaveLength(2);
  });
});

describe("DurableStateBuilder: keyed records and the protocol's log rules", () => {
  it("put replaces, delete forgets, and records come back sorted by key", () => {
    const b = new DurableStateBuilder(noLogRules);
    for (const op of [
      { type: "put", key: "slot/0000000002", value: { digest: "b" } },
      { type: "put", key: "view", value: 3 },
      { type: "put", key: "slot/0000000001", value: { digest: "a" } },
      { type: "put", key: "slot/0000000002", value: { digest: "b2" } },
      { type: "delete", key: "slot/0000000001" },
      { type: "delete", key: "never-stored" },
    ] satisfies PersistOp[])
      b.apply(op);
    expect([...b.build().records]).toEqual([
      ["slot/0000000002", { digest: "b2" }],
      ["view", 3],
    ]);
  });

  it("records are not touched by snapshots or truncation (only the log is)", () => {
    const b = new DurableStateBuilder(raftDurableRules);
    b.apply({ type: "put", key: "epoch", value: 7 });
    b.apply(append(e(1), e(2), e(3)));
    b.apply(snapshot(2));
    b.apply({ type: "truncate", from: 1 });
    expect([...b.build().records]).toEqual([["epoch", 7]]);
  });

  it("a log with gaps is allowed when the protocol's rules allow it (PBFT slots)", () => {
    const b = new DurableStateBuilder(noLogRules);
    b.apply(append(e(2)));
    b.apply(append(e(5), e(9)));
    b.apply(append(e(7))); // replaces everything from 7 on
    expect(b.build().entries.map((x) => x.index)).toEqual([2, 5, 7]);
    expect(b.entryAt(5)?.index).toBe(5);
    expect(b.entryAt(6)).toBeUndefined();
    // A snapshot keeps the later entries even if they do not continue it.
    b.apply(snapshot(3));
    expect(b.build().entries.map((x) => x.index)).toEqual([5, 7]);
    expect(() => b.apply(append(e(8), e(8)))).toThrow(/unordered/);
  });

  it("the same ops under Raft's rules refuse the gap", () => {
    const b = new DurableStateBuilder(raftDurableRules);
    b.apply(append(e(1)));
    expect(() => b.apply(append(e(3)))).toThrow(/leaves a gap after 1/);
  });
});
