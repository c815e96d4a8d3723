import type { ClientOperation } from "../core/client-operation.js";
import type { AnyServiceDefinition } from "../core/state-machine.js";
import type { Value } from "../core/value.js";
import type { Model } from "../model/history.js";
import { isServicePath, loadedServiceModule } from "../service/load-service.js";
import type { NextOperation, ServicePackage } from "../service/service-package.js";
import { createServiceKit, serviceNames } from "../state-machines/registry.js";

/**
 * The service a simulation runs: a built-in's name (kv, counter, lock), the path of a service
 * module (loaded first with loadServiceModule; runSeeds and `lockstep sim` do that), or a
 * ServicePackage given directly.
 */
export type SimService = string | ServicePackage;

/** What the simulator needs of a service for one run. */
export interface SimServiceKit {
  readonly definition: AnyServiceDefinition;
  /** Without a model, linearizability is not checked (replica agreement and exactly-once are). */
  readonly model: Model<unknown, ClientOperation, Value> | undefined;
  readonly nextOperation: NextOperation;
}

/** A fresh kit for one run (workload generators keep state, so every seed gets its own). */
export function simServiceKit(service: SimService): SimServiceKit {
  if (typeof service === "string" && !isServicePath(service)) {
    const kit = createServiceKit(service);
    return {
      definition: kit.definition,
      model: kit.model,
      nextOperation: (random, client) => kit.nextOperation(random, client),
    };
  }
  const pkg = typeof service === "string" ? loadedServiceModule(service) : service;
  if (pkg === undefined) {
    throw new Error(
      `service module ${String(service)} is not loaded: await loadServiceModule(path) first`,
    );
  }
  if (pkg.workload === undefined) {
    throw new Error(
      `service "${pkg.definition.name}" has no workload: the simulator needs one to generate operations (export { definition, workload, model? })`,
    );
  }
  return { definition: pkg.definition, model: pkg.model, nextOperation: pkg.workload() };
}

/** How a simulation's service is named in replay commands and reports. */
export function simServiceLabel(service: SimService): string {
  return typeof service === "string" ? service : service.definition.name;
}

export { serviceNames as builtInServiceNames };
