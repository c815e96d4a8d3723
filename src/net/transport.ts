import type { Server, Socket } from "node:net";
import type { ClusterConfig } from "../core/config.js";
import type { ClientId, ReplicaId } from "../core/ids.js";
import { limits } from "../core/limits.js";
import type { ProtocolDefinition, WireTypes } from "../core/protocol.js";
import { DecodeError, decode, encode } from "../platform/codec.js";
import type { KeyRing } from "../platform/node-crypto.js";
import { SecureChannel } from "./channel.js";
import { Connection } from "./connection.js";
import { createCounters, type NetCounters } from "./counters.js";
import { DialedLink, type HostPort } from "./dialed-link.js";
import { type NetOptions, type ResolvedNetOptions, resolveNetOptions } from "./options.js";
import { parsePrincipal } from "./principal.js";
import { SendQueue } from "./send-queue.js";
import { dataFrameOverhead } from "./session.js";
import { type HandshakeKeys, handshakeKeys } from "./session-keys.js";
import { createListener } from "./tls.js";
import { slotKey, UnauthenticatedBudget } from "./unauthenticated-budget.js";

/** The connection budgets a replica transport takes (every one has a default). */
export interface BudgetOptions {
  readonly maxConnections?: number;
  readonly maxUnauthenticated?: number;
  readonly maxUnauthenticatedPerAddress?: number;
  readonly maxSockets?: number;
}

export interface ReplicaTransportOptions<W extends WireTypes> extends NetOptions, BudgetOptions {
  readonly self: ReplicaId;
  readonly config: ClusterConfig;
  /** This replica's keys (keyRingFor(keyFile, `r<self>`)). */
  readonly keys: KeyRing;
  /** Incoming peer frames are checked against `peer`, client frames against `request`. */
  readonly schemas: ProtocolDefinition<W>["schemas"];
  /**
   * Authenticated client connections held at once (default limits.netAuthenticatedConnections);
   * a client that authenticates beyond it is closed. Replica links are never refused by it.
   */
  readonly maxConnections?: number;
  /**
   * Connections still in their handshake held at once (default
   * limits.netUnauthenticatedConnections). When full, the oldest is closed to admit the newcomer:
   * a dialer that holds a key finishes in one round trip, an idle stranger never does.
   */
  readonly maxUnauthenticated?: number;
  /** The same per source address (default limits.netUnauthenticatedPerAddress); its own oldest is closed. */
  readonly maxUnauthenticatedPerAddress?: number;
  /**
   * Inbound sockets of every kind held at once: beyond it the kernel's socket is closed on accept
   * (default: the three budgets above plus the replica links). The runtime lowers it to stay clear
   * of the file descriptor limit (docs/operations.md, "File descriptors").
   */
  readonly maxSockets?: number;
  /** Accept client connections (default true). */
  readonly acceptClients?: boolean;
  /**
   * The client a request claims to come from. A request naming a client other than the one
   * its connection authenticated as is dropped and counted as unauthenticated. The default
   * reads a string field `client` (lockstep's client messages carry one); `false` turns the
   * check off.
   */
  readonly requestOwner?: ((request: W["request"]) => ClientId | undefined) | false;
  /**
   * The answer to a client frame the request schema rejected, when one can be given (the frame
   * names its session and request): sent back on the same connection so the client does not wait
   * for silence. `principal` is who the connection authenticated as. Default: none (dropped).
   */
  readonly refuseRejected?: (
    principal: ClientId,
    frame: Uint8Array,
    error: unknown,
  ) => W["response"] | undefined;
}

type PeerHandler<W extends WireTypes> = (from: ReplicaId, msg: W["peer"]) => void;
/**
 * `client` is the principal the connection authenticated as; `route` names that one connection,
 * for replies that must go back on it (`sendClient({ client, route }, …)`).
 */
type ClientHandler<W extends WireTypes> = (
  client: ClientId,
  msg: W["request"],
  route: ClientRoute,
  /** The request's size on the wire (the decoded frame), for per-client byte limits. */
  bytes: number,
) => void;

/**
 * A peer link as `/status` shows it: `live` carried a frame within the liveness timeout,
 * `silent` has a connection that did not, `connecting` is dialing, `down` has none.
 */
export type PeerLinkState = "live" | "silent" | "connecting" | "down";

export interface PeerLinkStatus {
  readonly replica: ReplicaId;
  readonly state: PeerLinkState;
  /** Milliseconds since bytes last arrived on the current connection (null: none up). */
  readonly lastFrameAgoMs: number | null;
  /** Messages waiting for this replica. */
  readonly queued: number;
  /** Redials by this replica (it dials higher ids); null where the peer dials us. */
  readonly reconnects: number | null;
}

/** One authenticated client connection (a serial number, never reused by this transport). */
export type ClientRoute = number;

/** Where a reply goes: a client's newest connection, or a given one of its connections. */
export type ClientTarget = ClientId | { readonly client: ClientId; readonly route: ClientRoute };

/**
 * Connections one client principal may hold at once. Several processes (or client objects) may
 * share a key; a principal past this bound loses its oldest connection, which bounds what a
 * leaked or hostile key can hold open.
 */
const maxConnectionsPerClient = 256;

/** The connection budgets in effect (ReplicaTransportOptions explains each). */
export interface ConnectionBudgets {
  readonly authenticated: number;
  readonly unauthenticated: number;
  readonly unauthenticatedPerAddress: number;
  readonly sockets: number;
}

type RefusalCounter =
  | "refusedSocketLimit"
  | "refusedUnauthenticatedBudget"
  | "refusedPerAddressBudget"
  | "refusedAuthenticatedBudget";

/** The state kept per other replica. The lower id dials; the higher id accepts. */
interface PeerLink {
  readonly id: ReplicaId;
  readonly queue: SendQueue;
  /** For replicas with a higher id: the link this replica keeps dialed. */
  readonly dialed: DialedLink | undefined;
  /** For replicas with a lower id: their latest authenticated connection to us. */
  accepted: Connection | undefined;
}

/** One authenticated client connection and the replies waiting for it. */
interface ClientLink {
  readonly principal: ClientId;
  readonly connection: Connection;
  readonly queue: SendQueue;
}

function defaultRequestOwner(request: unknown): ClientId | undefined {
  const client = (request as { client?: unknown } | null)?.client;
  return typeof client === "string" ? client : undefined;
}

/**
 * The network side of one replica: it listens for peers and clients, keeps one authenticated
 * connection to every other replica (the lower id dials, with reconnect and backoff), and
 * hands handlers only messages that passed the handshake, the frame MAC, the sequence check
 * and the protocol's schema. Everything refused is counted in `counters`.
 */
export class ReplicaTransport<W extends WireTypes> {
  readonly counters: NetCounters = createCounters();
  private readonly options: ResolvedNetOptions;
  private readonly keys: HandshakeKeys;
  private readonly peers = new Map<ReplicaId, PeerLink>();
  /** Client connections by route. */
  private readonly clients = new Map<ClientRoute, ClientLink>();
  /** Each principal's routes, oldest first. */
  private readonly routesOf = new Map<ClientId, ClientRoute[]>();
  private readonly routeOfConnection = new Map<Connection, ClientRoute>();
  private nextRoute = 1;
  private readonly inbound = new Set<Connection>();
  /** Inbound connections still in their handshake (TLS or ours), and each connection's slot. */
  private readonly unauthenticated: UnauthenticatedBudget;
  private readonly slotOf = new Map<Connection, string>();
  readonly budgets: ConnectionBudgets;
  private readonly addresses = new Map<ReplicaId, HostPort>();
  private readonly requestOwner: ((request: W["request"]) => ClientId | undefined) | undefined;
  private server: Server | undefined;
  private peerHandler: PeerHandler<W> = () => {};
  private clientHandler: ClientHandler<W> = () => {};
  private closed = false;
  private wrongClusterReportedAt = -Infinity;

  constructor(private readonly init: ReplicaTransportOptions<W>) {
    this.options = resolveNetOptions(init);
    if (init.keys.self !== `r${init.self}`) {
      throw new Error(`the key ring belongs to ${init.keys.self}, not r${init.self}`);
    }
    if (!init.config.replicas.some((r) => r.id === init.self)) {
      throw new Error(`replica ${init.self} is not in the cluster configuration`);
    }
    this.keys = handshakeKeys(init.keys);
    this.budgets = resolveBudgets(init);
    this.unauthenticated = new UnauthenticatedBudget(
      this.budgets.unauthenticated,
      this.budgets.unauthenticatedPerAddress,
      (reason) => this.countRefusal(reason),
    );
    this.requestOwner =
      init.requestOwner === false ? undefined : (init.requestOwner ?? defaultRequestOwner);
    for (const replica of init.config.replicas) {
      if (replica.host !== undefined && replica.port !== undefined) {
        this.addresses.set(replica.id, { host: replica.host, port: replica.port });
      }
      if (replica.id === init.self) continue;
      const id = replica.id;
      const queue = new SendQueue(
        this.options.queue,
        () => this.counters.queueDrops++,
        () => this.counters.queueExpired++,
      );
      const dialed =
        init.self < id
          ? new DialedLink({
              target: `r${id}`,
              address: () => this.addresses.get(id),
              keys: this.keys,
              counters: this.counters,
              queue,
              tls: this.options.tls,
              maxFrameBytes: this.options.maxFrameBytes,
              handshakeTimeoutMs: this.options.handshakeTimeoutMs,
              liveness: this.options.liveness,
              backoff: this.options.backoff,
              clusterId: init.config.clusterId,
              onWrongCluster: (reason) =>
                this.reportWrongCluster(`replica ${id} refused us: ${reason}`),
              onMessage: (message) => this.onPeerMessage(id, message),
              ...(this.options.onError ? { onError: this.options.onError } : {}),
            })
          : undefined;
      this.peers.set(id, { id, queue, dialed, accepted: undefined });
    }
  }

  get self(): ReplicaId {
    return this.init.self;
  }

  /** Sets the handler for peer messages (replacing the previous one). */
  onPeer(handler: PeerHandler<W>): void {
    this.peerHandler = handler;
  }

  /** Sets the handler for client requests (replacing the previous one). */
  onClient(handler: ClientHandler<W>): void {
    this.clientHandler = handler;
  }

  /**
   * Listens for peers and clients; host and port default to this replica's configured address.
   * Port 0 picks a free port. Resolves with the bound port.
   */
  listen(host?: string, port?: number): Promise<number> {
    if (this.closed) return Promise.reject(new Error("transport is closed"));
    if (this.server) return Promise.reject(new Error("already listening"));
    const mine = this.addresses.get(this.init.self);
    const bindHost = host ?? mine?.host ?? "127.0.0.1";
    const bindPort = port ?? mine?.port ?? 0;
    const server = createListener(
      this.options.tls,
      this.counters,
      this.options.handshakeTimeoutMs,
      (socket) => this.accept(socket),
    );
    server.maxConnections = this.budgets.sockets;
    server.on("drop", () => this.countRefusal("refusedSocketLimit"));
    if (this.options.tls) {
      // A TLS handshake is unauthenticated too: its TCP socket takes a slot at once, and the
      // TLS socket keeps that slot (same address and port) until our handshake is done.
      server.on("connection", (raw: Socket) => {
        const key = slotKey(raw);
        if (key === undefined) return;
        this.unauthenticated.hold(key, raw.remoteAddress!, () => raw.destroy());
        // A TLS failure never reaches accept(); a closed connection is released twice (no-op).
        raw.once("close", () => this.unauthenticated.release(key));
      });
    }
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        this.server = undefined;
        reject(error);
      };
      server.once("error", onError);
      server.listen(bindPort, bindHost, () => {
        server.off("error", onError);
        // Later server errors (rare: EMFILE on accept) must not crash the process.
        server.on("error", (error) => this.options.onError?.(error));
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : bindPort);
      });
    });
  }

  /** Overrides where replica `id` is dialed (takes effect on the next attempt). */
  setAddress(id: ReplicaId, host: string, port: number): void {
    this.addresses.set(id, { host, port });
  }

  /** Starts dialing every replica with a higher id (the others dial us). */
  connectPeers(): void {
    if (this.closed) return;
    for (const link of this.peers.values()) link.dialed?.start();
  }

  /**
   * Queues a message for a replica; returns false when it cannot be sent at all (unknown
   * replica, or too large for a frame). A full queue drops its oldest message instead.
   */
  sendPeer(to: ReplicaId, msg: W["peer"]): boolean {
    const link = this.peers.get(to);
    if (!link || this.closed) {
      this.counters.unroutable++;
      return false;
    }
    const bytes = this.encode(msg);
    if (!bytes) return false;
    link.queue.push(bytes);
    if (link.dialed) link.dialed.flush();
    else link.accepted?.flushSoon();
    return true;
  }

  /**
   * Queues a reply on the connection `target.route` of `target.client` (a route from the client
   * handler), or, when that connection is gone or `target` is just a client id, on the client's
   * newest connection (a client that reconnected gets its reply there). False if it has none
   * (counted unroutable).
   */
  sendClient(target: ClientTarget, msg: W["response"]): boolean {
    const principal = typeof target === "string" ? target : target.client;
    let client = typeof target === "string" ? undefined : this.clients.get(target.route);
    if (client?.principal !== principal) {
      const newest = this.routesOf.get(principal)?.at(-1);
      client = newest === undefined ? undefined : this.clients.get(newest);
    }
    if (!client || this.closed) {
      this.counters.unroutable++;
      return false;
    }
    const bytes = this.encode(msg);
    if (!bytes) return false;
    client.queue.push(bytes);
    client.connection.flushSoon();
    return true;
  }

  /** Replicas with an authenticated connection up now. */
  connectedPeers(): ReplicaId[] {
    const up: ReplicaId[] = [];
    for (const link of this.peers.values()) {
      if (link.dialed ? link.dialed.connected : link.accepted?.established) up.push(link.id);
    }
    return up;
  }

  /**
   * Replicas whose link carried a frame from them within the liveness timeout (or, with
   * liveness off, that have an authenticated connection up): what `/status` counts as
   * connected. An open socket to an isolated replica does not count.
   */
  livePeers(): ReplicaId[] {
    return this.peerLinks()
      .filter((l) => l.state === "live")
      .map((l) => l.replica);
  }

  /** Each other replica's link: its state, when a frame last arrived, redials (docs/net.md). */
  peerLinks(): PeerLinkStatus[] {
    const now = performance.now();
    const timeoutMs = this.options.liveness?.timeoutMs;
    return [...this.peers.values()].map((link) => {
      const connection = link.dialed ? undefined : link.accepted;
      const up = link.dialed ? link.dialed.connected : (connection?.established ?? false);
      const activity = link.dialed ? link.dialed.activity : connection?.activity;
      const lastReceivedAt = up ? activity?.lastReceivedAt : undefined;
      const silentMs = lastReceivedAt === undefined ? null : Math.round(now - lastReceivedAt);
      let state: PeerLinkState;
      if (!up) state = link.dialed?.connecting ? "connecting" : "down";
      else if (timeoutMs !== undefined && (silentMs === null || silentMs > timeoutMs)) {
        state = "silent";
      } else state = "live";
      return {
        replica: link.id,
        state,
        lastFrameAgoMs: silentMs,
        queued: link.queue.length,
        reconnects: link.dialed?.reconnects ?? null,
      };
    });
  }

  /**
   * Closes every connection of client principal `principal` and of the principals that speak
   * for its sessions (`principal.*`): its key was revoked or rotated, so it must handshake again
   * (and is refused if its key is no longer current). Returns how many were closed.
   */
  closeClient(principal: ClientId, reason: string): number {
    let closed = 0;
    for (const [who, routes] of [...this.routesOf]) {
      if (who !== principal && !who.startsWith(`${principal}.`)) continue;
      for (const route of [...routes]) {
        const link = this.clients.get(route);
        if (!link) continue;
        link.connection.close(reason);
        this.forgetClient(route);
        closed++;
      }
    }
    return closed;
  }

  /** Clients (principals) with an authenticated connection up now. */
  connectedClients(): ClientId[] {
    return [...this.routesOf.keys()];
  }

  /** Authenticated client connections up now. */
  clientConnections(): number {
    return this.clients.size;
  }

  /** Inbound sockets open now, authenticated or not (replicas with a lower id, clients, strangers). */
  inboundConnections(): number {
    return this.inbound.size;
  }

  /** Inbound sockets still in their handshake now. */
  unauthenticatedConnections(): number {
    return this.unauthenticated.size;
  }

  /** Messages waiting for replica `id`. */
  queuedFor(id: ReplicaId): number {
    return this.peers.get(id)?.queue.length ?? 0;
  }

  /** Stops listening and dialing and closes every connection. Queued messages count as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.peers.values()) {
      link.dialed?.close();
      link.accepted?.close("transport closed");
      link.queue.clear();
    }
    for (const connection of this.inbound) connection.close("transport closed");
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Reports a cross-cluster handshake through onError, at most once per 10 s (redials repeat it). */
  private reportWrongCluster(message: string): void {
    const now = performance.now();
    if (now - this.wrongClusterReportedAt < 10_000) return;
    this.wrongClusterReportedAt = now;
    this.options.onError?.(new Error(message));
  }

  private encode(msg: unknown): Uint8Array | undefined {
    const bytes = encode(msg);
    if (bytes.length + dataFrameOverhead > this.options.maxFrameBytes) {
      this.counters.oversizedSends++;
      return undefined;
    }
    return bytes;
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const acceptClients = this.init.acceptClients ?? true;
    const self = this.init.self;
    const channel = SecureChannel.accept(
      {
        keys: this.keys,
        counters: this.counters,
        maxFrameBytes: this.options.maxFrameBytes,
        clusterId: this.init.config.clusterId,
      },
      // Replicas with a lower id dial us; a higher id waits for our dial (one connection per pair).
      (peer) =>
        peer.type === "client" ? acceptClients : peer.id < self && this.peers.has(peer.id),
    );
    const connection = new Connection({
      socket,
      channel,
      counters: this.counters,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      ...(this.options.onError ? { onError: this.options.onError } : {}),
      hooks: {
        onEstablished: (c) => this.onEstablished(c),
        onMessage: (c, message) => this.onInboundMessage(c, message),
        onClose: (c, reason) => {
          if (c.refusal === "wrongCluster") this.reportWrongCluster(`refused: ${reason}`);
          this.onInboundClose(c);
        },
      },
    });
    this.inbound.add(connection);
    const key = slotKey(socket);
    if (key !== undefined) {
      this.slotOf.set(connection, key);
      this.unauthenticated.hold(key, socket.remoteAddress!, () => {
        this.slotOf.delete(connection);
        connection.close("connection budget: the oldest unauthenticated connection");
      });
    }
  }

  /** Frees a connection's unauthenticated slot (it authenticated or closed). */
  private releaseUnauthenticated(connection: Connection): void {
    const key = this.slotOf.get(connection);
    if (key === undefined) return;
    this.slotOf.delete(connection);
    this.unauthenticated.release(key);
  }

  private countRefusal(counter: RefusalCounter): void {
    this.counters[counter]++;
    this.counters.connectionsRejected++;
  }

  private onEstablished(connection: Connection): void {
    this.releaseUnauthenticated(connection);
    const peer = parsePrincipal(connection.peer ?? "");
    if (!peer) {
      connection.close("no peer");
      return;
    }
    if (peer.type === "replica") {
      const link = this.peers.get(peer.id);
      if (!link) {
        connection.close("unknown replica");
        return;
      }
      // The newest authenticated connection wins: the old one is from before a restart.
      if (link.accepted && link.accepted !== connection) link.accepted.close("replaced");
      link.accepted = connection;
      if (this.options.liveness) connection.startLiveness(this.options.liveness);
      connection.attachQueue(link.queue);
      return;
    }
    if (this.clients.size >= this.budgets.authenticated) {
      this.countRefusal("refusedAuthenticatedBudget");
      connection.close(`more than ${this.budgets.authenticated} client connections`);
      return;
    }
    // Every connection of a client gets its own route: processes sharing a key do not displace
    // one another, and each gets the replies to the sessions that spoke on it.
    const routes = this.routesOf.get(peer.id) ?? [];
    this.routesOf.set(peer.id, routes);
    while (routes.length >= maxConnectionsPerClient) {
      this.clients
        .get(routes[0]!)
        ?.connection.close(`more than ${maxConnectionsPerClient} connections of client ${peer.id}`);
      this.forgetClient(routes[0]!);
    }
    const route = this.nextRoute++;
    const queue = new SendQueue(this.options.queue, () => this.counters.queueDrops++);
    this.clients.set(route, { principal: peer.id, connection, queue });
    this.routeOfConnection.set(connection, route);
    routes.push(route);
    connection.attachQueue(queue);
  }

  private onInboundClose(connection: Connection): void {
    this.inbound.delete(connection);
    this.releaseUnauthenticated(connection);
    const peer = parsePrincipal(connection.peer ?? "");
    if (!peer) return;
    if (peer.type === "replica") {
      const link = this.peers.get(peer.id);
      if (link?.accepted === connection) link.accepted = undefined;
      return;
    }
    const route = this.routeOfConnection.get(connection);
    if (route !== undefined) this.forgetClient(route);
  }

  /** Drops a client connection's route; replies still queued for it are lost with it. */
  private forgetClient(route: ClientRoute): void {
    const link = this.clients.get(route);
    if (!link) return;
    this.clients.delete(route);
    this.routeOfConnection.delete(link.connection);
    link.queue.clear();
    const routes = this.routesOf.get(link.principal);
    if (!routes) return;
    const at = routes.indexOf(route);
    if (at >= 0) routes.splice(at, 1);
    if (routes.length === 0) this.routesOf.delete(link.principal);
  }

  private onInboundMessage(connection: Connection, message: Uint8Array): void {
    const peer = parsePrincipal(connection.peer ?? "");
    if (!peer) return;
    if (peer.type === "replica") {
      this.onPeerMessage(peer.id, message);
      return;
    }
    let request: W["request"];
    try {
      request = decode(message, this.init.schemas.request);
    } catch (error) {
      this.rejectPayload(error);
      const refusal = this.init.refuseRejected?.(peer.id, message, error);
      const route = this.routeOfConnection.get(connection);
      if (refusal !== undefined && route !== undefined) {
        this.sendClient({ client: peer.id, route }, refusal);
      }
      return;
    }
    const owner = this.requestOwner?.(request);
    if (owner !== undefined && owner !== peer.id) {
      this.counters.unauthenticated++;
      return;
    }
    const route = this.routeOfConnection.get(connection);
    if (route === undefined) return; // closed meanwhile
    this.deliver(() => this.clientHandler(peer.id, request, route, message.length));
  }

  private onPeerMessage(from: ReplicaId, message: Uint8Array): void {
    let msg: W["peer"];
    try {
      msg = decode(message, this.init.schemas.peer);
    } catch (error) {
      this.rejectPayload(error);
      return;
    }
    this.deliver(() => this.peerHandler(from, msg));
  }

  private rejectPayload(error: unknown): void {
    this.counters.schemaRejected++;
    if (!(error instanceof DecodeError)) this.options.onError?.(error);
  }

  private deliver(call: () => void): void {
    try {
      call();
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

function resolveBudgets(
  options: NetOptions & BudgetOptions & { readonly config: ClusterConfig },
): ConnectionBudgets {
  const authenticated = options.maxConnections ?? limits.netAuthenticatedConnections;
  const unauthenticated = options.maxUnauthenticated ?? limits.netUnauthenticatedConnections;
  const unauthenticatedPerAddress = Math.min(
    unauthenticated,
    options.maxUnauthenticatedPerAddress ?? limits.netUnauthenticatedPerAddress,
  );
  const sockets =
    options.maxSockets ?? authenticated + unauthenticated + options.config.replicas.length;
  for (const [name, value] of Object.entries({
    maxConnections: authenticated,
    maxUnauthenticated: unauthenticated,
    maxUnauthenticatedPerAddress: unauthenticatedPerAddress,
    maxSockets: sockets,
  })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  return { authenticated, unauthenticated, unauthenticatedPerAddress, sockets };
}
