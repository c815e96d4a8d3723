import type { SimTrace, TraceOperation } from "../../../sim/trace/trace-format.js";
import { Diagram } from "./diagram.js";
import { byId, element } from "./dom.js";
import {
  describeItem,
  type EventItem,
  eventItems,
  formatMs,
  itemKind,
  itemOperation,
} from "./event-items.js";
import { renderFilters } from "./filters.js";
import { kindColours } from "./palette.js";
import { Player } from "./player.js";
import { renderStates } from "./state-table.js";
import { TraceIndex } from "./trace-index.js";
import { renderVerdict } from "./verdict-panel.js";

/** Numbers the bench (bench/replay-render.mjs) and tests read; not an API. */
interface ReplayDebug {
  loadMs: number;
  readonly drawMs: number[];
  readonly items: number;
  seek(t: number): void;
  play(speed: number): void;
}

declare global {
  interface Window {
    replayDebug?: ReplayDebug;
  }
}

async function main(): Promise<void> {
  const status = byId("run-verdict", HTMLElement);
  let trace: SimTrace;
  try {
    const response = await fetch(`/trace.json${location.search}`);
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    trace = (await response.json()) as SimTrace;
  } catch (error) {
    status.textContent = `cannot load the trace: ${(error as Error).message}`;
    return;
  }
  const index = new TraceIndex(trace);
  const items = eventItems(trace);
  const times = Float64Array.from(items, (item) => item.t);
  const colours = kindColours(index.kinds);
  const hidden = new Set<string>();
  const laneName = new Map(trace.lanes.map((lane) => [lane.id, lane.name]));
  const cx = trace.verdict.counterexample;
  const stuck = new Set(cx?.stuck ?? []);
  const prefix = new Map((cx?.linearized ?? []).map((id, i) => [id, i + 1]));
  let selected: number | undefined;
  byId("run-title", HTMLElement).textContent =
    `— ${trace.protocol}, seed ${trace.seed}: ${trace.lanes.length} lanes, ${items.length} events, ${formatMs(trace.endTime)}`;

  const canvas = byId("diagram", HTMLCanvasElement);
  const diagram = new Diagram(canvas, index, colours);
  const clock = byId("clock", HTMLOutputElement);
  const seek = byId("seek", HTMLInputElement);
  const states = byId("states", HTMLTableElement);
  const events = byId("events", HTMLOListElement);
  const drawMs: number[] = [];
  let shownIndex = -2;
  let span = Math.min(20, Math.max(trace.endTime, 1));
  seek.max = String(Math.max(0, items.length - 1));
  seek.setAttribute("aria-label", "seek to event");

  const player = new Player(times, trace.endTime, () => render());

  function render(): void {
    const cursor = player.time;
    const from = Math.max(0, cursor - span * 0.7);
    const started = performance.now();
    diagram.draw({ from, to: from + span, cursor, hiddenKinds: hidden, stuck, prefix, selected });
    drawMs.push(performance.now() - started);
    if (drawMs.length > 2000) drawMs.splice(0, 1000);
    const at = player.index;
    clock.value = `t = ${formatMs(cursor)} · event ${at + 1} of ${items.length} · window ${formatMs(span)}`;
    seek.value = String(Math.max(0, at));
    seek.setAttribute("aria-valuetext", `${formatMs(cursor)}, event ${at + 1}`);
    if (at === shownIndex) return;
    shownIndex = at;
    renderStates(states, index, cursor);
    renderEvents(events, items, at, hidden, stuck, laneName);
  }

  renderVerdict(
    byId("verdict", HTMLElement),
    status,
    trace,
    index.operationById,
    (op: TraceOperation) => {
      selected = op.id;
      player.seekTime(op.invoked);
      shownIndex = -2;
      render();
    },
  );
  const counts = new Map<string, number>();
  for (const m of trace.messages) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
  renderFilters(byId("filters", HTMLFieldSetElement), index.kinds, counts, colours, hidden, () => {
    shownIndex = -2;
    render();
  });

  const playButton = byId("play", HTMLButtonElement);
  player.onPlayingChange = (playing) => {
    playButton.textContent = playing ? "‖ pause" : "▶ play";
    playButton.setAttribute("aria-pressed", String(playing));
  };
  playButton.addEventListener("click", () => player.toggle());
  byId("step-forward", HTMLButtonElement).addEventListener("click", () => player.step(1));
  byId("step-back", HTMLButtonElement).addEventListener("click", () => player.step(-1));
  byId("to-start", HTMLButtonElement).addEventListener("click", () => player.seekIndex(0));
  seek.addEventListener("input", () => player.seekIndex(Number(seek.value)));
  const speed = byId("speed", HTMLSelectElement);
  player.speed = Number(speed.value);
  speed.addEventListener("change", () => {
    player.speed = Number(speed.value);
  });
  const zoom = (factor: number) => {
    span = Math.min(Math.max(span * factor, 0.05), Math.max(trace.endTime, 1));
    render();
  };
  byId("zoom-in", HTMLButtonElement).addEventListener("click", () => zoom(0.5));
  byId("zoom-out", HTMLButtonElement).addEventListener("click", () => zoom(2));
  document.addEventListener("keydown", (event) => handleKey(event, player, zoom));
  window.addEventListener("resize", () => {
    diagram.resize();
    render();
  });

  diagram.resize();
  player.seekIndex(0);
  window.replayDebug = {
    loadMs: performance.now(),
    drawMs,
    items: items.length,
    seek: (t) => player.seekTime(t),
    play: (ms) => {
      player.speed = ms;
      if (!player.playing) player.toggle();
    },
  };
}

/**
 * Space plays and pauses, arrows step, Home goes back, + and − zoom. On a control that uses
 * the key itself (a button's space, the slider's and the list's arrows), the control has it.
 */
function handleKey(event: KeyboardEvent, player: Player, zoom: (factor: number) => void): void {
  const target = event.target;
  const tag = target instanceof HTMLElement ? target.tagName : "";
  const ownsSpace = tag === "BUTTON" || tag === "INPUT" || tag === "SELECT";
  const ownsArrows = tag === "INPUT" || tag === "SELECT";
  if (event.key === " " && !ownsSpace) player.toggle();
  else if (event.key === "ArrowRight" && !ownsArrows) player.step(1);
  else if (event.key === "ArrowLeft" && !ownsArrows) player.step(-1);
  else if (event.key === "Home" && !ownsArrows) player.seekIndex(0);
  else if ((event.key === "+" || event.key === "=") && tag !== "INPUT") zoom(0.5);
  else if (event.key === "-" && tag !== "INPUT") zoom(2);
  else return;
  event.preventDefault();
}

function renderEvents(
  list: HTMLOListElement,
  items: readonly EventItem[],
  at: number,
  hidden: ReadonlySet<string>,
  stuck: ReadonlySet<number>,
  laneName: ReadonlyMap<number, string>,
): void {
  const shown: HTMLLIElement[] = [];
  for (let i = at; i >= 0 && shown.length < 14; i--) {
    const item = items[i]!;
    const kind = itemKind(item);
    if (kind !== undefined && hidden.has(kind)) continue;
    const operation = itemOperation(item);
    const cx = operation !== undefined && stuck.has(operation);
    const full = describeItem(item, laneName);
    const text = full.length > 150 ? `${full.slice(0, 149)}…` : full;
    const li = element(
      "li",
      `${formatMs(item.t).padStart(12)}  ${cx ? "⚠ counterexample: " : ""}${text}`,
    );
    if (cx) li.classList.add("cx");
    if (i === at) li.classList.add("now");
    shown.push(li);
  }
  list.replaceChildren(...shown.reverse());
}

main().catch((error: unknown) => {
  const status = document.getElementById("run-verdict");
  if (status) status.textContent = `the replay page failed: ${(error as Error).message}`;
});
