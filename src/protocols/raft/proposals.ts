import type { ClientId, Seq, Term } from "../../core/ids.js";
import type { LoggedCommand } from "../../core/log-entry.js";

/** A client command this replica received and will answer once it is applied. */
export interface PendingCommand {
  readonly client: ClientId;
  readonly seq: Seq;
  /** Term in which this replica put it into its log (or batch). */
  readonly term: Term;
}

function key(client: ClientId, seq: Seq): string {
  return `${seq}:${client}`;
}

/**
 * Pending proposals: the commands this replica must answer (bounded by `maxPending`, oldest
 * forgotten first: that only costs its client a retry, answered from the session table) and
 * the batch of commands not yet in the log. It decides what is a retry and what to answer; it
 * sends nothing.
 */
export class Proposals {
  private readonly pending = new Map<string, PendingCommand>();
  private batch: LoggedCommand[] = [];

  constructor(private readonly maxPending: number) {}

  get size(): number {
    return this.pending.size;
  }

  get batchLength(): number {
    return this.batch.length;
  }

  /**
   * Records a command received in `term`. Returns false for a retry of a command already in
   * this leader's log or batch (it will be answered once).
   */
  add(command: LoggedCommand, term: Term): boolean {
    const { client, seq } = command;
    const k = key(client, seq);
    const known = this.pending.get(k);
    if (known && known.term === term) {
      this.pending.delete(k);
      this.pending.set(k, known);
      return false;
    }
    this.pending.delete(k);
    while (this.pending.size >= this.maxPending) {
      this.pending.delete(this.pending.keys().next().value!);
    }
    this.pending.set(k, { client, seq, term });
    this.batch.push(command);
    return true;
  }

  /** The batch, to go into one log entry. */
  takeBatch(): LoggedCommand[] {
    const commands = this.batch;
    this.batch = [];
    return commands;
  }

  /** Leadership lost: the batch never reached the log; its commands are forgotten and returned. */
  dropBatch(): LoggedCommand[] {
    const dropped = this.batch;
    for (const c of dropped) this.pending.delete(key(c.client, c.seq));
    this.batch = [];
    return dropped;
  }

  /** A new term as leader starts with an empty batch. */
  clearBatch(): void {
    this.batch = [];
  }

  /** Whether this replica owes `client` an answer for `seq` (and forgets it: answered once). */
  answer(client: ClientId, seq: Seq): boolean {
    return this.pending.delete(key(client, seq));
  }
}
