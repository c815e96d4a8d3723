import type { ClientOperation } from "../core/client-operation.js";
import type { Random } from "../core/prng.js";
import type { AnyServiceDefinition } from "../core/state-machine.js";
import type { Value } from "../core/value.js";
import type { Model } from "../model/history.js";

/** Draws a simulated client's next operation; must use only `random` for its choices. */
export type NextOperation = (random: Random, client: number) => ClientOperation;

/**
 * A service with what the simulator needs to test it: what `--service ./file.js` loads (the
 * module's default export) and what `runSimulation({ service })` takes.
 *
 * - `definition`: the ServiceDefinition the replicas run.
 * - `workload`: makes a fresh operation generator for one simulated run (a factory, so that a
 *   generator keeping counters starts from the same state for every seed). Without one the
 *   service can run on replicas but not in the simulator.
 * - `model`: a sequential model of the service. With it the simulator also checks that the
 *   history is linearizable; without it, it checks replica agreement (state digests) and
 *   exactly-once execution only.
 */
export interface ServicePackage {
  readonly definition: AnyServiceDefinition;
  readonly workload?: () => NextOperation;
  // A model of any state type fits: its methods are bivariant in the state.
  readonly model?: Model<unknown, ClientOperation, Value>;
}

/** Declares a service package (the identity function, for its type). */
export function defineServicePackage(pkg: ServicePackage): ServicePackage {
  return pkg;
}

/** Whether `x` has the shape of a ServiceDefinition (checked at run time, for loaded modules). */
export function isServiceDefinition(x: unknown): x is AnyServiceDefinition {
  if (typeof x !== "object" || x === null) return false;
  const d = x as Record<string, unknown>;
  return (
    typeof d.name === "string" &&
    d.name.length > 0 &&
    typeof d.create === "function" &&
    typeof d.validateCommand === "function" &&
    typeof d.validateQuery === "function" &&
    (d.version === undefined || typeof d.version === "string" || typeof d.version === "number")
  );
}

/**
 * What is wrong with `x` as a ServicePackage or a bare ServiceDefinition, or the package itself.
 */
export function asServicePackage(x: unknown): ServicePackage | string {
  if (isServiceDefinition(x)) return { definition: x };
  if (typeof x !== "object" || x === null) {
    return `expected a ServiceDefinition or { definition, workload?, model? }, got ${x === null ? "null" : typeof x}`;
  }
  const p = x as Record<string, unknown>;
  if (!isServiceDefinition(p.definition)) {
    return "expected a ServiceDefinition (name, create, validateCommand, validateQuery) or { definition, workload?, model? } whose definition is one";
  }
  if (p.workload !== undefined && typeof p.workload !== "function") {
    return "workload must be a function that returns (random, client) => operation";
  }
  if (p.model !== undefined) {
    const m = p.model as Record<string, unknown> | null;
    if (
      typeof m !== "object" ||
      m === null ||
      typeof m.init !== "function" ||
      typeof m.step !== "function" ||
      typeof m.key !== "function"
    ) {
      return "model must be a checker Model (name, init, step, key)";
    }
  }
  return p as unknown as ServicePackage;
}
