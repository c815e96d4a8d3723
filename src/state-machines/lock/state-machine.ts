import type { ApplyContext, StateMachine } from "../../core/state-machine.js";
import { unreachable } from "../shared/unreachable.js";
import { decodeLockSnapshot, encodeLockSnapshot, type LockState } from "./snapshot.js";
import type { LockCommand, LockQuery, LockQueryResult, LockResult } from "./types.js";

/**
 * A lease lock. Time is `ctx.now()`, the leader's clock carried in the log entry, so every
 * replica agrees on whether a lease had expired when a command applied. A lease acquired at t
 * with ttl d is live for leader times in [t, t + d).
 */
export class LockStateMachine
  implements StateMachine<LockCommand, LockResult, LockQuery, LockQueryResult>
{
  private state: LockState = { holder: null, expiresAt: 0, fencing: 0 };

  apply(cmd: LockCommand, ctx: ApplyContext): LockResult {
    const now = ctx.now();
    const { holder, expiresAt, fencing } = this.state;
    const live = holder !== null && now < expiresAt;
    switch (cmd.op) {
      case "acquire": {
        if (live && holder !== cmd.owner) return { ok: false, holder, expiresAt, now };
        // The holder renewing keeps its token: it never lost the lock, so nothing it did under
        // that token can have been overtaken. Anyone else, or the holder after its lease ran
        // out, gets a new, larger token.
        const token = live ? fencing : fencing + 1;
        const until = now + cmd.ttlMs;
        this.state = { holder: cmd.owner, expiresAt: until, fencing: token };
        return { ok: true, owner: cmd.owner, fencing: token, expiresAt: until, now };
      }
      case "release":
        // Releasing someone else's lease, or one that already ran out, changes nothing.
        if (!live || holder !== cmd.owner) return { ok: false, now };
        this.state = { holder: null, expiresAt: now, fencing };
        return { ok: true, now };
      default:
        return unreachable(cmd, "lock apply");
    }
  }

  /**
   * The stored lease, without judging it: a query carries no leader time (queries have no
   * ApplyContext), and using this replica's own clock would make answers differ between
   * replicas. So a holder whose lease has run out is still reported; the client compares
   * `expiresAt` with its own notion of time, or acquires through the log to know for sure.
   */
  query(): LockQueryResult {
    return { ...this.state };
  }

  snapshot(): Uint8Array {
    return encodeLockSnapshot(this.state);
  }

  restore(snapshot: Uint8Array): void {
    this.state = decodeLockSnapshot(snapshot);
  }
}
