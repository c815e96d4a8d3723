/**
 * Rejects histories the checker cannot interpret, rather than returning a verdict about
 * something other than what the caller recorded.
 *
 * Not enforced: "output undefined iff ret undefined". A completed op with an undefined output is
 * read as "took effect within [call, ret], result unknown" and the model is asked for every
 * possible next state, which is the natural meaning (and harmless for void results).
 */
import type { History } from "../../model/history.js";

export function validateHistory<I, O>(history: History<I, O>): void {
  const ids = new Set<number>();
  for (const op of history) {
    if (ids.has(op.id)) throw new RangeError(`history: duplicate operation id ${op.id}`);
    ids.add(op.id);
    if (!Number.isFinite(op.call)) {
      throw new RangeError(`history: operation ${op.id} has a non-finite call time ${op.call}`);
    }
    if (op.ret !== undefined && !(Number.isFinite(op.ret) && op.ret >= op.call)) {
      throw new RangeError(
        `history: operation ${op.id} returns at ${op.ret}, which is not a finite time >= its call ${op.call}`,
      );
    }
  }
}
