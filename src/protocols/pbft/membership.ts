import type { ReplicaId } from "../../core/ids.js";
import type { Value } from "../../core/value.js";
import { minMembers } from "./settings.js";

/**
 * The rules of PBFT reconfiguration through ordered admin requests (docs/protocols/pbft.md,
 * "Reconfiguration"): which membership orders which sequence numbers, and whether a change may
 * start. Pure and deterministic: every correct replica that executed the same requests holds the
 * same record, so the record can be part of the checkpointed state.
 *
 * A change executed at slot s takes effect at the boundary e, the first checkpoint multiple at or
 * above s + L. A correct replica accepts slot t only if t ≤ h + L with h ≤ its executed seq, so
 * none can have accepted a slot above e before executing s: every slot ≤ e belongs to the old
 * members and every slot > e to the new ones, for every correct replica alike.
 */

/** A membership change asked for by an admin request. */
export type MembershipOp = {
  readonly op: "add" | "remove";
  readonly replica: ReplicaId;
};

/** The membership as of some executed sequence number: replicated, checkpointed state. */
export interface MembershipRecord {
  /** Changes that took effect so far (0: the configured members). */
  readonly epoch: number;
  /** Ascending; they order the slots above `since`. */
  readonly members: readonly ReplicaId[];
  /** The boundary these members took over at (0 for the configured ones). */
  readonly since: number;
  /** The members before `since`: they signed the boundary checkpoint (absent for epoch 0). */
  readonly previous?: readonly ReplicaId[];
  /** A change executed and not yet in effect: its members order the slots above `boundary`. */
  readonly pending?: {
    readonly members: readonly ReplicaId[];
    /** The checkpoint sequence number after which the new members order. */
    readonly boundary: number;
    /** The slot the change executed at. */
    readonly at: number;
  };
}

export interface ReconfigParams {
  /** K: checkpoint interval. */
  readonly interval: number;
  /** L: window size (a multiple of K). */
  readonly windowSize: number;
  /** Replicas in the address book: ids 0..replicaCount−1 can be members. */
  readonly replicaCount: number;
}

export function initialMembership(members: readonly ReplicaId[]): MembershipRecord {
  return { epoch: 0, members: [...members].sort((a, b) => a - b), since: 0 };
}

/**
 * The boundary of a change executed at `at`: the first checkpoint multiple ≥ at + L. No correct
 * replica accepted a slot above at − 1 + L before executing `at` (its window ends at h + L with
 * h < at), so none above the boundary.
 */
export function boundaryFor(at: number, params: Pick<ReconfigParams, "interval" | "windowSize">) {
  if (!Number.isSafeInteger(at) || at < 1) throw new RangeError(`slot must be ≥ 1, got ${at}`);
  const k = params.interval;
  return Math.ceil((at + params.windowSize) / k) * k;
}

export type ChangeVerdict =
  | { readonly ok: true; readonly record: MembershipRecord }
  | { readonly ok: false; readonly message: string };

/**
 * Executes a change at slot `at`: the record with the change pending, or why it is refused (the
 * same answer at every correct replica). One change at a time; the result keeps at least 4
 * members (f ≥ 1, f derived from the new n); only address-book replicas join; only members leave.
 */
export function applyChange(
  record: MembershipRecord,
  op: MembershipOp,
  at: number,
  params: ReconfigParams,
): ChangeVerdict {
  if (record.pending) {
    return {
      ok: false,
      message: `a membership change is already pending (in effect after slot ${record.pending.boundary}); ask again then`,
    };
  }
  if (at <= record.since) throw new Error(`invariant: change at ${at} not above ${record.since}`);
  const { replica } = op;
  if (!Number.isInteger(replica) || replica < 0 || replica >= params.replicaCount) {
    return { ok: false, message: `replica ${replica} is not in the address book` };
  }
  const isMember = record.members.includes(replica);
  let members: ReplicaId[];
  if (op.op === "add") {
    if (isMember) return { ok: false, message: `replica ${replica} is already a member` };
    members = [...record.members, replica].sort((a, b) => a - b);
  } else {
    if (!isMember) return { ok: false, message: `replica ${replica} is not a member` };
    members = record.members.filter((m) => m !== replica);
    if (members.length < minMembers) {
      return {
        ok: false,
        message: `removing replica ${replica} would leave ${members.length} members; PBFT needs at least ${minMembers}`,
      };
    }
  }
  return {
    ok: true,
    record: { ...record, pending: { members, boundary: boundaryFor(at, params), at } },
  };
}

/**
 * The record once checkpoint `stable` is stable: a pending change whose boundary it reached is in
 * effect (the new members order from its boundary on). Unchanged otherwise.
 */
export function settle(record: MembershipRecord, stable: number): MembershipRecord {
  const p = record.pending;
  if (!p || stable < p.boundary) return record;
  return {
    epoch: record.epoch + 1,
    members: p.members,
    since: p.boundary,
    previous: record.members,
  };
}

/**
 * The members that order slot `seq` as this record knows them: undefined for a slot at or below
 * `since` (an earlier configuration's, settled in a stable checkpoint) and for a slot above a
 * pending boundary that is not yet stable here (`stable` < boundary): a replica accepts messages
 * about a slot only from the members of that slot's configuration, once it knows them for sure.
 */
export function membersFor(
  record: MembershipRecord,
  seq: number,
  stable: number,
): readonly ReplicaId[] | undefined {
  if (seq <= record.since) return undefined;
  const p = record.pending;
  if (!p || seq <= p.boundary) return record.members;
  return stable >= p.boundary ? p.members : undefined;
}

/** The record as a Value (SnapshotMeta.config, and the bytes the checkpoint digest covers). */
export function membershipValue(record: MembershipRecord): Value {
  const base: { [key: string]: Value } = {
    epoch: record.epoch,
    members: [...record.members],
    since: record.since,
  };
  if (record.previous) base.previous = [...record.previous];
  if (!record.pending) return base;
  const { members, boundary, at } = record.pending;
  return { ...base, pending: { members: [...members], boundary, at } };
}

/** Reads a stored record back; throws a clear error on anything else. */
export function readMembership(value: Value, replicaCount: number): MembershipRecord {
  const fail = (why: string): never => {
    throw new Error(`pbft: stored membership ${why}: ${JSON.stringify(value)}`);
  };
  const record = value as Partial<
    Record<"epoch" | "members" | "since" | "previous" | "pending", Value>
  >;
  const count = (v: Value | undefined, what: string): number =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : fail(`has a bad ${what}`);
  const ids = (v: Value | undefined): readonly ReplicaId[] => {
    if (!Array.isArray(v) || v.length < minMembers) return fail("has too few members");
    const out = (v as readonly Value[]).map((m) => count(m, "member"));
    if (out.some((m, i) => m >= replicaCount || (i > 0 && m <= out[i - 1]!))) {
      fail("lists members out of order or outside the address book");
    }
    return out;
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("is not a record");
  const base: MembershipRecord = {
    epoch: count(record.epoch, "epoch"),
    members: ids(record.members),
    since: count(record.since, "since"),
  };
  const out: MembershipRecord =
    record.previous === undefined ? base : { ...base, previous: ids(record.previous) };
  if (record.pending === undefined) return out;
  const p = record.pending as Partial<Record<"members" | "boundary" | "at", Value>>;
  return {
    ...out,
    pending: {
      members: ids(p.members),
      boundary: count(p.boundary, "boundary"),
      at: count(p.at, "slot"),
    },
  };
}
