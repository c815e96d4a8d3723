import type { ClientOperation, Model, Value } from "lockstep";
import { tryParse, valueEquals } from "lockstep";
import { parseCommand, parseQuery } from "./parse.js";

/**
 * A sequential model of the ledger for the linearizability checker. It tracks balances and holds
 * but not time, so it is exact only for holds that cannot expire during a run: the workload's
 * holds live far longer than a simulation (expiry is covered by the unit tests and the cluster
 * run). A hold expiring here would show up as a violation, not pass silently.
 */
export interface ModelState {
  readonly balances: ReadonlyMap<string, number>;
  readonly holds: ReadonlyMap<string, { readonly account: string; readonly amount: number }>;
}

function heldBy(s: ModelState, account: string): number {
  let held = 0;
  for (const h of s.holds.values()) if (h.account === account) held += h.amount;
  return held;
}

/** The state after `op` and the result the ledger gives for it. */
function step(s: ModelState, op: ClientOperation): { next: ModelState; result: Value } | undefined {
  if (op.kind === "query") {
    const q = tryParse(() => parseQuery(op.value));
    if (!q) return undefined;
    if (q.op === "total") {
      let total = 0;
      for (const b of s.balances.values()) total += b;
      return { next: s, result: { total, accounts: s.balances.size } };
    }
    const balance = s.balances.get(q.account);
    if (balance === undefined) return { next: s, result: { found: false, balance: 0, held: 0 } };
    return { next: s, result: { found: true, balance, held: heldBy(s, q.account) } };
  }
  const cmd = tryParse(() => parseCommand(op.value));
  if (!cmd) return undefined;
  const refuse = (reason: string) => ({ next: s, result: { ok: false, reason } });
  const balances = new Map(s.balances);
  const holds = new Map(s.holds);
  switch (cmd.op) {
    case "open":
      if (balances.has(cmd.account)) return refuse("account-exists");
      balances.set(cmd.account, cmd.initial);
      return { next: { balances, holds }, result: { ok: true } };
    case "transfer": {
      if (cmd.from === cmd.to) return refuse("same-account");
      const from = balances.get(cmd.from);
      const to = balances.get(cmd.to);
      if (from === undefined || to === undefined) return refuse("no-such-account");
      if (from - heldBy(s, cmd.from) < cmd.amount) return refuse("insufficient-funds");
      balances.set(cmd.from, from - cmd.amount);
      balances.set(cmd.to, to + cmd.amount);
      return { next: { balances, holds }, result: { ok: true } };
    }
    case "hold": {
      if (holds.has(cmd.id)) return refuse("hold-exists");
      const balance = balances.get(cmd.account);
      if (balance === undefined) return refuse("no-such-account");
      if (balance - heldBy(s, cmd.account) < cmd.amount) return refuse("insufficient-funds");
      holds.set(cmd.id, { account: cmd.account, amount: cmd.amount });
      // expiresAt depends on the leader's clock, which the model does not know: any number fits.
      return { next: { balances, holds }, result: { ok: true, expiresAt: Number.NaN } };
    }
    case "capture": {
      const hold = holds.get(cmd.id);
      if (!hold) return refuse("no-such-hold");
      const to = balances.get(cmd.to);
      if (to === undefined) return refuse("no-such-account");
      holds.delete(cmd.id);
      if (cmd.to !== hold.account) {
        balances.set(hold.account, balances.get(hold.account)! - hold.amount);
        balances.set(cmd.to, to + hold.amount);
      }
      return { next: { balances, holds }, result: { ok: true } };
    }
    case "release":
      if (!holds.delete(cmd.id)) return refuse("no-such-hold");
      return { next: { balances, holds }, result: { ok: true } };
  }
}

function sameResult(expected: Value, actual: Value): boolean {
  // A hold's expiry time is the leader's; the model checks only that one is reported.
  if (
    typeof expected === "object" &&
    expected !== null &&
    "expiresAt" in expected &&
    typeof actual === "object" &&
    actual !== null &&
    !Array.isArray(actual) &&
    !(actual instanceof Uint8Array)
  ) {
    const { expiresAt, ...rest } = actual as { readonly [key: string]: Value };
    return typeof expiresAt === "number" && valueEquals({ ok: true }, rest);
  }
  return valueEquals(expected, actual);
}

export const ledgerModel: Model<ModelState, ClientOperation, Value> = {
  name: "ledger",
  init: () => ({ balances: new Map(), holds: new Map() }),
  step(state, input, output) {
    const out = step(state, input);
    if (!out) return output === undefined ? [state] : [];
    if (output === undefined) return [out.next];
    return sameResult(out.result, output) ? [out.next] : [];
  },
  key(state) {
    const sorted = <T>(m: ReadonlyMap<string, T>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    return JSON.stringify([sorted(state.balances), sorted(state.holds)]);
  },
  describe: (input, output) => `${JSON.stringify(input.value)} -> ${JSON.stringify(output)}`,
};
