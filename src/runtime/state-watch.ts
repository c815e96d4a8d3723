import type { CoreStatus, StatusDeclaration } from "../core/protocol.js";
import type { Logger } from "./logger.js";

/** Logs role, leader and term changes of a core (checked once per tick). */
export class StateWatch {
  private role: string | undefined;
  private term: number | undefined;
  private leader: number | undefined | null = null;

  constructor(
    private readonly log: Logger,
    /** How this protocol says who leads; the log line carries it so tools never compare role names. */
    private readonly declaration: StatusDeclaration,
  ) {}

  check(status: CoreStatus): void {
    const leader = status.leader;
    const roleChanged = status.role !== this.role;
    const leaderChanged = leader !== this.leader;
    const termChanged = status.term !== this.term;
    if (!roleChanged && !leaderChanged && !termChanged) return;
    const msg = roleChanged ? "role changed" : leaderChanged ? "leader changed" : "term changed";
    this.log.info(msg, {
      role: status.role,
      leads: this.declaration.leads(status),
      term: status.term,
      epochName: this.declaration.epochName,
      leader: leader ?? null,
      prevRole: this.role ?? null,
      prevTerm: this.term ?? null,
      prevLeader: this.leader ?? null,
      commitIndex: status.commitIndex,
      lastIndex: status.lastIndex,
    });
    this.role = status.role;
    this.term = status.term;
    this.leader = leader;
  }
}
