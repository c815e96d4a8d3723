import type { StateChange } from "../../runtime/state-watch.js";
import type { ReplicaStatus } from "../../runtime/status.js";
import type { TimelineEvent } from "../web/shared/live-wire.js";
import { rejectionCounts, rejectionGrowth } from "./rejections.js";
import type { ClusterSample, ReplicaSample } from "./replica-sample.js";
import { replicaIn } from "./replica-sample.js";

/** Leaders remembered as already announced: far more than one poll can bring. */
const announcedKept = 256;

/** A timeline event before the hub numbers it. */
export type NewEvent = Omit<TimelineEvent, "seq">;

/** The replica leading in the newest term any answering replica is in, and that term. */
export function clusterLeader(sample: ClusterSample): {
  readonly leader: number | null;
  readonly term: number | null;
} {
  const answers = sample.replicas.flatMap((r) => (r.status ? [r.status] : []));
  if (answers.length === 0) return { leader: null, term: null };
  const term = Math.max(...answers.map((s) => s.term));
  const leader = answers.find((s) => s.leads && s.term === term)?.replica ?? null;
  return { leader, term };
}

function stableCheckpoint(s: ReplicaStatus): number | undefined {
  const seq = (s.details as { stableCheckpoint?: unknown } | null)?.stableCheckpoint;
  return typeof seq === "number" ? seq : undefined;
}

function byzantine(s: ReplicaStatus): string | undefined {
  const behaviour = (s.details as { byzantine?: unknown } | null)?.byzantine;
  return typeof behaviour === "string" ? behaviour : undefined;
}

/**
 * Derives timeline events by comparing each poll with the one before (and with what it
 * remembers across polls: a replica's last pid, the last leader), and from the replicas' own
 * lists of recent state changes (so a leader between two polls is not missed):
 * leader/view/epoch changes, restarts (a new pid), replicas that stop or start answering, snapshots taken, state transfers
 * (a snapshot installed, PBFT's recovering role), PBFT stable checkpoints and jumps of the
 * rejected-message counters.
 */
export class TimelineDiffer {
  private previous: ClusterSample | undefined;
  private lastLeader: { leader: number | null; term: number | null } = { leader: null, term: null };
  private readonly lastPid = new Map<number, number>();
  private checkpoint = 0;
  /** Leaders already on the timeline, as "replica@term" (the oldest forgotten first). */
  private readonly announced = new Set<string>();
  /** Per replica: the process and the newest of its state changes seen. */
  private readonly seenChange = new Map<number, { pid: number; seq: number }>();

  diff(sample: ClusterSample): NewEvent[] {
    const events: NewEvent[] = [];
    const at = sample.at;
    const emit = (kind: string, replica: number | null, text: string) =>
      events.push({ at, kind, replica, text });
    const previous = this.previous;
    this.previous = sample;
    const epochName = sample.replicas.find((r) => r.status)?.status?.epochName ?? "term";
    const protocol = sample.replicas.find((r) => r.status)?.status?.protocol;
    const leaderWord = protocol === "pbft" || protocol === "primary-backup" ? "primary" : "leader";

    for (const now of sample.replicas) {
      const before = previous && replicaIn(previous, now.replica);
      this.diffReplica(before, now, emit);
    }

    // Every leader a replica's own recent changes name, at the time it changed: two elections
    // between two polls are two events. Then the poll itself, for replicas that keep no changes.
    const announce = (replica: number, term: number, at: number) => {
      const key = `${replica}@${term}`;
      if (this.announced.has(key)) return;
      this.announced.add(key);
      if (this.announced.size > announcedKept)
        this.announced.delete(this.announced.values().next().value!);
      events.push({
        at,
        kind: "leader",
        replica,
        text: `r${replica} is ${leaderWord} (${epochName} ${term})`,
      });
    };
    for (const change of this.newChanges(sample, previous === undefined)) {
      if (change.leads) announce(change.replica, change.term, change.at);
    }
    const { leader, term } = clusterLeader(sample);
    if (leader !== null && term !== null) {
      announce(leader, term, at);
      this.lastLeader = { leader, term };
    } else if (leader === null && this.lastLeader.leader !== null) {
      emit(
        "leader",
        null,
        `no ${leaderWord} answering (r${this.lastLeader.leader} led ${epochName} ${this.lastLeader.term})`,
      );
      // When it answers again, that is news again.
      this.announced.delete(`${this.lastLeader.leader}@${this.lastLeader.term}`);
      this.lastLeader = { leader: null, term };
    }

    const checkpoints = sample.replicas.flatMap((r) => {
      const seq = r.status ? stableCheckpoint(r.status) : undefined;
      return seq === undefined ? [] : [seq];
    });
    const newest = checkpoints.length === 0 ? 0 : Math.max(...checkpoints);
    if (newest > this.checkpoint) {
      emit("checkpoint", null, `stable checkpoint at sequence ${newest}`);
      this.checkpoint = newest;
    }
    // Changes read from the replicas carry their own (earlier) times.
    return events.sort((a, b) => a.at - b.at);
  }

  /**
   * The state changes (/status `stateChanges`) this differ has not seen yet, by replica. On its
   * first poll it only notes where each replica's list ends: history from before the dashboard
   * started is no news. A new pid is a new process, whose changes are all new.
   */
  private newChanges(
    sample: ClusterSample,
    first: boolean,
  ): (StateChange & { readonly replica: number })[] {
    const out: (StateChange & { readonly replica: number })[] = [];
    for (const r of sample.replicas) {
      const changes = r.status?.stateChanges;
      if (r.status === undefined || !Array.isArray(changes)) continue;
      const seen = this.seenChange.get(r.replica);
      const after = seen !== undefined && seen.pid === r.status.pid ? seen.seq : 0;
      let newest = after;
      for (const change of changes) {
        if (change.seq <= after) continue;
        newest = Math.max(newest, change.seq);
        if (!first) out.push({ ...change, replica: r.replica });
      }
      this.seenChange.set(r.replica, { pid: r.status.pid, seq: newest });
    }
    return out.sort((a, b) => a.at - b.at);
  }

  private diffReplica(
    before: ReplicaSample | undefined,
    now: ReplicaSample,
    emit: (kind: string, replica: number | null, text: string) => void,
  ): void {
    const id = now.replica;
    const name = `r${id}`;
    const s = now.status;
    if (s === undefined) {
      if (before?.status !== undefined)
        emit("down", id, `${name} stopped answering (${now.error ?? "no answer"})`);
      return;
    }
    const knownPid = this.lastPid.get(id);
    this.lastPid.set(id, s.pid);
    const lies = byzantine(s);
    if (knownPid !== undefined && knownPid !== s.pid) {
      emit(
        "restart",
        id,
        `${name} restarted: pid ${knownPid} → ${s.pid}${lies ? ` (Byzantine: ${lies})` : ""}`,
      );
    } else if (knownPid === undefined) {
      emit("up", id, `${name} answering (pid ${s.pid})`);
    } else if (before !== undefined && before.status === undefined) {
      emit("up", id, `${name} answering again`);
    }
    const b = before?.status;
    if (b === undefined || b.pid !== s.pid) return;
    if (s.snapshots.taken > b.snapshots.taken)
      emit(
        "snapshot",
        id,
        `${name} took a snapshot at index ${s.snapshots.lastTakenIndex ?? s.snapshotIndex}`,
      );
    if (s.snapshots.installed > b.snapshots.installed)
      emit(
        "state-transfer",
        id,
        `${name} installed a snapshot at index ${s.snapshots.lastInstalledIndex ?? s.snapshotIndex} (state transfer)`,
      );
    if (s.role === "recovering" && b.role !== "recovering")
      emit("state-transfer", id, `${name} is fetching state from the others (state transfer)`);
    const grown = rejectionGrowth(rejectionCounts(b), rejectionCounts(s));
    if (grown.total > 0) emit("rejected", id, `${name} rejected ${grown.total}: ${grown.text}`);
  }
}
