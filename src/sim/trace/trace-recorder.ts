import type { CoreStatus } from "../../core/protocol.js";
import { jsonSafe, messageKind, shortJson } from "./json-safe.js";
import type {
  FaultKind,
  MessageFate,
  OperationOutcome,
  SimTrace,
  TraceFault,
  TraceLane,
  TraceMessage,
  TraceNote,
  TraceOperation,
  TraceStatus,
} from "./trace-format.js";

const us = 1000;

/** Records kept by default: a 10 s default run of Raft fits; a longer run is cut at the cap. */
export const defaultMaxTraceEvents = 150_000;

type Channel = TraceMessage["channel"];

interface MutableMessage {
  id: number;
  from: number;
  to: number;
  channel: Channel;
  kind: string;
  sent: number;
  at: number;
  fate: MessageFate;
  duplicate?: boolean;
  summary: string;
}

interface MutableOperation {
  id: number;
  lane: number;
  client: string;
  input: TraceOperation["input"];
  invoked: number;
  returned?: number;
  outcome: OperationOutcome;
  result?: TraceOperation["result"];
}

/** What the recorder has collected, for trace-document.ts: the trace's event lists. */
export type RecordedRun = Pick<
  SimTrace,
  "lanes" | "messages" | "faults" | "operations" | "statuses" | "notes" | "limits"
> & { readonly faultsStoppedAt: number | undefined };

/**
 * Collects the structured trace of one simulator run. The simulation holds one only when a
 * trace was asked for (every hook is behind `recorder?.`), and the recorder only reads what it
 * is given: it draws no randomness and changes nothing, so a traced run is the same run.
 * Memory is bounded by `maxEvents` records; past it, records are counted, not kept.
 */
export class TraceRecorder {
  private lanes: TraceLane[] = [];
  private readonly messages: MutableMessage[] = [];
  private readonly inFlight = new WeakMap<object, MutableMessage>();
  private readonly faults: TraceFault[] = [];
  private readonly operations: MutableOperation[] = [];
  private readonly operationById = new Map<number, MutableOperation>();
  private readonly statuses: TraceStatus[] = [];
  private readonly lastStatus = new Map<number, string>();
  private readonly notes: TraceNote[] = [];
  private kept = 0;
  private cappedAt: number | undefined;
  private readonly omitted: { [kind: string]: number } = {};
  private nextMessageId = 1;
  private faultsStoppedAt: number | undefined;

  constructor(readonly maxEvents = defaultMaxTraceEvents) {}

  setLanes(lanes: readonly TraceLane[]): void {
    this.lanes = [...lanes];
  }

  /**
   * A message was sent. `event` is the delivery the simulator scheduled (undefined: dropped
   * on sending); the same object comes back to `outcome` when it is handled.
   */
  sent(nowUs: number, from: number, to: number, channel: Channel, msg: unknown, event?: object) {
    if (!this.room(nowUs, "messages")) return;
    const t = nowUs / us;
    const record: MutableMessage = {
      id: this.nextMessageId++,
      from,
      to,
      channel,
      kind: messageKind(msg),
      sent: t,
      at: t,
      fate: event ? "in-flight" : "dropped",
      summary: shortJson(msg),
    };
    this.messages.push(record);
    if (event) this.inFlight.set(event, record);
  }

  /** A scheduled delivery was handled (or lost); a second outcome is the duplicate copy. */
  outcome(nowUs: number, event: object, fate: MessageFate): void {
    const record = this.inFlight.get(event);
    if (!record) return;
    if (record.fate === "in-flight") {
      record.fate = fate;
      record.at = nowUs / us;
      return;
    }
    if (!this.room(nowUs, "messages")) return;
    this.messages.push({ ...record, fate, at: nowUs / us, duplicate: true });
  }

  fault(
    nowUs: number,
    kind: FaultKind,
    replicas: readonly number[],
    text: string,
    extra?: { until?: number; cut?: readonly (readonly [number, number])[] },
  ): void {
    if (kind === "faults-stop") this.faultsStoppedAt = nowUs / us;
    if (!this.room(nowUs, "faults")) return;
    this.faults.push({ t: nowUs / us, kind, replicas, text, ...extra });
  }

  invoked(nowUs: number, lane: number, client: string, id: number, input: unknown): void {
    if (!this.room(nowUs, "operations")) return;
    const op: MutableOperation = {
      id,
      lane,
      client,
      input: jsonSafe(input),
      invoked: nowUs / us,
      outcome: "pending",
    };
    this.operations.push(op);
    this.operationById.set(id, op);
  }

  finished(nowUs: number, id: number, outcome: OperationOutcome, result: unknown): void {
    const op = this.operationById.get(id);
    if (!op) return;
    op.outcome = outcome;
    op.returned = nowUs / us;
    op.result = jsonSafe(result);
  }

  /**
   * A replica's status now (undefined: down); kept only when it differs from the last one.
   * `byzantine`: the behaviour the adversary gave this incarnation, if it lies.
   */
  status(
    nowUs: number,
    replica: number,
    status: CoreStatus | undefined,
    leads: boolean,
    byzantine?: string,
  ): void {
    const entry: TraceStatus["status"] = status && {
      role: status.role,
      term: status.term,
      leader: status.leader ?? null,
      commitIndex: status.commitIndex,
      lastIndex: status.lastIndex,
      leads,
      ...(byzantine !== undefined ? { byzantine } : {}),
      ...(status.details !== undefined ? { details: jsonSafe(status.details) } : {}),
    };
    const key = entry ? JSON.stringify(entry) : "down";
    if (this.lastStatus.get(replica) === key) return;
    this.lastStatus.set(replica, key);
    if (!this.room(nowUs, "statuses")) return;
    this.statuses.push(
      entry ? { t: nowUs / us, replica, status: entry } : { t: nowUs / us, replica },
    );
  }

  note(nowUs: number, text: string): void {
    if (!this.room(nowUs, "notes")) return;
    this.notes.push({ t: nowUs / us, text });
  }

  result(): RecordedRun {
    return {
      lanes: this.lanes,
      messages: this.messages,
      faults: this.faults,
      operations: this.operations,
      statuses: this.statuses,
      notes: this.notes,
      limits: {
        maxEvents: this.maxEvents,
        capped: this.cappedAt !== undefined,
        ...(this.cappedAt !== undefined ? { cappedAt: this.cappedAt } : {}),
        omitted: { ...this.omitted },
      },
      faultsStoppedAt: this.faultsStoppedAt,
    };
  }

  /** Whether one more record fits; once the cap is reached, later records are counted only. */
  private room(nowUs: number, kind: string): boolean {
    if (this.kept < this.maxEvents && this.cappedAt === undefined) {
      this.kept++;
      return true;
    }
    this.cappedAt ??= nowUs / us;
    this.omitted[kind] = (this.omitted[kind] ?? 0) + 1;
    return false;
  }
}
