import type { Value } from "../../core/value.js";
import type { Model } from "../../model/history.js";
import type { ClientOperation } from "../service-kit.js";
import { memoByIdentity } from "../shared/memo.js";
import { matchOutcomes } from "../shared/outcomes.js";
import { describeArbiterOperation } from "./describe.js";
import { parseArbiterOperation } from "./parse.js";
import { ArbiterWinners } from "./winners.js";

const parseOperation = memoByIdentity(parseArbiterOperation);

export type ArbiterModelState = ArbiterWinners;

/**
 * The arbiter's sequential specification: the same ArbiterWinners the state machine runs, stepped
 * on a copy. One partition: forgetting old epochs ties every epoch to the others.
 */
export const arbiterModel: Model<ArbiterModelState, ClientOperation, Value> = {
  name: "arbiter",
  init: () => new ArbiterWinners(),
  step(state, input, output) {
    const cmd = parseOperation(input);
    if (cmd === undefined) return [state];
    const next = state.clone();
    const result = next.apply(cmd);
    return matchOutcomes([{ result, next }], output);
  },
  key: (state) => state.key(),
  describe: describeArbiterOperation,
};
