import { openSnapshot, SnapshotError, sealSnapshot } from "../shared/snapshot.js";
import { isValueRecord } from "../shared/values.js";
import { LOCK_MAX_OWNER_LENGTH } from "./types.js";

const SERVICE = "lock";
const VERSION = 1;

/** The whole lock state: the stored lease and the last fencing token granted. */
export interface LockState {
  readonly holder: string | null;
  readonly expiresAt: number;
  readonly fencing: number;
}

/** State layout: `{ expiresAt, fencing, holder }`. */
export function encodeLockSnapshot(state: LockState): Uint8Array {
  const { holder, expiresAt, fencing } = state;
  return sealSnapshot(SERVICE, VERSION, { holder, expiresAt, fencing });
}

export function decodeLockSnapshot(bytes: Uint8Array): LockState {
  const state = openSnapshot(SERVICE, VERSION, bytes);
  if (!isValueRecord(state) || Object.keys(state).length !== 3) {
    throw new SnapshotError("lock snapshot: state must be { holder, expiresAt, fencing }");
  }
  const { holder, expiresAt, fencing } = state;
  if (
    holder !== null &&
    (typeof holder !== "string" || holder.length === 0 || holder.length > LOCK_MAX_OWNER_LENGTH)
  ) {
    throw new SnapshotError("lock snapshot: holder must be null or an owner name");
  }
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) {
    throw new SnapshotError("lock snapshot: expiresAt must be a finite number");
  }
  if (typeof fencing !== "number" || !Number.isSafeInteger(fencing) || fencing < 0) {
    throw new SnapshotError("lock snapshot: fencing must be a non-negative integer");
  }
  // A holder got a grant, and every grant takes a token.
  if (holder !== null && fencing === 0) {
    throw new SnapshotError("lock snapshot: a held lock must have a fencing token");
  }
  return { holder, expiresAt, fencing };
}
