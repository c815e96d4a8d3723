import type { ReplyResult } from "../core/client-messages.js";
import type { ClientId, LogIndex, ReplicaId } from "../core/ids.js";
import type { LogEntry } from "../core/log-entry.js";
import type {
  CoreInput,
  CoreOutput,
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
}

/** Observers for checkers and metrics; all optional. */
export interface ReplicaObserver {
  onApply?(entry: LogEntry, results: readonly AppliedCommand[], service: ReplicatedService): void;
  onQuery?(client: ClientId, qid: number, atIndex: LogIndex, result: ReplyResult): void;
  onSnapshot?(index: LogIndex, data: Uint8Array): void;
  onInstallSnapshot?(meta: SnapshotMeta, service: ReplicatedService): void;
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
    }
    this.inputs.push(input);
    if (this.busy) return; // re-entrant call from an environment callback: the loop below takes it
    this.busy = true;
    try {
      while (this.inputs.length > 0) {
        const next = this.inputs.shift()!;
        for (const output of this.core.step(next)) this.carryOut(output);
      }
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

  get heldMessages(): number {
    return this.held.length;
  }

  private carryOut(output: CoreOutput<W>): void {
    switch (output.type) {
      case "send":
      case "reply":
        if (output.after <= this.durableUpTo) this.emit(output);
        else this.held.push({ after: output.after, output });
        break;
      case "persist":
        this.env.persist(output.id, output.ops);
        break;
      case "apply": {
        const results: AppliedCommand[] = [];
        let upTo = this.service.appliedIndex;
        for (const entry of output.entries) {
          if (entry.index <= this.service.appliedIndex) continue; // already in the restored snapshot
          const applied = this.service.applyEntry(entry);
          for (const r of applied) results.push(r);
          upTo = entry.index;
          this.observer.onApply?.(entry, applied, this.service);
        }
        this.inputs.push({ type: "applied", upTo, results });
        this.runWaitingQueries();
        break;
      }
      case "query":
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
        this.inputs.push({ type: "snapshotTaken", index: output.index, data });
        break;
      }
      case "installSnapshot":
        this.service.restore(output.data);
        if (this.service.appliedIndex !== output.meta.index) {
          throw new Error(
            `installed snapshot claims index ${output.meta.index} but holds ${this.service.appliedIndex}`,
          );
        }
        this.observer.onInstallSnapshot?.(output.meta, this.service);
        this.runWaitingQueries();
        break;
    }
  }

  private runWaitingQueries(): void {
    if (this.waitingQueries.length === 0) return;
    let kept = 0;
    for (const w of this.waitingQueries) {
      if (w.atIndex <= this.service.appliedIndex) {
        const result = this.service.query(w.q);
        this.observer.onQuery?.(w.client, w.qid, w.atIndex, result);
        this.inputs.push({ type: "queryDone", client: w.client, qid: w.qid, result });
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
