import { accessEntryOf } from "../core/access.js";
import { accessPolicyOf, type ClusterConfig } from "../core/config.js";
import type { ClientId, ReplicaId } from "../core/ids.js";
import { limits } from "../core/limits.js";
import type { CoreInput, ExternalHandler, ProtocolCore, WireTypes } from "../core/protocol.js";
import { ReplicatedService } from "../core/replicated-service.js";
import type { AnyServiceDefinition } from "../core/state-machine.js";
import type { RecoveryReport } from "../durable/recovery-report.js";
import { coreKeyRing } from "../net/client-signing.js";
import { budgetCounters, type CounterName, rejectionCounters } from "../net/counters.js";
import { type KeyFile, keyRingFor } from "../net/keys.js";
import type { NetOptions } from "../net/options.js";
import { ReplicaTransport } from "../net/transport.js";
import { NodeCrypto } from "../platform/node-crypto.js";
import { findProtocol } from "../protocols/registry.js";
import { ReplicaNode, runExternal } from "../replica/replica-node.js";
import { FileStorage } from "../storage/file-storage.js";
import type { StorageOptions } from "../storage/storage.js";
import {
  type ByzantineOption,
  byzantineCore,
  byzantineProtocolProblem,
} from "./byzantine-replica.js";
import { ClientFairness, type ClientLimits, defaultClientLimits } from "./client-fairness.js";
import { ClientRoutes } from "./client-routes.js";
import { runtimeConfigProblems } from "./config-file.js";
import { checkDataIdentity, identityOf } from "./data-identity.js";
import { firstLine, StartupError } from "./errors.js";
import { fdBudget, softFdLimit } from "./fd-budget.js";
import { LinkCut } from "./link-cut.js";
import { jsonLogger, type Logger } from "./logger.js";
import { formatMetrics } from "./metrics.js";
import { MetricsServer } from "./metrics-server.js";
import { PbftPhaseLatency } from "./pbft-phases.js";
import { PersistLatency } from "./persist-latency.js";
import type { Histogram } from "./prometheus.js";
import { runtimeRandom } from "./random.js";
import { refuseRejectedRequest } from "./rejected-requests.js";
import { type RequestKind, RequestLatency, requestKinds } from "./request-latency.js";
import { StateWatch } from "./state-watch.js";
import type { LatencySummary, ReplicaStatus } from "./status.js";

export interface StartReplicaOptions {
  readonly config: ClusterConfig;
  readonly id: ReplicaId;
  /** This replica's keys: its replica key file, or the cluster key file (readKeyFile). */
  readonly keys: KeyFile;
  /** The data directory (created if missing); one per replica, never shared. */
  readonly dataDir: string;
  readonly service: AnyServiceDefinition;
  /** Address to bind instead of the configured host (e.g. "0.0.0.0"); the port is the configured one. */
  readonly host?: string;
  /**
   * The HTTP endpoint for /metrics and /status: by default where the replica listens (its bind
   * host), on a free port; false: none.
   */
  readonly metrics?: { readonly host?: string; readonly port: number } | false;
  /** Structured JSON lines to stderr by default. */
  readonly logger?: Logger;
  readonly storage?: StorageOptions;
  /**
   * Carries out the protocol's external requests (primary/backup: the arbiter's test-and-set).
   * Without one, every external request is answered `{ ok: false }`.
   */
  readonly external?: ExternalHandler;
  /**
   * Network options (frame limits, queues, TLS, backoff, liveness). Here reconnect backoff
   * defaults to 50..150 ms, the liveness interval to max(100 ms, 10 ticks) and the connect
   * timeout to 400 ms: a healed link is back within about half a second.
   */
  readonly net?: NetOptions;
  /**
   * Called once when the replica must stop serving: storage failed (fail-stop after a failed
   * fsync) or the core threw. The replica has already stopped its timer and network. The default
   * logs and exits the process with status 1.
   */
  readonly onFatal?: (error: unknown) => void;
  /**
   * Per-client fairness limits (runtime/client-fairness.ts); `false` turns them off (for
   * measuring what they change). Default: defaultClientLimits.
   */
  readonly clientLimits?: Partial<ClientLimits> | false;
  /**
   * FOR TESTS AND DEMOS ONLY: run as a Byzantine replica (runtime/byzantine-replica.ts), lying as
   * the behaviour says, with this replica's own keys. PBFT only; /status reports it in `details`.
   */
  readonly byzantine?: ByzantineOption;
}

/** A running replica. */
export interface Replica {
  readonly id: ReplicaId;
  /** The port the replica listens on for peers and clients. */
  readonly port: number;
  /** The port of the metrics endpoint, undefined when disabled. */
  readonly metricsPort: number | undefined;
  readonly recovery: RecoveryReport;
  status(): ReplicaStatus;
  /** The Prometheus text that /metrics serves. */
  metrics(): string;
  /** Graceful stop: timers, then storage flushed (held replies go out), network, storage, metrics. */
  close(): Promise<void>;
  /** Cuts (true) or heals this replica's links to the others (runtime/link-cut.ts; supervisors only). */
  setLinksCut(cut: boolean): void;
}

function processUsage(): ReplicaStatus["process"] {
  const cpu = process.cpuUsage();
  return {
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    residentBytes: process.memoryUsage.rss(),
  };
}

function summary(h: Histogram): LatencySummary {
  const s = h.snapshot();
  return {
    count: s.count,
    meanSeconds: s.count === 0 ? null : s.sum / s.count,
    p50Seconds: h.quantile(0.5) ?? null,
    p99Seconds: h.quantile(0.99) ?? null,
  };
}

/**
 * Starts one replica: opens and recovers its storage, restores the service from the durable
 * snapshot, creates the protocol core, and wires ReplicaNode ↔ transport ↔ storage, with a tick
 * every `config.tickMs`. Throws StartupError (kind + one-line message) when it cannot start.
 */
export async function startReplica(options: StartReplicaOptions): Promise<Replica> {
  const { config, id } = options;
  const log = options.logger ?? jsonLogger({ replica: id });

  // ---- validate everything that does not touch the disk first
  const problems = runtimeConfigProblems(config, id);
  if (problems.length > 0) throw new StartupError("config", problems.join("; "));
  let definition: ReturnType<typeof findProtocol>["definition"];
  try {
    definition = findProtocol(config.protocol).definition;
  } catch (error) {
    throw new StartupError("config", `protocol: ${firstLine(error)}`);
  }
  let ring: ReturnType<typeof keyRingFor>;
  // The handshake asks the replicated access table (set below, once recovered) which key version
  // a client must hold: after a rotation the old key is refused. A revoked client still gets in
  // with its key, and every request it makes is answered `forbidden` (a clear answer, where a
  // refused handshake would leave it to time out).
  let accessSource: ReplicatedService | undefined;
  const clientKeys = (client: ClientId): number | undefined =>
    accessSource?.access.keyVersion(client);
  let crypto: NodeCrypto;
  try {
    ring = keyRingFor(
      options.keys,
      `r${id}`,
      clientKeys,
      (client) => accessSource?.access.retiredKeyVersions(client) ?? [],
    );
    crypto = new NodeCrypto(coreKeyRing(options.keys, ring));
  } catch (error) {
    throw new StartupError("keys", firstLine(error));
  }
  if (options.byzantine !== undefined) {
    const problem = byzantineProtocolProblem(config.protocol);
    if (problem !== undefined) throw new StartupError("config", problem);
  }
  const settingsProblems = definition.validateSettings(config);
  if (settingsProblems.length > 0) {
    throw new StartupError("config", `${config.protocol} settings: ${settingsProblems.join("; ")}`);
  }
  const address = config.replicas.find((r) => r.id === id)!;
  const bindHost = options.host ?? address.host!;
  const metricsOption = options.metrics === undefined ? { port: 0 } : options.metrics;
  // Sockets never take the descriptors storage needs: a flood that would exhaust them is refused
  // at these ceilings instead (docs/operations.md, "File descriptors").
  const unauthenticatedBudget = limits.netUnauthenticatedConnections;
  const fds = fdBudget(
    softFdLimit(),
    config.replicas.length,
    limits.netAuthenticatedConnections + unauthenticatedBudget + config.replicas.length,
  );

  log.info("starting", {
    fdLimit: fds.softLimit,
    fdReserve: fds.reserve,
    pid: process.pid,
    protocol: config.protocol,
    service: options.service.name,
    replicas: config.replicas.length,
    f: config.f,
    tickMs: config.tickMs,
    dataDir: options.dataDir,
  });
  if (options.byzantine !== undefined) {
    log.warn("BYZANTINE replica: lies on purpose, for tests and demos only", {
      behaviour: options.byzantine.behaviour,
      seed: options.byzantine.seed,
    });
  }

  // ---- storage and recovery
  const recoveryStart = performance.now();
  let opened: Awaited<ReturnType<typeof FileStorage.open>>;
  try {
    opened = await FileStorage.open(options.dataDir, definition.durableRules, options.storage);
  } catch (error) {
    throw new StartupError("storage", `data directory ${options.dataDir}: ${firstLine(error)}`, {
      cause: error,
    });
  }
  const { storage, state, report } = opened;
  try {
    checkDataIdentity(
      options.dataDir,
      identityOf(config.protocol, options.service, accessPolicyOf(config)),
    );
  } catch (error) {
    await storage.close();
    throw error;
  }
  const service = new ReplicatedService(options.service, config.sessions, accessPolicyOf(config));
  accessSource = service;
  let core: ProtocolCore<WireTypes>;
  let liar: ReturnType<typeof byzantineCore> | undefined;
  try {
    if (state.snapshot) service.restore(state.snapshot.data);
    core = definition.createReplica({
      id,
      config,
      random: runtimeRandom(),
      crypto,
      durable: state,
    });
    if (options.byzantine !== undefined) {
      liar = byzantineCore(core, options.byzantine, crypto);
      core = liar.core;
    }
  } catch (error) {
    await storage.close().catch(() => {});
    throw new StartupError(
      "storage",
      `data directory ${options.dataDir}: the recovered state cannot be loaded: ${firstLine(error)}`,
      { cause: error },
    );
  }
  const recoveryMs = performance.now() - recoveryStart;
  const recoveryFields = {
    durationMs: Math.round(recoveryMs * 10) / 10,
    fresh: report.fresh,
    segments: report.segments,
    records: report.records,
    snapshotIndex: report.snapshotUsed?.index ?? null,
    entries: state.entries.length,
    truncatedTail: report.truncatedTail ?? null,
    fallbacks: report.fallbacks,
    discarded: report.discarded,
    staleLockPid: report.staleLockPid ?? null,
  };
  log.info("recovered", { ...recoveryFields, snapshotUsed: report.snapshotUsed ?? null });
  if (report.truncatedTail) {
    log.warn("truncated a torn WAL tail", {
      file: report.truncatedTail.file,
      offset: report.truncatedTail.offset,
      bytesDropped: report.truncatedTail.bytesDropped,
      reason: report.truncatedTail.reason,
    });
  }
  for (const fallback of report.fallbacks) {
    log.warn("snapshot file unusable, fell back to an older one", { ...fallback });
  }

  // ---- the moving parts
  const latency = new RequestLatency();
  const persistLatency = new PersistLatency();
  const phases = config.protocol === "pbft" ? new PbftPhaseLatency() : undefined;
  const routes = new ClientRoutes();
  const watch = new StateWatch(log, definition.status);
  let foreignSession = 0;
  const refused = { forbidden: 0 };
  const fairness =
    options.clientLimits === false
      ? undefined
      : new ClientFairness({ ...defaultClientLimits, ...options.clientLimits });
  let forbiddenLoggedAt = -Infinity;
  let forbiddenUnlogged = 0;
  /** Counts and logs a `forbidden` reply (at most one log line a second, with what was skipped). */
  const noteForbidden = (client: ClientId, msg: unknown): void => {
    refused.forbidden++;
    const now = performance.now();
    if (now - forbiddenLoggedAt < 1000) {
      forbiddenUnlogged++;
      return;
    }
    forbiddenLoggedAt = now;
    const result = (msg as { result?: { message?: string } }).result;
    log.warn("request refused: forbidden", {
      client,
      type: (msg as { type?: string }).type ?? null,
      message: result?.message ?? null,
      alsoRefusedSinceLastLine: forbiddenUnlogged,
    });
    forbiddenUnlogged = 0;
  };
  let entriesApplied = 0;
  let commandsApplied = 0;
  let snapshotsTaken = 0;
  let snapshotsInstalled = 0;
  let lastTakenIndex: number | null = null;
  let lastInstalledIndex: number | null = null;
  let snapshotIndex = report.snapshotUsed?.index ?? 0;
  let stopped = false; // no more inputs (failed or closing)
  let failed = false;
  const startedAt = new Date();

  const linkCut = new LinkCut();
  const transport = new ReplicaTransport<WireTypes>({
    maxSockets: fds.replicaSockets,
    maxConnections: Math.max(
      1,
      Math.min(
        limits.netAuthenticatedConnections,
        fds.replicaSockets - unauthenticatedBudget - config.replicas.length,
      ),
    ),
    maxUnauthenticated: unauthenticatedBudget,
    ...options.net,
    // Short redial delays and pings scaled to the tick: a healed partition is back within about
    // a second (docs/net.md, "Liveness").
    backoff: options.net?.backoff ?? { initialMs: 50, maxMs: 150 },
    liveness: options.net?.liveness ?? {
      intervalMs: Math.max(100, 10 * config.tickMs),
      connectTimeoutMs: 400,
    },
    self: id,
    config,
    keys: ring,
    schemas: definition.schemas,
    // Sessions are checked below: a connection of c:alice may speak for alice and alice.*.
    requestOwner: false,
    refuseRejected: refuseRejectedRequest,
    onError: (error) => log.warn("network error", { error }),
  });

  const node = new ReplicaNode<WireTypes>(
    core,
    service,
    {
      sendPeer: (to, msg) => {
        if (linkCut.dropOutgoing()) return;
        phases?.message(msg, true);
        transport.sendPeer(to, msg);
      },
      sendClient: (client, msg) => {
        latency.onReply(msg);
        fairness?.answered(msg);
        if ((msg as { result?: { error?: string } } | null)?.result?.error === "forbidden")
          noteForbidden(client, msg);
        transport.sendClient(routes.targetOf(client), msg);
      },
      persist: (persistId, ops) => {
        persistLatency.started(persistId);
        phases?.persisting(ops);
        storage.append(persistId, ops);
      },
      ...(options.external && {
        external: (externalId: number, request: unknown) =>
          runExternal(options.external!, id, (result) => node.answer(externalId, result), request),
      }),
    },
    {
      onApply: (entry, results, applied) => {
        phases?.executedAt(entry.index);
        entriesApplied++;
        commandsApplied += results.length;
        const change = accessEntryOf(entry.payload)?.change;
        // Only a change that took effect (its asker was admin at this index) closes anything.
        const tookEffect =
          change?.op === "revoke"
            ? applied.access.revoked(change.client)
            : change?.op === "rotate" &&
              applied.access.keyVersion(change.client) === change.version;
        if ((change?.op === "revoke" || change?.op === "rotate") && tookEffect) {
          // From this index the old key is refused: its open connections go too.
          const closed = transport.closeClient(change.client, `client key ${change.op}d`);
          log.info(`client ${change.op}d`, {
            client: change.client,
            index: entry.index,
            connectionsClosed: closed,
          });
        }
      },
      onSnapshot: (index, data) => {
        snapshotsTaken++;
        lastTakenIndex = index;
        snapshotIndex = Math.max(snapshotIndex, index);
        log.info("snapshot taken", { index, bytes: data.length });
      },
      onInstallSnapshot: (meta) => {
        snapshotsInstalled++;
        lastInstalledIndex = meta.index;
        snapshotIndex = Math.max(snapshotIndex, meta.index);
        log.info("snapshot installed", { index: meta.index });
      },
      onRollback: (meta) => {
        log.info("tentative execution rolled back", { to: meta.index });
      },
    },
  );

  let timer: NodeJS.Timeout | undefined;
  let housekeeping: NodeJS.Timeout | undefined;
  let metricsServer: MetricsServer | undefined;

  const fail = (error: unknown, what: string): void => {
    if (failed) return;
    failed = true;
    stopped = true;
    if (timer) clearInterval(timer);
    if (housekeeping) clearInterval(housekeeping);
    log.error(`${what}; stopping`, { error });
    void transport.close();
    void metricsServer?.close();
    const onFatal =
      options.onFatal ??
      (() => {
        process.exit(1);
      });
    onFatal(error);
  };

  const input = (x: CoreInput<WireTypes>): void => {
    if (stopped) return;
    try {
      node.handle(x);
    } catch (error) {
      fail(error, "the protocol core failed");
    }
  };

  storage.onDurable((upTo) => {
    persistLatency.durable(upTo);
    if (failed) return;
    try {
      node.durable(upTo);
    } catch (error) {
      fail(error, "the protocol core failed");
    }
  });
  storage.onError((error) =>
    fail(error, "storage failed (fail-stop: never serve after a failed write or fsync)"),
  );

  transport.onPeer((from, msg) => {
    if (linkCut.dropIncoming()) return;
    phases?.message(msg, false);
    input({ type: "peer", from, msg });
  });
  transport.onClient((principal, msg, route, bytes) => {
    const session = (msg as { client?: unknown } | null)?.client;
    let client: ClientId = principal;
    if (typeof session === "string") {
      if (!ClientRoutes.mayUse(principal, session)) {
        foreignSession++;
        transport.counters.unauthenticated++;
        return;
      }
      client = session;
    }
    routes.learn(client, principal, route);
    if (fairness && !stopped) {
      const s = core.status();
      const over = fairness.admit(principal, msg, bytes, performance.now(), s.leader ?? id);
      if (over !== undefined) {
        transport.sendClient({ client: principal, route }, over);
        return;
      }
    }
    if (!stopped) latency.onRequest(msg);
    input({ type: "client", client, msg, mono: performance.now() });
  });

  // ---- network
  let port: number;
  try {
    port = await transport.listen(bindHost, address.port);
  } catch (error) {
    await transport.close();
    await storage.close().catch(() => {});
    throw new StartupError(
      "listen",
      `cannot listen on ${bindHost}:${address.port}: ${firstLine(error)}`,
    );
  }

  const status = (): ReplicaStatus => {
    const s = core.status();
    const latencies: { [kind: string]: LatencySummary } = {};
    for (const kind of requestKinds) {
      const snap = latency.histogram(kind);
      latencies[kind] = {
        count: snap.count,
        meanSeconds: snap.count === 0 ? null : snap.sum / snap.count,
        p50Seconds: latency.quantile(kind, 0.5) ?? null,
        p99Seconds: latency.quantile(kind, 0.99) ?? null,
      };
    }
    return {
      clusterId: config.clusterId ?? null,
      replica: id,
      protocol: config.protocol,
      service: options.service.name,
      pid: process.pid,
      startedAt: startedAt.toISOString(),
      uptimeSeconds: (Date.now() - startedAt.getTime()) / 1000,
      host: bindHost,
      port,
      metricsPort: metricsServer?.port ?? null,
      process: processUsage(),
      role: s.role,
      leads: definition.status.leads(s),
      campaigning: definition.status.campaigning(s),
      roles: definition.status.roles,
      epochName: definition.status.epochName,
      term: s.term,
      leader: s.leader ?? null,
      commitIndex: s.commitIndex,
      appliedIndex: service.appliedIndex,
      lastIndex: s.lastIndex,
      snapshotIndex,
      heldMessages: node.heldMessages,
      applied: { entries: entriesApplied, commands: commandsApplied },
      snapshots: {
        taken: snapshotsTaken,
        installed: snapshotsInstalled,
        lastTakenIndex,
        lastInstalledIndex,
      },
      requests: {
        pending: latency.pending,
        foreignSession,
        refused: {
          ...refused,
          ...(fairness
            ? {
                "busy-outstanding": fairness.refused.outstanding,
                "busy-sessions": fairness.refused.sessions,
                "busy-bytes": fairness.refused.bytes,
              }
            : {}),
        },
        latency: latencies,
        replies: latency.replyCounts(),
      },
      peersConnected: transport.livePeers(),
      links: transport.peerLinks(),
      linkCut: linkCut.status(),
      stateChanges: watch.recent(),
      clientsConnected: transport.clientConnections(),
      net: { ...transport.counters },
      connections: {
        inbound: transport.inboundConnections(),
        unauthenticated: transport.unauthenticatedConnections(),
        budgets: transport.budgets,
        fds,
      },
      http: metricsServer
        ? {
            ...metricsServer.counters,
            connections: metricsServer.connections,
            maxConnections: fds.httpSockets,
          }
        : null,
      storage: { ...storage.stats, persistLatency: summary(persistLatency.histogram) },
      recovery: recoveryFields,
      details:
        options.byzantine === undefined
          ? (s.details ?? null)
          : {
              ...(s.details as object | undefined),
              byzantine: options.byzantine.behaviour,
              lies: liar?.lies() ?? 0,
            },
    };
  };

  const metrics = (): string => {
    const requests = {} as { [K in RequestKind]: ReturnType<RequestLatency["histogram"]> };
    for (const kind of requestKinds) requests[kind] = latency.histogram(kind);
    return formatMetrics(status(), {
      requests,
      persist: persistLatency.histogram.snapshot(),
      ...(phases && { pbftPhases: phases.snapshot() }),
    });
  };

  if (metricsOption !== false) {
    const host = metricsOption.host ?? bindHost;
    try {
      metricsServer = await MetricsServer.listen(
        host,
        metricsOption.port,
        { metrics, status },
        { maxConnections: fds.httpSockets },
      );
    } catch (error) {
      await transport.close();
      await storage.close().catch(() => {});
      throw new StartupError(
        "listen",
        `cannot serve metrics on ${host}:${metricsOption.port}: ${firstLine(error)}`,
      );
    }
  }

  transport.connectPeers();
  timer = setInterval(() => {
    // Wall time stamps entries; leases use the monotonic clock (an NTP step must not move it).
    input({ type: "tick", now: Date.now(), mono: performance.now() });
    if (!stopped) watch.check(core.status());
  }, config.tickMs);

  // Once a second: forget unanswered requests, report hostile or broken network input.
  const lastRejections = new Map<CounterName, number>();
  let lastReport = 0;
  housekeeping = setInterval(() => {
    latency.sweep();
    const now = Date.now();
    if (now - lastReport < 10_000) return;
    const deltas: Record<string, number> = {};
    let any = false;
    for (const name of [...rejectionCounters, ...budgetCounters]) {
      const value = transport.counters[name];
      const delta = value - (lastRejections.get(name) ?? 0);
      lastRejections.set(name, value);
      if (delta > 0) {
        deltas[name] = delta;
        any = true;
      }
    }
    if (any) {
      lastReport = now;
      log.warn("rejected network input", deltas);
    }
  }, 1_000);
  housekeeping.unref();

  log.info("started", {
    host: bindHost,
    port,
    metricsPort: metricsServer?.port ?? null,
    appliedIndex: service.appliedIndex,
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (timer) clearInterval(timer);
      if (housekeeping) clearInterval(housekeeping);
      if (!failed) {
        // Let what is durable go out: held replies and acknowledgements are released on durability.
        try {
          await storage.flush();
        } catch {
          // storage failed: fail() reported it
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      stopped = true;
      await transport.close();
      try {
        await storage.close();
      } catch (error) {
        log.warn("storage did not close cleanly", { error });
      }
      await metricsServer?.close();
      log.info("stopped", { appliedIndex: service.appliedIndex });
    })();
    return closing;
  };

  return {
    id,
    port,
    metricsPort: metricsServer?.port,
    recovery: report,
    status,
    metrics,
    close,
    setLinksCut: (cut) => {
      if (cut === linkCut.cut) return;
      linkCut.set(cut);
      log.warn(cut ? "links cut by the supervisor" : "links healed by the supervisor", {});
    },
  };
}
