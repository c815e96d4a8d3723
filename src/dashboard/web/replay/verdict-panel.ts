import type { SimTrace, TraceOperation } from "../../../sim/trace/trace-format.js";
import { element } from "./dom.js";
import { describeInput, formatMs } from "./event-items.js";

/**
 * The run's verdict: for a failing seed the violated invariant, the other violations, and the
 * checker's counterexample as buttons that select an operation and seek to it.
 */
export function renderVerdict(
  section: HTMLElement,
  status: HTMLElement,
  trace: SimTrace,
  operations: ReadonlyMap<number, TraceOperation>,
  select: (op: TraceOperation) => void,
): void {
  const v = trace.verdict;
  status.textContent = v.ok
    ? `passed: every check held (linearizability ${v.linearizability})`
    : `failed: ${v.invariant ?? "a check failed"}`;
  status.className = v.ok ? "passed" : "failed";
  section.hidden = false;
  section.className = v.ok ? "passed" : "failed";
  const parts: HTMLElement[] = [];
  if (v.ok) {
    parts.push(
      element(
        "p",
        `Passed: safety invariants, liveness after the faults stopped and linearizability (${v.linearizability}). Replay: ${trace.replay}`,
      ),
    );
  } else {
    parts.push(element("h2", `Violated: ${v.invariant ?? "?"}`));
    if (v.violations.length > 1)
      parts.push(
        element(
          "p",
          `${v.violations.length} violations; the first is shown. Replay: ${trace.replay}`,
        ),
      );
    else parts.push(element("p", `Replay: ${trace.replay}`));
    const details = element("details");
    details.append(
      element("summary", `the simulator's report (${v.violations.length} violation(s))`),
      element("pre", v.violations.join("\n\n")),
    );
    parts.push(details);
  }
  const cx = v.counterexample;
  if (cx) {
    parts.push(
      element(
        "p",
        "Counterexample: the checker linearized the operations marked ✓ in this order, then none of the operations marked ⚠ could come next.",
      ),
    );
    const list = element("ol");
    const entries: [number, string][] = [
      ...cx.stuck.map((id): [number, string] => [id, "⚠ cannot be linearized next:"]),
      ...cx.linearized.map((id, i): [number, string] => [id, `✓ ${i + 1}.`]),
    ];
    for (const [id, mark] of entries) {
      const op = operations.get(id);
      const button = element(
        "button",
        `${mark} #${id} ${op ? describeOp(op) : "(not in the trace)"}`,
      );
      button.type = "button";
      if (mark.startsWith("⚠")) button.classList.add("stuck");
      if (op) button.addEventListener("click", () => select(op));
      else button.disabled = true;
      const item = element("li");
      item.append(button);
      list.append(item);
    }
    parts.push(list);
  }
  if (trace.limits.capped)
    parts.push(
      element(
        "p",
        `This trace was capped at ${trace.limits.maxEvents} records: nothing after ${formatMs(trace.limits.cappedAt ?? 0)} is shown.`,
      ),
    );
  section.replaceChildren(...parts);
}

export function describeOp(op: TraceOperation): string {
  const result =
    op.returned === undefined ? "no answer" : `${op.outcome} ${JSON.stringify(op.result)}`;
  return `${op.client} ${describeInput(op)} → ${result} [${formatMs(op.invoked)} – ${op.returned === undefined ? "end" : formatMs(op.returned)}]`;
}
