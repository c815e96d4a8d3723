import type { Value } from "../../core/value.js";
import type { Model } from "../../model/history.js";
import type { ClientOperation } from "../service-kit.js";
import { memoByIdentity } from "../shared/memo.js";
import { matchOutcomes, type Outcome } from "../shared/outcomes.js";
import { describeKvOperation } from "./describe.js";
import { parseKvOperation } from "./parse.js";
import { partitionKvHistory } from "./partition.js";
import type { KvCommand } from "./types.js";

const parseOperation = memoByIdentity(parseKvOperation);

/**
 * Key → value; absent keys are absent. Never mutated: the checker keeps many states alive at
 * once, so every write makes a new map (after partitioning by key a map holds one entry, so
 * copying is cheap).
 */
export type KvModelState = ReadonlyMap<string, string>;

const EMPTY: KvModelState = new Map();

function withValue(state: KvModelState, key: string, value: string | null): KvModelState {
  const next = new Map(state);
  if (value === null) next.delete(key);
  else next.set(key, value);
  return next;
}

/**
 * The sequential specification, written independently of KvStateMachine (immutable maps, no
 * shared code) so the tests comparing the two check something.
 */
function kvOutcome(state: KvModelState, cmd: KvCommand): Outcome<KvModelState> {
  const current = state.get(cmd.key) ?? null;
  switch (cmd.op) {
    case "get":
      return { result: { ok: true, value: current }, next: state };
    case "put":
      return { result: { ok: true, prev: current }, next: withValue(state, cmd.key, cmd.value) };
    case "del":
      return {
        result: { ok: true, existed: current !== null },
        next: current === null ? state : withValue(state, cmd.key, null),
      };
    case "cas":
      return current === cmd.expected
        ? { result: { ok: true, value: cmd.value }, next: withValue(state, cmd.key, cmd.value) }
        : { result: { ok: false, value: current }, next: state };
  }
}

export const kvModel: Model<KvModelState, ClientOperation, Value> = {
  name: "kv",
  init: () => EMPTY,
  step(state, input, output) {
    const cmd = parseOperation(input);
    // validateCommand refuses a malformed operation before it reaches the log, so it cannot
    // change the state, and what its client saw is that refusal rather than a service result:
    // nothing to check.
    if (cmd === undefined) return [state];
    return matchOutcomes([kvOutcome(state, cmd)], output);
  },
  key(state) {
    const entries = [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return JSON.stringify(entries);
  },
  partition: partitionKvHistory,
  describe: describeKvOperation,
};
