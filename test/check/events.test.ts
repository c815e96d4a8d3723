/** Jepsen/Porcupine-style call and return events, converted to paired operations and checked. */
import { describe, expect, it } from "vitest";
import {
  checkEventHistory,
  checkLinearizability,
  type HistoryEvent,
  historyFromEvents,
} from "../../src/check/linearizability/index.js";
import { type RegisterInput, type RegisterOutput, registerModel } from "./models.js";

type Event = HistoryEvent<RegisterInput, RegisterOutput>;
const read: RegisterInput = { kind: "read" };
const write = (value: number): RegisterInput => ({ kind: "write", value });

describe("historyFromEvents", () => {
  it("pairs Jepsen events by process: ok completes, info is unknown, fail did not happen", () => {
    const events: Event[] = [
      { type: "invoke", process: 0, input: write(1), time: 10 },
      { type: "invoke", process: 1, input: write(2), time: 11 },
      { type: "invoke", process: 2, input: write(3), time: 12 },
      { type: "ok", process: 0, output: "ok", time: 20 },
      { type: "fail", process: 1, time: 21 },
      { type: "info", process: 2, time: 22 },
      { type: "invoke", process: 2, input: read, time: 30 },
      { type: "invoke", process: 3, input: read, time: 31 },
      { type: "ok", process: 3, output: 1, time: 40 },
    ];
    const history = historyFromEvents(events);
    const byId = new Map(history.map((op) => [op.id, op]));
    expect([...byId.keys()].sort()).toEqual([0, 2, 3, 4]);
    expect(byId.get(0)).toEqual({
      id: 0,
      client: "0",
      input: write(1),
      call: 10,
      ret: 20,
      output: "ok",
    });
    expect(byId.get(2)).toMatchObject({ client: "2", call: 12, ret: undefined, output: undefined });
    // Invoked and never completed: unknown, like info.
    expect(byId.get(3)).toMatchObject({ input: read, call: 30, ret: undefined, output: undefined });
    expect(byId.get(4)).toMatchObject({ call: 31, ret: 40, output: 1 });
  });

  it("pairs Porcupine events by id and uses positions as times when there are none", () => {
    const events: Event[] = [
      { type: "invoke", process: "c1", id: 7, input: write(5) },
      { type: "invoke", process: "c2", id: 9, input: read },
      { type: "ok", process: "c2", id: 9, output: 0 },
      { type: "ok", process: "c1", id: 7, output: "ok" },
    ];
    const history = historyFromEvents(events);
    expect(history).toEqual([
      { id: 9, client: "c2", input: read, call: 1, ret: 2, output: 0 },
      { id: 7, client: "c1", input: write(5), call: 0, ret: 3, output: "ok" },
    ]);
  });

  it("refuses logs it would have to guess at, naming the event", () => {
    expect(() =>
      historyFromEvents<RegisterInput, RegisterOutput>([{ type: "ok", process: 1, output: 0 }]),
    ).toThrow(/events\[0\].*no outstanding invoke/);
    expect(() =>
      historyFromEvents<RegisterInput, RegisterOutput>([
        { type: "invoke", process: 1, input: read },
        { type: "invoke", process: 1, input: read },
      ]),
    ).toThrow(/events\[1\].*already has an operation outstanding/);
    expect(() =>
      historyFromEvents<RegisterInput, RegisterOutput>([
        { type: "invoke", process: 1, input: read, time: 1 },
        { type: "ok", process: 1, output: 0 },
      ]),
    ).toThrow(/1 of 2 events have a time/);
    expect(() =>
      historyFromEvents<RegisterInput, RegisterOutput>([
        { type: "invoke", process: 1, id: 1, input: read },
        { type: "ok", process: 2, id: 1, output: 0 },
      ]),
    ).toThrow(/invoked by process 1/);
    expect(() =>
      historyFromEvents<RegisterInput, RegisterOutput>([
        { type: "invoke", process: 1, id: 1, input: read },
        { type: "invoke", process: 2, id: 1, input: read },
      ]),
    ).toThrow(/id 1 is used twice/);
  });
});

describe("checkEventHistory", () => {
  it("finds a stale read in an event log", () => {
    const events: Event[] = [
      { type: "invoke", process: 0, input: write(1) },
      { type: "ok", process: 0, output: "ok" },
      { type: "invoke", process: 1, input: read },
      { type: "ok", process: 1, output: 0 },
    ];
    const result = checkEventHistory(registerModel, events);
    expect(result.verdict).toBe("violation");
    expect(result.partitions[0]?.counterexample?.stuckAt.map((op) => op.id)).toEqual([1]);
  });

  it("lets an info write explain a later read, and a failed write explain nothing", () => {
    const seen = (outcome: "info" | "fail"): Event[] => [
      { type: "invoke", process: 0, input: write(1) },
      { type: outcome, process: 0 },
      { type: "invoke", process: 1, input: read },
      { type: "ok", process: 1, output: 1 },
    ];
    expect(checkEventHistory(registerModel, seen("info")).verdict).toBe("ok");
    expect(checkEventHistory(registerModel, seen("fail")).verdict).toBe("violation");
  });

  it("agrees with the paired history it converts to", () => {
    const events: Event[] = [
      { type: "invoke", process: 0, input: write(1), time: 0 },
      { type: "invoke", process: 1, input: read, time: 1 },
      { type: "ok", process: 1, output: 1, time: 2 },
      { type: "invoke", process: 2, input: read, time: 3 },
      { type: "ok", process: 0, output: "ok", time: 4 },
      { type: "ok", process: 2, output: 0, time: 5 },
    ];
    const fromEvents = checkEventHistory(registerModel, events);
    const paired = checkLinearizability(registerModel, historyFromEvents(events));
    expect(fromEvents.verdict).toBe("violation");
    expect(paired.verdict).toBe(fromEvents.verdict);
  });
});
