import type { Value } from "../../core/value.js";
import type { ClientOperation } from "../service-kit.js";
import { showName, showOutput, showText } from "../shared/describe.js";
import { isValueRecord, preview } from "../shared/values.js";
import { parseKvOperation } from "./parse.js";
import type { KvCommand } from "./types.js";

function showCall(cmd: KvCommand): string {
  const key = showName(cmd.key);
  switch (cmd.op) {
    case "put":
      return `put(${key}, ${showText(cmd.value)})`;
    case "get":
      return `get(${key})`;
    case "del":
      return `del(${key})`;
    case "cas":
      return `cas(${key}, ${showText(cmd.expected)} => ${showText(cmd.value)})`;
  }
}

function showResult(cmd: KvCommand, output: Value | undefined): string {
  if (!isValueRecord(output)) return showOutput(output);
  const { ok, prev, value, existed } = output;
  const text = (v: Value | undefined) =>
    v === null ? "none" : typeof v === "string" ? showText(v) : undefined;
  switch (cmd.op) {
    case "put":
      return ok === true && text(prev) !== undefined ? `prev ${text(prev)}` : showOutput(output);
    case "get":
      return ok === true && text(value) !== undefined ? `${text(value)}` : showOutput(output);
    case "del":
      if (ok !== true || typeof existed !== "boolean") return showOutput(output);
      return existed ? "existed" : "absent";
    case "cas":
      if (typeof ok !== "boolean" || text(value) === undefined) return showOutput(output);
      return ok ? `swapped, now ${text(value)}` : `failed, current ${text(value)}`;
  }
}

/** E.g. `put(k1, "v3") -> prev "v2"`, `query get(k1) -> none`, `cas(k1, "a" => null) -> ?`. */
export function describeKvOperation(input: ClientOperation, output: Value | undefined): string {
  const cmd = parseKvOperation(input);
  if (cmd === undefined) {
    return `malformed ${input.kind} ${preview(input.value)} -> ${showOutput(output)}`;
  }
  const call = input.kind === "query" ? `query ${showCall(cmd)}` : showCall(cmd);
  return `${call} -> ${output === undefined ? "?" : showResult(cmd, output)}`;
}
