import type {
  SimTrace,
  TraceFault,
  TraceMessage,
  TraceNote,
  TraceOperation,
} from "../../../sim/trace/trace-format.js";

/**
 * One step of the player and one line of the event list. The line's text is made only when it
 * is shown (describeItem): a large trace has a hundred thousand of these.
 */
export type EventItem =
  | { readonly t: number; readonly kind: string; readonly message: TraceMessage }
  | { readonly t: number; readonly fault: TraceFault }
  | { readonly t: number; readonly note: TraceNote }
  | { readonly t: number; readonly operation: TraceOperation; readonly answer: boolean };

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

/** Every event of the trace, in time order: the steps of the player. */
export function eventItems(trace: SimTrace): EventItem[] {
  const items: EventItem[] = [];
  for (const m of trace.messages) items.push({ t: m.sent, kind: m.kind, message: m });
  for (const f of trace.faults) items.push({ t: f.t, fault: f });
  for (const n of trace.notes) items.push({ t: n.t, note: n });
  for (const op of trace.operations) {
    items.push({ t: op.invoked, operation: op, answer: false });
    if (op.returned !== undefined) items.push({ t: op.returned, operation: op, answer: true });
  }
  return items.sort((a, b) => a.t - b.t);
}

/** The message kind of an item (for the filters), if it is a message. */
export function itemKind(item: EventItem): string | undefined {
  return "message" in item ? item.kind : undefined;
}

/** The operation an item is about (for counterexample marks), if any. */
export function itemOperation(item: EventItem): number | undefined {
  return "operation" in item ? item.operation.id : undefined;
}

export function describeItem(item: EventItem, laneName: ReadonlyMap<number, string>): string {
  if ("message" in item) {
    const m = item.message;
    const fate = m.fate === "delivered" ? `delivered at ${formatMs(m.at)}` : fateText[m.fate];
    return `${laneName.get(m.from)} → ${laneName.get(m.to)} ${m.kind}${m.duplicate ? " (duplicate)" : ""}: ${fate} · ${m.summary}`;
  }
  if ("fault" in item) return `! ${item.fault.kind}: ${item.fault.text}`;
  if ("note" in item) return `· ${item.note.text}`;
  const op = item.operation;
  return item.answer
    ? `${op.client} #${op.id} ${op.outcome}: ${JSON.stringify(op.result)}`
    : `${op.client} invokes #${op.id} ${describeInput(op)}`;
}

export function describeInput(op: TraceOperation): string {
  return JSON.stringify(op.input);
}
