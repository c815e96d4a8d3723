import {
  type ControlAction,
  ControlRefused,
  controlActions,
  type ReplicaControls,
} from "../dashboard/live/controls.js";
import {
  byzantineBehaviours,
  byzantineProtocolProblem,
  isByzantineBehaviour,
  unknownBehaviour,
} from "../runtime/byzantine-replica.js";
import type { LinkControl } from "../runtime/link-cut.js";
import type { ReplicaChild } from "../runtime/local-cluster.js";
import type { ReplicaFaults, FaultSlot as Slot } from "./replica-faults.js";

/** How long a restart waits for SIGTERM to end the old process before SIGKILL. */
const restartGraceMs = 3_000;

function exitWithin(child: ReplicaChild, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void child.exited.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * The dashboard's fault buttons over replica processes this process started (`lockstep up
 * --dashboard`'s supervisor, or the demo's cluster through demo/demo-faults.ts): kill -9,
 * restart (as a correct replica, or as a Byzantine one for pbft), pause/resume with
 * SIGSTOP/SIGCONT, and cut/heal the links (an order over the replica's IPC channel,
 * runtime/link-cut.ts). A replica killed here stays down until it is restarted here.
 */
export class UpControls implements ReplicaControls {
  readonly actions: readonly ControlAction[];
  readonly behaviours: readonly string[];
  readonly replicas: readonly number[];

  constructor(private readonly faults: ReplicaFaults) {
    const byzantine = byzantineProtocolProblem(faults.config.protocol) === undefined;
    this.actions = controlActions.filter((a) => a !== "byzantine" || byzantine);
    this.behaviours = byzantine ? [...byzantineBehaviours] : [];
    this.replicas = faults.ids;
  }

  note(id: number): string | null {
    const slot = this.faults.slot(id);
    if (slot === undefined) return null;
    const notes: string[] = [];
    if (slot.held) notes.push("killed from the dashboard; press restart");
    else if (slot.down) notes.push("down for good");
    else if (slot.timer !== undefined) notes.push("restarting");
    if (slot.paused) notes.push("paused (SIGSTOP)");
    if (slot.cut) notes.push("links cut");
    return notes.length === 0 ? null : notes.join("; ");
  }

  async perform(id: number, action: ControlAction, behaviour?: string): Promise<string> {
    const slot = this.faults.slot(id);
    if (slot === undefined) throw new ControlRefused(`r${id} is not supervised here`);
    if (this.faults.stopping()) throw new ControlRefused("the cluster is stopping");
    const line = await this.act(slot, action, behaviour);
    this.faults.print(`dashboard: ${line}`);
    return line;
  }

  private running(slot: Slot): ReplicaChild {
    const child = this.faults.child(slot.id);
    if (child === undefined || !child.alive) throw new ControlRefused(`r${slot.id} is not running`);
    return child;
  }

  private async act(slot: Slot, action: ControlAction, behaviour?: string): Promise<string> {
    const name = `r${slot.id}`;
    switch (action) {
      case "kill": {
        const child = this.running(slot);
        slot.held = true;
        clearTimeout(slot.timer);
        slot.timer = undefined;
        child.process.kill("SIGKILL");
        await exitWithin(child, restartGraceMs);
        return `${name} killed (SIGKILL, pid ${child.pid ?? "?"}); stays down until restarted`;
      }
      case "restart":
        return this.restart(slot, undefined);
      case "byzantine":
        return this.restart(slot, this.checkBehaviour(slot, behaviour));
      case "pause": {
        const child = this.running(slot);
        if (slot.paused) throw new ControlRefused(`${name} is already paused`);
        child.process.kill("SIGSTOP");
        slot.paused = true;
        return `${name} paused (SIGSTOP, pid ${child.pid ?? "?"})`;
      }
      case "resume": {
        const child = this.running(slot);
        if (!slot.paused) throw new ControlRefused(`${name} is not paused`);
        child.process.kill("SIGCONT");
        slot.paused = false;
        return `${name} resumed (SIGCONT)`;
      }
      case "cut":
      case "heal": {
        const child = this.running(slot);
        const cut = action === "cut";
        if (!child.process.connected) throw new ControlRefused(`${name} has no control channel`);
        const order: LinkControl = { type: "links", cut };
        child.process.send(order);
        slot.cut = cut;
        return cut
          ? `${name}'s links cut: its messages to and from the other replicas are dropped`
          : `${name}'s links healed`;
      }
    }
  }

  private checkBehaviour(slot: Slot, behaviour: string | undefined): string {
    const problem = byzantineProtocolProblem(this.faults.config.protocol);
    if (problem !== undefined) throw new ControlRefused(problem);
    if (behaviour === undefined) throw new ControlRefused("say which behaviour (?behaviour=)");
    if (!isByzantineBehaviour(behaviour)) throw new ControlRefused(unknownBehaviour(behaviour));
    const lying = this.faults.ids.filter(
      (id) => id !== slot.id && this.faults.slot(id)?.behaviour !== undefined,
    );
    if (lying.length >= this.faults.config.f) {
      throw new ControlRefused(
        `the cluster tolerates f = ${this.faults.config.f} Byzantine replica(s) and ${lying.map((id) => `r${id}`).join(", ")} already lies: restart it as a correct replica first`,
      );
    }
    return behaviour;
  }

  /** Stops the replica if it runs (SIGTERM, SIGKILL after a grace), then starts it again. */
  private async restart(slot: Slot, behaviour: string | undefined): Promise<string> {
    const child = this.faults.child(slot.id);
    if (child?.alive) {
      slot.held = true; // the exit is ours: no automatic restart
      if (slot.paused) child.process.kill("SIGCONT");
      child.process.kill("SIGTERM");
      if (!(await exitWithin(child, restartGraceMs))) {
        child.process.kill("SIGKILL");
        await child.exited;
      }
    }
    slot.behaviour = behaviour;
    this.faults.respawn(slot);
    return behaviour === undefined
      ? `r${slot.id} restarted`
      : `r${slot.id} restarted as a Byzantine replica (${behaviour})`;
  }
}
