import { randomBytes } from "node:crypto";
import type { AdminOp, ReplyResult } from "../core/client-messages.js";
import type { ClientOperation } from "../core/client-operation.js";
import type { ClusterConfig } from "../core/config.js";
import type { ClientId, ReplicaId } from "../core/ids.js";
import { NodeCrypto } from "../core/node-crypto.js";
import { createRandom } from "../core/prng.js";
import type { ClientCore, ClientInput, ProtocolDefinition, WireTypes } from "../core/protocol.js";
import type { Value } from "../core/value.js";
import { ClientTransport } from "../net/client-connection.js";
import type { NetCounters } from "../net/counters.js";
import { type KeyFile, keyRingFor } from "../net/keys.js";
import type { NetOptions } from "../net/options.js";
import { findProtocol } from "../protocols/registry.js";
import { abortedError, closedError, LockstepError, replyError, timeoutError } from "./errors.js";

export interface ConnectOptions {
  /** The cluster: every replica needs a host and port. */
  readonly config: ClusterConfig;
  /** A client key file (readKeyFile). A cluster or replica key file also works, with `clientId`. */
  readonly keys: KeyFile;
  /** The client's identity; defaults to the client key file's. At most 40 characters. */
  readonly clientId?: string;
  /** Default time limit per call in ms (default 10 000); 0 = none. */
  readonly timeoutMs?: number;
  /** Ticks (of config.tickMs) without an answer before a request is sent again, maybe elsewhere. */
  readonly retryTicks?: number;
  /** Network options (frame limits, queues, TLS, reconnect backoff). */
  readonly net?: NetOptions;
  /** The protocol's definition; defaults to the registered one named by config.protocol. */
  readonly protocol?: ProtocolDefinition<WireTypes>;
}

export interface CallOptions {
  /** Abort the call (the promise rejects with code "aborted"). */
  readonly signal?: AbortSignal;
  /** This call's time limit in ms (0 = none); defaults to the client's. */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly resolve: (value: Value) => void;
  readonly reject: (error: LockstepError) => void;
  readonly cleanup: () => void;
}

/** Session ids are at most 64 characters; the leader client may append ".<n>" after expiry. */
const maxClientIdLength = 40;

/**
 * A client of a lockstep cluster. It drives the protocol's ClientCore (for Raft the leader
 * client: one session, numbered commands re-sent with the same number, redirects followed) over
 * a ClientTransport, with a tick every `config.tickMs`. Calls may run concurrently.
 *
 * Exactly-once: a command keeps its sequence number across every retry, and the replicas'
 * session table answers a duplicate with the first result. Each LockstepClient opens its own
 * session, `<clientId>.<random>`, so a restarted process never collides with its predecessor.
 *
 * A call that times out or is aborted after it was sent may still take effect: the core keeps
 * retrying it until it is answered (the answer is then dropped) or the client is closed.
 */
export class LockstepClient<
  Cmd extends Value = Value,
  Res extends Value = Value,
  Q extends Value = Cmd,
  QRes extends Value = Res,
> {
  private readonly pending = new Map<number, Pending>();
  private nextOpId = 1;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  /** @internal use connect() */
  constructor(
    private readonly core: ClientCore<WireTypes>,
    private readonly transport: ClientTransport<WireTypes>,
    readonly clientId: ClientId,
    readonly sessionId: ClientId,
    private readonly defaultTimeoutMs: number,
    tickMs: number,
    /** Every replica in the configuration: where a `broadcast` output goes. */
    private readonly replicaIds: readonly ReplicaId[] = [],
  ) {
    transport.onResponse((from, msg) => this.step({ type: "response", from, msg }));
    this.timer = setInterval(() => this.step({ type: "tick", now: Date.now() }), tickMs);
    // Pending calls keep the process alive through their own timers and sockets, not the tick.
    this.timer.unref();
  }

  /** Runs a command through the log; resolves with the service's result. */
  invoke(cmd: Cmd, options: CallOptions = {}): Promise<Res> {
    const op: ClientOperation = { kind: "command", value: cmd };
    return this.call((opId) => ({ type: "invoke", opId, op }), options) as Promise<Res>;
  }

  /** A linearizable read (for Raft: a ReadIndex round on the leader). */
  query(q: Q, options: CallOptions = {}): Promise<QRes> {
    const op: ClientOperation = { kind: "query", value: q };
    return this.call((opId) => ({ type: "invoke", opId, op }), options) as Promise<QRes>;
  }

  /** An operator request: add or remove a replica, transfer leadership. */
  admin(admin: AdminOp, options: CallOptions = {}): Promise<Value> {
    return this.call((opId) => ({ type: "admin", opId, admin }), options);
  }

  /** Calls waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The network counters of this client's connections. */
  get counters(): NetCounters {
    return this.transport.counters;
  }

  /**
   * Stops the client: every pending call rejects with code "closed" (indeterminate: it may have
   * taken effect), connections close, later calls reject at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.cleanup();
      p.reject(closedError(true));
    }
    await this.transport.close();
  }

  private call(
    input: (opId: number) => ClientInput<WireTypes>,
    options: CallOptions,
  ): Promise<Value> {
    if (this.closed) return Promise.reject(closedError(false));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortedError(false, signal.reason));
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    if (!(timeoutMs >= 0)) {
      return Promise.reject(new RangeError(`timeoutMs must be ≥ 0, got ${timeoutMs}`));
    }
    const opId = this.nextOpId++;
    return new Promise<Value>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.settleError(opId, abortedError(true, signal?.reason));
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.pending.set(opId, { resolve, reject, cleanup });
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => this.settleError(opId, timeoutError(timeoutMs)), timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.step(input(opId));
    });
  }

  private step(input: ClientInput<WireTypes>): void {
    if (this.closed) return;
    let outputs: ReturnType<ClientCore<WireTypes>["step"]>;
    try {
      outputs = this.core.step(input);
    } catch (error) {
      // A client core that throws is a bug; fail the call that caused it rather than the process.
      if (input.type === "invoke" || input.type === "admin") {
        this.settleError(
          input.opId,
          new LockstepError("invalid", `client core failed: ${(error as Error)?.message}`, false),
        );
      }
      return;
    }
    for (const out of outputs) {
      if (out.type === "send") this.transport.send(out.to, out.msg);
      else if (out.type === "broadcast")
        for (const id of this.replicaIds) this.transport.send(id, out.msg);
      else this.settle(out.opId, out.result, out.indeterminate ?? false);
    }
  }

  private settle(opId: number, result: ReplyResult, indeterminate: boolean): void {
    const p = this.pending.get(opId);
    if (!p) return; // timed out, aborted or closed already: the late answer is dropped
    this.pending.delete(opId);
    p.cleanup();
    if (result.ok) p.resolve(result.value);
    else p.reject(replyError(result.error, result.message, indeterminate, result.leader));
  }

  private settleError(opId: number, error: LockstepError): void {
    const p = this.pending.get(opId);
    if (!p) return;
    this.pending.delete(opId);
    p.cleanup();
    p.reject(error);
  }
}

/**
 * Creates a client of the cluster described by `config` (connections are dialed on first use).
 * Throws (rejects) on a configuration it cannot use: replicas without addresses, an unknown
 * protocol, keys that do not belong to the client, a client id that is too long.
 */
export async function connect<
  Cmd extends Value = Value,
  Res extends Value = Value,
  Q extends Value = Cmd,
  QRes extends Value = Res,
>(options: ConnectOptions): Promise<LockstepClient<Cmd, Res, Q, QRes>> {
  const { config, keys } = options;
  const missing = config.replicas.filter((r) => r.host === undefined || r.port === undefined);
  if (missing.length > 0) {
    throw new Error(
      `replicas ${missing.map((r) => r.id).join(", ")} have no address (host and port) in the configuration`,
    );
  }
  const clientId = options.clientId ?? (keys.kind === "client" ? keys.clientId : undefined);
  if (clientId === undefined) {
    throw new Error("clientId is required with a cluster or replica key file");
  }
  if (keys.kind === "client" && keys.clientId !== clientId) {
    throw new Error(`the client key file belongs to "${keys.clientId}", not "${clientId}"`);
  }
  if (clientId.length === 0 || clientId.length > maxClientIdLength) {
    throw new Error(
      `client id must be 1 to ${maxClientIdLength} characters (the session id appends a random suffix), got ${clientId.length}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be ≥ 0, got ${timeoutMs}`);
  const definition = options.protocol ?? findProtocol(config.protocol).definition;
  const ring = keyRingFor(keys, `c:${clientId}`);
  // A fresh session per client object: a reused session id would return an earlier process's
  // cached results for the same sequence numbers.
  const sessionId = `${clientId}.${randomBytes(6).toString("hex")}`;
  const core = definition.createClient({
    clientId: sessionId,
    config,
    random: createRandom(randomBytes(6).readUIntBE(0, 6)),
    crypto: new NodeCrypto(ring),
    ...(options.retryTicks === undefined ? {} : { retryTicks: options.retryTicks }),
  });
  const transport = new ClientTransport<WireTypes>({
    ...options.net,
    backoff: options.net?.backoff ?? { initialMs: 50, maxMs: 1_000 },
    clientId,
    config,
    keys: ring,
    schemas: definition.schemas,
  });
  return new LockstepClient<Cmd, Res, Q, QRes>(
    core,
    transport,
    clientId,
    sessionId,
    timeoutMs,
    config.tickMs,
    config.replicas.map((r) => r.id),
  );
}
