import { describe, expect, it } from "vitest";
import { makeApplyContext, makeQueryContext } from "../../src/core/apply-context.js";
import {
  ARBITER_KEPT_EPOCHS,
  ArbiterWinners,
  arbiterModel,
  arbiterService,
  decodeArbiterSnapshot,
  encodeArbiterSnapshot,
} from "../../src/state-machines/arbiter/index.js";
import { SnapshotError } from "../../src/state-machines/shared/snapshot.js";

const ctx = makeApplyContext(1, 0, { time: 0, seed: 1 });
const noClock = makeQueryContext(0, 0);

describe("arbiter state machine (test-and-set per epoch)", () => {
  it("the first claim of an epoch wins it; later claims are told the same winner", () => {
    const a = arbiterService.create();
    expect(a.apply({ op: "winner", epoch: 2 }, ctx)).toEqual({ epoch: 2, winner: null });
    expect(a.apply({ op: "claim", epoch: 2, replica: 1 }, ctx)).toEqual({ epoch: 2, winner: 1 });
    expect(a.apply({ op: "claim", epoch: 2, replica: 0 }, ctx)).toEqual({ epoch: 2, winner: 1 });
    expect(a.apply({ op: "claim", epoch: 3, replica: 0 }, ctx)).toEqual({ epoch: 3, winner: 0 });
    expect(a.query?.({ op: "winner", epoch: 2 }, noClock)).toEqual({ epoch: 2, winner: 1 });
  });

  it("survives a snapshot round trip and refuses damaged snapshots", () => {
    const a = arbiterService.create();
    a.apply({ op: "claim", epoch: 5, replica: 1 }, ctx);
    const b = arbiterService.create();
    b.restore(a.snapshot());
    expect(b.apply({ op: "claim", epoch: 5, replica: 0 }, ctx)).toEqual({ epoch: 5, winner: 1 });
    const bytes = a.snapshot();
    bytes[3] = (bytes[3] ?? 0) ^ 0xff;
    expect(() => b.restore(bytes)).toThrow(SnapshotError);
  });

  it("forgets the oldest epochs beyond its bound and then never decides them again", () => {
    const w = new ArbiterWinners();
    for (let e = 1; e <= ARBITER_KEPT_EPOCHS + 1; e++)
      w.apply({ op: "claim", epoch: e, replica: 0 });
    expect(w.winners.size).toBe(ARBITER_KEPT_EPOCHS);
    expect(w.apply({ op: "claim", epoch: 1, replica: 1 })).toEqual({ epoch: 1, winner: null });
    expect(w.apply({ op: "claim", epoch: 2, replica: 1 })).toEqual({ epoch: 2, winner: 0 });
    expect(decodeArbiterSnapshot(encodeArbiterSnapshot(w)).key()).toBe(w.key());
  });

  it("refuses malformed commands by name", () => {
    expect(arbiterService.validateCommand({ op: "claim", epoch: 0, replica: 1 })).toMatch(/epoch/);
    expect(arbiterService.validateCommand({ op: "claim", epoch: 1 })).toMatch(/replica/);
    expect(arbiterService.validateQuery({ op: "claim", epoch: 1, replica: 1 })).toMatch(/op/);
  });

  it("the model rejects a second winner for a decided epoch", () => {
    const s0 = arbiterModel.init();
    const claim = (replica: number) => ({
      kind: "command" as const,
      value: { op: "claim", epoch: 1, replica },
    });
    const [s1] = arbiterModel.step(s0, claim(0), { epoch: 1, winner: 0 });
    expect(s1).toBeDefined();
    expect(arbiterModel.step(s1!, claim(1), { epoch: 1, winner: 1 })).toEqual([]);
    expect(arbiterModel.step(s1!, claim(1), { epoch: 1, winner: 0 })).toHaveLength(1);
  });
});
