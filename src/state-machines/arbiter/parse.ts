import type { Value } from "../../core/value.js";
import type { ClientOperation } from "../service-kit.js";
import { FieldReader, tryParse } from "../shared/fields.js";
import {
  ARBITER_MAX_EPOCH,
  ARBITER_MAX_REPLICA,
  type ArbiterCommand,
  type ArbiterQuery,
} from "./types.js";

/** Parses an untrusted command; throws InvalidInputError naming the bad field. */
export function parseArbiterCommand(input: Value): ArbiterCommand {
  const r = new FieldReader("arbiter command", input, ["claim", "winner"]);
  const epoch = r.integer("epoch", 1, ARBITER_MAX_EPOCH);
  if (r.op === "winner") return r.end({ op: "winner", epoch });
  return r.end({ op: "claim", epoch, replica: r.integer("replica", 0, ARBITER_MAX_REPLICA) });
}

/** Parses an untrusted query; throws InvalidInputError naming the bad field. */
export function parseArbiterQuery(input: Value): ArbiterQuery {
  const r = new FieldReader("arbiter query", input, ["winner"]);
  return r.end({ op: r.op, epoch: r.integer("epoch", 1, ARBITER_MAX_EPOCH) });
}

/** A kit operation as a command, or undefined if malformed (a read answers the same either way). */
export function parseArbiterOperation(op: ClientOperation): ArbiterCommand | undefined {
  return tryParse(() =>
    op.kind === "command" ? parseArbiterCommand(op.value) : parseArbiterQuery(op.value),
  );
}
