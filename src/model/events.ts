/**
 * A history as a log of call and return events, the way Jepsen and Porcupine record one,
 * rather than as paired operations. The checker converts it (check/linearizability/events.ts).
 *
 * Jepsen's types mean: `invoke` a process called an operation; `ok` it returned `output`;
 * `fail` it definitely did not take effect; `info` its outcome is unknown (it may take effect
 * at any time after the call, or never). An invoke with no completion is read as `info`.
 * Porcupine's call and return events are `invoke` and `ok` with the operation's `id`.
 */

/** Who issued an operation; a process has at most one operation outstanding. */
export type ProcessName = string | number;

interface EventBase {
  readonly process: ProcessName;
  /**
   * When the event happened, in any monotonic unit. Either every event has a time or none
   * does; without times an event's position in the list is its time (Porcupine's reading).
   */
  readonly time?: number;
  /**
   * Pairs a completion with its invoke (Porcupine's id). Either every event has an id or none
   * does; without ids a completion answers its process's outstanding invoke, and operations
   * are numbered 0, 1, 2... in invoke order.
   */
  readonly id?: number;
}

export interface InvokeEvent<I> extends EventBase {
  readonly type: "invoke";
  readonly input: I;
}

export interface OkEvent<O> extends EventBase {
  readonly type: "ok";
  readonly output: O;
}

export interface FailEvent extends EventBase {
  readonly type: "fail";
}

export interface InfoEvent extends EventBase {
  readonly type: "info";
}

export type HistoryEvent<I, O> = InvokeEvent<I> | OkEvent<O> | FailEvent | InfoEvent;
