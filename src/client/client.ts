import { randomBytes } from "node:crypto";
import type { AdminOp, ReplyResult } from "../core/client-messages.js";
import type { ClientOperation } from "../core/client-operation.js";
import type { ClusterConfig } from "../core/config.js";
import type { ClientId, ReplicaId } from "../core/ids.js";
import { createRandom } from "../core/prng.js";
import type { ClientCore, ClientInput, ProtocolDefinition, WireTypes } from "../core/protocol.js";
import { maxCommandBytes } from "../core/request-admission.js";
import type {
  AnyServiceDefinition,
  CommandOf,
  QueryOf,
  QueryResultOf,
  ResultOf,
  ServiceDefinition,
} from "../core/state-machine.js";
import type { ResultFor, Value, ValueLike } from "../core/value.js";
import { ClientTransport } from "../net/client-connection.js";
import { coreKeyRing } from "../net/client-signing.js";
import type { NetCounters } from "../net/counters.js";
import { defaultMaxFrameBytes } from "../net/frame.js";
import { type KeyFile, keyRingFor } from "../net/keys.js";
import type { NetOptions } from "../net/options.js";
import { clientIdProblem } from "../net/principal.js";
import { dataFrameOverhead } from "../net/session.js";
import { NodeCrypto } from "../platform/node-crypto.js";
import { findProtocol } from "../protocols/registry.js";
import { connectKeys } from "./connect-keys.js";
import {
  abortedError,
  closedError,
  keyRetiredError,
  LockstepError,
  notSentError,
  replyError,
  timeoutError,
} from "./errors.js";
import { outgoingProblem } from "./outgoing-check.js";

export interface ConnectOptions {
  /** The cluster: every replica needs a host and port. */
  readonly config: ClusterConfig;
  /** A client key file (readKeyFile). A cluster or replica key file also works, with `clientId`. */
  readonly keys: KeyFile;
  /** The client's identity; defaults to the client key file's. 1 to 40 characters, no control characters, no ':' (clientIdProblem). */
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
  Cmd extends ValueLike = Value,
  Res extends ValueLike = Value,
  Q extends ValueLike = Cmd,
  QRes extends ValueLike = Res,
> {
  private readonly pending = new Map<number, Pending>();
  private nextOpId = 1;
  private closed = false;
  /** Why a replica refused this client's key as rotated out, once one did (see keyRetired). */
  private retiredKey: string | undefined;
  private readonly timer: NodeJS.Timeout;

  /** @internal use connect() */
  constructor(
    private readonly core: ClientCore<WireTypes>,
    private readonly transport: ClientTransport<WireTypes>,
    readonly clientId: ClientId,
    readonly sessionId: ClientId,
    private readonly defaultTimeoutMs: number,
    tickMs: number,
    /** The largest command or query this client can send: the replicas' bound, or less if its frames are smaller. */
    private readonly maxValueBytes: number = maxCommandBytes,
    /** Every replica in the configuration: where a `broadcast` output goes. */
    private readonly replicaIds: readonly ReplicaId[] = [],
  ) {
    transport.onResponse((from, msg) => this.step({ type: "response", from, msg }));
    transport.onKeyRetired((reason) => this.keyRetired(reason));
    this.timer = setInterval(() => this.step({ type: "tick", now: Date.now() }), tickMs);
    // Pending calls keep the process alive through their own timers and sockets, not the tick.
    this.timer.unref();
  }

  /**
   * Runs a command through the log; resolves with the service's result (the one for this
   * command's `op` when the service declares its results with PerOp).
   */
  invoke<C extends Cmd>(cmd: C, options: CallOptions = {}): Promise<ResultFor<Res, C>> {
    const problem = outgoingProblem(cmd, this.maxValueBytes);
    if (problem !== undefined) return Promise.reject(notSentError("command", problem));
    // Checked against the wire schema just above, so it is a Value whatever its declared type.
    const op: ClientOperation = { kind: "command", value: cmd as Value };
    return this.call((opId) => ({ type: "invoke", opId, op }), options) as Promise<
      ResultFor<Res, C>
    >;
  }

  /** A linearizable read (for Raft: a ReadIndex round on the leader). */
  query<C extends Q>(q: C, options: CallOptions = {}): Promise<ResultFor<QRes, C>> {
    const problem = outgoingProblem(q, this.maxValueBytes);
    if (problem !== undefined) return Promise.reject(notSentError("query", problem));
    const op: ClientOperation = { kind: "query", value: q as Value };
    return this.call((opId) => ({ type: "invoke", opId, op }), options) as Promise<
      ResultFor<QRes, C>
    >;
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
   * The protocol's client counters (PBFT: `outvoted`, authenticated replies that lost the vote,
   * e.g. a lying replica's wrong results); empty for protocols without any.
   */
  get protocolStats(): Readonly<Record<string, number>> {
    return this.core.stats?.() ?? {};
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

  /**
   * A replica refused this client's key as rotated out (`lockstep keys rotate`): no request made
   * with it will be answered again, so every call fails `forbidden` at once instead of timing
   * out. Calls already sent may still have taken effect through a replica that had not applied
   * the rotation yet (indeterminate); later ones are refused before they are sent.
   */
  private keyRetired(reason: string): void {
    if (this.retiredKey !== undefined || this.closed) return;
    this.retiredKey = reason;
    for (const opId of [...this.pending.keys()])
      this.settleError(opId, keyRetiredError(reason, true));
    // Stop redialing with a key every replica will refuse.
    void this.transport.close();
  }

  private call(
    input: (opId: number) => ClientInput<WireTypes>,
    options: CallOptions,
  ): Promise<Value> {
    if (this.closed) return Promise.reject(closedError(false));
    if (this.retiredKey !== undefined)
      return Promise.reject(keyRetiredError(this.retiredKey, false));
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
        timer = setTimeout(
          () => this.settleError(opId, timeoutError(timeoutMs, this.transport.refusal)),
          timeoutMs,
        );
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
      if (out.type === "send") this.sendSafely(input, out.to, out.msg);
      else if (out.type === "broadcast")
        for (const id of this.replicaIds) this.sendSafely(input, id, out.msg);
      else this.settle(out.opId, out.result, out.indeterminate ?? false);
    }
  }

  /**
   * Sends one request; an encoding failure never escapes (it would be an uncaught exception from
   * the tick timer). Values are checked before they reach the core, so this is a last line: the
   * call that caused it fails with `invalid`.
   */
  private sendSafely(
    cause: ClientInput<WireTypes>,
    to: ReplicaId,
    msg: WireTypes["request"],
  ): void {
    try {
      this.transport.send(to, msg);
    } catch (error) {
      if (cause.type === "invoke" || cause.type === "admin") {
        this.settleError(
          cause.opId,
          notSentError("request", (error as Error)?.message ?? String(error)),
        );
      }
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

/** A LockstepClient typed by a service definition: `ClientOf<typeof ledger>`. */
export type ClientOf<S> = LockstepClient<CommandOf<S>, ResultOf<S>, QueryOf<S>, QueryResultOf<S>>;

/**
 * Creates a client of the cluster described by `config` (connections are dialed on first use).
 * Throws (rejects) on a configuration it cannot use: replicas without addresses, an unknown
 * protocol, keys that do not belong to the client, a client id that is too long.
 *
 * Typed by the service: `connect<typeof ledger>(options)` (or pass `service: ledger`, which
 * is used for nothing but its type) gives `invoke` and `query` the service's command, result,
 * query and answer types; `connect<Cmd, Res, Q, QRes>(options)` names them one by one.
 */
export function connect<S extends AnyServiceDefinition = ServiceDefinition<Value, Value>>(
  options: ConnectOptions & { readonly service?: S },
): Promise<ClientOf<S>>;
export function connect<
  Cmd extends ValueLike,
  Res extends ValueLike,
  Q extends ValueLike = Cmd,
  QRes extends ValueLike = Res,
>(options: ConnectOptions): Promise<LockstepClient<Cmd, Res, Q, QRes>>;
export async function connect(options: ConnectOptions): Promise<LockstepClient> {
  const { config } = options;
  const keys = connectKeys(options.keys);
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
  const problem = clientIdProblem(clientId);
  if (problem !== undefined) throw new Error(`client id: ${problem}`);
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
    crypto: new NodeCrypto(coreKeyRing(keys, ring)),
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
  // A voting client (PBFT) hears from every replica, also those it has not sent to yet.
  if (definition.replyQuorums.ordered(config.f) > 1) transport.connectAll();
  // A request that does not fit a frame would be dropped by the transport on every retry, so it
  // is refused before sending; the envelope (ids, sequence numbers) gets 1 KiB of room.
  const frameRoom = (options.net?.maxFrameBytes ?? defaultMaxFrameBytes) - dataFrameOverhead - 1024;
  return new LockstepClient(
    core,
    transport,
    clientId,
    sessionId,
    timeoutMs,
    config.tickMs,
    Math.min(maxCommandBytes, frameRoom),
    config.replicas.map((r) => r.id),
  );
}
