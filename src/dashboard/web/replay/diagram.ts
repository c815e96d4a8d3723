import type { TraceFault, TraceMessage, TraceOperation } from "../../../sim/trace/trace-format.js";
import type { TraceIndex } from "./trace-index.js";

const labelWidth = 96;
const axisHeight = 26;
const rowHeight = 36;
/**
 * At most this many arrows per frame: zoomed far out, one message in `stride` is drawn (and the
 * diagram says so), which keeps a frame's cost bounded whatever the trace's size.
 */
const maxArrows = 3000;
/** Strokes are issued in batches: one path of tens of thousands of segments strokes slowly. */
const segmentsPerStroke = 400;

/** What the diagram shows besides the trace itself. */
export interface DiagramView {
  readonly from: number;
  readonly to: number;
  readonly cursor: number;
  readonly hiddenKinds: ReadonlySet<string>;
  /** Operations the checker could not linearize next (drawn with ⚠). */
  readonly stuck: ReadonlySet<number>;
  /** The checker's linearizable prefix: operation id → its place (drawn with ✓n). */
  readonly prefix: ReadonlyMap<number, number>;
  readonly selected: number | undefined;
}

/**
 * Draws the space-time diagram: one row per lane, time to the right, messages as arrows, faults
 * as marks with words, client operations as bars. Only what crosses the visible window is
 * drawn, so a frame costs what is on screen, not the size of the trace.
 */
export class Diagram {
  private readonly ctx: CanvasRenderingContext2D;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly index: TraceIndex,
    private readonly colours: ReadonlyMap<string, string>,
  ) {
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("this browser has no 2D canvas");
    this.ctx = ctx;
  }

  /** Matches the canvas's pixels to its size on screen; returns its CSS width. */
  resize(): number {
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth || 800;
    const height = axisHeight + rowHeight * this.index.trace.lanes.length + 8;
    this.canvas.style.height = `${height}px`;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return width;
  }

  draw(view: DiagramView): void {
    const ctx = this.ctx;
    const width = this.canvas.width / (window.devicePixelRatio || 1);
    const height = this.canvas.height / (window.devicePixelRatio || 1);
    const span = Math.max(view.to - view.from, 1e-6);
    const x = (t: number) => labelWidth + ((t - view.from) / span) * (width - labelWidth - 8);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    this.drawAxis(view, x, width, height);
    this.drawLanes(view, x, width);
    ctx.save();
    ctx.beginPath();
    ctx.rect(labelWidth, 0, width - labelWidth, height);
    ctx.clip();
    this.drawOperations(view, x);
    this.drawMessages(view, x);
    this.drawFaults(view, x, height);
    const cx = x(view.cursor);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx, axisHeight - 6);
    ctx.lineTo(cx, height);
    ctx.stroke();
    ctx.restore();
  }

  private y(lane: number): number {
    return axisHeight + rowHeight * (this.index.laneRow.get(lane) ?? 0) + rowHeight / 2;
  }

  private drawAxis(view: DiagramView, x: (t: number) => number, width: number, height: number) {
    const ctx = this.ctx;
    const step = niceStep((view.to - view.from) / Math.max(2, (width - labelWidth) / 110));
    ctx.fillStyle = "#444";
    ctx.strokeStyle = "#e4e4e4";
    ctx.lineWidth = 1;
    ctx.textAlign = "center";
    for (let t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
      const px = Math.round(x(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(px, axisHeight - 4);
      ctx.lineTo(px, height);
      ctx.stroke();
      ctx.fillText(`${Number(t.toFixed(3))} ms`, px, 10);
    }
    ctx.textAlign = "left";
  }

  private drawLanes(view: DiagramView, x: (t: number) => number, width: number) {
    const ctx = this.ctx;
    for (const lane of this.index.trace.lanes) {
      const y = this.y(lane.id);
      ctx.strokeStyle = "#999";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(labelWidth, y);
      ctx.lineTo(width - 8, y);
      ctx.stroke();
      ctx.fillStyle = "#111";
      ctx.fillText(lane.faulty ? `${lane.name} (faulty)` : lane.name, 6, y);
      if (lane.kind !== "replica") continue;
      // Which lie it tells at the cursor (each restart may draw another behaviour).
      const behaviour = this.index.statusAt(lane.id, view.cursor)?.status?.byzantine;
      if (behaviour !== undefined) {
        ctx.font = "10px system-ui, sans-serif";
        ctx.fillText(`⚠ ${behaviour}`, 6, y + 12, labelWidth - 8);
        ctx.font = "12px system-ui, sans-serif";
      }
      for (const [from, to] of this.index.downIntervals(lane.id, view.from, view.to)) {
        const x0 = Math.max(labelWidth, x(from));
        const x1 = Math.min(width - 8, x(to));
        ctx.fillStyle = "rgba(120,120,120,0.35)";
        ctx.fillRect(x0, y - 9, Math.max(1, x1 - x0), 18);
        ctx.fillStyle = "#333";
        if (x1 - x0 > 40) ctx.fillText("down", x0 + 4, y);
      }
    }
  }

  private drawOperations(view: DiagramView, x: (t: number) => number) {
    const ctx = this.ctx;
    for (const op of this.index.operationsIn(view.from, view.to)) {
      const end = op.returned ?? this.index.trace.endTime;
      const x0 = x(op.invoked);
      const x1 = Math.max(x0 + 2, x(end));
      const y = this.y(op.lane) - 14;
      const stuck = view.stuck.has(op.id);
      ctx.fillStyle = outcomeFill(op);
      ctx.fillRect(x0, y, x1 - x0, 8);
      if (op.outcome !== "ok") {
        ctx.setLineDash([3, 2]);
        ctx.strokeStyle = "#555";
        ctx.lineWidth = 1;
        ctx.strokeRect(x0, y, x1 - x0, 8);
        ctx.setLineDash([]);
      }
      const place = view.prefix.get(op.id);
      if (stuck || op.id === view.selected) {
        ctx.strokeStyle = stuck ? "#8a1c1c" : "#1f5fd6";
        ctx.lineWidth = 3;
        ctx.strokeRect(x0 - 2, y - 2, x1 - x0 + 4, 12);
      }
      const label = `${stuck ? "⚠ " : place !== undefined ? `✓${place} ` : ""}#${op.id}${op.outcome === "ok" ? "" : ` ${op.outcome}`}`;
      if (stuck || place !== undefined || x1 - x0 > 40) {
        ctx.fillStyle = stuck ? "#8a1c1c" : "#222";
        ctx.fillText(label, x0 + 2, y - 6);
      }
    }
  }

  private drawMessages(view: DiagramView, x: (t: number) => number) {
    const ctx = this.ctx;
    const all = this.index.messagesIn(view.from, view.to);
    const shown = all.filter((m) => !view.hiddenKinds.has(m.kind));
    const stride = Math.ceil(shown.length / maxArrows);
    const visible = stride > 1 ? shown.filter((_m, i) => i % stride === 0) : shown;
    if (stride > 1) {
      ctx.fillStyle = "#111";
      ctx.textAlign = "right";
      ctx.fillText(
        `1 in ${stride} of ${shown.length} messages drawn: zoom in for all`,
        ctx.canvas.clientWidth - 12,
        axisHeight + 6,
      );
      ctx.textAlign = "left";
    }
    const byColour = new Map<string, TraceMessage[]>();
    for (const m of visible) {
      const colour = this.colours.get(m.kind) ?? "#555";
      const list = byColour.get(colour) ?? [];
      list.push(m);
      byColour.set(colour, list);
    }
    const labelled = visible.length < 300;
    ctx.lineWidth = 1.25;
    for (const [colour, list] of byColour) {
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      // Delivered: solid arrows. Lost or dropped: dashed, ending in ✕ (not colour alone).
      for (const lost of [false, true]) {
        ctx.setLineDash(lost ? [4, 3] : []);
        ctx.beginPath();
        let segments = 0;
        for (const m of list) {
          if ((m.fate !== "delivered") !== lost) continue;
          if (++segments % segmentsPerStroke === 0) {
            ctx.stroke();
            ctx.beginPath();
          }
          const x0 = x(m.sent);
          const y0 = this.y(m.from);
          const x1 = m.fate === "dropped" ? x0 + 10 : x(m.at);
          const y1 = m.fate === "dropped" ? y0 + Math.sign(this.y(m.to) - y0) * 10 : this.y(m.to);
          ctx.moveTo(x0, y0);
          ctx.lineTo(x1, y1);
          if (!lost) arrowHead(ctx, x0, y0, x1, y1);
        }
        ctx.stroke();
      }
      ctx.setLineDash([]);
      for (const m of list) {
        if (m.fate === "delivered") continue;
        const x1 = m.fate === "dropped" ? x(m.sent) + 10 : x(m.at);
        const y0 = this.y(m.from);
        const y1 = m.fate === "dropped" ? y0 + Math.sign(this.y(m.to) - y0) * 10 : this.y(m.to);
        ctx.fillText("✕", x1 - 4, y1);
      }
      if (!labelled) continue;
      for (const m of list) {
        const x0 = x(m.sent);
        const x1 = x(m.at);
        if (x1 - x0 < 50) continue;
        ctx.fillText(m.kind, (x0 + x1) / 2 + 3, (this.y(m.from) + this.y(m.to)) / 2 - 6);
      }
    }
  }

  private drawFaults(view: DiagramView, x: (t: number) => number, height: number) {
    const ctx = this.ctx;
    for (const f of this.index.trace.faults) {
      const end = f.until ?? f.t;
      if (end < view.from || f.t > view.to) continue;
      const px = x(f.t);
      ctx.fillStyle = "#8a1c1c";
      ctx.strokeStyle = "#8a1c1c";
      if (f.replicas.length === 0 || f.kind === "partition") {
        ctx.setLineDash([6, 4]);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(px, axisHeight);
        ctx.lineTo(px, height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillText(`${faultIcon(f)} ${f.kind}`, px + 3, axisHeight + 6);
        continue;
      }
      for (const replica of f.replicas) {
        const y = this.y(replica);
        if (f.kind === "pause" && f.until !== undefined) {
          ctx.fillStyle = "rgba(200,140,0,0.35)";
          ctx.fillRect(px, y - 6, Math.max(2, x(f.until) - px), 12);
          ctx.fillStyle = "#6b4500";
        }
        ctx.fillText(`${faultIcon(f)} ${f.kind}`, px + 2, y + 12);
      }
    }
  }
}

function faultIcon(f: TraceFault): string {
  switch (f.kind) {
    case "crash":
      return "✕";
    case "restart":
      return "▲";
    case "pause":
      return "‖";
    case "partition":
      return "⋮";
    case "heal":
      return "=";
    case "clock":
      return "~";
    case "faults-stop":
      return "■";
    default:
      return "!";
  }
}

function outcomeFill(op: TraceOperation): string {
  switch (op.outcome) {
    case "ok":
      return "#9ccc9c";
    case "failed":
      return "#e0b0b0";
    default:
      return "#dddddd";
  }
}

function arrowHead(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number) {
  const angle = Math.atan2(y1 - y0, x1 - x0);
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 7 * Math.cos(angle - 0.4), y1 - 7 * Math.sin(angle - 0.4));
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 7 * Math.cos(angle + 0.4), y1 - 7 * Math.sin(angle + 0.4));
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-6)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * power) return m * power;
  return 10 * power;
}
