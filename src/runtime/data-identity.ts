import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AccessPolicy } from "../core/access.js";
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
  /**
   * The initial client roles (cluster.json's `clients`, core/access.ts) as canonical JSON.
   * Replaying the log under other initial roles would decide commands differently than when
   * they ran, so they may not change; roles change through ordered admin requests instead.
   * Absent in directories from before roles: recorded at their next start.
   */
  readonly clients?: string;
}

/** The file in a data directory that records its DataIdentity (JSON). */
export const identityFileName = "IDENTITY.json";

export function identityOf(
  protocol: string,
  service: AnyServiceDefinition,
  clients?: AccessPolicy,
): DataIdentity {
  const id = { protocol, service: service.name, serviceVersion: service.version ?? null };
  return clients === undefined ? id : { ...id, clients: canonicalPolicy(clients) };
}

function canonicalPolicy(policy: AccessPolicy): string {
  const roles = Object.keys(policy.roles)
    .sort()
    .map((id) => [id, policy.roles[id]]);
  return JSON.stringify({ defaultRole: policy.defaultRole, roles });
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
  const record = (): void => {
    const temp = `${file}.tmp`;
    writeFileSync(temp, `${JSON.stringify(expected)}\n`, { mode: 0o644 });
    renameSync(temp, file);
  };
  if (text === undefined) {
    record();
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
      ...(typeof raw.clients === "string" ? { clients: raw.clients } : {}),
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
  if (expected.clients === undefined) return;
  if (recorded.clients === undefined) {
    record(); // a directory from before roles: its initial roles are recorded now
    return;
  }
  if (recorded.clients !== expected.clients) {
    throw new StartupError(
      "config",
      `clients: the configuration's initial roles ${expected.clients} differ from ${recorded.clients}, ` +
        `with which data directory ${dataDir} started: replaying its log under other initial roles ` +
        "would decide commands differently than when they ran. Put the section back as it was and " +
        'change roles with lockstep keys set-role (docs/net.md, "Roles and keys")',
    );
  }
}
