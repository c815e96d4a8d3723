/**
 * Turns a failed search into something a person can act on: the tail of the longest prefix that
 * does linearize, the model state it leads to, and the operations none of which fits next.
 */
import type { Model, Operation } from "../../model/history.js";
import type { Counterexample } from "./types.js";

/** How many prefix operations to print; older ones are summarized by a count. */
const PREFIX_TAIL = 20;

function show(value: unknown): string {
  if (value === undefined) return "?";
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text;
  } catch {
    return String(value); // e.g. bigint or cyclic values
  }
}

export function describeOperation<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const what = model.describe
    ? model.describe(op.input, op.output)
    : `${show(op.input)} -> ${show(op.output)}`;
  const when = op.ret === undefined ? `[${op.call}, no response]` : `[${op.call}, ${op.ret}]`;
  return `#${op.id} ${op.client}: ${what} ${when}`;
}

export function buildCounterexample<S, I, O>(
  model: Model<S, I, O>,
  partition: number,
  operations: number,
  linearized: readonly Operation<I, O>[],
  stuckAt: readonly Operation<I, O>[],
  state: S,
): Counterexample<I, O> {
  const lines: string[] = [
    `${model.name}, partition ${partition}: not linearizable (${operations} operations).`,
  ];
  if (linearized.length === 0) {
    lines.push("No operation can be linearized first.");
  } else {
    lines.push(`The longest linearizable prefix has ${linearized.length} operations:`);
    const skipped = Math.max(0, linearized.length - PREFIX_TAIL);
    if (skipped > 0) lines.push(`  ... ${skipped} earlier operations`);
    linearized.slice(skipped).forEach((op, k) => {
      lines.push(`  ${skipped + k + 1}. ${describeOperation(model, op)}`);
    });
  }
  lines.push(`State after it: ${model.key(state)}`);
  lines.push("None of these operations can be linearized next:");
  for (const op of stuckAt) lines.push(`  ${describeOperation(model, op)}`);
  return {
    linearized: linearized.map((op) => op.id),
    stuckAt: [...stuckAt],
    explanation: lines.join("\n"),
  };
}
