// What the live dashboard's server sends its page (server-sent events, JSON). Types only: the
// server (src/dashboard/live) and the browser code (src/dashboard/web/live) both import them.

/** One labelled value of a replica's row, e.g. { label: "commit", value: "1042" }. */
export interface ViewField {
  readonly label: string;
  readonly value: string;
}

/** A peer link as the replica reports it: live, silent, connecting or down. */
export interface ViewLink {
  readonly peer: number;
  readonly state: string;
}

/** One replica as the page shows it; `up` false means its /status did not answer. */
export interface ReplicaView {
  readonly replica: number;
  readonly up: boolean;
  /** Why it is down ("connection refused"), or null when up. */
  readonly reason: string | null;
  /** What the supervisor knows: "paused", "killed", "cut off"… (null: no supervisor or nothing). */
  readonly supervisor: string | null;
  readonly role: string;
  readonly leads: boolean;
  /** Protocol-specific fields in display order (term/view/epoch, indexes, lag…). */
  readonly fields: readonly ViewField[];
  readonly links: readonly ViewLink[];
  /** Share of one core used since the previous poll (null: unknown yet). */
  readonly cpuPercent: number | null;
  readonly residentBytes: number | null;
  readonly pid: number | null;
  readonly uptimeSeconds: number | null;
  /** The Byzantine behaviour it was started with (pbft tests and demos), else null. */
  readonly byzantine: string | null;
}

/** The cluster line: who leads, in which term, how many answer. */
export interface ClusterView {
  readonly protocol: string;
  readonly epochName: string;
  readonly leaderName: string;
  readonly leader: number | null;
  readonly term: number | null;
  readonly answering: number;
  readonly total: number;
  /** primary-backup: one line about the arbiter group, else null. */
  readonly arbiter: string | null;
}

/** One point of the cluster-wide charts. */
export interface ChartPoint {
  /** Milliseconds since the epoch (server clock). */
  readonly at: number;
  /** Successful replies per second (see docs/dashboard.md for how it is computed). */
  readonly opsPerSecond: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** One line of the timeline. */
export interface TimelineEvent {
  readonly seq: number;
  readonly at: number;
  /** leader, restart, down, up, snapshot, checkpoint, state-transfer, rejected, action, … */
  readonly kind: string;
  readonly replica: number | null;
  readonly text: string;
}

/** What the fault buttons may do (only when the dashboard runs inside a supervisor). */
export interface ControlsView {
  readonly actions: readonly string[];
  /** pbft: the catalog for "restart as Byzantine". */
  readonly behaviours: readonly string[];
  /** The replicas the supervisor runs (up --only: not all of them); only these get buttons. */
  readonly replicas: readonly number[];
}

/** primary-backup: the arbiter group's replicas, and their buttons when `up` runs them here. */
export interface ArbiterView {
  readonly replicas: readonly ReplicaView[];
  readonly controls: ControlsView | null;
}

/** The first message on a new event stream: everything the page needs to draw. */
export interface LiveSnapshot {
  readonly cluster: ClusterView;
  readonly replicas: readonly ReplicaView[];
  /** primary-backup: the arbiter group (absent for other protocols and older servers). */
  readonly arbiter?: ArbiterView;
  readonly chart: readonly ChartPoint[];
  readonly timeline: readonly TimelineEvent[];
  readonly controls: ControlsView | null;
  readonly pollMs: number;
}

/** Every later message: the new state after one poll. */
export interface LiveUpdate {
  readonly cluster: ClusterView;
  readonly replicas: readonly ReplicaView[];
  readonly arbiter?: ArbiterView;
  readonly point: ChartPoint;
  readonly events: readonly TimelineEvent[];
}
