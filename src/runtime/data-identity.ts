import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AnyServiceDefinition } from "../core/state-machine.js";
import { StartupError } from "./errors.js";

/**
 * What a data directory holds: the protocol that wrote its log and the service (name and the
 * version it declares) whose commands and snapshots are in it. A replica started with another
 * would replay those commands into the wrong state machine (every one refused as invalid, or
 * worse, misread), so it refuses to start instead.
 */
export interface DataIdentity {
  readonly protocol: string;
  readonly service: string;
  /** The service's declared `version`, or null when it declares none. */
  readonly serviceVersion: string | number | null;
}

/** The file in a data directory that records its DataIdentity (JSON). */
export const identityFileName = "IDENTITY.json";

export function identityOf(protocol: string, service: AnyServiceDefinition): DataIdentity {
  return { protocol, service: service.name, serviceVersion: service.version ?? null };
}

function describe(id: DataIdentity): string {
  const version = id.serviceVersion === null ? "no version" : `version ${id.serviceVersion}`;
  return `protocol ${id.protocol}, service "${id.service}" (${version})`;
}

/**
 * Checks the data directory's recorded identity against this replica's, recording it when the
 * directory has none yet (a new directory, or one from before identities were recorded). Call it
 * with the directory locked (after FileStorage.open).
 */
export function checkDataIdentity(dataDir: string, expected: DataIdentity): void {
  const file = join(dataDir, identityFileName);
  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new StartupError("storage", `${file}: ${(error as Error).message}`);
    }
  }
  if (text === undefined) {
    const temp = `${file}.tmp`;
    writeFileSync(temp, `${JSON.stringify(expected)}\n`, { mode: 0o644 });
    renameSync(temp, file);
    return;
  }
  let recorded: DataIdentity;
  try {
    const raw = JSON.parse(text) as Partial<DataIdentity>;
    if (typeof raw.protocol !== "string" || typeof raw.service !== "string") throw new Error();
    recorded = {
      protocol: raw.protocol,
      service: raw.service,
      serviceVersion:
        typeof raw.serviceVersion === "string" || typeof raw.serviceVersion === "number"
          ? raw.serviceVersion
          : null,
    };
  } catch {
    throw new StartupError("storage", `${file} is not a data directory identity; it was altered`);
  }
  if (
    recorded.protocol !== expected.protocol ||
    recorded.service !== expected.service ||
    recorded.serviceVersion !== expected.serviceVersion
  ) {
    throw new StartupError(
      "storage",
      `data directory ${dataDir} holds ${describe(recorded)}, but this replica runs ` +
        `${describe(expected)}: start it with the service that wrote the directory ` +
        "(or, for a new service version, migrate the data first)",
    );
  }
}
