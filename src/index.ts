// The public API of lockstep.

export {
  type CheckOptions,
  type CheckResult,
  type Counterexample,
  checkEventHistory,
  checkLinearizability,
  DEFAULT_CHECK_LIMITS,
  historyFromEvents,
  type PartitionResult,
  type PartitionVerdict,
  type UnknownReason,
} from "./check/linearizability/index.js";
export {
  type CallOptions,
  type ConnectOptions,
  connect,
  LockstepClient,
  LockstepError,
  type LockstepErrorCode,
} from "./client/index.js";
export type {
  AdminOp,
  ClientReplyMessage,
  ClientRequestMessage,
  ErrorCode,
  ReplyResult,
} from "./core/client-messages.js";
export type { ClientOperation } from "./core/client-operation.js";
export {
  type ClusterConfig,
  ConfigError,
  minimumReplicas,
  type ReplicaAddress,
  simulatedCluster,
  validateClusterConfig,
} from "./core/config.js";
export type { Crypto, Principal } from "./core/crypto.js";
export type { ClientId, LogIndex, ReplicaId, Seq, Term } from "./core/ids.js";
export type { EntryPayload, LogEntry, LoggedCommand } from "./core/log-entry.js";
export { createRandom, type Random } from "./core/prng.js";
export type {
  ClientCore,
  ClientInput,
  ClientOutput,
  CoreInput,
  CoreOutput,
  CoreStatus,
  DurableState,
  PersistOp,
  ProtocolCore,
  ProtocolDefinition,
  ProtocolName,
  SnapshotMeta,
  WireTypes,
} from "./core/protocol.js";
export { type AppliedCommand, ReplicatedService } from "./core/replicated-service.js";
export { defaultSessionLimits, type SessionLimits, SessionTable } from "./core/session-table.js";
export type {
  AnyServiceDefinition,
  ApplyContext,
  ServiceDefinition,
  StateMachine,
} from "./core/state-machine.js";
export type { Value } from "./core/value.js";
export type {
  FailEvent,
  HistoryEvent,
  InfoEvent,
  InvokeEvent,
  OkEvent,
  ProcessName,
} from "./model/events.js";
export type { History, Model, Operation } from "./model/history.js";
export {
  clientKeyFile,
  generateClusterKeys,
  readKeyFile,
  replicaKeyFile,
  writeKeyFile,
} from "./net/index.js";
export { DecodeError, decode, encode } from "./platform/codec.js";
export { generateSigningKeyPair, type KeyRing, NodeCrypto } from "./platform/node-crypto.js";
export { createRaftProtocol, raftPlantedBugs, raftProtocol } from "./protocols/raft/index.js";
export { findProtocol, protocolRegistry, type RegisteredProtocol } from "./protocols/registry.js";
export { createSingleProtocol, singleProtocol } from "./protocols/single/index.js";
export {
  type ReplicaEnvironment,
  ReplicaNode,
  type ReplicaObserver,
} from "./replica/replica-node.js";
export {
  loadClusterConfig,
  type Replica,
  type StartReplicaOptions,
  StartupError,
  startReplica,
} from "./runtime/index.js";
export { defaultSimOptions, type FaultKind, type SimOptions } from "./sim/options.js";
export { runSimulation, type SimResult, type SimStats } from "./sim/simulation.js";
export * from "./state-machines/index.js";
export { FileStorage, StorageCorruptionError } from "./storage/index.js";
