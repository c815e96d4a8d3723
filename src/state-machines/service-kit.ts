import type { ClientOperation } from "../core/client-operation.js";
import type { Random } from "../core/prng.js";
import type { AnyServiceDefinition } from "../core/state-machine.js";
import type { Value } from "../core/value.js";
import type { Model } from "../model/history.js";

export type { ClientOperation };

/**
 * A service packaged for testing: its definition, a sequential model of it for the
 * linearizability checker, and a generator of a contended random workload.
 */
export interface ServiceKit<S = unknown> {
  readonly definition: AnyServiceDefinition;
  /** Model over (operation, result value). */
  readonly model: Model<S, ClientOperation, Value>;
  /** Next operation for a simulated client; must draw randomness only from `random`. */
  nextOperation(random: Random, client: number): ClientOperation;
}
