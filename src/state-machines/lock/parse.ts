import type { Value } from "../../core/value.js";
import type { ClientOperation } from "../service-kit.js";
import { FieldReader, type StringBound, tryParse } from "../shared/fields.js";
import {
  LOCK_MAX_OWNER_LENGTH,
  LOCK_MAX_TTL_MS,
  type LockCommand,
  type LockQuery,
} from "./types.js";

/** Owners must be non-empty: "" would be easy to confuse with "nobody". */
const OWNER: StringBound = { min: 1, max: LOCK_MAX_OWNER_LENGTH, unit: "characters" };

/** Parses an untrusted command; throws InvalidInputError naming the bad field. */
export function parseLockCommand(input: Value): LockCommand {
  const r = new FieldReader("lock command", input, ["acquire", "release"]);
  switch (r.op) {
    case "acquire":
      return r.end({
        op: "acquire",
        owner: r.string("owner", OWNER),
        ttlMs: r.integer("ttlMs", 1, LOCK_MAX_TTL_MS),
      });
    case "release":
      return r.end({ op: "release", owner: r.string("owner", OWNER) });
  }
}

/** Parses an untrusted query; throws InvalidInputError naming the bad field. */
export function parseLockQuery(input: Value): LockQuery {
  const r = new FieldReader("lock query", input, ["holder"]);
  return r.end({ op: r.op });
}

/** A kit operation, or undefined if malformed. */
export function parseLockOperation(op: ClientOperation): LockCommand | LockQuery | undefined {
  return tryParse(() =>
    op.kind === "command" ? parseLockCommand(op.value) : parseLockQuery(op.value),
  );
}
