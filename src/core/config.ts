import { type AccessPolicy, accessPolicyProblems, legacyAccessPolicy } from "./access.js";
import type { ProtocolName, ReplicaCountRule } from "./protocol.js";
import { isPlainObject } from "./schema.js";
import { defaultSessionLimits, type SessionLimits } from "./session-table.js";
import type { Value } from "./value.js";

export interface ReplicaAddress {
  readonly id: number;
  /** Where peers and clients reach this replica. Omitted in the simulator. */
  readonly host?: string;
  readonly port?: number;
  /**
   * Where this replica serves /metrics and /status over HTTP on `host` (optional; the replica's
   * --metrics-port overrides it). `lockstep status` reads replicas through it.
   */
  readonly metricsPort?: number;
}

export interface ClusterConfig {
  /**
   * Names the cluster (lockstep init writes a random one). Carried in every connection
   * handshake: replicas and clients of different clusters refuse each other with a clear
   * error. Optional: without one, nothing is checked (configurations from before ids).
   */
  readonly clusterId?: string;
  readonly protocol: ProtocolName;
  /** Faults tolerated: crashes for raft and primary-backup, arbitrary faults for pbft. */
  readonly f: number;
  readonly replicas: readonly ReplicaAddress[];
  /** Length of one logical tick in milliseconds (the real runtime's timer period). */
  readonly tickMs: number;
  readonly sessions: SessionLimits;
  /** Protocol-specific settings; each protocol documents and checks its own. */
  readonly settings: { readonly [key: string]: Value };
  /** The service the replicas run, when recorded (lockstep init --service): a name or a module path. */
  readonly service?: string;
  /**
   * Initial client roles (core/access.ts): `{ defaultRole, roles: { id: role } }`. Later changes
   * are admin requests (`lockstep keys`), kept in the replicated state. Without this section
   * every client is admin (configurations from before roles).
   */
  readonly clients?: AccessPolicy;
}

/** The initial access policy of a configuration (legacy: everybody admin without `clients`). */
export function accessPolicyOf(config: ClusterConfig): AccessPolicy {
  return config.clients ?? legacyAccessPolicy;
}

export const protocolNames: readonly ProtocolName[] = ["single", "raft", "pbft", "primary-backup"];

/**
 * Finds a protocol's replica-count rule (ProtocolDefinition.replicaCount). The protocol registry
 * supplies it (`replicaCountOf` in src/protocols/registry.ts): each protocol declares n(f) once,
 * and core, which cannot see the protocols, asks through this.
 */
export type ReplicaCountLookup = (protocol: ProtocolName) => ReplicaCountRule | undefined;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid cluster configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Checks an untrusted configuration (parsed JSON, CLI flags) and returns it typed. Every bad
 * field is named in one ConfigError, so a user fixes them all in one go.
 *
 * With `replicaCount`, the protocol must be one it knows and the replicas must be enough for f
 * by that protocol's rule; everything that runs a cluster passes it (`validateConfig` in
 * src/protocols/registry.ts also checks the protocol's settings). Without it only the shape is
 * checked (tests and tools that build configurations for a protocol they chose themselves).
 */
export function validateClusterConfig(
  raw: unknown,
  replicaCount?: ReplicaCountLookup,
): ClusterConfig {
  const problems: string[] = [];
  if (!isPlainObject(raw)) throw new ConfigError(["configuration must be an object"]);
  const known = new Set([
    "clusterId",
    "protocol",
    "f",
    "replicas",
    "tickMs",
    "sessions",
    "settings",
    "service",
    "clients",
  ]);
  for (const key of Object.keys(raw)) if (!known.has(key)) problems.push(`${key}: unknown field`);
  const clusterId = raw.clusterId;
  if (
    clusterId !== undefined &&
    (typeof clusterId !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(clusterId))
  ) {
    problems.push(
      `clusterId: expected 1 to 64 letters, digits, ".", "_" or "-", got ${JSON.stringify(clusterId)}`,
    );
  }

  const protocol = raw.protocol;
  if (typeof protocol !== "string" || !protocolNames.includes(protocol as ProtocolName)) {
    problems.push(
      `protocol: expected one of ${protocolNames.join(", ")}, got ${JSON.stringify(protocol)}`,
    );
  }
  if (
    raw.service !== undefined &&
    (typeof raw.service !== "string" || raw.service.length === 0 || raw.service.length > 4096)
  ) {
    problems.push(
      `service: expected a service name or module path, got ${JSON.stringify(raw.service)}`,
    );
  }
  const f = raw.f;
  if (typeof f !== "number" || !Number.isInteger(f) || f < 0 || f > 100) {
    problems.push(`f: expected an integer from 0 to 100, got ${JSON.stringify(f)}`);
  }
  const replicas: ReplicaAddress[] = [];
  if (!Array.isArray(raw.replicas) || raw.replicas.length === 0) {
    problems.push("replicas: expected a non-empty array");
  } else {
    const seenIds = new Set<number>();
    const seenAddresses = new Set<string>();
    raw.replicas.forEach((r: unknown, i: number) => {
      const at = `replicas[${i}]`;
      if (!isPlainObject(r)) {
        problems.push(`${at}: expected an object`);
        return;
      }
      for (const key of Object.keys(r)) {
        if (!["id", "host", "port", "metricsPort"].includes(key))
          problems.push(`${at}.${key}: unknown field`);
      }
      if (r.id !== i)
        problems.push(
          `${at}.id: expected ${i} (ids are positions 0..n-1), got ${JSON.stringify(r.id)}`,
        );
      if (typeof r.id === "number") {
        if (seenIds.has(r.id)) problems.push(`${at}.id: duplicate id ${r.id}`);
        seenIds.add(r.id);
      }
      if (
        r.host !== undefined &&
        (typeof r.host !== "string" || r.host.length === 0 || r.host.length > 255)
      ) {
        problems.push(`${at}.host: expected a host name or address`);
      }
      if (
        r.port !== undefined &&
        (typeof r.port !== "number" || !Number.isInteger(r.port) || r.port < 1 || r.port > 65535)
      ) {
        problems.push(
          `${at}.port: expected an integer from 1 to 65535, got ${JSON.stringify(r.port)}`,
        );
      }
      if (r.metricsPort !== undefined) {
        const m = r.metricsPort;
        if (typeof m !== "number" || !Number.isInteger(m) || m < 1 || m > 65535) {
          problems.push(
            `${at}.metricsPort: expected an integer from 1 to 65535, got ${JSON.stringify(m)}`,
          );
        } else if (r.host === undefined) {
          problems.push(`${at}.metricsPort: needs a host`);
        } else if (m === r.port) {
          problems.push(`${at}.metricsPort: must differ from port ${m}`);
        } else {
          const address = `${String(r.host)}:${m}`;
          if (seenAddresses.has(address)) problems.push(`${at}: address ${address} used twice`);
          seenAddresses.add(address);
        }
      }
      if ((r.host === undefined) !== (r.port === undefined))
        problems.push(`${at}: give both host and port, or neither`);
      if (typeof r.host === "string" && typeof r.port === "number") {
        const address = `${r.host}:${r.port}`;
        if (seenAddresses.has(address)) problems.push(`${at}: address ${address} used twice`);
        seenAddresses.add(address);
      }
      replicas.push(r as unknown as ReplicaAddress);
    });
  }
  if (
    replicaCount &&
    typeof protocol === "string" &&
    protocolNames.includes(protocol as ProtocolName) &&
    typeof f === "number" &&
    Number.isInteger(f) &&
    f >= 0
  ) {
    const rule = replicaCount(protocol as ProtocolName);
    const n = Array.isArray(raw.replicas) ? raw.replicas.length : 0;
    if (!rule) {
      problems.push(`protocol: ${protocol} is not available in this build`);
    } else if (rule.maxF !== undefined && f > rule.maxF) {
      problems.push(`f: ${protocol} tolerates at most f = ${rule.maxF}, got ${f}`);
    } else if (n > 0 && n < rule.replicasFor(f)) {
      problems.push(
        `replicas: ${protocol} needs at least ${rule.replicasFor(f)} replicas for f = ${f}, got ${n}`,
      );
    }
  }
  const tickMs = raw.tickMs ?? 10;
  if (typeof tickMs !== "number" || !Number.isInteger(tickMs) || tickMs < 1 || tickMs > 10_000) {
    problems.push(`tickMs: expected an integer from 1 to 10000, got ${JSON.stringify(raw.tickMs)}`);
  }
  const sessions = { ...defaultSessionLimits };
  if (raw.sessions !== undefined) {
    if (!isPlainObject(raw.sessions)) {
      problems.push("sessions: expected an object");
    } else {
      for (const [key, v] of Object.entries(raw.sessions)) {
        if (!Object.hasOwn(defaultSessionLimits, key)) {
          problems.push(`sessions.${key}: unknown field`);
        } else if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
          problems.push(`sessions.${key}: expected a positive integer, got ${JSON.stringify(v)}`);
        } else {
          (sessions as Record<string, number>)[key] = v;
        }
      }
    }
  }
  const settings = raw.settings ?? {};
  if (!isPlainObject(settings)) problems.push("settings: expected an object");
  const clients = raw.clients === undefined ? undefined : accessPolicyProblems(raw.clients);
  if (clients) problems.push(...clients.problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...(clusterId === undefined ? {} : { clusterId: clusterId as string }),
    protocol: protocol as ProtocolName,
    f: f as number,
    replicas,
    tickMs: tickMs as number,
    sessions,
    settings: settings as { [key: string]: Value },
    ...(typeof raw.service === "string" ? { service: raw.service } : {}),
    ...(clients?.policy ? { clients: clients.policy } : {}),
  };
}

/** A configuration for n replicas without addresses (simulator, tests). */
export function simulatedCluster(
  protocol: ProtocolName,
  n: number,
  f: number,
  settings: { [key: string]: Value } = {},
): ClusterConfig {
  return validateClusterConfig({
    protocol,
    f,
    replicas: Array.from({ length: n }, (_, id) => ({ id })),
    settings,
  });
}
