import type { Value } from "../../core/value.js";
import type { ClientOperation } from "../service-kit.js";
import { showOutput } from "../shared/describe.js";
import { preview } from "../shared/values.js";
import { parseArbiterOperation } from "./parse.js";

/** E.g. `claim(epoch 3, r1) -> {epoch:3,winner:0}`, `query winner(3) -> ?`. */
export function describeArbiterOperation(
  input: ClientOperation,
  output: Value | undefined,
): string {
  const cmd = parseArbiterOperation(input);
  if (cmd === undefined)
    return `malformed ${input.kind} ${preview(input.value)} -> ${showOutput(output)}`;
  const call =
    cmd.op === "claim"
      ? `claim(epoch ${cmd.epoch}, r${cmd.replica})`
      : `${input.kind === "query" ? "query " : ""}winner(${cmd.epoch})`;
  return `${call} -> ${showOutput(output)}`;
}
