// The live dashboard page: opens the event stream and redraws the replicas table, the charts
// and the timeline from each update. No framework, nothing fetched from elsewhere.
import type {
  ArbiterView,
  ChartPoint,
  ClusterView,
  ControlsView,
  LiveSnapshot,
  LiveUpdate,
} from "../shared/live-wire.js";
import { apiUrl } from "./api.js";
import { formatNumber } from "./format.js";
import { drawLineChart } from "./line-chart.js";
import { ReplicaTable } from "./replica-table.js";
import { TimelineList } from "./timeline-list.js";

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const maxPoints = 750;
const chart: ChartPoint[] = [];
let controls: ControlsView | null = null;

const actionResult = element<HTMLParagraphElement>("action-result");
const table = new ReplicaTable(element<HTMLTableElement>("replicas"), (text, ok) => {
  actionResult.textContent = ok ? text : `failed: ${text}`;
});
const arbiterTable = new ReplicaTable(
  element<HTMLTableElement>("arbiter-replicas"),
  (text, ok) => {
    actionResult.textContent = ok ? `arbiter ${text}` : `failed: arbiter ${text}`;
  },
  "arbiter",
);
const timeline = new TimelineList(element<HTMLOListElement>("timeline"));

/** primary-backup: the arbiter group's rows (and buttons when `up` runs it). */
function drawArbiter(arbiter: ArbiterView | undefined): void {
  element("arbiter-section").hidden = arbiter === undefined;
  if (arbiter !== undefined) arbiterTable.render(arbiter.replicas, arbiter.controls);
}

function drawCluster(cluster: ClusterView): void {
  element("protocol").textContent = cluster.protocol;
  const leader =
    cluster.leader === null
      ? `no ${cluster.leaderName}`
      : `${cluster.leaderName}: r${cluster.leader} (${cluster.epochName} ${cluster.term})`;
  element("summary").textContent =
    `${leader}; ${cluster.answering}/${cluster.total} replicas answering`;
  const arbiter = element("arbiter");
  arbiter.hidden = cluster.arbiter === null;
  arbiter.textContent = cluster.arbiter ?? "";
}

function drawCharts(): void {
  const last = chart.at(-1);
  drawLineChart(
    element<HTMLCanvasElement>("ops-chart"),
    chart,
    [{ label: "ops/s", color: "#0969da", dashed: false, value: (p) => p.opsPerSecond }],
    "ops/s",
  );
  element("ops-caption").textContent =
    `operations per second (now ${formatNumber(last?.opsPerSecond ?? null)})`;
  drawLineChart(
    element<HTMLCanvasElement>("latency-chart"),
    chart,
    [
      { label: "p50", color: "#1a7f37", dashed: false, value: (p) => p.p50Ms },
      { label: "p99", color: "#c62828", dashed: true, value: (p) => p.p99Ms },
    ],
    "ms",
  );
  element("latency-caption").textContent =
    `latency in ms: p50 ${formatNumber(last?.p50Ms ?? null, 1)}, p99 ${formatNumber(last?.p99Ms ?? null, 1)}`;
}

function onSnapshot(snapshot: LiveSnapshot): void {
  controls = snapshot.controls;
  element("controls-help").hidden = controls === null;
  chart.splice(0, chart.length, ...snapshot.chart);
  drawCluster(snapshot.cluster);
  table.render(snapshot.replicas, controls);
  drawArbiter(snapshot.arbiter);
  timeline.reset();
  timeline.add(snapshot.timeline);
  drawCharts();
}

function onUpdate(update: LiveUpdate): void {
  chart.push(update.point);
  if (chart.length > maxPoints) chart.splice(0, chart.length - maxPoints);
  drawCluster(update.cluster);
  table.render(update.replicas, controls);
  drawArbiter(update.arbiter);
  timeline.add(update.events);
  drawCharts();
}

const connection = element("connection");
const events = new EventSource(apiUrl("api/events"));
events.addEventListener("open", () => {
  connection.textContent = "live: updates as they happen";
});
events.addEventListener("error", () => {
  connection.textContent = "connection to the dashboard lost: retrying…";
});
events.addEventListener("snapshot", (e) =>
  onSnapshot(JSON.parse((e as MessageEvent<string>).data)),
);
events.addEventListener("update", (e) => onUpdate(JSON.parse((e as MessageEvent<string>).data)));
