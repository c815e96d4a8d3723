import {
  type ApplyContext,
  defineService,
  InvalidInputError,
  isValueArray,
  openSnapshot,
  type QueryContext,
  SnapshotError,
  type StateMachine,
  sealSnapshot,
  type Value,
  validationMessage,
} from "lockstep";
import { parseCommand, parseQuery } from "./parse.js";
import {
  type LedgerAnswer,
  type LedgerCommand,
  type LedgerQuery,
  type LedgerResult,
  limits,
} from "./types.js";

interface Hold {
  readonly account: string;
  readonly amount: number;
  readonly expiresAt: number;
}

/** Bump when the snapshot layout changes; replicas refuse data written by another version. */
const snapshotVersion = 1;

/**
 * A bank ledger: accounts, transfers, and holds that reserve funds until they expire by the
 * agreed clock (`ctx.now()`), never a local one, so every replica expires a hold at the same
 * log position. State lives in Maps, but everything that reaches a result or a snapshot is read
 * in sorted order, so replicas that applied the same log hold byte-identical snapshots.
 */
export class Ledger
  implements StateMachine<LedgerCommand, LedgerResult, LedgerQuery, LedgerAnswer>
{
  private readonly balances = new Map<string, number>();
  private readonly holds = new Map<string, Hold>();

  apply(cmd: LedgerCommand, ctx: ApplyContext): LedgerResult {
    const now = ctx.now();
    this.expireHolds(now);
    switch (cmd.op) {
      case "open": {
        if (this.balances.has(cmd.account)) return { ok: false, reason: "account-exists" };
        if (this.balances.size >= limits.maxAccounts) throw new Error("too many accounts");
        this.balances.set(cmd.account, cmd.initial);
        return { ok: true };
      }
      case "transfer": {
        if (cmd.from === cmd.to) return { ok: false, reason: "same-account" };
        const from = this.balances.get(cmd.from);
        const to = this.balances.get(cmd.to);
        if (from === undefined || to === undefined) return { ok: false, reason: "no-such-account" };
        if (this.available(cmd.from) < cmd.amount)
          return { ok: false, reason: "insufficient-funds" };
        this.balances.set(cmd.from, from - cmd.amount);
        this.balances.set(cmd.to, to + cmd.amount);
        return { ok: true };
      }
      case "hold": {
        if (this.holds.has(cmd.id)) return { ok: false, reason: "hold-exists" };
        if (!this.balances.has(cmd.account)) return { ok: false, reason: "no-such-account" };
        if (this.available(cmd.account) < cmd.amount) {
          return { ok: false, reason: "insufficient-funds" };
        }
        if (this.holds.size >= limits.maxHolds) throw new Error("too many holds");
        const expiresAt = now + cmd.ttlMs;
        this.holds.set(cmd.id, { account: cmd.account, amount: cmd.amount, expiresAt });
        return { ok: true, expiresAt };
      }
      case "capture": {
        const hold = this.holds.get(cmd.id);
        if (!hold) return { ok: false, reason: "no-such-hold" };
        const to = this.balances.get(cmd.to);
        if (to === undefined) return { ok: false, reason: "no-such-account" };
        this.holds.delete(cmd.id);
        if (cmd.to !== hold.account) {
          this.balances.set(hold.account, this.balances.get(hold.account)! - hold.amount);
          this.balances.set(cmd.to, to + hold.amount);
        }
        return { ok: true };
      }
      case "release": {
        if (!this.holds.delete(cmd.id)) return { ok: false, reason: "no-such-hold" };
        return { ok: true };
      }
    }
  }

  /** Reads see the clock of the index they are answered at, so an expired hold holds nothing. */
  query(q: LedgerQuery, ctx: QueryContext): LedgerAnswer {
    if (q.op === "total") {
      let total = 0;
      for (const amount of this.balances.values()) total += amount;
      return { total, accounts: this.balances.size };
    }
    const balance = this.balances.get(q.account);
    if (balance === undefined) return { found: false, balance: 0, held: 0 };
    return { found: true, balance, held: this.heldBy(q.account, ctx.now()) };
  }

  snapshot(): Uint8Array {
    const accounts = [...this.balances].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const holds = [...this.holds]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, h]) => [id, h.account, h.amount, h.expiresAt]);
    return sealSnapshot("ledger", snapshotVersion, { accounts, holds } as Value);
  }

  restore(bytes: Uint8Array): void {
    const state = openSnapshot("ledger", snapshotVersion, bytes) as {
      readonly accounts?: Value;
      readonly holds?: Value;
    };
    if (!isValueArray(state.accounts ?? null) || !isValueArray(state.holds ?? null)) {
      throw new SnapshotError("ledger snapshot: expected accounts and holds");
    }
    this.balances.clear();
    this.holds.clear();
    for (const row of state.accounts as readonly Value[]) {
      const [account, balance] = row as [string, number];
      this.balances.set(account, balance);
    }
    for (const row of state.holds as readonly Value[]) {
      const [id, account, amount, expiresAt] = row as [string, string, number, number];
      this.holds.set(id, { account, amount, expiresAt });
    }
  }

  private expireHolds(now: number): void {
    for (const [id, hold] of this.holds) if (hold.expiresAt <= now) this.holds.delete(id);
  }

  private heldBy(account: string, now: number): number {
    let held = 0;
    for (const hold of this.holds.values()) {
      if (hold.account === account && hold.expiresAt > now) held += hold.amount;
    }
    return held;
  }

  private available(account: string): number {
    // apply() has just expired the holds past now, so every remaining hold is live.
    return (this.balances.get(account) ?? 0) - this.heldBy(account, Number.NEGATIVE_INFINITY);
  }
}

/** The ledger service: what replicas run (`lockstep replica --service dist-examples/…`). */
export const ledger = defineService<LedgerCommand, LedgerResult, LedgerQuery, LedgerAnswer>({
  name: "ledger",
  version: snapshotVersion,
  create: () => new Ledger(),
  validateCommand: (cmd) => validationMessage(() => parseCommand(cmd)),
  validateQuery: (q) => validationMessage(() => parseQuery(q)),
});

export { InvalidInputError };
