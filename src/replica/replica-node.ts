import type { ReplyResult } from "../core/client-messages.js";
import type { ClientId, LogIndex, ReplicaId } from "../core/ids.js";
import { limits } from "../core/limits.js";
import type { LogEntry } from "../core/log-entry.js";
import type {
  CoreInput,
  CoreOutput,
  ExternalAnswer,
  ExternalHandler,
  ExternalRequest,
  ExternalResult,
  PersistOp,
  ProtocolCore,
  SnapshotMeta,
  WireTypes,
} from "../core/protocol.js";
import type { AppliedCommand, ReplicatedService } from "../core/replicated-service.js";
import { refuseRequest } from "../core/request-admission.js";
import type { Value } from "../core/value.js";

/** Where a ReplicaNode sends and stores things. The simulator and the real runtime each provide one. */
export interface ReplicaEnvironment<W extends WireTypes> {
  sendPeer(to: ReplicaId, msg: W["peer"]): void;
  sendClient(client: ClientId, msg: W["response"]): void;
  /** Start writing; call `ReplicaNode.durable(id)` once these ops (and all earlier ones) are on stable storage. */
  persist(id: number, ops: readonly PersistOp[]): void;
  /**
   * Carry out an external request (core output `external`) and call `ReplicaNode.answer(id,
   * result)` when it is answered, now or later. Omitted: every external request is answered
   * `{ ok: false }` at once (the protocol has no handler in this driver).
   */
  external?(id: number, request: ExternalRequest<W>): void;
}

/**
 * An environment's `external` built from a protocol's ExternalHandler for drivers that may
 * answer later (the runtime): calls the handler, turns a throw or a rejection into
 * `{ ok: false }`, and hands the result to `answer`.
 */
export function runExternal<W extends WireTypes>(
  handler: ExternalHandler<ExternalRequest<W>, ExternalAnswer<W>>,
  from: ReplicaId,
  answer: (result: ExternalResult<ExternalAnswer<W>>) => void,
  request: ExternalRequest<W>,
): void {
  const failed = (error: unknown): ExternalResult<ExternalAnswer<W>> => ({
    ok: false,
    error: String((error as Error)?.message ?? error),
  });
  let result: ExternalResult<ExternalAnswer<W>> | Promise<ExternalResult<ExternalAnswer<W>>>;
  try {
    result = handler.call(from, request);
  } catch (error) {
    answer(failed(error));
    return;
  }
  if (result instanceof Promise) result.then(answer, (error: unknown) => answer(failed(error)));
  else answer(result);
}

/** What a ReplicaNode dropped or refused because a bounded queue was full (core/limits.ts). */
export interface ReplicaNodeDrops {
  /** Messages dropped because too many were held for a persist. */
  held: number;
  /** Queries answered `busy` because too many waited. */
  queries: number;
  /** External requests answered `{ ok: false }` because too many were in flight. */
  external: number;
}

/** Observers for checkers and metrics; all optional. */
export interface ReplicaObserver {
  onApply?(entry: LogEntry, results: readonly AppliedCommand[], service: ReplicatedService): void;
  onQuery?(client: ClientId, qid: number, atIndex: LogIndex, result: ReplyResult): void;
  onSnapshot?(index: LogIndex, data: Uint8Array): void;
  onInstallSnapshot?(meta: SnapshotMeta, service: ReplicatedService): void;
  /**
   * An entry applied tentatively (PBFT §5.1.2): executed, not committed. `onApply` follows for
   * it once it commits, or `onRollback` once it is undone.
   */
  onTentativeApply?(entry: LogEntry, results: readonly AppliedCommand[]): void;
  /** Tentative entries were undone: the service is back at the committed snapshot `meta`. */
  onRollback?(meta: SnapshotMeta, service: ReplicatedService): void;
}

interface Held<W extends WireTypes> {
  readonly after: number;
  readonly output: CoreOutput<W> & { type: "send" | "reply" };
}

/**
 * Drives one protocol core for one replica: applies committed entries to the service, answers
 * queries at the index the core names, takes and installs snapshots, and holds every message
 * until the persist it depends on is durable ("persist before the sends that depend on it").
 * It does no I/O itself, so the simulator and the real runtime share it.
 */
export class ReplicaNode<W extends WireTypes> {
  private durableUpTo = 0;
  private readonly held: Held<W>[] = [];
  private readonly waitingQueries: {
    client: ClientId;
    qid: number;
    q: Value;
    atIndex: LogIndex;
  }[] = [];
  private readonly inputs: CoreInput<W>[] = [];
  private busy = false;
  /**
   * Entries applied tentatively and not yet committed or rolled back, by index, with their
   * results: a later committed `apply` of that index makes them final without executing again.
   */
  private readonly tentative = new Map<LogIndex, { entry: LogEntry; results: AppliedCommand[] }>();
  /** External requests carried out and not yet answered. */
  private readonly externalInFlight = new Set<number>();
  readonly dropped: ReplicaNodeDrops = { held: 0, queries: 0, external: 0 };

  constructor(
    readonly core: ProtocolCore<W>,
    readonly service: ReplicatedService,
    private readonly env: ReplicaEnvironment<W>,
    private readonly observer: ReplicaObserver = {},
  ) {}

  /** Feeds one input to the core and carries out everything that follows from it. */
  handle(input: CoreInput<W>): void {
    if (input.type === "client") {
      // Validate before the core can log it: an invalid command is answered at once, never
      // replicated (the replicas validate again when they apply).
      const refusal = refuseRequest(this.service.definition, input.msg);
      if (refusal !== undefined) {
        this.env.sendClient(input.client, refusal as W["response"]);
        return;
      }
      // The core checks the client's role when it orders the request (core/access.ts).
      const m = input.msg as { type?: unknown; seq?: unknown };
      const seq = m?.type === "request" && typeof m.seq === "number" ? m.seq : undefined;
      const access = this.service.admissionAccess(input.client, seq);
      this.enqueue(access === undefined ? input : { ...input, access });
    } else {
      this.enqueue(input);
    }
    if (this.busy) return; // re-entrant call from an environment callback: the loop below takes it
    this.busy = true;
    try {
      // An index, not shift(): a long run of queued inputs stays linear.
      let next = 0;
      let steps = 0;
      while (next < this.inputs.length) {
        const input = this.inputs[next++]!;
        if (++steps > limits.replicaStepsPerTurn) {
          this.inputs.length = 0;
          throw new Error(
            `replica ${this.core.id}: ${steps - 1} steps in one turn (limit ${limits.replicaStepsPerTurn}): the core feeds itself without end`,
          );
        }
        if (next > 1024 && next * 2 > this.inputs.length) {
          this.inputs.splice(0, next);
          next = 0;
        }
        for (const output of this.core.step(input)) this.carryOut(output);
      }
      this.inputs.length = 0;
    } finally {
      this.busy = false;
    }
  }

  /** Storage reports that every persist with id ≤ upTo is durable. */
  durable(upTo: number): void {
    if (upTo <= this.durableUpTo) return;
    this.durableUpTo = upTo;
    let kept = 0;
    const release: Held<W>[] = [];
    for (const h of this.held) {
      if (h.after <= upTo) release.push(h);
      else this.held[kept++] = h;
    }
    this.held.length = kept;
    for (const h of release) this.emit(h.output);
    this.handle({ type: "persisted", upTo });
  }

  /**
   * The answer to external request `id` (from the environment's `external`). An answer for an
   * id not in flight (answered already, or from before a restart) is ignored.
   */
  answer(id: number, result: ExternalResult<ExternalAnswer<W>>): void {
    if (!this.externalInFlight.delete(id)) return;
    this.handle({ type: "external", id, result });
  }

  get heldMessages(): number {
    return this.held.length;
  }

  get pendingExternal(): number {
    return this.externalInFlight.size;
  }

  private enqueue(input: CoreInput<W>): void {
    if (this.inputs.length >= limits.replicaQueuedInputs) {
      throw new Error(
        `replica ${this.core.id}: ${this.inputs.length} inputs queued in one turn (limit ${limits.replicaQueuedInputs}): the core feeds itself without end`,
      );
    }
    this.inputs.push(input);
  }

  private carryOut(output: CoreOutput<W>): void {
    switch (output.type) {
      case "send":
      case "reply":
        if (output.after <= this.durableUpTo) this.emit(output);
        else if (this.held.length >= limits.replicaHeldMessages) this.dropped.held++;
        else this.held.push({ after: output.after, output });
        break;
      case "persist":
        this.env.persist(output.id, output.ops);
        break;
      case "apply": {
        const results: AppliedCommand[] = [];
        let upTo = this.service.appliedIndex;
        for (const entry of output.entries) {
          if (entry.index <= this.service.appliedIndex) {
            // Applied tentatively before: now committed. Observers learn of the entry the
            // service executed (a core that confirms another one at this index is wrong, and
            // the checker must see what really ran). Otherwise: in the restored snapshot.
            const t = output.tentative ? undefined : this.tentative.get(entry.index);
            if (t) {
              this.tentative.delete(entry.index);
              this.observer.onApply?.(t.entry, t.results, this.service);
            }
            continue;
          }
          const applied = this.service.applyEntry(entry);
          for (const r of applied) results.push(r);
          upTo = entry.index;
          if (output.tentative) {
            this.tentative.set(entry.index, { entry, results: applied });
            this.observer.onTentativeApply?.(entry, applied);
          } else this.observer.onApply?.(entry, applied, this.service);
        }
        const admin = this.service.takeAdminResults();
        this.enqueue(
          admin.length === 0
            ? { type: "applied", upTo, results }
            : { type: "applied", upTo, results, admin },
        );
        this.runWaitingQueries();
        break;
      }
      case "query":
        if (
          output.atIndex > this.service.appliedIndex &&
          this.waitingQueries.length >= limits.replicaWaitingQueries
        ) {
          this.dropped.queries++;
          this.enqueue({
            type: "queryDone",
            client: output.client,
            qid: output.qid,
            result: { ok: false, error: "busy", message: "too many queries waiting" },
          });
          break;
        }
        this.waitingQueries.push({
          client: output.client,
          qid: output.qid,
          q: output.q,
          atIndex: output.atIndex,
        });
        this.runWaitingQueries();
        break;
      case "takeSnapshot": {
        if (this.service.appliedIndex !== output.index) {
          throw new Error(
            `takeSnapshot at ${output.index} but the service has applied ${this.service.appliedIndex}`,
          );
        }
        const data = this.service.snapshot();
        this.observer.onSnapshot?.(output.index, data);
        this.enqueue({ type: "snapshotTaken", index: output.index, data });
        break;
      }
      case "installSnapshot":
        this.service.restore(output.data);
        this.tentative.clear(); // whatever ran tentatively is gone with the state it changed
        if (this.service.appliedIndex !== output.meta.index) {
          throw new Error(
            `installed snapshot claims index ${output.meta.index} but holds ${this.service.appliedIndex}`,
          );
        }
        if (output.rollback) this.observer.onRollback?.(output.meta, this.service);
        else this.observer.onInstallSnapshot?.(output.meta, this.service);
        this.runWaitingQueries();
        break;
      case "external":
        this.carryOutExternal(output.id, output.request);
        break;
    }
  }

  private carryOutExternal(id: number, request: ExternalRequest<W>): void {
    const refuse = (error: string) =>
      this.enqueue({ type: "external", id, result: { ok: false, error } });
    if (!this.env.external) {
      refuse("this driver has no handler for external requests");
    } else if (this.externalInFlight.has(id)) {
      refuse(`external request ${id} is already in flight`);
    } else if (this.externalInFlight.size >= limits.replicaExternalInFlight) {
      this.dropped.external++;
      refuse("too many external requests in flight");
    } else {
      this.externalInFlight.add(id);
      this.env.external(id, request);
    }
  }

  private runWaitingQueries(): void {
    if (this.waitingQueries.length === 0) return;
    let kept = 0;
    for (const w of this.waitingQueries) {
      if (w.atIndex <= this.service.appliedIndex) {
        const result = this.service.queryAs(w.client, w.q);
        this.observer.onQuery?.(w.client, w.qid, w.atIndex, result);
        this.enqueue({ type: "queryDone", client: w.client, qid: w.qid, result });
      } else {
        this.waitingQueries[kept++] = w;
      }
    }
    this.waitingQueries.length = kept;
  }

  private emit(output: CoreOutput<W> & { type: "send" | "reply" }): void {
    if (output.type === "send") this.env.sendPeer(output.to, output.msg);
    else this.env.sendClient(output.client, output.msg);
  }
}
