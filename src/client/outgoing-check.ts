import { sizeProblem } from "../core/request-admission.js";
import { SchemaError, value } from "../core/schema.js";
import type { Value } from "../core/value.js";

/** The schema the replicas check every command and query against (clientRequestSchema). */
const wireValue = value();

/**
 * Why a command or query cannot be sent, or undefined when it can. The same checks the replicas
 * make (the wire schema, the size bound), so a value they would refuse fails at once with
 * `invalid` instead of travelling, being dropped and timing out.
 */
export function outgoingProblem(v: unknown, maxBytes: number): string | undefined {
  try {
    wireValue.parse(v);
  } catch (error) {
    if (error instanceof SchemaError) return error.message;
    return `not a Value: ${(error as Error)?.message ?? String(error)}`;
  }
  return sizeProblem(v as Value, maxBytes);
}
