import { isServicePath, loadServiceModule, servicePath } from "../service/load-service.js";
import type { ServicePackage } from "../service/service-package.js";
import { serviceNames } from "../state-machines/registry.js";
import { UsageError } from "./args.js";

/**
 * Reads a `--service` option: a built-in's name, or the path of a service module, which is
 * loaded here so that a missing file, a module that fails to load or a wrong export is a usage
 * error naming the file. Returns the name, or the module's absolute path.
 */
export async function serviceOption(
  command: string,
  value: unknown,
): Promise<{ readonly spec: string; readonly pkg: ServicePackage | undefined }> {
  const spec = typeof value === "string" ? value : "kv";
  if (!isServicePath(spec)) {
    if (!serviceNames.includes(spec)) {
      throw new UsageError(
        `${command}: --service must be one of ${serviceNames.join(", ")} or the path of a service module (./dist/my-service.js), got "${spec}"`,
      );
    }
    return { spec, pkg: undefined };
  }
  try {
    const pkg = await loadServiceModule(spec);
    return { spec: servicePath(spec), pkg };
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

/** `lockstep sim --service`: a service module must also come with a workload. */
export async function simServiceOption(value: unknown): Promise<string> {
  const { spec, pkg } = await serviceOption("sim", value);
  if (pkg && pkg.workload === undefined) {
    throw new UsageError(
      `sim: service module ${spec} exports no workload: the simulator needs { definition, workload, model? }`,
    );
  }
  return spec;
}
