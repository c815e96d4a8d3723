import type {
  SimTrace,
  TraceMessage,
  TraceOperation,
  TraceStatus,
} from "../../../sim/trace/trace-format.js";

/** Messages longer in flight than this are kept apart, so a window finds the rest by search. */
const longFlightMs = 5;

/**
 * The trace arranged for fast questions by time: what is visible in a window, what each
 * replica's status was at an instant. Built once at load; nothing here allocates per frame
 * beyond the arrays it returns.
 */
export class TraceIndex {
  /** Messages of short flight, by send time. */
  private readonly short: TraceMessage[];
  /** Messages long in flight (tail delays, paused receivers): few, scanned whole. */
  private readonly long: TraceMessage[];
  private readonly shortSent: Float64Array;
  private readonly statusByReplica = new Map<number, TraceStatus[]>();
  readonly laneRow = new Map<number, number>();
  readonly kinds: readonly string[];
  readonly operationById = new Map<number, TraceOperation>();
  /** Each client's operations by invocation: one at a time, so they do not overlap. */
  private readonly operationsByLane = new Map<number, TraceOperation[]>();

  constructor(readonly trace: SimTrace) {
    const sorted = [...trace.messages].sort((a, b) => a.sent - b.sent || a.id - b.id);
    this.short = sorted.filter((m) => m.at - m.sent <= longFlightMs);
    this.long = sorted.filter((m) => m.at - m.sent > longFlightMs);
    this.shortSent = Float64Array.from(this.short, (m) => m.sent);
    for (const status of trace.statuses) {
      const list = this.statusByReplica.get(status.replica) ?? [];
      list.push(status);
      this.statusByReplica.set(status.replica, list);
    }
    trace.lanes.forEach((lane, row) => {
      this.laneRow.set(lane.id, row);
    });
    this.kinds = [...new Set(sorted.map((m) => m.kind))].sort();
    for (const op of trace.operations) {
      this.operationById.set(op.id, op);
      const list = this.operationsByLane.get(op.lane) ?? [];
      list.push(op);
      this.operationsByLane.set(op.lane, list);
    }
    for (const list of this.operationsByLane.values()) list.sort((a, b) => a.invoked - b.invoked);
  }

  /** Operations whose bar crosses [from, to]: found from the window's end backwards. */
  operationsIn(from: number, to: number): TraceOperation[] {
    const out: TraceOperation[] = [];
    for (const list of this.operationsByLane.values()) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid]!.invoked <= to) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo - 1; i >= 0; i--) {
        const op = list[i]!;
        if ((op.returned ?? this.trace.endTime) < from) break;
        out.push(op);
      }
    }
    return out;
  }

  /** Messages whose arrow crosses [from, to]. */
  messagesIn(from: number, to: number): TraceMessage[] {
    const out: TraceMessage[] = [];
    for (let i = lowerBound(this.shortSent, from - longFlightMs); i < this.short.length; i++) {
      const m = this.short[i]!;
      if (m.sent > to) break;
      if (m.at >= from) out.push(m);
    }
    for (const m of this.long) if (m.sent <= to && m.at >= from) out.push(m);
    return out;
  }

  /** A replica's status entry in force at `t` (undefined before its first one). */
  statusAt(replica: number, t: number): TraceStatus | undefined {
    const list = this.statusByReplica.get(replica);
    if (!list) return undefined;
    const at = this.statusIndexAt(list, t);
    return at < 0 ? undefined : list[at];
  }

  /** The index of the entry in force at `t`, -1 before the first. */
  private statusIndexAt(list: readonly TraceStatus[], t: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.t <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The intervals in [from, to] when a replica was down (its status entries say so). */
  downIntervals(replica: number, from: number, to: number): [number, number][] {
    const list = this.statusByReplica.get(replica) ?? [];
    const out: [number, number][] = [];
    for (let i = Math.max(0, this.statusIndexAt(list, from)); i < list.length; i++) {
      const entry = list[i]!;
      if (entry.t > to) break;
      if (entry.status !== undefined) continue;
      const end = list[i + 1]?.t ?? this.trace.endTime;
      if (end >= from && entry.t <= to) out.push([entry.t, end]);
    }
    return out;
  }
}

/** The first index whose value is >= x in an ascending array. */
export function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
