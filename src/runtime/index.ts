// The replica runtime: real processes on real sockets and disks. See docs/operations.md.
export { arbiterPaths, loadArbiterHandler } from "./arbiter-args.js";
export {
  type ArbiterEndpoint,
  type ArbiterHandler,
  arbiterHandler,
  checkArbiterAnswer,
  defaultArbiterTimeoutMs,
} from "./arbiter-handler.js";
export { ConfigFileError, loadClusterConfig, runtimeConfigProblems } from "./config-file.js";
export { firstLine, StartupError, type StartupErrorKind } from "./errors.js";
export {
  type JsonLoggerOptions,
  jsonLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./logger.js";
export { formatMetrics } from "./metrics.js";
export { type Replica, type StartReplicaOptions, startReplica } from "./replica.js";
export {
  loadReplicaOptions,
  parseReplicaArgs,
  type ReplicaArgs,
  replicaUsage,
} from "./replica-args.js";
export { runReplicaMain } from "./replica-main.js";
export type { LatencySummary, ReplicaStatus } from "./status.js";
