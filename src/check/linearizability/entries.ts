/**
 * The event list of the Wing & Gong / Lowe search: every call and return of a partition, in
 * time order, as a doubly linked list from which linearized operations are "lifted" (removed)
 * and later "unlifted" (restored, in LIFO order, dancing-links style).
 *
 * Links live in typed arrays rather than objects: the search touches them in its innermost
 * loop and this keeps them compact and monomorphic. Entry 0 is a head sentinel.
 *
 * Equal timestamps. Real-time order is "a happens before b iff a returned before b was called".
 * When a.ret === b.call we treat a as happening before b (the response was observed no later
 * than the invocation, and a simulator that answers and invokes within the same tick has
 * ordered them causally), so at equal times returns sort before calls. The one exception is an
 * instantaneous op (ret === call): its own call must precede its return, so at a time t the
 * order is
 *   returns of ops that started before t,
 *   calls of instantaneous ops at t,
 *   returns of instantaneous ops at t,
 *   calls of ops that finish after t (or never).
 * Hence two instantaneous ops at the same time are concurrent, and every other pair whose
 * ret/call coincide is ordered.
 *
 * Indeterminate ops (ret undefined) get no return entry: their return is at +infinity, so they
 * never force a backtrack, which is exactly "may take effect at any time after the call, or
 * never".
 */
import type { History, Operation } from "../../model/history.js";

export const HEAD = 0;
export const NIL = -1;

export interface EventList<I, O> {
  /** The partition's operations in call order; an op's index here is its "op index". */
  readonly ops: readonly Operation<I, O>[];
  /** Number of ops with a response (the ones that must be linearized). */
  readonly completed: number;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Entry -> op index (-1 for the head). */
  readonly opOf: Int32Array;
  /** 1 for call entries, 0 for return entries and the head. */
  readonly isCall: Uint8Array;
  /** Call entry -> its return entry, or NIL for indeterminate ops (and for return entries). */
  readonly matchOf: Int32Array;
}

interface Event {
  readonly time: number;
  /** Tie-break at equal times, see the module comment. */
  readonly rank: number;
  /** Position of the op in the input history (final, deterministic tie-break). */
  readonly pos: number;
  readonly isCall: boolean;
}

const RETURN_OF_SPANNING = 0;
const CALL_OF_INSTANT = 1;
const RETURN_OF_INSTANT = 2;
const CALL_OF_SPANNING = 3;

function byTimeThenRank(a: Event, b: Event): number {
  return a.time - b.time || a.rank - b.rank || a.pos - b.pos;
}

export function buildEventList<I, O>(history: History<I, O>): EventList<I, O> {
  const events: Event[] = [];
  history.forEach((op, pos) => {
    const instant = op.ret === op.call;
    events.push({
      time: op.call,
      rank: instant ? CALL_OF_INSTANT : CALL_OF_SPANNING,
      pos,
      isCall: true,
    });
    if (op.ret !== undefined) {
      events.push({
        time: op.ret,
        rank: instant ? RETURN_OF_INSTANT : RETURN_OF_SPANNING,
        pos,
        isCall: false,
      });
    }
  });
  events.sort(byTimeThenRank);

  const size = events.length + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const opOf = new Int32Array(size).fill(-1);
  const isCall = new Uint8Array(size);
  const matchOf = new Int32Array(size).fill(NIL);
  const ops: Operation<I, O>[] = [];
  // Input position -> entry of its call, to pair returns with calls.
  const callEntryOfPos = new Int32Array(history.length);
  let completed = 0;

  events.forEach((event, k) => {
    const entry = k + 1;
    prev[entry] = entry - 1;
    next[entry] = entry + 1 < size ? entry + 1 : NIL;
    if (event.isCall) {
      // Op indices follow call order, so calls appear in the list in increasing index order;
      // the memo key (search.ts) relies on that.
      opOf[entry] = ops.length;
      ops.push(history[event.pos]!);
      isCall[entry] = 1;
      callEntryOfPos[event.pos] = entry;
    } else {
      const call = callEntryOfPos[event.pos]!;
      opOf[entry] = opOf[call]!;
      matchOf[call] = entry;
      completed++;
    }
  });
  next[HEAD] = size > 1 ? 1 : NIL;
  prev[HEAD] = NIL;

  return { ops, completed, next, prev, opOf, isCall, matchOf };
}

function unlink(list: EventList<unknown, unknown>, entry: number): void {
  const before = list.prev[entry]!;
  const after = list.next[entry]!;
  list.next[before] = after;
  if (after !== NIL) list.prev[after] = before;
}

function relink(list: EventList<unknown, unknown>, entry: number): void {
  const before = list.prev[entry]!;
  const after = list.next[entry]!;
  list.next[before] = entry;
  if (after !== NIL) list.prev[after] = entry;
}

/** Remove an op (its call and, if any, its return) from the list. */
export function lift(list: EventList<unknown, unknown>, call: number): void {
  unlink(list, call);
  const ret = list.matchOf[call]!;
  if (ret !== NIL) unlink(list, ret);
}

/** Undo the most recent `lift` (must be called in LIFO order). */
export function unlift(list: EventList<unknown, unknown>, call: number): void {
  const ret = list.matchOf[call]!;
  if (ret !== NIL) relink(list, ret);
  relink(list, call);
}
