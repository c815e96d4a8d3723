import type { JsonValue } from "../../../sim/trace/trace-format.js";
import { element } from "./dom.js";
import { laneName } from "./lane-name.js";
import type { TraceIndex } from "./trace-index.js";

/** The replicas' statuses at the selected instant, one row each. */
export function renderStates(table: HTMLTableElement, index: TraceIndex, t: number): void {
  const epoch = index.trace.epochName;
  const head = element("tr");
  for (const name of ["replica", "state", "role", epoch, "leader", "commit", "last", "details"])
    head.append(element("th", name));
  const rows: HTMLTableRowElement[] = [head];
  for (const lane of index.trace.lanes) {
    if (lane.kind !== "replica") continue;
    const entry = index.statusAt(lane.id, t);
    const row = element("tr");
    const s = entry?.status;
    const name = laneName(lane, s);
    const cells = s
      ? [
          name,
          s.leads ? "★ leads" : "up",
          s.role,
          String(s.term),
          s.leader === null ? "–" : `r${s.leader}`,
          String(s.commitIndex),
          String(s.lastIndex),
          detailsText(s.details),
        ]
      : [name, entry ? "✕ down" : "not started", "", "", "", "", "", ""];
    for (const text of cells) row.append(element("td", text));
    rows.push(row);
  }
  table.replaceChildren(...rows);
}

/** The protocol's detail fields, shortened: numbers and short values only. */
function detailsText(details: JsonValue | undefined): string {
  if (
    details === undefined ||
    details === null ||
    typeof details !== "object" ||
    Array.isArray(details)
  )
    return "";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === "number" && value !== 0) parts.push(`${key} ${value}`);
    else if (typeof value === "string" && value.length < 20) parts.push(`${key} ${value}`);
  }
  return parts.slice(0, 6).join(", ");
}
