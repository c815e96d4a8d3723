import type { Value } from "../../core/value.js";
import type { Model } from "../../model/history.js";
import type { ClientOperation } from "../service-kit.js";
import { memoByIdentity } from "../shared/memo.js";
import { matchOutcomes, type Outcome } from "../shared/outcomes.js";
import { describeCounterOperation } from "./describe.js";
import { parseCounterOperation } from "./parse.js";
import type { CounterCommand } from "./types.js";

const parseOperation = memoByIdentity(parseCounterOperation);

/** The counter's value. */
export type CounterModelState = number;

function counterOutcome(state: CounterModelState, cmd: CounterCommand): Outcome<CounterModelState> {
  if (cmd.op === "read") return { result: { value: state }, next: state };
  const next = state + cmd.delta;
  return Number.isSafeInteger(next)
    ? { result: { value: next }, next }
    : { result: { value: state, error: "overflow" }, next: state };
}

/**
 * No partition: every operation touches the one counter. A duplicated add cannot hide here: the
 * values it makes clients see are off by its delta from every sequential order.
 */
export const counterModel: Model<CounterModelState, ClientOperation, Value> = {
  name: "counter",
  init: () => 0,
  step(state, input, output) {
    const cmd = parseOperation(input);
    // Refused by validateCommand before the log: no effect, and no service result to check.
    if (cmd === undefined) return [state];
    return matchOutcomes([counterOutcome(state, cmd)], output);
  },
  key: (state) => String(state),
  describe: describeCounterOperation,
};
