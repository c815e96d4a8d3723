import type { AccessChange, AccessPolicy } from "../core/access.js";
import type { Random } from "../core/prng.js";

/**
 * The roles workload (`lockstep sim --roles`): an operator changes the access of the first
 * clients while they work (core/access.ts). Every replica must apply the same changes at the
 * same indexes, so the checker's result chain and snapshots agree; a client's forbidden
 * operations must not have taken effect, which the linearizability check verifies.
 */

/** The simulated cluster's initial roles: the operator ("admin") administers, others write. */
export const simAccessPolicy: AccessPolicy = { defaultRole: "write", roles: { admin: "admin" } };

/** Clients whose access changes (c0, c1: the rest keep writing, so the run makes progress). */
export const roleChangeClients = 2;

/** Simulated milliseconds between two role changes: drawn from [min, min + spread). */
export const roleChangeGapMs = { min: 150, spread: 600 } as const;

/** One change for one of the first clients; `rotation` numbers key versions (they only grow). */
export function pickRoleChange(random: Random, clients: number, rotation: number): AccessChange {
  const client = `c${random.int(Math.max(1, Math.min(clients, roleChangeClients)))}`;
  const roll = random.next();
  if (roll < 0.35) return { op: "setRole", client, role: "read" };
  if (roll < 0.7) return { op: "setRole", client, role: "write" };
  if (roll < 0.85) return { op: "revoke", client };
  return { op: "rotate", client, version: rotation };
}
