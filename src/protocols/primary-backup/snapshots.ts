import type { LogIndex } from "../../core/ids.js";
import type { SnapshotMeta } from "../../core/protocol.js";
import type { Out, PbNode } from "./node.js";

/** Snapshots of the service and compaction of the log. */

export function maybeSnapshot(n: PbNode, out: Out[]): void {
  const every = n.settings.snapshotEvery;
  if (every === 0 || n.snapshotInFlight) return;
  if (n.appliedTo - n.log.snapIndex >= every) {
    n.snapshotInFlight = true;
    out.push({ type: "takeSnapshot", index: n.appliedTo });
  }
}

export function onSnapshotTaken(n: PbNode, index: LogIndex, data: Uint8Array, out: Out[]): void {
  n.snapshotInFlight = false;
  const entry = n.log.at(index);
  if (!entry) return; // a state transfer replaced the log meanwhile
  const meta: SnapshotMeta = {
    index,
    config: null,
    time: entry.time,
    protocol: { epoch: entry.term },
  };
  n.persist(out, [{ type: "snapshot", meta, data }]);
  n.log.compactTo(index);
  n.snapshot = { index, epoch: entry.term, time: entry.time, data };
}
