import type { TraceLane, TraceStatus } from "../../../sim/trace/trace-format.js";

/** A replica's name, and what kind of faulty it is: "r2 (Byzantine: equivocate)", "r2 (faulty)". */
export function laneName(lane: TraceLane, status: TraceStatus["status"]): string {
  if (status?.byzantine !== undefined) return `${lane.name} (Byzantine: ${status.byzantine})`;
  return lane.faulty ? `${lane.name} (faulty)` : lane.name;
}
