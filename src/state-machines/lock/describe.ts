import type { Value } from "../../core/value.js";
import type { ClientOperation } from "../service-kit.js";
import { showName, showOutput } from "../shared/describe.js";
import { isValueRecord, preview } from "../shared/values.js";
import { parseLockOperation } from "./parse.js";
import type { LockCommand, LockQuery } from "./types.js";

function showCall(op: LockCommand | LockQuery): string {
  switch (op.op) {
    case "acquire":
      return `acquire(${showName(op.owner)}, ${op.ttlMs}ms)`;
    case "release":
      return `release(${showName(op.owner)})`;
    case "holder":
      return "query holder";
  }
}

function showResult(op: LockCommand | LockQuery, output: Value): string {
  if (!isValueRecord(output)) return showOutput(output);
  const { ok, owner, holder, fencing, expiresAt, now } = output;
  switch (op.op) {
    case "acquire":
      if (ok === true && typeof owner === "string") {
        return `granted #${fencing} until ${expiresAt} (now ${now})`;
      }
      if (ok === false && typeof holder === "string") {
        return `refused, ${showName(holder)} holds until ${expiresAt} (now ${now})`;
      }
      return showOutput(output);
    case "release":
      return typeof ok === "boolean"
        ? `${ok ? "released" : "not held"} (now ${now})`
        : showOutput(output);
    case "holder":
      if (typeof holder === "string") return `${showName(holder)} #${fencing} until ${expiresAt}`;
      if (holder === null) return `free (last #${fencing}, ended ${expiresAt})`;
      return showOutput(output);
  }
}

/** E.g. `acquire(o1, 50ms) -> granted #3 until 150 (now 100)`, `release(o2) -> ?`. */
export function describeLockOperation(input: ClientOperation, output: Value | undefined): string {
  const op = parseLockOperation(input);
  if (op === undefined) {
    return `malformed ${input.kind} ${preview(input.value)} -> ${showOutput(output)}`;
  }
  return `${showCall(op)} -> ${output === undefined ? "?" : showResult(op, output)}`;
}
