import { openSnapshot, SnapshotError, sealSnapshot } from "../shared/snapshot.js";
import { isValueRecord } from "../shared/values.js";

const SERVICE = "counter";
const VERSION = 1;

/** State layout: `{ value }`. */
export function encodeCounterSnapshot(value: number): Uint8Array {
  return sealSnapshot(SERVICE, VERSION, { value });
}

export function decodeCounterSnapshot(bytes: Uint8Array): number {
  const state = openSnapshot(SERVICE, VERSION, bytes);
  if (!isValueRecord(state) || Object.keys(state).length !== 1) {
    throw new SnapshotError("counter snapshot: state must be { value }");
  }
  const { value } = state;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new SnapshotError("counter snapshot: value must be a safe integer");
  }
  return value;
}
