import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { asServicePackage, type ServicePackage } from "./service-package.js";

/** A service module that is missing, fails to load or exports the wrong shape. */
export class ServiceModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServiceModuleError";
  }
}

/** Whether a `--service` argument names a module file rather than a built-in service. */
export function isServicePath(spec: string): boolean {
  return spec.includes("/") || spec.includes("\\") || /\.(c|m)?js$/.test(spec);
}

/** The absolute path of a service module argument (relative paths are from `cwd`). */
export function servicePath(spec: string, cwd = process.cwd()): string {
  return isAbsolute(spec) ? spec : resolve(cwd, spec);
}

const loaded = new Map<string, Promise<ServicePackage>>();
const ready = new Map<string, ServicePackage>();

/**
 * The package of a module loadServiceModule has already loaded, for synchronous code (the
 * simulator): undefined if it has not been loaded in this process (or thread).
 */
export function loadedServiceModule(spec: string): ServicePackage | undefined {
  return ready.get(servicePath(spec));
}

/**
 * Loads the service module at `spec` (a path to a built JavaScript module). Its default export
 * (or, without one, an export named `service`) must be a ServiceDefinition or a ServicePackage.
 * Each module is imported once per process.
 */
export function loadServiceModule(spec: string): Promise<ServicePackage> {
  const file = servicePath(spec);
  let pending = loaded.get(file);
  if (!pending) {
    pending = importPackage(spec, file).then((pkg) => {
      ready.set(file, pkg);
      return pkg;
    });
    loaded.set(file, pending);
    // A failed load is not cached: the user may fix the file and retry in the same process.
    pending.catch(() => loaded.delete(file));
  }
  return pending;
}

async function importPackage(spec: string, file: string): Promise<ServicePackage> {
  if (!existsSync(file)) {
    throw new ServiceModuleError(
      `service module ${spec}: no such file (${file}); build your service to JavaScript and pass its path`,
    );
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const why = String((error as Error)?.message ?? error).split("\n")[0];
    throw new ServiceModuleError(`service module ${spec} failed to load: ${why}`);
  }
  const exported = module.default ?? module.service;
  if (exported === undefined) {
    throw new ServiceModuleError(
      `service module ${spec} has no default export (export default your ServiceDefinition or { definition, workload, model })`,
    );
  }
  const pkg = asServicePackage(exported);
  if (typeof pkg === "string") {
    throw new ServiceModuleError(`service module ${spec}: its default export is wrong: ${pkg}`);
  }
  return pkg;
}
