import type { SimTrace, TraceMessage, TraceOperation } from "../../../sim/trace/trace-format.js";

/** One line of the event list, and one step of the player. */
export interface EventItem {
  readonly t: number;
  readonly text: string;
  /** A message's kind (for the filters); undefined for faults and operations. */
  readonly kind?: string;
  /** The operation it is about, for counterexample highlighting. */
  readonly operation?: number;
}

const fateText: Record<TraceMessage["fate"], string> = {
  delivered: "delivered",
  dropped: "✕ dropped when sent",
  "lost-in-flight": "✕ lost in flight",
  "receiver-down": "✕ receiver down",
  malformed: "✕ refused as malformed",
  "in-flight": "… still in flight at the end",
};

export function formatMs(t: number): string {
  return `${t.toFixed(3)} ms`;
}

/** Every event of the trace as a line of text, in time order: the steps of the player. */
export function eventItems(trace: SimTrace): EventItem[] {
  const name = new Map(trace.lanes.map((lane) => [lane.id, lane.name]));
  const items: EventItem[] = [];
  for (const m of trace.messages) {
    const fate = m.fate === "delivered" ? `delivered at ${formatMs(m.at)}` : fateText[m.fate];
    items.push({
      t: m.sent,
      kind: m.kind,
      text: `${name.get(m.from)} → ${name.get(m.to)} ${m.kind}${m.duplicate ? " (duplicate)" : ""}: ${fate} · ${m.summary}`,
    });
  }
  for (const f of trace.faults) items.push({ t: f.t, text: `! ${f.kind}: ${f.text}` });
  for (const n of trace.notes) items.push({ t: n.t, text: `· ${n.text}` });
  for (const op of trace.operations) {
    items.push({
      t: op.invoked,
      operation: op.id,
      text: `${op.client} invokes #${op.id} ${describeInput(op)}`,
    });
    if (op.returned !== undefined)
      items.push({
        t: op.returned,
        operation: op.id,
        text: `${op.client} #${op.id} ${op.outcome}: ${JSON.stringify(op.result)}`,
      });
  }
  return items.sort((a, b) => a.t - b.t);
}

export function describeInput(op: TraceOperation): string {
  return JSON.stringify(op.input);
}
