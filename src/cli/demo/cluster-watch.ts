import type { ReplicaOutput } from "../../runtime/local-cluster.js";

/** What one replica last said about itself in a "role changed" (or leader/term changed) line. */
interface ReplicaView {
  readonly leads: boolean;
  readonly term: number;
}

/** A leader as the demo learned of it: who, for which term, and when (ms since the demo began). */
export interface LeaderSighting {
  readonly replica: number;
  readonly term: number;
  readonly at: number;
}

const stateMessages = new Set(["role changed", "leader changed", "term changed"]);

/**
 * Follows the cluster through the replicas' JSON log lines (each logs its role and term as they
 * change, checked every tick): who leads now, and every term that had a leader. Logs arrive within
 * milliseconds of the change, so they time an election better than polling /status would; the
 * demo still asks /status (LocalCluster.waitForLeader) before it calls a leader established.
 */
export class ClusterWatch {
  private readonly views: (ReplicaView | undefined)[];
  private readonly terms = new Map<number, LeaderSighting>();

  constructor(
    n: number,
    private readonly elapsed: () => number,
  ) {
    this.views = Array.from({ length: n }, () => undefined);
  }

  onOutput(id: number, output: ReplicaOutput): void {
    if (output.kind !== "log" || !stateMessages.has(output.line.msg)) return;
    const { leads, term } = output.line;
    if (typeof leads !== "boolean" || typeof term !== "number") return;
    this.views[id] = { leads, term };
    // A protocol elects at most one leader per term, so the first sighting of a term is its leader.
    if (leads && !this.terms.has(term)) {
      this.terms.set(term, { replica: id, term, at: this.elapsed() });
    }
  }

  /** A replica process ended: it leads nothing any more. */
  onExit(id: number): void {
    this.views[id] = undefined;
  }

  /** The live replica that leads the highest term, as far as the logs tell. */
  leader(): { readonly replica: number; readonly term: number } | undefined {
    let best: { replica: number; term: number } | undefined;
    this.views.forEach((view, replica) => {
      if (view?.leads && (best === undefined || view.term > best.term)) {
        best = { replica, term: view.term };
      }
    });
    return best;
  }

  /** When the leader of `term` was first seen, if it was. */
  sighting(term: number): LeaderSighting | undefined {
    return this.terms.get(term);
  }

  /** Terms that had a leader, in order. */
  leaderTerms(): readonly number[] {
    return [...this.terms.keys()].sort((a, b) => a - b);
  }
}
