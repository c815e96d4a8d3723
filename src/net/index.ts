// The network layer: framing, authenticated connections, replica and client transports.
export { Backoff, type BackoffOptions } from "./backoff.js";
export { type ChannelEvent, type ChannelOptions, SecureChannel } from "./channel.js";
export { ClientTransport, type ClientTransportOptions } from "./client-connection.js";
export {
  Connection,
  type ConnectionHooks,
  type ConnectionOptions,
  type LinkActivity,
  type LivenessOptions,
} from "./connection.js";
export {
  type CounterName,
  createCounters,
  type NetCounters,
  rejectionCounters,
  sumCounters,
} from "./counters.js";
export { DialedLink, type DialedLinkOptions, type HostPort } from "./dialed-link.js";
export {
  defaultMaxFrameBytes,
  encodeFrame,
  type Frame,
  FrameDecoder,
  type FrameError,
  type FrameEvent,
  FrameKind,
  headerBytes,
  minFrameBytes,
  tagBytes,
} from "./frame.js";
export {
  DialerHandshake,
  type HandshakeFailure,
  handshakeVersion,
  maxHandshakeFrameBytes,
  ResponderHandshake,
  type SessionSecret,
} from "./handshake.js";
export {
  type ClientKeyFile,
  type ClusterKeyFile,
  clientKeyFile,
  deriveClientKey,
  derivePairKey,
  formatKeyFile,
  generateClusterKeys,
  type KeyFile,
  KeyFileError,
  keyFileVersion,
  keyRingFor,
  parseKeyFile,
  type ReadKeyFileOptions,
  type ReplicaKeyFile,
  type ReplicaKeyPair,
  readKeyFile,
  replicaKeyFile,
  writeKeyFile,
} from "./keys.js";
export { defaultLiveness, type LivenessSettings, type NetOptions } from "./options.js";
export { isPrincipal, type ParsedPrincipal, parsePrincipal } from "./principal.js";
export { defaultQueueLimits, type QueueLimits, SendQueue } from "./send-queue.js";
export {
  batchedMessageOverhead,
  Direction,
  dataFrameOverhead,
  FrameOpener,
  FrameSealer,
} from "./session.js";
export { type HandshakeKeys, handshakeKeys } from "./session-keys.js";
export type { TlsOptions } from "./tls.js";
export {
  type PeerLinkState,
  type PeerLinkStatus,
  ReplicaTransport,
  type ReplicaTransportOptions,
} from "./transport.js";
