import type { Value } from "../../core/value.js";
import type { Model } from "../../model/history.js";
import type { ClientOperation } from "../service-kit.js";
import { memoByIdentity } from "../shared/memo.js";
import { describeLockOperation } from "./describe.js";
import { observedAcquire, observedHolder, observedRelease } from "./model-observed.js";
import { INITIAL_LOCK_STATE, type LockModelState, lockStateKey } from "./model-state.js";
import { unobservedAcquire, unobservedRelease } from "./model-unobserved.js";
import { parseLockOperation } from "./parse.js";

const parseOperation = memoByIdentity(parseLockOperation);

export type { LockModelState } from "./model-state.js";

/**
 * The lock's sequential specification, with time taken from the outputs (see model-state.ts).
 * No partition: there is one lock.
 *
 * What it cannot check, to stay simple and sound (it never rejects a history the service could
 * produce, but accepts some it could not):
 * - Whether `now` is the real leader clock: only that it never goes backwards along the
 *   linearization. A leader whose clock jumps ahead is accepted.
 * - After an operation with unknown output, exact times: its time is unknown, so the lease's
 *   expiry becomes a lower bound until an output shows it, and upper bounds (the renewal
 *   happened before the old lease ran out; a failed release means the lease had expired by
 *   then) are dropped. Orders that would need time to pass less than those bounds allow are
 *   accepted.
 * - Queries carry no time, so whether the reported holder's lease was live when the query
 *   ran is not checked (nor is it claimed by the service); only the stored fields are.
 */
export const lockModel: Model<LockModelState, ClientOperation, Value> = {
  name: "lock",
  init: () => INITIAL_LOCK_STATE,
  step(state, input, output) {
    const op = parseOperation(input);
    // Refused by validateCommand before the log: no effect, and no service result to check.
    if (op === undefined) return [state];
    switch (op.op) {
      case "acquire":
        return output === undefined
          ? unobservedAcquire(state, op)
          : observedAcquire(state, op, output);
      case "release":
        return output === undefined
          ? unobservedRelease(state, op)
          : observedRelease(state, op, output);
      case "holder":
        return output === undefined ? [state] : observedHolder(state, output);
    }
  },
  key: lockStateKey,
  describe: describeLockOperation,
};
