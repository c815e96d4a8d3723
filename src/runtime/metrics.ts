import type { CounterName } from "../net/counters.js";
import { writePbftMetrics } from "./pbft-metrics.js";
import type { PbftPhase } from "./pbft-phases.js";
import { type HistogramSnapshot, MetricsWriter } from "./prometheus.js";
import type { RequestKind } from "./request-latency.js";
import type { ReplicaStatus } from "./status.js";

/** Histograms that the status object summarises but /metrics exports in full. */
export interface MetricHistograms {
  readonly requests: { readonly [K in RequestKind]: HistogramSnapshot };
  readonly persist: HistogramSnapshot;
  /** PBFT only: per-phase latency (runtime/pbft-phases.ts). */
  readonly pbftPhases?: Readonly<Record<PbftPhase, HistogramSnapshot>>;
}

/** What each NetCounters counter means on /metrics (docs/net.md, "Counters"). */
const netHelp: Record<CounterName, string> = {
  malformed: "Frames breaking the frame format (connection closed).",
  oversized: "Frames whose length header exceeds the limit (connection closed).",
  badMac:
    "Data frames whose MAC does not verify: forged, tampered, from another connection (connection closed).",
  replayed:
    "Authentic data frames with the wrong sequence number: replayed or reordered (connection closed).",
  unauthenticated:
    "Handshakes that did not prove the key, or client requests naming another client's session.",
  schemaRejected:
    "Authentic messages that are not MessagePack or fail the protocol schema (dropped).",
  unknownPeer:
    "Handshakes from or for a principal this replica holds no key for, or may not accept.",
  wrongCluster: "Handshakes refused because the two ends belong to different clusters.",
  keyRetired: "Handshakes refused because the client proved a key that was rotated out.",
  bytesIn: "Bytes received, handshakes included.",
  bytesOut: "Bytes written, handshakes included.",
  framesIn: "Authentic data frames received.",
  framesOut: "Data frames written.",
  messagesIn: "Messages received in authentic data frames.",
  messagesOut: "Messages written.",
  queueDrops: "Messages dropped from a full send queue, or left queued when a connection closed.",
  unroutable: "Messages for a client or replica with no connection here (dropped).",
  oversizedSends: "Messages refused on send because their frame would exceed the frame limit.",
  queueExpired: "Messages dropped from a send queue after waiting longer than its age bound.",
  pingsOut: "Liveness pings sent on idle peer links.",
  pingsIn: "Liveness pings received.",
  linkTimeouts:
    "Peer connections closed by the liveness check (silent peer, blocked write, dial timeout).",
  reconnects: "Dial attempts after the first one to the same replica.",
  connectionsRejected:
    "Inbound connections refused or closed by a connection budget (all reasons).",
  refusedSocketLimit:
    "Inbound connections refused at the socket ceiling (file descriptor reserve).",
  refusedUnauthenticatedBudget:
    "Unauthenticated connections closed because the unauthenticated budget was full (oldest first).",
  refusedPerAddressBudget:
    "Unauthenticated connections closed because their source address held its cap (oldest first).",
  refusedAuthenticatedBudget:
    "Client connections closed after authenticating because the authenticated budget was full.",
  tlsFailures: "TLS handshakes that failed.",
  handlerErrors: "Exceptions thrown while handling a message (caught).",
};

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The Prometheus text of a replica's status (docs/operations.md, "Metrics"). */
export function formatMetrics(status: ReplicaStatus, histograms: MetricHistograms): string {
  const w = new MetricsWriter();
  const base = { replica: status.replica };
  w.gauge("lockstep_info", "Constant 1, labelled with what this replica runs.", 1, {
    ...base,
    protocol: status.protocol,
    service: status.service,
  });
  w.counter(
    "process_cpu_user_seconds_total",
    "User CPU time this replica process has used.",
    status.process.cpuUserSeconds,
    base,
  );
  w.counter(
    "process_cpu_system_seconds_total",
    "System CPU time this replica process has used.",
    status.process.cpuSystemSeconds,
    base,
  );
  w.gauge(
    "process_resident_memory_bytes",
    "Resident memory of this replica process.",
    status.process.residentBytes,
    base,
  );
  w.gauge(
    "lockstep_uptime_seconds",
    "Seconds since this process started the replica.",
    status.uptimeSeconds,
    base,
  );
  const roles = status.roles.includes(status.role) ? status.roles : [...status.roles, status.role];
  for (const role of roles) {
    w.gauge(
      "lockstep_role",
      "1 for the role this replica has now, 0 for the others.",
      role === status.role ? 1 : 0,
      {
        ...base,
        role,
      },
    );
  }
  w.gauge("lockstep_is_leader", "1 if this replica leads now.", status.leads ? 1 : 0, base);
  w.gauge("lockstep_term", "Current term (view, epoch).", status.term, base);
  w.gauge(
    "lockstep_leader",
    "The replica this one believes leads, -1 if unknown.",
    status.leader ?? -1,
    base,
  );
  w.gauge("lockstep_commit_index", "Highest log index known committed.", status.commitIndex, base);
  w.gauge(
    "lockstep_applied_index",
    "Highest log index applied to the service.",
    status.appliedIndex,
    base,
  );
  w.gauge("lockstep_last_index", "Highest log index held.", status.lastIndex, base);
  w.gauge(
    "lockstep_snapshot_index",
    "Index of the newest snapshot held.",
    status.snapshotIndex,
    base,
  );
  w.gauge(
    "lockstep_held_messages",
    "Outgoing messages waiting for a persist to become durable.",
    status.heldMessages,
    base,
  );
  w.gauge(
    "lockstep_peers_connected",
    "Replicas whose link carried a frame within the liveness timeout.",
    status.peersConnected.length,
    base,
  );
  for (const link of status.links ?? []) {
    w.gauge(
      "lockstep_peer_link_live",
      "1 when the link to this peer carried a frame within the liveness timeout, else 0.",
      link.state === "live" ? 1 : 0,
      { ...base, peer: link.replica },
    );
  }
  for (const link of status.links ?? []) {
    w.gauge(
      "lockstep_peer_last_frame_seconds",
      "Seconds since bytes last arrived on the link to this peer; -1 when no connection is up.",
      link.lastFrameAgoMs === null ? -1 : link.lastFrameAgoMs / 1000,
      { ...base, peer: link.replica },
    );
  }
  for (const link of status.links ?? []) {
    if (link.reconnects === null) continue;
    w.counter(
      "lockstep_peer_reconnects_total",
      "Redials of the link to this peer (this replica dials peers with a higher id).",
      link.reconnects,
      { ...base, peer: link.replica },
    );
  }
  w.gauge(
    "lockstep_clients_connected",
    "Clients with an authenticated connection up.",
    status.clientsConnected,
    base,
  );

  w.counter(
    "lockstep_entries_applied_total",
    "Log entries applied to the service.",
    status.applied.entries,
    base,
  );
  w.counter(
    "lockstep_commands_applied_total",
    "Client commands (and session opens) applied.",
    status.applied.commands,
    base,
  );
  w.counter(
    "lockstep_snapshots_taken_total",
    "Snapshots of the service taken by this replica.",
    status.snapshots.taken,
    base,
  );
  w.counter(
    "lockstep_snapshots_installed_total",
    "Snapshots installed from a leader (state transfer).",
    status.snapshots.installed,
    base,
  );

  for (const [kind, h] of Object.entries(histograms.requests)) {
    w.histogram(
      "lockstep_client_request_duration_seconds",
      "From a client request's arrival to its reply leaving this replica.",
      h,
      { ...base, kind },
    );
  }
  for (const r of status.requests.replies) {
    w.counter(
      "lockstep_client_replies_total",
      "Replies sent to clients, by kind and result (ok or an error code).",
      r.count,
      {
        ...base,
        kind: r.kind,
        result: r.result,
      },
    );
  }
  w.gauge(
    "lockstep_client_requests_pending",
    "Client requests waiting for their reply here.",
    status.requests.pending,
    base,
  );
  w.counter(
    "lockstep_client_requests_foreign_session_total",
    "Client requests naming a session their connection may not speak for (dropped).",
    status.requests.foreignSession,
    base,
  );

  for (const [reason, count] of Object.entries(status.requests.refused)) {
    w.counter(
      "lockstep_requests_refused_total",
      "Client requests refused by this replica, by reason (forbidden: the client's role or a revoked key).",
      count,
      { ...base, reason },
    );
  }

  for (const [name, value] of Object.entries(status.net) as [CounterName, number][]) {
    w.counter(`lockstep_net_${snake(name)}_total`, netHelp[name] ?? name, value, base);
  }

  if (status.http) {
    w.gauge(
      "lockstep_http_connections",
      "Connections open to the metrics/status endpoint.",
      status.http.connections,
      base,
    );
    w.counter(
      "lockstep_http_connections_refused_total",
      "Metrics/status connections closed at the connection cap (an idle one, or the newcomer).",
      status.http.refused,
      base,
    );
    w.counter(
      "lockstep_http_connections_timed_out_total",
      "Metrics/status connections closed for sending nothing, or too slowly.",
      status.http.timedOut,
      base,
    );
  }
  w.gauge(
    "lockstep_net_unauthenticated_connections",
    "Inbound connections still in their handshake.",
    status.connections.unauthenticated,
    base,
  );

  const s = status.storage;
  w.counter("lockstep_storage_fsyncs_total", "WAL fdatasyncs (group commits).", s.fsyncs, base);
  w.counter(
    "lockstep_storage_records_total",
    "Persist records written to the WAL.",
    s.records,
    base,
  );
  w.counter("lockstep_storage_ops_total", "Persist ops written to the WAL.", s.ops, base);
  w.gauge(
    "lockstep_storage_ops_per_fsync",
    "Persist ops per WAL fdatasync since start.",
    s.opsPerFsync,
    base,
  );
  w.gauge(
    "lockstep_storage_records_per_fsync",
    "Persist records per WAL fdatasync since start.",
    s.recordsPerFsync,
    base,
  );
  w.counter("lockstep_storage_wal_bytes_total", "Bytes written to the WAL.", s.walBytes, base);
  w.counter("lockstep_storage_snapshots_total", "Snapshot files written.", s.snapshots, base);
  w.counter(
    "lockstep_storage_snapshot_bytes_total",
    "Bytes of snapshot files written.",
    s.snapshotBytes,
    base,
  );
  w.counter("lockstep_storage_directory_syncs_total", "Directory fsyncs.", s.directorySyncs, base);
  w.counter(
    "lockstep_storage_segments_deleted_total",
    "WAL segments deleted by compaction.",
    s.segmentsDeleted,
    base,
  );
  w.gauge("lockstep_storage_segments", "WAL segments in the data directory.", s.segments, base);
  w.histogram(
    "lockstep_storage_persist_duration_seconds",
    "From a persist handed to storage to storage reporting it durable.",
    histograms.persist,
    base,
  );

  const r = status.recovery;
  w.gauge(
    "lockstep_recovery_duration_seconds",
    "Time the last start spent opening and recovering storage.",
    r.durationMs / 1000,
    base,
  );
  w.gauge(
    "lockstep_recovery_truncated_tail",
    "1 if the last start cut a torn WAL tail.",
    r.truncatedTail ? 1 : 0,
    base,
  );
  w.gauge(
    "lockstep_recovery_snapshot_fallbacks",
    "Committed snapshot files the last start could not use.",
    r.fallbacks.length,
    base,
  );
  if (status.protocol === "pbft") writePbftMetrics(w, status.details, histograms.pbftPhases, base);
  return w.text();
}
