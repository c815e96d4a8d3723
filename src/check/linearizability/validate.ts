/**
 * The checker's boundary: rejects histories it cannot interpret, rather than returning a
 * verdict about something other than what the caller recorded, and writes an unknown outcome
 * one way only.
 *
 * An unknown outcome has one representation inside the checker: `ret` and `output` both
 * undefined (indeterminate: it may take effect at any time after `call`, or never). A caller
 * may also record an operation that returned with an undefined output (e.g. a reply that could
 * not be read, or a server-side timeout); the outcome is just as unknown, and the operation may
 * still take effect after that reply (a Raft leader can commit an entry after answering
 * "timeout"), so it is read as indeterminate too. Models therefore see `output === undefined`
 * exactly for indeterminate operations. A void result must be recorded as a value (null).
 */
import type { History, Operation } from "../../model/history.js";

export function prepareHistory<I, O>(history: History<I, O>): History<I, O> {
  const ids = new Set<number>();
  let normalized: Operation<I, O>[] | undefined;
  for (let position = 0; position < history.length; position++) {
    const op = history[position]!;
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
    if (op.ret !== undefined && op.output === undefined) {
      // Copy on first need: the common history has nothing to normalize.
      normalized ??= history.slice(0, position);
      normalized.push({ ...op, ret: undefined });
    } else if (normalized !== undefined) {
      normalized.push(op);
    }
  }
  return normalized ?? history;
}
