import type { ClusterConfig } from "../../core/config.js";
import type {
  ArbiterView,
  ChartPoint,
  ControlsView,
  LiveSnapshot,
  LiveUpdate,
  TimelineEvent,
} from "../web/shared/live-wire.js";
import { ChartTracker } from "./chart-tracker.js";
import type { ReplicaControls } from "./controls.js";
import { type ClusterSample, sampleCluster } from "./replica-sample.js";
import { clusterView, replicaViews } from "./replica-view.js";
import { Ring } from "./ring.js";
import { clusterLeader, type NewEvent, TimelineDiffer } from "./timeline-differ.js";

export interface LiveHubOptions {
  readonly config: ClusterConfig;
  /** How often every replica is polled (ms). */
  readonly pollMs: number;
  readonly controls?: ReplicaControls;
  /** primary-backup: the arbiter group's configuration, summarised on one line and in rows. */
  readonly arbiter?: ClusterConfig;
  /** The arbiter replicas' fault buttons (`up --dashboard` runs the arbiter group too). */
  readonly arbiterControls?: ReplicaControls;
}

function controlsView(c: ReplicaControls | undefined): ControlsView | null {
  return c === undefined
    ? null
    : { actions: c.actions, behaviours: c.behaviours, replicas: c.replicas };
}

/** Chart points kept: five minutes at the default poll interval. */
const chartPoints = 750;
/** Timeline events kept. */
const timelineEvents = 500;

/**
 * The live dashboard's state: polls every replica, keeps the chart points and the timeline in
 * bounded rings, and hands each poll's update to the page's event streams.
 */
export class LiveHub {
  private readonly chart = new Ring<ChartPoint>(chartPoints);
  private readonly timeline = new Ring<TimelineEvent>(timelineEvents);
  private readonly differ = new TimelineDiffer();
  private readonly tracker = new ChartTracker();
  private readonly listeners = new Set<(update: LiveUpdate) => void>();
  private latest: LiveUpdate;
  private previous: ClusterSample | undefined;
  private seq = 0;
  private pending: TimelineEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private arbiterLine: string | null = null;
  private arbiterSample: ClusterSample | undefined;
  private arbiterView: ArbiterView | undefined;

  constructor(private readonly options: LiveHubOptions) {
    const empty: ClusterSample = {
      at: Date.now(),
      replicas: options.config.replicas.map((_, replica) => ({
        replica,
        at: Date.now(),
        error: "not polled yet",
      })),
    };
    this.latest = this.updateFor(empty, {
      at: empty.at,
      opsPerSecond: null,
      p50Ms: null,
      p99Ms: null,
    });
  }

  get controlsView(): ControlsView | null {
    return controlsView(this.options.controls);
  }

  /** Polls now and then every pollMs, until stop(). */
  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      const began = Date.now();
      await this.poll();
      if (this.stopped) return;
      this.timer = setTimeout(
        () => void loop(),
        Math.max(0, this.options.pollMs - (Date.now() - began)),
      );
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  /** One poll: sample, diff, chart point, tell every listener. */
  async poll(): Promise<void> {
    const timeoutMs = Math.max(200, this.options.pollMs);
    const sample = await sampleCluster(this.options.config, timeoutMs);
    if (this.options.arbiter)
      this.arbiterLine = await this.arbiterSummary(this.options.arbiter, timeoutMs);
    for (const event of this.differ.diff(sample)) this.add(event);
    const point = this.tracker.point(sample);
    this.chart.push(point);
    const update = this.updateFor(sample, point);
    this.previous = sample;
    this.latest = update;
    for (const listener of this.listeners) listener(update);
  }

  /** Puts an event on the timeline (the fault buttons' actions); it goes out with the next poll. */
  record(event: NewEvent): void {
    this.add(event);
  }

  snapshot(): LiveSnapshot {
    return {
      cluster: this.latest.cluster,
      replicas: this.latest.replicas,
      chart: this.chart.toArray(),
      timeline: this.timeline.toArray(),
      controls: this.controlsView,
      pollMs: this.options.pollMs,
      ...(this.arbiterView && { arbiter: this.arbiterView }),
    };
  }

  subscribe(listener: (update: LiveUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private add(event: NewEvent): void {
    const numbered = { ...event, seq: ++this.seq };
    this.timeline.push(numbered);
    this.pending.push(numbered);
  }

  private updateFor(sample: ClusterSample, point: ChartPoint): LiveUpdate {
    const note = (id: number) => this.options.controls?.note(id) ?? null;
    const events = this.pending;
    this.pending = [];
    return {
      cluster: clusterView(sample, this.options.config.protocol, this.arbiterLine),
      replicas: replicaViews(sample, this.previous, note),
      ...(this.arbiterView && { arbiter: this.arbiterView }),
      point,
      events,
    };
  }

  /** Polls the arbiter group: its one line, and its rows (with their buttons, if any). */
  private async arbiterSummary(config: ClusterConfig, timeoutMs: number): Promise<string> {
    const sample = await sampleCluster(config, timeoutMs);
    const controls = this.options.arbiterControls;
    this.arbiterView = {
      replicas: replicaViews(sample, this.arbiterSample, (id) => controls?.note(id) ?? null),
      controls: controlsView(controls),
    };
    this.arbiterSample = sample;
    const answering = sample.replicas.filter((r) => r.status).length;
    const { leader, term } = clusterLeader(sample);
    const kind = `${config.protocol} group of ${config.replicas.length}`;
    const who = leader === null ? "no leader" : `leader r${leader} (term ${term})`;
    return `arbiter: ${kind}, ${who}; ${answering}/${sample.replicas.length} answering`;
  }
}
