import type { ChartPoint } from "../shared/live-wire.js";

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed: boolean;
  readonly value: (p: ChartPoint) => number | null;
}

/**
 * Draws `series` of `points` on a canvas: time on x (the span the points cover), 0..max on y,
 * with the max written on the axis. Missing values break the line. Hand-written: no library.
 */
export function drawLineChart(
  canvas: HTMLCanvasElement,
  points: readonly ChartPoint[],
  series: readonly Series[],
  unit: string,
): void {
  const ctx = canvas.getContext("2d");
  if (ctx === null) return;
  const { width, height } = canvas;
  const pad = { left: 48, right: 8, top: 18, bottom: 18 };
  const style = getComputedStyle(canvas);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = style.color;
  ctx.strokeStyle = style.color;
  const values = points.flatMap((p) =>
    series.map((s) => s.value(p)).filter((v): v is number => v !== null),
  );
  const max = niceMax(Math.max(1, ...values));
  const first = points[0]?.at ?? 0;
  const last = points.at(-1)?.at ?? first + 1;
  const span = Math.max(1, last - first);
  const x = (at: number) => pad.left + ((at - first) / span) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  ctx.globalAlpha = 0.4;
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top);
  ctx.lineTo(pad.left, height - pad.bottom);
  ctx.lineTo(width - pad.right, height - pad.bottom);
  ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.fillText(`${max} ${unit}`, 2, pad.top);
  ctx.fillText("0", pad.left - 12, height - pad.bottom);
  ctx.fillText(`last ${Math.round(span / 1000)} s`, pad.left, height - 4);
  // The legend sits at the right of the top line, clear of the axis label on the left.
  let legendX = width - pad.right - 70 * series.length;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.setLineDash(s.dashed ? [5, 3] : []);
    ctx.lineWidth = 2;
    ctx.beginPath();
    let drawing = false;
    for (const p of points) {
      const v = s.value(p);
      if (v === null) {
        drawing = false;
        continue;
      }
      if (drawing) ctx.lineTo(x(p.at), y(v));
      else ctx.moveTo(x(p.at), y(v));
      drawing = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = s.color;
    ctx.fillText(`${s.dashed ? "- -" : "—"} ${s.label}`, legendX, 12);
    legendX += 70;
  }
  ctx.lineWidth = 1;
}

/** 1, 2 or 5 times a power of ten, at least `v`. */
function niceMax(v: number): number {
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) if (step * power >= v) return step * power;
  return 10 * power;
}
