import { makeApplyContext, makeQueryContext } from "lockstep";
import { describe, expect, test } from "vitest";
import { Ledger, ledger } from "../src/index.js";
import type { LedgerCommand } from "../src/types.js";

// Unit tests of the ledger state machine, driven as replicas drive it: each command with the
// context of its log entry (index, agreed time).

class Driver {
  readonly machine = new Ledger();
  private index = 0;
  apply(cmd: LedgerCommand, time: number) {
    this.index++;
    return this.machine.apply(cmd, makeApplyContext(this.index, 0, { time, seed: this.index }));
  }
  balance(account: string, time: number) {
    return this.machine.query({ op: "balance", account }, makeQueryContext(this.index, time));
  }
}

function withAccounts(): Driver {
  const d = new Driver();
  d.apply({ op: "open", account: "alice", initial: 1000 }, 0);
  d.apply({ op: "open", account: "bob", initial: 100 }, 0);
  return d;
}

describe("ledger", () => {
  test("transfers move available funds and refuse what is not there", () => {
    const d = withAccounts();
    expect(d.apply({ op: "transfer", from: "alice", to: "bob", amount: 300 }, 1)).toEqual({
      ok: true,
    });
    expect(d.apply({ op: "transfer", from: "bob", to: "alice", amount: 401 }, 2)).toEqual({
      ok: false,
      reason: "insufficient-funds",
    });
    expect(d.apply({ op: "transfer", from: "bob", to: "zed", amount: 1 }, 3)).toEqual({
      ok: false,
      reason: "no-such-account",
    });
    expect(d.apply({ op: "open", account: "bob", initial: 5 }, 4)).toEqual({
      ok: false,
      reason: "account-exists",
    });
    expect(d.balance("bob", 4)).toEqual({ found: true, balance: 400, held: 0 });
    expect(d.machine.query({ op: "total" }, makeQueryContext(4, 4))).toEqual({
      total: 1100,
      accounts: 2,
    });
  });

  test("a hold reserves funds until the agreed clock passes its expiry", () => {
    const d = withAccounts();
    expect(
      d.apply({ op: "hold", id: "h1", account: "alice", amount: 800, ttlMs: 1000 }, 10_000),
    ).toEqual({ ok: true, expiresAt: 11_000 });
    expect(d.apply({ op: "transfer", from: "alice", to: "bob", amount: 201 }, 10_500)).toEqual({
      ok: false,
      reason: "insufficient-funds",
    });
    // Queries judge expiry by the time of the index they read, not by a local clock.
    expect(d.balance("alice", 10_999)).toEqual({ found: true, balance: 1000, held: 800 });
    expect(d.balance("alice", 11_000)).toEqual({ found: true, balance: 1000, held: 0 });
    // A command at or after the expiry sees the funds free again, and the hold gone.
    expect(d.apply({ op: "transfer", from: "alice", to: "bob", amount: 900 }, 11_000)).toEqual({
      ok: true,
    });
    expect(d.apply({ op: "capture", id: "h1", to: "bob" }, 11_001)).toEqual({
      ok: false,
      reason: "no-such-hold",
    });
  });

  test("capture pays a live hold; release gives it back", () => {
    const d = withAccounts();
    d.apply({ op: "hold", id: "h1", account: "alice", amount: 250, ttlMs: 60_000 }, 0);
    d.apply({ op: "hold", id: "h2", account: "alice", amount: 100, ttlMs: 60_000 }, 0);
    expect(d.apply({ op: "capture", id: "h1", to: "bob" }, 1)).toEqual({ ok: true });
    expect(d.apply({ op: "release", id: "h2" }, 2)).toEqual({ ok: true });
    expect(d.apply({ op: "release", id: "h2" }, 3)).toEqual({ ok: false, reason: "no-such-hold" });
    expect(d.balance("alice", 3)).toEqual({ found: true, balance: 750, held: 0 });
    expect(d.balance("bob", 3)).toEqual({ found: true, balance: 350, held: 0 });
  });

  test("snapshots are byte-identical for equal states, whatever the insertion order", () => {
    const a = new Driver();
    const b = new Driver();
    a.apply({ op: "open", account: "x", initial: 1 }, 0);
    a.apply({ op: "open", account: "y", initial: 2 }, 0);
    b.apply({ op: "open", account: "y", initial: 2 }, 0);
    b.apply({ op: "open", account: "x", initial: 1 }, 0);
    for (const d of [a, b]) {
      d.apply({ op: "hold", id: "h", account: "y", amount: 1, ttlMs: 5 }, 0);
    }
    expect(Buffer.from(a.machine.snapshot())).toEqual(Buffer.from(b.machine.snapshot()));
    const copy = new Ledger();
    copy.restore(a.machine.snapshot());
    expect(Buffer.from(copy.snapshot())).toEqual(Buffer.from(a.machine.snapshot()));
    expect(copy.query({ op: "balance", account: "y" }, makeQueryContext(3, 1))).toEqual({
      found: true,
      balance: 2,
      held: 1,
    });
  });

  test("validators refuse malformed input with a message naming the field", () => {
    expect(ledger.validateCommand({ op: "transfer", from: "a", to: "b", amount: 5 })).toBe(
      undefined,
    );
    expect(ledger.validateCommand({ op: "transfer", from: "a", to: "b", amount: -5 })).toMatch(
      /amount/,
    );
    expect(ledger.validateCommand({ op: "open", account: "a", initial: 1, extra: 1 })).toMatch(
      /unexpected field/,
    );
    expect(ledger.validateCommand({ op: "steal" })).toMatch(/op/);
    expect(ledger.validateQuery({ op: "total" })).toBe(undefined);
    expect(ledger.validateQuery({ op: "balance" })).toMatch(/account/);
  });
});
