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
  type ClientOf,
  type ConnectOptions,
  connect,
  LockstepClient,
  LockstepError,
  type LockstepErrorCode,
} from "./client/index.js";
export { makeApplyContext, makeQueryContext } from "./core/apply-context.js";
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
  type ReplicaAddress,
  type ReplicaCountLookup,
  simulatedCluster,
  validateClusterConfig,
} from "./core/config.js";
export type { Crypto, Principal } from "./core/crypto.js";
export type { ClientId, LogIndex, ReplicaId, Seq, Term } from "./core/ids.js";
export type { EntryPayload, LogEntry, LoggedCommand } from "./core/log-entry.js";
export {
  checkProposal,
  checkProposedTime,
  deriveSeed,
  proposeTime,
  type SeedSource,
  type TimeCheck,
} from "./core/nondeterminism.js";
export { createRandom, type Random } from "./core/prng.js";
export type {
  ClientCore,
  ClientInput,
  ClientOutput,
  CoreInput,
  CoreOutput,
  CoreStatus,
  DurableRules,
  DurableState,
  ExternalAnswer,
  ExternalHandler,
  ExternalRequest,
  ExternalResult,
  PersistOp,
  ProtocolCore,
  ProtocolDefinition,
  ProtocolName,
  ReplicaCountRule,
  ReplyQuorums,
  SnapshotMeta,
  StatusDeclaration,
  WireTypes,
} from "./core/protocol.js";
export { type AppliedCommand, ReplicatedService } from "./core/replicated-service.js";
export { ReplyVoter, trustOneReply } from "./core/reply-voter.js";
export { maxCommandBytes } from "./core/request-admission.js";
export { defaultSessionLimits, type SessionLimits, SessionTable } from "./core/session-table.js";
export {
  type AnyServiceDefinition,
  type AnyStateMachine,
  type ApplyContext,
  type CommandOf,
  createMachine,
  defineService,
  type QueryContext,
  type QueryOf,
  type QueryResultOf,
  type ResultOf,
  type ServiceDefinition,
  type StateMachine,
} from "./core/state-machine.js";
export type {
  CheckValues,
  OnlyValues,
  PerOp,
  ResultFor,
  Value,
  ValueLike,
} from "./core/value.js";
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
  type ClientKeyFile,
  type ClusterKeyFile,
  clientKeyFile,
  generateClusterKeys,
  type KeyFile,
  KeyFileError,
  keyRingFor,
  type ReadKeyFileOptions,
  type ReplicaKeyFile,
  readKeyFile,
  replicaKeyFile,
  writeKeyFile,
} from "./net/index.js";
export { DecodeError, decode, encode, encodeCanonical } from "./platform/codec.js";
export { generateSigningKeyPair, type KeyRing, NodeCrypto } from "./platform/node-crypto.js";
export {
  type ArbiterAnswer,
  type ArbiterRequest,
  createPrimaryBackupProtocol,
  MemoryArbiter,
  type PrimaryBackupSettings,
  primaryBackupPlantedBugs,
  primaryBackupProtocol,
} from "./protocols/primary-backup/index.js";
export { createRaftProtocol, raftPlantedBugs, raftProtocol } from "./protocols/raft/index.js";
export {
  type Adversary,
  findProtocol,
  protocolRegistry,
  type RegisteredProtocol,
  replicaCountOf,
  validateConfig,
} from "./protocols/registry.js";
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
export {
  isServicePath,
  loadServiceModule,
  ServiceModuleError,
} from "./service/load-service.js";
export {
  defineServicePackage,
  type NextOperation,
  type ServicePackage,
} from "./service/service-package.js";
export { defaultSimOptions, type FaultKind, type SimOptions } from "./sim/options.js";
export { runSeeds, type SeedRunOptions, type SeedRunReport } from "./sim/run-seeds.js";
export type { SimService } from "./sim/sim-service.js";
export { runSimulation, type SimResult, type SimStats } from "./sim/simulation.js";
export * from "./state-machines/index.js";
export {
  FieldReader,
  type StringBound,
  tryParse,
  validationMessage,
} from "./state-machines/shared/fields.js";
export { openSnapshot, sealSnapshot } from "./state-machines/shared/snapshot.js";
export { isValueArray, isValueRecord, valueEquals } from "./state-machines/shared/values.js";
export { FileStorage, StorageCorruptionError } from "./storage/index.js";
