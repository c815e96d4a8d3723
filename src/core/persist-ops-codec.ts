import { decode } from "./codec.js";
import { logEntrySchema } from "./log-entry.js";
import type { PersistOp } from "./protocol.js";
import { isPlainObject, value } from "./schema.js";

// Stored state can be far bigger than a network message (a snapshot's bytes, a long append).
const anyValue = value(512, Number.MAX_SAFE_INTEGER);

/** Checks a stored record's shape; storage is trusted less than memory. */
export function decodePersistOps(payload: Uint8Array): PersistOp[] {
  const ops = decode(payload, anyValue);
  if (!Array.isArray(ops)) throw new Error("persist record: expected an array of ops");
  return (ops as unknown[]).map((op, i) => {
    if (!isPlainObject(op)) throw new Error(`persist record: op ${i} is not an object`);
    switch (op.type) {
      case "hardState":
        return { type: "hardState", state: anyValue.parse(op.state, `op ${i}.state`) };
      case "append":
        if (!Array.isArray(op.entries)) throw new Error(`persist record: op ${i} has no entries`);
        return { type: "append", entries: op.entries.map((e) => logEntrySchema.parse(e)) };
      case "truncate":
        if (typeof op.from !== "number") throw new Error(`persist record: op ${i} has no from`);
        return { type: "truncate", from: op.from };
      case "snapshot": {
        const meta = op.meta;
        if (
          !isPlainObject(meta) ||
          typeof meta.index !== "number" ||
          typeof meta.term !== "number" ||
          !(op.data instanceof Uint8Array)
        ) {
          throw new Error(`persist record: op ${i} is a malformed snapshot`);
        }
        const time = typeof meta.time === "number" ? meta.time : undefined;
        return {
          type: "snapshot",
          meta: {
            index: meta.index,
            term: meta.term,
            config: anyValue.parse(meta.config ?? null, `op ${i}.meta.config`),
            ...(time !== undefined ? { time } : {}),
          },
          data: op.data,
        };
      }
      default:
        throw new Error(`persist record: op ${i} has unknown type ${String(op.type)}`);
    }
  });
}
