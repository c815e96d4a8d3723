import type { CoreStatus, StatusDeclaration } from "../core/protocol.js";
import type { Logger } from "./logger.js";

/**
 * One change of a replica's role, term/view/epoch or leader, as its StateWatch saw it: /status
 * serves the newest few (`stateChanges`) so that a poller that asks less often than things
 * change (the dashboard, every 400 ms) still sees every leader.
 */
export interface StateChange {
  /** Numbered from 1 within this process (with the pid: which changes a poller has seen). */
  readonly seq: number;
  /** Wall-clock time of the tick that saw it (ms since the epoch). */
  readonly at: number;
  readonly role: string;
  readonly leads: boolean;
  readonly term: number;
  readonly leader: number | null;
}

/** How many changes /status keeps: enough for a burst of elections between two polls. */
export const stateChangesKept = 16;

/** Logs role, leader and term changes of a core (checked once per tick) and keeps the newest. */
export class StateWatch {
  private role: string | undefined;
  private term: number | undefined;
  private leader: number | undefined | null = null;
  private seq = 0;
  private readonly changes: StateChange[] = [];

  constructor(
    private readonly log: Logger,
    /** How this protocol says who leads; the log line carries it so tools never compare role names. */
    private readonly declaration: StatusDeclaration,
    private readonly now: () => number = Date.now,
  ) {}

  check(status: CoreStatus): void {
    const leader = status.leader;
    const roleChanged = status.role !== this.role;
    const leaderChanged = leader !== this.leader;
    const termChanged = status.term !== this.term;
    if (!roleChanged && !leaderChanged && !termChanged) return;
    const msg = roleChanged ? "role changed" : leaderChanged ? "leader changed" : "term changed";
    const leads = this.declaration.leads(status);
    this.log.info(msg, {
      role: status.role,
      leads,
      term: status.term,
      epochName: this.declaration.epochName,
      leader: leader ?? null,
      prevRole: this.role ?? null,
      prevTerm: this.term ?? null,
      prevLeader: this.leader ?? null,
      commitIndex: status.commitIndex,
      lastIndex: status.lastIndex,
    });
    this.changes.push({
      seq: ++this.seq,
      at: this.now(),
      role: status.role,
      leads,
      term: status.term,
      leader: leader ?? null,
    });
    if (this.changes.length > stateChangesKept) this.changes.shift();
    this.role = status.role;
    this.term = status.term;
    this.leader = leader;
  }

  /** The newest changes, oldest first (at most stateChangesKept). */
  recent(): readonly StateChange[] {
    return [...this.changes];
  }
}
