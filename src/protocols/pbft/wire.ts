import { type AccessChange, parseAccessChange } from "../../core/access.js";
import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import type { MembershipOp } from "./membership.js";
import type { PbftReplicaMessage, Reply, Request } from "./messages.js";

/** PBFT's three message families as the contract sees them. */
export interface PbftWire {
  readonly peer: PbftReplicaMessage;
  readonly request: Request;
  readonly response: Reply;
}

/**
 * What a REQUEST's `op` carries: the client operation, so that a query can be ordered too (the
 * fallback when read-only replies disagree) and a replica can tell it from a command. Timestamp 0
 * with a null command opens the client's session, as in the other protocols. `admin` carries an
 * access change (core/access.ts: setRole, revoke, rotate, setDefaultRole): ordered alone in its
 * batch and applied as an access entry, where the asker's role is checked.
 */
export type PbftOp =
  | { readonly kind: "command" | "query"; readonly value: Value }
  | { readonly kind: "admin"; readonly value: AccessChange | MembershipOp };

export function opValue(op: PbftOp): Value {
  return { kind: op.kind, value: op.value as unknown as Value };
}

/** The operation in a request, or undefined if `op` has another shape (dropped and counted). */
export function parseOp(op: Value): PbftOp | undefined {
  if (!isPlainObject(op)) return undefined;
  const { kind, value } = op as { kind?: Value; value?: Value };
  if (value === undefined || Object.keys(op).length !== 2) return undefined;
  if (kind === "command" || kind === "query") return { kind, value };
  const change =
    kind === "admin" ? (parseAccessChange(value) ?? parseMembershipOp(value)) : undefined;
  if (change) return { kind: "admin", value: change };
  return undefined;
}

/** A membership change (docs/protocols/pbft.md, Reconfiguration), or undefined. */
export function parseMembershipOp(value: Value): MembershipOp | undefined {
  if (!isPlainObject(value) || Object.keys(value).length !== 2) return undefined;
  const { op, replica } = value as { op?: Value; replica?: Value };
  if ((op !== "add" && op !== "remove") || typeof replica !== "number") return undefined;
  if (!Number.isSafeInteger(replica) || replica < 0) return undefined;
  return { op, replica };
}

export function isMembershipChange(change: AccessChange | MembershipOp): change is MembershipOp {
  return change.op === "add" || change.op === "remove";
}
