import type { AdminOp } from "../../core/client-messages.js";
import type { ClientId, LogIndex, ReplicaId } from "../../core/ids.js";
import { limits } from "../../core/limits.js";
import { isMember, isVoter, makeMembership } from "./membership.js";
import type { Membership } from "./types.js";

/**
 * Membership changes one server at a time (dissertation 4.1-4.3), as decisions: what a change
 * turns a membership into, when a request is satisfied, which learner is ready for promotion,
 * and the bounded list of admin requests waiting for their change to commit. Nothing here sends
 * or appends; reconfig.ts and raft.ts act on the answers.
 */

/** An admin request answered once the committed membership satisfies it. */
export interface AdminWaiter {
  readonly client: ClientId;
  readonly aid: number;
  readonly op: AdminOp;
  age: number;
}

export function satisfied(op: AdminOp, m: Membership): boolean {
  if (op.op === "add") return isVoter(m, op.replica);
  if (op.op === "remove") return !isMember(m, op.replica);
  return false;
}

/** The membership after `op` (add: as learner first), or why it cannot be made. */
export function changedMembership(
  latest: Membership,
  op: AdminOp & { op: "add" | "remove" },
): Membership | string {
  const replica = op.replica;
  if (op.op === "add") return makeMembership(latest.voters, [...latest.learners, replica]);
  const next = makeMembership(
    latest.voters.filter((id) => id !== replica),
    latest.learners.filter((id) => id !== replica),
  );
  if (next.voters.length === 0) return "cannot remove the last voter";
  return next;
}

/** The first learner caught up to within `catchUp` entries of `lastIndex`, promoted to voter. */
export function promotion(
  latest: Membership,
  matchOf: (id: ReplicaId) => LogIndex | undefined,
  lastIndex: LogIndex,
  catchUp: number,
): Membership | undefined {
  for (const learner of latest.learners) {
    const match = matchOf(learner);
    if (match === undefined || match + catchUp < lastIndex) continue;
    return makeMembership(
      [...latest.voters, learner],
      latest.learners.filter((id) => id !== learner),
    );
  }
  return undefined;
}

/**
 * Admin requests waiting for the committed membership to satisfy them. Bounded
 * (limits.raftMaxAdminWaiters: a full list answers `busy`) and aged out after
 * limits.raftAdminWaiterElectionTimeouts election timeouts (the client retries).
 */
export class AdminWaiters {
  private waiters: AdminWaiter[] = [];

  get length(): number {
    return this.waiters.length;
  }

  get full(): boolean {
    return this.waiters.length >= limits.raftMaxAdminWaiters;
  }

  add(client: ClientId, aid: number, op: AdminOp): void {
    this.waiters.push({ client, aid, op, age: 0 });
  }

  /** Removes and returns the waiters that `committed` satisfies. */
  takeSatisfied(committed: Membership): AdminWaiter[] {
    const done: AdminWaiter[] = [];
    this.waiters = this.waiters.filter((w) => {
      if (!satisfied(w.op, committed)) return true;
      done.push(w);
      return false;
    });
    return done;
  }

  /** One tick: waiters older than the limit are forgotten. */
  tick(electionTicks: number): void {
    const limit = limits.raftAdminWaiterElectionTimeouts * electionTicks;
    this.waiters = this.waiters.filter((w) => ++w.age < limit);
  }
}
