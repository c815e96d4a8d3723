import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeApplyContext, makeQueryContext } from "../../src/core/apply-context.js";
import { createRandom } from "../../src/core/prng.js";
import type { Value } from "../../src/core/value.js";
import {
  createLockKit,
  encodeLockSnapshot,
  LOCK_MAX_OWNER_LENGTH,
  LOCK_MAX_TTL_MS,
  type LockCommand,
  lockKit,
  lockModel,
  lockService,
} from "../../src/state-machines/lock/index.js";
import type { ClientOperation } from "../../src/state-machines/service-kit.js";
import { SnapshotError } from "../../src/state-machines/shared/snapshot.js";
import {
  command,
  leafPaths,
  mutateAt,
  query,
  runModel,
  runSequentially,
  type Step,
  type Timed,
  withTimes,
} from "./helpers.js";

/** Queries here do not read the clock. */
const noClock = makeQueryContext(0, 0);

/** Applies commands at the given leader times, one log entry each. */
function lockAt() {
  const lock = lockService.create();
  let index = 0;
  return {
    lock,
    at: (time: number, cmd: LockCommand) =>
      lock.apply(cmd, makeApplyContext(++index, 0, { time, seed: 0 })),
  };
}

const acquire = (owner: string, ttlMs: number): LockCommand => ({ op: "acquire", owner, ttlMs });
const release = (owner: string): LockCommand => ({ op: "release", owner });

describe("lock state machine", () => {
  it("expires leases through the log time", () => {
    const { at } = lockAt();
    expect(at(0, acquire("a", 100))).toEqual({
      ok: true,
      owner: "a",
      fencing: 1,
      expiresAt: 100,
      now: 0,
    });
    expect(at(50, acquire("b", 100))).toEqual({ ok: false, holder: "a", expiresAt: 100, now: 50 });
    expect(at(99, acquire("b", 100))).toEqual({ ok: false, holder: "a", expiresAt: 100, now: 99 });
    expect(at(100, acquire("b", 30))).toEqual({
      ok: true,
      owner: "b",
      fencing: 2,
      expiresAt: 130,
      now: 100,
    });
    expect(at(500, acquire("c", 10))).toEqual({
      ok: true,
      owner: "c",
      fencing: 3,
      expiresAt: 510,
      now: 500,
    });
  });

  it("renews for the holder with the same fencing token, and re-grants after expiry", () => {
    const { at } = lockAt();
    at(0, acquire("a", 100));
    expect(at(60, acquire("a", 100))).toEqual({
      ok: true,
      owner: "a",
      fencing: 1,
      expiresAt: 160,
      now: 60,
    });
    expect(at(150, acquire("b", 10))).toEqual({ ok: false, holder: "a", expiresAt: 160, now: 150 });
    // A renewal may shorten the lease: it runs ttl from now.
    expect(at(155, acquire("a", 1))).toEqual({
      ok: true,
      owner: "a",
      fencing: 1,
      expiresAt: 156,
      now: 155,
    });
    expect(at(156, acquire("a", 10))).toEqual({
      ok: true,
      owner: "a",
      fencing: 2,
      expiresAt: 166,
      now: 156,
    });
  });

  it("releases only for the holder of a live lease", () => {
    const { lock, at } = lockAt();
    expect(at(0, release("a"))).toEqual({ ok: false, now: 0 });
    at(0, acquire("a", 100));
    expect(at(10, release("b"))).toEqual({ ok: false, now: 10 });
    expect(at(20, release("a"))).toEqual({ ok: true, now: 20 });
    expect(at(21, release("a"))).toEqual({ ok: false, now: 21 });
    expect(lock.query?.({ op: "holder" }, noClock)).toEqual({
      holder: null,
      expiresAt: 20,
      fencing: 1,
    });
    expect(at(22, acquire("b", 10))).toEqual({
      ok: true,
      owner: "b",
      fencing: 2,
      expiresAt: 32,
      now: 22,
    });
    expect(at(40, release("b"))).toEqual({ ok: false, now: 40 });
  });

  it("reports the stored lease to queries, expired or not", () => {
    const { lock, at } = lockAt();
    expect(lock.query?.({ op: "holder" }, noClock)).toEqual({
      holder: null,
      expiresAt: 0,
      fencing: 0,
    });
    at(0, acquire("a", 100));
    at(1000, release("b"));
    // Leader time is past 100, but a query cannot know that: it shows the stored lease.
    expect(lock.query?.({ op: "holder" }, noClock)).toEqual({
      holder: "a",
      expiresAt: 100,
      fencing: 1,
    });
  });
});

describe("lock snapshots", () => {
  it("restores to identical behaviour and identical bytes", () => {
    const a = lockAt();
    a.at(0, acquire("a", 100));
    const bytes = a.lock.snapshot();
    const b = lockAt();
    b.at(0, acquire("zzz", 5));
    b.at(7, acquire("zzz", 5));
    b.lock.restore(bytes);
    expect(b.lock.snapshot()).toEqual(bytes);
    const script: [number, LockCommand][] = [
      [50, acquire("b", 10)],
      [60, acquire("a", 10)],
      [80, acquire("b", 10)],
      [85, release("b")],
    ];
    for (const [time, cmd] of script) expect(b.at(time, cmd)).toEqual(a.at(time, cmd));
    expect(b.lock.snapshot()).toEqual(a.lock.snapshot());
  });

  it("rejects corrupt snapshots and impossible states, keeping its own", () => {
    const a = lockAt();
    a.at(0, acquire("owner-a", 100));
    const bytes = a.lock.snapshot();
    const b = lockAt();
    b.at(3, acquire("b", 10));
    const kept = b.lock.snapshot();
    for (let i = 0; i < bytes.length; i++) {
      const corrupt = bytes.slice();
      corrupt[i] = corrupt[i]! ^ 0x04;
      expect(() => b.lock.restore(corrupt)).toThrow(SnapshotError);
    }
    expect(() => b.lock.restore(bytes.subarray(3))).toThrow(SnapshotError);
    expect(() =>
      b.lock.restore(encodeLockSnapshot({ holder: "x", expiresAt: 5, fencing: 0 })),
    ).toThrow(/fencing token/);
    expect(() =>
      b.lock.restore(encodeLockSnapshot({ holder: "", expiresAt: 5, fencing: 1 })),
    ).toThrow(/holder/);
    expect(() =>
      b.lock.restore(encodeLockSnapshot({ holder: null, expiresAt: 0, fencing: -1 })),
    ).toThrow(/fencing/);
    expect(b.lock.snapshot()).toEqual(kept);
  });
});

describe("lock validation", () => {
  const bad: [Value, RegExp][] = [
    [true, /lock command must be an object.*got boolean/],
    [{ op: "steal", owner: "a" }, /unknown op "steal".*"acquire", "release"/],
    [{ op: "acquire", ttlMs: 10 }, /acquire: missing field "owner"/],
    [{ op: "acquire", owner: "a" }, /acquire: missing field "ttlMs"/],
    [{ op: "acquire", owner: "", ttlMs: 10 }, /field "owner" must not be empty/],
    [{ op: "acquire", owner: 1, ttlMs: 10 }, /field "owner" must be a string, got number/],
    [
      { op: "acquire", owner: "a".repeat(LOCK_MAX_OWNER_LENGTH + 1), ttlMs: 10 },
      /field "owner" is too long/,
    ],
    [{ op: "acquire", owner: "a", ttlMs: 0 }, /field "ttlMs" is out of range \(got 0/],
    [{ op: "acquire", owner: "a", ttlMs: -5 }, /field "ttlMs" is out of range/],
    [{ op: "acquire", owner: "a", ttlMs: 2.5 }, /field "ttlMs" must be an integer, got 2.5/],
    [{ op: "acquire", owner: "a", ttlMs: LOCK_MAX_TTL_MS + 1 }, /field "ttlMs" is out of range/],
    [{ op: "acquire", owner: "a", ttlMs: "10" }, /field "ttlMs" must be an integer, got string/],
    [{ op: "release" }, /release: missing field "owner"/],
    [{ op: "release", owner: "a", ttlMs: 1 }, /release: unexpected field "ttlMs"/],
  ];
  it.each(bad)("rejects %j", (cmd, message) => {
    expect(lockService.validateCommand(cmd)).toMatch(message);
  });

  it("accepts well-formed commands and the holder query", () => {
    expect(
      lockService.validateCommand({ op: "acquire", owner: "a", ttlMs: LOCK_MAX_TTL_MS }),
    ).toBeUndefined();
    expect(lockService.validateCommand({ op: "release", owner: "a" })).toBeUndefined();
    expect(lockService.validateQuery({ op: "holder" })).toBeUndefined();
    expect(lockService.validateQuery({ op: "holder", owner: "a" })).toMatch(
      /unexpected field "owner"/,
    );
    expect(lockService.validateQuery({ op: "acquire", owner: "a", ttlMs: 1 })).toMatch(
      /unknown op/,
    );
  });
});

const ownerArb = fc.constantFrom("o1", "o2", "o3");
const lockOpArb: fc.Arbitrary<ClientOperation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        op: fc.constant("acquire"),
        owner: ownerArb,
        ttlMs: fc.integer({ min: 1, max: 80 }),
      })
      .map(command),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("release"), owner: ownerArb }).map(command) },
  { weight: 2, arbitrary: fc.constant(query({ op: "holder" })) },
);
const timedLockOps = (maxLength: number) => withTimes(fc.array(lockOpArb, { maxLength }), 40);
const runLock = (ops: readonly Timed[]) => runSequentially(lockService, ops);

describe("lock model", () => {
  it("accepts every sequential run of the state machine, with exact knowledge", () => {
    fc.assert(
      fc.property(timedLockOps(60), (ops) => {
        const { rejectedAt, states } = runModel(lockModel, runLock(ops));
        expect(rejectedAt).toBe(-1);
        expect(states).toHaveLength(1);
      }),
    );
  });

  it("rejects a run with any one output field changed (other than its time)", () => {
    fc.assert(
      fc.property(
        timedLockOps(40).filter((ops) => ops.length > 0),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (ops, at, which, variant) => {
          const steps = runLock(ops);
          const i = at % steps.length;
          const output = steps[i]!.output!;
          const paths = leafPaths(output, ["now"]);
          const mutated: Step[] = steps.slice(0, i + 1);
          mutated[i] = {
            input: steps[i]!.input,
            output: mutateAt(output, paths[which % paths.length]!, variant),
          };
          expect(runModel(lockModel, mutated).rejectedAt).toBe(i);
        },
      ),
    );
  });

  it("rejects time going backwards", () => {
    const steps: Step[] = [
      {
        input: command(acquire("a", 10)),
        output: { ok: true, owner: "a", fencing: 1, expiresAt: 60, now: 50 },
      },
      { input: command(release("b")), output: { ok: false, now: 49 } },
    ];
    expect(runModel(lockModel, steps).rejectedAt).toBe(1);
    expect(
      runModel(lockModel, [{ input: command(release("b")), output: { ok: false, now: -1 } }])
        .rejectedAt,
    ).toBe(0);
  });

  it("stays sound when outputs are unknown (time unknown too)", () => {
    fc.assert(
      fc.property(
        timedLockOps(50).chain((ops) =>
          fc
            .array(fc.boolean(), { minLength: ops.length, maxLength: ops.length })
            .map((hide) => ({ ops, hide })),
        ),
        ({ ops, hide }) => {
          const steps = runLock(ops).map((step, i) =>
            hide[i] ? { input: step.input, output: undefined } : step,
          );
          expect(runModel(lockModel, steps).rejectedAt).toBe(-1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("branches over an unknown acquire and learns from later outputs", () => {
    const unknown: Step = { input: command(acquire("a", 50)), output: undefined };
    const holder = query({ op: "holder" });
    // Granted at an unknown time t >= 0: another owner may see it held until any time >= 50.
    const refused: Step = {
      input: command(acquire("b", 10)),
      output: { ok: false, holder: "a", expiresAt: 70, now: 30 },
    };
    expect(runModel(lockModel, [unknown, refused]).rejectedAt).toBe(-1);
    expect(
      runModel(lockModel, [
        unknown,
        refused,
        { input: holder, output: { holder: "a", expiresAt: 70, fencing: 1 } },
      ]).rejectedAt,
    ).toBe(-1);
    expect(
      runModel(lockModel, [
        unknown,
        refused,
        { input: holder, output: { holder: "a", expiresAt: 71, fencing: 1 } },
      ]).rejectedAt,
    ).toBe(2);
    // ...but not until before its lower bound.
    const tooEarly: Step = {
      input: command(acquire("b", 10)),
      output: { ok: false, holder: "a", expiresAt: 40, now: 30 },
    };
    expect(runModel(lockModel, [unknown, tooEarly]).rejectedAt).toBe(1);
    // It took a fencing token, so the next grant gets the one after.
    const grant = (fencing: number): Step => ({
      input: command(acquire("b", 10)),
      output: { ok: true, owner: "b", fencing, expiresAt: 1010, now: 1000 },
    });
    expect(runModel(lockModel, [unknown, grant(2)]).rejectedAt).toBe(-1);
    expect(runModel(lockModel, [unknown, grant(1)]).rejectedAt).toBe(1);
  });

  it("keeps the time bounds an unknown outcome implies", () => {
    const granted: Step = {
      input: command(acquire("a", 10)),
      output: { ok: true, owner: "a", fencing: 1, expiresAt: 110, now: 100 },
    };
    const unknown: Step = { input: command(acquire("b", 50)), output: undefined };
    // Either b was refused (a holds until 110) or b got the lock at some t >= 110, until >= 160.
    const run = (output: Value) =>
      runModel(lockModel, [granted, unknown, { input: command(acquire("c", 5)), output }]);
    expect(run({ ok: false, holder: "a", expiresAt: 110, now: 105 }).rejectedAt).toBe(-1);
    expect(run({ ok: false, holder: "b", expiresAt: 165, now: 120 }).rejectedAt).toBe(-1);
    expect(run({ ok: false, holder: "b", expiresAt: 150, now: 120 }).rejectedAt).toBe(2);
    // b holding at 105 is impossible: a's lease was still live then.
    expect(run({ ok: false, holder: "b", expiresAt: 165, now: 105 }).rejectedAt).toBe(2);
    expect(run({ ok: true, owner: "c", fencing: 2, expiresAt: 125, now: 120 }).rejectedAt).toBe(-1);
    expect(run({ ok: true, owner: "c", fencing: 3, expiresAt: 205, now: 200 }).rejectedAt).toBe(-1);
  });

  it("branches over an unknown release", () => {
    const granted: Step = {
      input: command(acquire("a", 100)),
      output: { ok: true, owner: "a", fencing: 1, expiresAt: 100, now: 0 },
    };
    const unknown: Step = { input: command(release("a")), output: undefined };
    const holder = (output: Value): Step => ({ input: query({ op: "holder" }), output });
    expect(
      runModel(lockModel, [granted, unknown, holder({ holder: "a", expiresAt: 100, fencing: 1 })])
        .rejectedAt,
    ).toBe(-1);
    expect(
      runModel(lockModel, [granted, unknown, holder({ holder: null, expiresAt: 42, fencing: 1 })])
        .rejectedAt,
    ).toBe(-1);
    expect(
      runModel(lockModel, [granted, unknown, holder({ holder: null, expiresAt: 42, fencing: 2 })])
        .rejectedAt,
    ).toBe(2);
    // If the release did nothing while a held the lock, a's lease had run out: time >= 100.
    const late: Step = { input: command(release("b")), output: { ok: false, now: 50 } };
    const states = runModel(lockModel, [
      granted,
      unknown,
      late,
      holder({ holder: "a", expiresAt: 100, fencing: 1 }),
    ]);
    expect(states.rejectedAt).toBe(3);
  });

  it("describes operations", () => {
    const d = lockModel.describe!;
    expect(
      d(command(acquire("o1", 50)), {
        ok: true,
        owner: "o1",
        fencing: 3,
        expiresAt: 150,
        now: 100,
      }),
    ).toBe("acquire(o1, 50ms) -> granted #3 until 150 (now 100)");
    expect(
      d(command(acquire("o1", 50)), { ok: false, holder: "o2", expiresAt: 150, now: 120 }),
    ).toBe("acquire(o1, 50ms) -> refused, o2 holds until 150 (now 120)");
    expect(d(command(release("o1")), { ok: true, now: 130 })).toBe(
      "release(o1) -> released (now 130)",
    );
    expect(d(command(release("o1")), undefined)).toBe("release(o1) -> ?");
    expect(d(query({ op: "holder" }), { holder: null, expiresAt: 130, fencing: 3 })).toBe(
      "query holder -> free (last #3, ended 130)",
    );
  });
});

describe("lock workload", () => {
  const generate = (kit: typeof lockKit, seed: number, count: number, clients = 4) => {
    const random = createRandom(seed);
    return Array.from({ length: count }, (_, i) => ({
      op: kit.nextOperation(random, i % clients),
      time: i * 3,
    }));
  };

  it("contends for the lock with valid operations, and the model accepts the run", () => {
    const timed = generate(lockKit, 5, 2000);
    expect(generate(lockKit, 5, 2000)).toEqual(timed);
    const owners = new Set<string>();
    for (const { op } of timed) {
      const validate =
        op.kind === "command" ? lockService.validateCommand : lockService.validateQuery;
      expect(validate(op.value)).toBeUndefined();
      const v = op.value as { owner?: string; ttlMs?: number };
      if (v.owner !== undefined) owners.add(v.owner);
      if (v.ttlMs !== undefined) expect([10, 30, 100]).toContain(v.ttlMs);
    }
    expect([...owners].sort()).toEqual(["o0", "o1", "o2", "o3"]);
    const steps = runLock(timed);
    const outputs = steps.map(
      (s) => s.output as { ok?: boolean; fencing?: number; owner?: string },
    );
    const acquires = steps.filter((s) => (s.input.value as { op: string }).op === "acquire");
    const grants = acquires.filter((s) => (s.output as { ok: boolean }).ok).length;
    expect(grants).toBeGreaterThan(acquires.length * 0.1);
    expect(grants).toBeLessThan(acquires.length * 0.9);
    expect(Math.max(...outputs.map((o) => o.fencing ?? 0))).toBeGreaterThan(10);
    expect(runModel(lockKit.model, steps).rejectedAt).toBe(-1);
  });

  it("honours its options and rejects bad ones", () => {
    const kit = createLockKit({ owners: 3, ttls: [7], queryRatio: 0, releaseRatio: 0 });
    const ops = generate(kit, 1, 100, 6).map(
      ({ op }) => op.value as { op: string; owner: string; ttlMs: number },
    );
    expect(ops.every((v) => v.op === "acquire" && v.ttlMs === 7)).toBe(true);
    expect(new Set(ops.map((v) => v.owner))).toEqual(new Set(["o0", "o1", "o2"]));
    expect(() => createLockKit({ ttls: [] })).toThrow(RangeError);
    expect(() => createLockKit({ ttls: [0] })).toThrow(RangeError);
    expect(() => createLockKit({ owners: 0 })).toThrow(RangeError);
  });
});
