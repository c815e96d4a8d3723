import type { ClusterConfig } from "../core/config.js";
import type { ClientId, ReplicaId } from "../core/ids.js";
import type { ProtocolDefinition, WireTypes } from "../core/protocol.js";
import { DecodeError, decode, encode } from "../platform/codec.js";
import type { KeyRing } from "../platform/node-crypto.js";
import { createCounters, type NetCounters } from "./counters.js";
import { DialedLink, type HostPort } from "./dialed-link.js";
import { type NetOptions, type ResolvedNetOptions, resolveNetOptions } from "./options.js";
import { SendQueue } from "./send-queue.js";
import { dataFrameOverhead } from "./session.js";
import { type HandshakeKeys, handshakeKeys } from "./session-keys.js";

export interface ClientTransportOptions<W extends WireTypes> extends NetOptions {
  readonly clientId: ClientId;
  /** Where the replicas are (their host and port). */
  readonly config: ClusterConfig;
  /** This client's keys (keyRingFor(keyFile, `c:<clientId>`)). */
  readonly keys: KeyRing;
  /** Responses are checked against `response` before the handler sees them. */
  readonly schemas: ProtocolDefinition<W>["schemas"];
}

type ResponseHandler<W extends WireTypes> = (from: ReplicaId, msg: W["response"]) => void;

/**
 * A client's connections to the replicas: each is dialed on the first message to that replica
 * and then kept up (reconnect with backoff) until close(). Responses reach the handler only
 * after the handshake proved the replica, the frame MAC and sequence number checked out, and
 * the protocol's response schema accepted them.
 */
export class ClientTransport<W extends WireTypes> {
  readonly counters: NetCounters = createCounters();
  private readonly options: ResolvedNetOptions;
  private readonly keys: HandshakeKeys;
  private readonly links = new Map<ReplicaId, DialedLink>();
  private readonly addresses = new Map<ReplicaId, HostPort>();
  private handler: ResponseHandler<W> = () => {};
  private closed = false;
  private wrongCluster: string | undefined;
  private keyRetiredHandler: (reason: string) => void = () => {};

  /**
   * Why the last replica refused this client as another cluster's (its configuration names a
   * different cluster id), if one did: the likely reason requests go unanswered.
   */
  get refusal(): string | undefined {
    return this.wrongCluster;
  }

  constructor(private readonly init: ClientTransportOptions<W>) {
    this.options = resolveNetOptions(init);
    if (init.keys.self !== `c:${init.clientId}`) {
      throw new Error(`the key ring belongs to ${init.keys.self}, not c:${init.clientId}`);
    }
    this.keys = handshakeKeys(init.keys);
    for (const replica of init.config.replicas) {
      if (replica.host !== undefined && replica.port !== undefined) {
        this.addresses.set(replica.id, { host: replica.host, port: replica.port });
      }
    }
  }

  get clientId(): ClientId {
    return this.init.clientId;
  }

  /** Sets the handler for responses (replacing the previous one). */
  onResponse(handler: ResponseHandler<W>): void {
    this.handler = handler;
  }

  /**
   * Sets the handler called when a replica refuses this client's key as rotated out (a holder
   * of the new key file must connect instead; the transport goes on redialing until closed).
   */
  onKeyRetired(handler: (reason: string) => void): void {
    this.keyRetiredHandler = handler;
  }

  /** Overrides where replica `id` is dialed (takes effect on the next attempt). */
  setAddress(id: ReplicaId, host: string, port: number): void {
    this.addresses.set(id, { host, port });
  }

  /**
   * Queues a request for a replica, dialing it if needed. False when it cannot be sent at all
   * (unknown replica, closed, or too large for a frame); a full queue drops its oldest message.
   */
  send(replicaId: ReplicaId, msg: W["request"]): boolean {
    const link = this.closed ? undefined : this.link(replicaId);
    if (!link) {
      this.counters.unroutable++;
      return false;
    }
    const bytes = encode(msg);
    if (bytes.length + dataFrameOverhead > this.options.maxFrameBytes) {
      this.counters.oversizedSends++;
      return false;
    }
    link.queue.push(bytes);
    link.flush();
    return true;
  }

  /**
   * Dials every replica now instead of on the first message to it. A client that votes on
   * replies (PBFT) needs them from replicas it never sends to: a replica can answer only a
   * client that is connected to it.
   */
  connectAll(): void {
    if (this.closed) return;
    for (const id of this.addresses.keys()) this.link(id)?.start();
  }

  /** Whether an authenticated connection to the replica is up now. */
  connected(replicaId: ReplicaId): boolean {
    return this.links.get(replicaId)?.connected ?? false;
  }

  /** Closes every connection and stops dialing. Queued requests count as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) {
      link.close();
      link.queue.clear();
    }
  }

  private link(id: ReplicaId): DialedLink | undefined {
    const existing = this.links.get(id);
    if (existing) return existing;
    if (!this.init.config.replicas.some((r) => r.id === id)) return undefined;
    const link = new DialedLink({
      target: `r${id}`,
      address: () => this.addresses.get(id),
      keys: this.keys,
      counters: this.counters,
      queue: new SendQueue(this.options.queue, () => this.counters.queueDrops++),
      tls: this.options.tls,
      maxFrameBytes: this.options.maxFrameBytes,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      backoff: this.options.backoff,
      clusterId: this.init.config.clusterId,
      onWrongCluster: (reason) => {
        this.wrongCluster = `replica ${id}: ${reason}`;
      },
      onKeyRetired: (reason) => this.keyRetiredHandler(`replica ${id}: ${reason}`),
      onMessage: (message) => this.onMessage(id, message),
      ...(this.options.onError ? { onError: this.options.onError } : {}),
    });
    this.links.set(id, link);
    return link;
  }

  private onMessage(from: ReplicaId, message: Uint8Array): void {
    let msg: W["response"];
    try {
      msg = decode(message, this.init.schemas.response);
    } catch (error) {
      this.counters.schemaRejected++;
      if (!(error instanceof DecodeError)) this.options.onError?.(error);
      return;
    }
    try {
      this.handler(from, msg);
    } catch (error) {
      this.counters.handlerErrors++;
      try {
        this.options.onError?.(error);
      } catch {
        // ignored
      }
    }
  }
}
