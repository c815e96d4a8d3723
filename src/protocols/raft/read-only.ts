import type { ClientId, LogIndex } from "../../core/ids.js";
import { limits } from "../../core/limits.js";
import type { Value } from "../../core/value.js";

export interface PendingRead {
  readonly client: ClientId;
  readonly qid: number;
  readonly q: Value;
}

/** A batch of reads waiting for a quorum to echo heartbeat round `round` (ReadIndex). */
export interface ReadRound {
  readonly round: number;
  readonly readIndex: LogIndex;
  readonly reads: readonly PendingRead[];
}

/**
 * The leader's read-only bookkeeping (etcd's readOnly): reads queued for the next confirmation
 * round, rounds in flight, and when each recent heartbeat round was sent (for leases). It
 * decides which reads a confirmation releases; it sends nothing and calls nothing back.
 */
export class ReadOnly {
  private queue: PendingRead[] = [];
  private rounds: ReadRound[] = [];
  /** Send time (monotonic ms) of recent heartbeat rounds, oldest first. */
  private readonly sentAt = new Map<number, number>();
  /** Queries handed to the driver (query outputs) and not yet reported done. */
  private inDriver = 0;

  /** Reads this replica holds or has handed out and not seen finish: the pending-read count. */
  get pending(): number {
    return this.queue.length + this.rounds.reduce((s, r) => s + r.reads.length, 0) + this.inDriver;
  }

  get queued(): number {
    return this.queue.length;
  }

  get roundInFlight(): boolean {
    return this.rounds.length > 0;
  }

  enqueue(read: PendingRead): void {
    this.queue.push(read);
  }

  /** A heartbeat round went out at `now`; only the latest rounds are remembered. */
  recordRound(round: number, now: number): void {
    this.sentAt.set(round, now);
    while (this.sentAt.size > limits.raftHeartbeatRoundsKept)
      this.sentAt.delete(this.sentAt.keys().next().value!);
  }

  /** When round `round` was sent, if it is still remembered. */
  roundSentAt(round: number): number | undefined {
    return this.sentAt.get(round);
  }

  /** The queued reads wait for round `round`, at read index `readIndex`. */
  startRound(round: number, readIndex: LogIndex): void {
    this.rounds.push({ round, readIndex, reads: this.queue });
    this.queue = [];
  }

  /** Takes the rounds, oldest first, that `confirmed` says a quorum has echoed. */
  takeConfirmed(confirmed: (round: number) => boolean): ReadRound[] {
    const out: ReadRound[] = [];
    for (;;) {
      const first = this.rounds[0];
      if (!first || !confirmed(first.round)) break;
      this.rounds.shift();
      out.push(first);
    }
    return out;
  }

  /** Leadership lost: every read not yet handed to the driver, to be refused. */
  takeAll(): PendingRead[] {
    const reads = [...this.rounds.flatMap((r) => r.reads), ...this.queue];
    this.rounds = [];
    this.queue = [];
    return reads;
  }

  /** A query output went to the driver / the driver reported one done. */
  handedOut(): void {
    this.inDriver++;
  }

  done(): void {
    if (this.inDriver > 0) this.inDriver--;
  }

  /** A new term as leader: nothing queued, no rounds, no send times from an earlier term. */
  reset(): void {
    this.queue = [];
    this.rounds = [];
    this.sentAt.clear();
  }
}
