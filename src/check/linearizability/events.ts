/**
 * Converts a Jepsen/Porcupine-style event log (src/model/events.ts) into the paired operations
 * the checker searches: ok → a completed operation, info or no completion → an indeterminate
 * one (ret undefined), fail → dropped, since it did not happen. Malformed logs are refused
 * with the offending event's position rather than guessed at.
 */
import type { HistoryEvent, ProcessName } from "../../model/events.js";
import type { History, Operation } from "../../model/history.js";

interface Open<I> {
  readonly id: number;
  readonly process: ProcessName;
  readonly input: I;
  readonly call: number;
}

function allOrNone<I, O>(
  events: readonly HistoryEvent<I, O>[],
  field: "time" | "id",
  describe: string,
): boolean {
  const present = events.filter((e) => e[field] !== undefined).length;
  if (present !== 0 && present !== events.length) {
    throw new RangeError(
      `events: ${present} of ${events.length} events have a ${field}; ${describe} must be given on every event or on none`,
    );
  }
  return present > 0;
}

export function historyFromEvents<I, O>(events: readonly HistoryEvent<I, O>[]): History<I, O> {
  const timed = allOrNone(events, "time", "times");
  const withIds = allOrNone(events, "id", "ids");
  const openById = new Map<number, Open<I>>();
  const openByProcess = new Map<ProcessName, Open<I>>();
  const usedIds = new Set<number>();
  const ops: Operation<I, O>[] = [];
  let nextId = 0;

  const close = (open: Open<I>, ret: number | undefined, output: O | undefined): void => {
    openById.delete(open.id);
    openByProcess.delete(open.process);
    ops.push({
      id: open.id,
      client: String(open.process),
      input: open.input,
      call: open.call,
      ret,
      output,
    });
  };

  events.forEach((event, position) => {
    const time = timed ? event.time! : position;
    const where = `events[${position}] (${event.type} by process ${String(event.process)})`;
    if (event.type === "invoke") {
      if (openByProcess.has(event.process)) {
        throw new RangeError(`${where}: the process already has an operation outstanding`);
      }
      const id = withIds ? event.id! : nextId++;
      if (usedIds.has(id)) throw new RangeError(`${where}: operation id ${id} is used twice`);
      usedIds.add(id);
      const open: Open<I> = { id, process: event.process, input: event.input, call: time };
      openById.set(id, open);
      openByProcess.set(event.process, open);
      return;
    }
    const open = withIds ? openById.get(event.id!) : openByProcess.get(event.process);
    if (open === undefined) throw new RangeError(`${where}: no outstanding invoke to complete`);
    if (open.process !== event.process) {
      throw new RangeError(
        `${where}: operation ${open.id} was invoked by process ${String(open.process)}`,
      );
    }
    if (event.type === "ok") close(open, time, event.output);
    else if (event.type === "info") close(open, undefined, undefined);
    else {
      // fail: it did not happen, so it is not part of the history.
      openById.delete(open.id);
      openByProcess.delete(open.process);
    }
  });
  // Still outstanding at the end of the log: unknown outcome, like info.
  for (const open of openById.values()) close(open, undefined, undefined);
  return ops;
}
