/**
 * What the network layer counts. Every frame or connection it refuses lands in exactly one of
 * these, so an operator can tell an attack, a misconfiguration and a slow peer apart.
 * docs/net.md explains each one.
 */
export interface NetCounters {
  /** A frame that breaks the format: unknown kind, too short, bad handshake fields, a stream cut mid-frame. */
  malformed: number;
  /** A length header above the frame limit (the connection is closed before reading the body). */
  oversized: number;
  /** A frame of an established session whose MAC is wrong: forged, tampered, or replayed from another connection. */
  badMac: number;
  /** An authentic frame with the wrong sequence number: replayed or reordered within its connection. */
  replayed: number;
  /** A handshake that failed to prove the key (bad handshake MAC or signature, data before the handshake, timeout). */
  unauthenticated: number;
  /** An authentic message whose payload is not MessagePack or fails the protocol's schema (dropped, connection kept). */
  schemaRejected: number;
  /** A handshake naming a principal this node holds no key for, or addressed to someone else. */
  unknownPeer: number;
  /** A handshake between different clusters (their cluster ids differ): refused on both ends. */
  wrongCluster: number;
  /** A handshake that proved a client key which has been rotated out: answered RETIRED and closed (both ends count it). */
  keyRetired: number;
  bytesIn: number;
  bytesOut: number;
  /** Authentic data frames received / data frames handed to a socket (a frame carries a batch). */
  framesIn: number;
  framesOut: number;
  /** Messages in those frames (before the schema check) / messages handed to a socket. */
  messagesIn: number;
  messagesOut: number;
  /** Messages dropped from a full send queue (oldest first), or left queued when a transport closed. */
  queueDrops: number;
  /** Replies for a client with no live connection to this replica (dropped). */
  unroutable: number;
  /** Messages refused on send because their frame would exceed the frame limit. */
  oversizedSends: number;
  /** Messages dropped from a send queue because they waited longer than its age bound. */
  queueExpired: number;
  /** Liveness pings sent / received (docs/net.md, "Liveness"). */
  pingsOut: number;
  pingsIn: number;
  /**
   * Peer connections closed by the liveness check: nothing received for the link timeout while
   * we were sending, a write blocked that long, or a dial that did not connect in time.
   */
  linkTimeouts: number;
  /** Dial attempts after the first one to the same replica (each redial after a failure or a lost connection). */
  reconnects: number;
  /** Inbound connections refused or closed by a connection budget: the sum of the four below. */
  connectionsRejected: number;
  /** Refused on accept: the listener's socket ceiling (derived from the file descriptor limit) was reached. */
  refusedSocketLimit: number;
  /** Closed before authenticating: the budget for unauthenticated connections was full (oldest closed first). */
  refusedUnauthenticatedBudget: number;
  /** Closed before authenticating: one source address held its cap of unauthenticated connections (its oldest closed first). */
  refusedPerAddressBudget: number;
  /** Closed right after authenticating: the budget for authenticated client connections was full. */
  refusedAuthenticatedBudget: number;
  /** TLS handshakes that failed (no or untrusted certificate, not TLS at all). */
  tlsFailures: number;
  /** Exceptions thrown by a user handler (caught; the connection goes on). */
  handlerErrors: number;
}

export type CounterName = keyof NetCounters;

export function createCounters(): NetCounters {
  return {
    malformed: 0,
    oversized: 0,
    badMac: 0,
    replayed: 0,
    unauthenticated: 0,
    schemaRejected: 0,
    unknownPeer: 0,
    wrongCluster: 0,
    keyRetired: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesIn: 0,
    framesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    queueDrops: 0,
    unroutable: 0,
    oversizedSends: 0,
    queueExpired: 0,
    pingsOut: 0,
    pingsIn: 0,
    linkTimeouts: 0,
    reconnects: 0,
    connectionsRejected: 0,
    refusedSocketLimit: 0,
    refusedUnauthenticatedBudget: 0,
    refusedPerAddressBudget: 0,
    refusedAuthenticatedBudget: 0,
    tlsFailures: 0,
    handlerErrors: 0,
  };
}

/** The counters that mean "something refused": their sum is what the fuzz tests compare. */
export const rejectionCounters: readonly CounterName[] = [
  "malformed",
  "oversized",
  "badMac",
  "replayed",
  "unauthenticated",
  "schemaRejected",
  "unknownPeer",
  "wrongCluster",
  "keyRetired",
];

/** The connection budget refusals by reason (docs/net.md, "Connection budgets"); connectionsRejected is their sum. */
export const budgetCounters: readonly CounterName[] = [
  "refusedSocketLimit",
  "refusedUnauthenticatedBudget",
  "refusedPerAddressBudget",
  "refusedAuthenticatedBudget",
];

export function sumCounters(counters: NetCounters, names: readonly CounterName[]): number {
  let total = 0;
  for (const name of names) total += counters[name];
  return total;
}
