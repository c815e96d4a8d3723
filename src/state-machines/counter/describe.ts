import type { Value } from "../../core/value.js";
import type { ClientOperation } from "../service-kit.js";
import { showOutput } from "../shared/describe.js";
import { isValueRecord, preview } from "../shared/values.js";
import { parseCounterOperation } from "./parse.js";

/** E.g. `add(+3) -> 17`, `query read -> 17`, `add(-1) -> ?`. */
export function describeCounterOperation(
  input: ClientOperation,
  output: Value | undefined,
): string {
  const cmd = parseCounterOperation(input);
  if (cmd === undefined) {
    return `malformed ${input.kind} ${preview(input.value)} -> ${showOutput(output)}`;
  }
  const call =
    cmd.op === "add"
      ? `add(${cmd.delta >= 0 ? "+" : ""}${cmd.delta})`
      : input.kind === "query"
        ? "query read"
        : "read";
  let result = showOutput(output);
  if (isValueRecord(output) && typeof output.value === "number") {
    const keys = Object.keys(output).length;
    if (keys === 1) result = String(output.value);
    else if (keys === 2 && output.error === "overflow") result = `overflow, still ${output.value}`;
  }
  return `${call} -> ${result}`;
}
