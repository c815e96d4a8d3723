import type { ClientOperation, NextOperation, Random } from "lockstep";

const accounts = ["alice", "bob", "carol", "dave"];

/**
 * Contended random operations over four accounts: opens (which race), transfers, holds that
 * outlive any simulation (see the model), captures and releases of recent holds, and reads.
 * Draws randomness only from `random`, so a seed replays exactly.
 */
export function ledgerWorkload(): NextOperation {
  let nextHold = 0;
  return (random: Random, client: number): ClientOperation => {
    const pick = () => accounts[random.int(accounts.length)]!;
    const recentHold = () => `h${client}-${Math.max(0, nextHold - 1 - random.int(3))}`;
    const r = random.int(100);
    if (r < 10) return { kind: "command", value: { op: "open", account: pick(), initial: 1000 } };
    if (r < 45) {
      const amount = 1 + random.int(300);
      return { kind: "command", value: { op: "transfer", from: pick(), to: pick(), amount } };
    }
    if (r < 60) {
      const id = `h${client}-${nextHold++}`;
      const amount = 1 + random.int(200);
      const value = { op: "hold", id, account: pick(), amount, ttlMs: 3_600_000 };
      return { kind: "command", value };
    }
    if (r < 70) return { kind: "command", value: { op: "capture", id: recentHold(), to: pick() } };
    if (r < 78) return { kind: "command", value: { op: "release", id: recentHold() } };
    if (r < 90) return { kind: "query", value: { op: "balance", account: pick() } };
    return { kind: "query", value: { op: "total" } };
  };
}
