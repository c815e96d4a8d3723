// The public API of lockstep.
export type { History, Model, Operation } from "./check/history.js";
export {
  type CheckOptions,
  type CheckResult,
  type Counterexample,
  checkLinearizability,
  type PartitionResult,
  type PartitionVerdict,
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
export { DecodeError, decode, encode } from "./core/codec.js";
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
export { generateSigningKeyPair, type KeyRing, NodeCrypto } from "./core/node-crypto.js";
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
export { defaultSessionLimits, type SessionLimits, SessionTable } from "./core/session-table.js";
export type {
  AnyServiceDefinition,
  ApplyContext,
  ServiceDefinition,
  StateMachine,
} from "./core/state-machine.js";
export type { Value } from "./core/value.js";
export {
  clientKeyFile,
  generateClusterKeys,
  readKeyFile,
  replicaKeyFile,
  writeKeyFile,
} from "./net/index.js";
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
export { defaultSimOptions, type FaultKind, type SimOptions } from "./sim/options.js";
export { runSimulation, type SimResult, type SimStats } from "./sim/simulation.js";
export * from "./state-machines/index.js";
export { FileStorage, StorageCorruptionError } from "./storage/index.js";
