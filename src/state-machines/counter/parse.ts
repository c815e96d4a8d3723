import type { Value } from "../../core/value.js";
import type { ClientOperation } from "../service-kit.js";
import { FieldReader, tryParse } from "../shared/fields.js";
import { COUNTER_MAX_DELTA, type CounterCommand, type CounterQuery } from "./types.js";

/** Parses an untrusted command; throws InvalidInputError naming the bad field. */
export function parseCounterCommand(input: Value): CounterCommand {
  const r = new FieldReader("counter command", input, ["add", "read"]);
  switch (r.op) {
    case "add":
      return r.end({ op: "add", delta: r.integer("delta", -COUNTER_MAX_DELTA, COUNTER_MAX_DELTA) });
    case "read":
      return r.end({ op: "read" });
  }
}

/** Parses an untrusted query; throws InvalidInputError naming the bad field. */
export function parseCounterQuery(input: Value): CounterQuery {
  const r = new FieldReader("counter query", input, ["read"]);
  return r.end({ op: r.op });
}

/** A kit operation as a command, or undefined if malformed. A read answers the same either way. */
export function parseCounterOperation(op: ClientOperation): CounterCommand | undefined {
  return tryParse(() =>
    op.kind === "command" ? parseCounterCommand(op.value) : parseCounterQuery(op.value),
  );
}
