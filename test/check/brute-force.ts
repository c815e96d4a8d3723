/**
 * An obviously-correct (and exponential) reference checker: try every order of every subset of
 * operations that contains all completed ones, respects real-time order, and that the model
 * accepts. Only for histories of a handful of operations.
 */
import type { History, Model, Operation } from "../../src/model/history.js";

/**
 * The real-time order the checker documents: a before b iff a returned before b was called,
 * where equal times count as "before" unless both ops are instantaneous (ret === call).
 */
export function happensBefore<I, O>(a: Operation<I, O>, b: Operation<I, O>): boolean {
  if (a.ret === undefined) return false;
  if (a.ret < b.call) return true;
  return a.ret === b.call && !(a.call === a.ret && b.call === b.ret);
}

export function bruteForceLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: History<I, O>,
): boolean {
  const placed = history.map(() => false);
  const completed = history.filter((op) => op.ret !== undefined).length;

  const extend = (state: S, placedCompleted: number): boolean => {
    if (placedCompleted === completed) return true;
    for (const [i, op] of history.entries()) {
      if (placed[i]) continue;
      const blocked = history.some((other, j) => !placed[j] && happensBefore(other, op));
      if (blocked) continue;
      placed[i] = true;
      const done = placedCompleted + (op.ret === undefined ? 0 : 1);
      const found = model.step(state, op.input, op.output).some((next) => extend(next, done));
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return extend(model.init(), 0);
}

/** Is `order` (op ids) a valid linearization of those ops, i.e. a genuine prefix witness? */
export function isLinearizablePrefix<S, I, O>(
  model: Model<S, I, O>,
  history: History<I, O>,
  order: readonly number[],
): boolean {
  const byId = new Map(history.map((op) => [op.id, op]));
  const ops = order.map((id) => byId.get(id));
  if (new Set(order).size !== order.length) return false;
  const present: Operation<I, O>[] = [];
  for (const op of ops) {
    if (op === undefined) return false;
    present.push(op);
  }
  // Real time: nothing placed later may happen before something placed earlier, and nothing
  // left out may happen before something placed.
  for (const [k, op] of present.entries()) {
    if (present.slice(k + 1).some((later) => happensBefore(later, op))) return false;
    if (history.some((other) => !order.includes(other.id) && happensBefore(other, op))) {
      return false;
    }
  }
  let states: readonly S[] = [model.init()];
  for (const op of present) {
    states = states.flatMap((s) => model.step(s, op.input, op.output));
    if (states.length === 0) return false;
  }
  return true;
}
