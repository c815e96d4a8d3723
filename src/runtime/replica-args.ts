import { parseArgs } from "node:util";
import { isReplicaId, type ReplicaId } from "../core/ids.js";
import type { AnyServiceDefinition } from "../core/state-machine.js";
import { readKeyFile } from "../net/keys.js";
import { isServicePath, loadedServiceModule, loadServiceModule } from "../service/load-service.js";
import { createServiceKit, serviceNames } from "../state-machines/registry.js";
import { describeParseError } from "./arg-errors.js";
import {
  type ByzantineOption,
  byzantineBehaviours,
  byzantineProtocolProblem,
  isByzantineBehaviour,
  unknownBehaviour,
} from "./byzantine-replica.js";
import type { ClientLimits } from "./client-fairness.js";
import { ConfigFileError, loadClusterConfig } from "./config-file.js";
import { firstLine, StartupError } from "./errors.js";
import { type LogLevel, logLevels } from "./logger.js";
import type { StartReplicaOptions } from "./replica.js";

export const replicaUsage = `Usage: lockstep replica --config FILE --keys FILE --id I --data DIR [options]
   (or: node dist/runtime/replica-main.js with the same options)

Runs one replica of a lockstep cluster until SIGTERM or SIGINT.

Required:
  --config FILE        cluster configuration (JSON; docs/operations.md)
  --keys FILE          this replica's key file (or the cluster key file), mode 0600
  --id I               this replica's id (its position in the configuration's replicas)
  --data DIR           data directory (created if missing; one per replica)

Options:
  --service S          the replicated service: ${serviceNames.join(", ")} (default kv), or the path
                       of a built service module (its default export: a ServiceDefinition)
  --host HOST          bind this address instead of the configured host (port stays)
  --metrics-port P     serve /metrics and /status on P (0: a free port, logged; default: the
                       replica's metricsPort in the configuration, else 0)
  --metrics-host HOST  address of the metrics endpoint (default: where the replica listens,
                       its --host or configured host, so lockstep status reaches it there)
  --no-metrics         no metrics endpoint
  --log-level LEVEL    debug, info, warn or error (default info)
  --client-limits L    per-client fairness limits: "off", or outstanding=N,sessions=N,bytes=N
                       (bytes per second; default outstanding=128,sessions=64,bytes=33554432)
  --arbiter-config F   primary-backup: the arbiter group's configuration (default: arbiter/cluster.json
                       next to --config)
  --arbiter-keys F     primary-backup: this replica's client key for the arbiter (default:
                       keys/arbiter-client-<id>.json next to --config)
  --arbiter-timeout-ms MS
                       primary-backup: time allowed for one test-and-set (default 1000)
  --byzantine B        FOR TESTS AND DEMOS ONLY (protocol pbft): run as a lying replica with
                       behaviour B from the simulator's catalog: ${byzantineBehaviours.slice(0, 6).join(", ")},
                       ${byzantineBehaviours.slice(6).join(", ")}
  --byzantine-seed N   seed of the Byzantine replica's random choices (default 1)
  --help               this text`;

/** What the command line says, before any file is read. */
export interface ReplicaArgs {
  readonly help: boolean;
  readonly configFile: string;
  readonly keysFile: string;
  readonly id: ReplicaId;
  readonly dataDir: string;
  /** Undefined: the configuration's service, else kv. */
  readonly service: string | undefined;
  readonly host: string | undefined;
  /** port undefined: the configuration's metricsPort for this replica, else a free port. */
  readonly metrics:
    | { readonly host: string | undefined; readonly port: number | undefined }
    | false;
  readonly logLevel: LogLevel;
  /** Per-client fairness limits (client-fairness.ts): undefined for the defaults. */
  readonly clientLimits: Partial<ClientLimits> | false | undefined;
  /** primary-backup: the arbiter's files and timeout (undefined: the defaults; arbiter-args.ts). */
  readonly arbiter: {
    readonly configFile: string | undefined;
    readonly keysFile: string | undefined;
    readonly timeoutMs: number | undefined;
  };
  /** `--byzantine`: lie on purpose (tests and demos, pbft only). */
  readonly byzantine: ByzantineOption | undefined;
}

/** `off`, or a comma list of outstanding=N, sessions=N, bytes=N. */
function parseClientLimits(text: string): Partial<ClientLimits> | false {
  if (text === "off") return false;
  const names: Record<string, keyof ClientLimits> = {
    outstanding: "outstanding",
    sessions: "sessions",
    bytes: "bytesPerSecond",
  };
  const out: Partial<Record<keyof ClientLimits, number>> = {};
  for (const part of text.split(",")) {
    const [name, value] = part.split("=");
    const field = name === undefined ? undefined : names[name.trim()];
    if (field === undefined || value === undefined)
      throw usage(
        `--client-limits expects "off" or a list of outstanding=N,sessions=N,bytes=N, got "${text}"`,
      );
    out[field] = integer(`client-limits ${name!.trim()}`, value.trim(), 1, Number.MAX_SAFE_INTEGER);
  }
  return out;
}

const usage = (message: string) => new StartupError("usage", message);

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw usage(`--${name} expects an integer, got "${text}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usage(`--${name} must be from ${min} to ${max}, got ${text}`);
  }
  return n;
}

/** Parses the replica's command line; throws StartupError("usage") with a one-line message. */
export function parseReplicaArgs(argv: readonly string[]): ReplicaArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string" },
        keys: { type: "string" },
        id: { type: "string" },
        data: { type: "string" },
        service: { type: "string" },
        host: { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        "no-metrics": { type: "boolean" },
        "log-level": { type: "string" },
        "client-limits": { type: "string" },
        "arbiter-config": { type: "string" },
        "arbiter-keys": { type: "string" },
        "arbiter-timeout-ms": { type: "string" },
        byzantine: { type: "string" },
        "byzantine-seed": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    values = parsed.values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw usage(describeParseError(error));
  }
  const help = values.help === true;
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === "string" ? v : undefined;
  };
  const required = (name: string): string => {
    const v = str(name);
    if (v === undefined || v === "") {
      if (help) return "";
      throw usage(`--${name} is required (see --help)`);
    }
    return v;
  };
  const configFile = required("config");
  const keysFile = required("keys");
  const idText = required("id");
  const dataDir = required("data");
  const id = help ? 0 : integer("id", idText, 0, 1023);
  if (!isReplicaId(id)) throw usage(`--id must be from 0 to 1023, got ${idText}`);
  const service = str("service");
  if (service !== undefined && !serviceNames.includes(service) && !isServicePath(service)) {
    throw usage(
      `--service must be one of ${serviceNames.join(", ")} or the path of a service module (./dist/my-service.js), got "${service}"`,
    );
  }
  const logLevel = (str("log-level") ?? "info") as LogLevel;
  if (!logLevels.includes(logLevel)) {
    throw usage(`--log-level must be debug, info, warn or error, got "${logLevel}"`);
  }
  const metricsPortText = str("metrics-port");
  if (values["no-metrics"] === true && metricsPortText !== undefined) {
    throw usage("--no-metrics and --metrics-port exclude each other");
  }
  const metrics =
    values["no-metrics"] === true
      ? (false as const)
      : {
          host: str("metrics-host"),
          port:
            metricsPortText === undefined
              ? undefined
              : integer("metrics-port", metricsPortText, 0, 65535),
        };
  const behaviour = str("byzantine");
  if (behaviour !== undefined && !isByzantineBehaviour(behaviour)) {
    throw usage(`--byzantine: ${unknownBehaviour(behaviour)}`);
  }
  const seedText = str("byzantine-seed");
  if (seedText !== undefined && behaviour === undefined) {
    throw usage("--byzantine-seed needs --byzantine");
  }
  const byzantine =
    behaviour === undefined
      ? undefined
      : {
          behaviour,
          seed: seedText === undefined ? 1 : integer("byzantine-seed", seedText, 0, 2 ** 31 - 1),
        };
  return {
    help,
    byzantine,
    configFile,
    keysFile,
    id,
    dataDir,
    service,
    host: str("host"),
    metrics,
    logLevel,
    clientLimits:
      str("client-limits") === undefined ? undefined : parseClientLimits(str("client-limits")!),
    arbiter: {
      configFile: str("arbiter-config"),
      keysFile: str("arbiter-keys"),
      timeoutMs:
        str("arbiter-timeout-ms") === undefined
          ? undefined
          : integer("arbiter-timeout-ms", str("arbiter-timeout-ms")!, 1, 600_000),
    },
  };
}

/**
 * Reads the files the arguments name and returns the options for startReplica (without a
 * logger). Throws StartupError("config" | "keys") naming the file.
 */
export function loadReplicaOptions(args: ReplicaArgs): StartReplicaOptions {
  let config: StartReplicaOptions["config"];
  try {
    config = loadClusterConfig(args.configFile);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new StartupError("config", error.message);
    throw new StartupError("config", `${args.configFile}: ${firstLine(error)}`);
  }
  if (args.byzantine !== undefined) {
    const problem = byzantineProtocolProblem(config.protocol);
    if (problem !== undefined) throw usage(problem);
  }
  let keys: StartReplicaOptions["keys"];
  try {
    keys = readKeyFile(args.keysFile);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === "ENOENT" ? "no such file" : firstLine(error);
    throw new StartupError("keys", `${args.keysFile}: ${why}`);
  }
  return {
    config,
    id: args.id,
    keys,
    dataDir: args.dataDir,
    service: replicaService(args.service ?? config.service ?? "kv"),
    ...(args.host === undefined ? {} : { host: args.host }),
    ...(args.clientLimits === undefined ? {} : { clientLimits: args.clientLimits }),
    ...(args.byzantine === undefined ? {} : { byzantine: args.byzantine }),
    metrics:
      args.metrics === false
        ? false
        : {
            host: args.metrics.host,
            port:
              args.metrics.port ?? config.replicas.find((r) => r.id === args.id)?.metricsPort ?? 0,
          },
  };
}

/**
 * The definition for `--service`: a built-in's, or a service module's, which must have been
 * loaded (loadReplicaService) before.
 */
function replicaService(spec: string): AnyServiceDefinition {
  if (!isServicePath(spec)) return createServiceKit(spec).definition;
  const pkg = loadedServiceModule(spec);
  if (!pkg) throw new StartupError("config", `service module ${spec} is not loaded`);
  return pkg.definition;
}

/** Loads the service module `--service` names, if it names one; StartupError("config") if bad. */
export async function loadReplicaService(spec: string | undefined): Promise<void> {
  if (spec === undefined || !isServicePath(spec)) return;
  try {
    await loadServiceModule(spec);
  } catch (error) {
    throw new StartupError("config", firstLine(error));
  }
}
