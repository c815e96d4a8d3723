import { openSnapshot, SnapshotError, sealSnapshot } from "../shared/snapshot.js";
import { utf8Length } from "../shared/utf8.js";
import { isValueArray } from "../shared/values.js";
import { KV_MAX_KEY_LENGTH, KV_MAX_VALUE_BYTES } from "./types.js";

const SERVICE = "kv";
const VERSION = 1;

/** Code-unit order, the same order encodeCanonical uses for object keys. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** State layout: `[[key, value], ...]` sorted by key, so equal maps give equal bytes. */
export function encodeKvSnapshot(data: ReadonlyMap<string, string>): Uint8Array {
  const keys = [...data.keys()].sort(compareKeys);
  return sealSnapshot(
    SERVICE,
    VERSION,
    keys.map((key) => [key, data.get(key)!]),
  );
}

export function decodeKvSnapshot(bytes: Uint8Array): Map<string, string> {
  const state = openSnapshot(SERVICE, VERSION, bytes);
  if (!isValueArray(state))
    throw new SnapshotError("kv snapshot: state must be an array of entries");
  const data = new Map<string, string>();
  let previous: string | undefined;
  state.forEach((entry, i) => {
    if (!isValueArray(entry) || entry.length !== 2) {
      throw new SnapshotError(`kv snapshot: entry ${i} must be a [key, value] pair`);
    }
    const [key, value] = entry;
    if (typeof key !== "string" || key.length > KV_MAX_KEY_LENGTH) {
      throw new SnapshotError(`kv snapshot: entry ${i} has an invalid key`);
    }
    if (typeof value !== "string" || utf8Length(value) > KV_MAX_VALUE_BYTES) {
      throw new SnapshotError(`kv snapshot: entry ${i} has an invalid value`);
    }
    // Strictly ascending keys: no duplicates, and only the one byte string per state, so
    // restore followed by snapshot gives back the same bytes.
    if (previous !== undefined && compareKeys(previous, key) >= 0) {
      throw new SnapshotError(`kv snapshot: entry ${i} is out of order or duplicated`);
    }
    previous = key;
    data.set(key, value);
  });
  return data;
}
