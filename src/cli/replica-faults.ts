import type { ClusterConfig } from "../core/config.js";
import type { ReplicaChild } from "../runtime/local-cluster.js";

/**
 * What the fault buttons (up-controls.ts) track about one replica process: the supervisor's
 * Slot of `lockstep up`, or the demo's (demo/demo-faults.ts).
 */
export interface FaultSlot {
  readonly id: number;
  /** A pending automatic restart (the demo never has one). */
  timer: NodeJS.Timeout | undefined;
  /** Down for good: given up on, or not restarted (--no-restart). */
  down: boolean;
  /** Killed or being restarted from the dashboard: no automatic restart. */
  held: boolean;
  /** Stopped with SIGSTOP from the dashboard. */
  paused: boolean;
  /** Its links are cut (runtime/link-cut.ts); renewed at each start. */
  cut: boolean;
  /** The Byzantine behaviour it runs with (up --byzantine, the demo, or the dashboard), if any. */
  behaviour: string | undefined;
}

/** A replica's slot before anything happened to it: up, not held, not paused, links intact. */
export function freshFaultSlot(id: number, behaviour?: string): FaultSlot {
  return { id, timer: undefined, down: false, held: false, paused: false, cut: false, behaviour };
}

/** What the dashboard's fault buttons may reach inside whatever runs the replica processes. */
export interface ReplicaFaults {
  readonly config: ClusterConfig;
  readonly ids: readonly number[];
  slot(id: number): FaultSlot | undefined;
  child(id: number): ReplicaChild | undefined;
  print(line: string): void;
  /** Starts the slot's replica again now (it must have exited), clearing held and down. */
  respawn(slot: FaultSlot): void;
  stopping(): boolean;
}
