import type { ClusterConfig } from "../../core/config.js";
import type { ControlAction } from "../../dashboard/live/controls.js";
import type { LocalCluster, ReplicaChild } from "../../runtime/local-cluster.js";
import { type FaultSlot, freshFaultSlot, type ReplicaFaults } from "../replica-faults.js";
import { UpControls } from "../up-controls.js";
import { DemoFailure } from "./demo-failure.js";

/** One fault button a user pressed on the demo's dashboard, and the demo's step at the time. */
export interface UserAction {
  /** "r1", or "arbiter r1" for primary/backup's arbiter group. */
  readonly replica: string;
  readonly action: ControlAction;
  readonly behaviour: string | undefined;
  readonly step: string;
}

function describe(a: UserAction): string {
  const what = a.action === "byzantine" ? `byzantine (${a.behaviour ?? "?"})` : a.action;
  return `user pressed ${what} on ${a.replica} during step "${a.step}"`;
}

/**
 * The demo's replica processes as the dashboard's fault buttons see them: the same interface as
 * `lockstep up`'s supervisor (replica-faults.ts), so the buttons are up-controls.ts unchanged. It
 * is also the demo's own way to kill and start its replicas, so that both share one view of each
 * process (paused, links cut, Byzantine) and the demo can tell, when a scripted step finds a
 * replica not as it left it, that a user's button press did that: it then fails the step with a
 * line that says so, rather than narrate what it did not do.
 */
export class DemoFaults implements ReplicaFaults {
  readonly ids: readonly number[];
  /** What the dashboard's user did, in order. */
  readonly userActions: UserAction[] = [];
  private readonly slots: FaultSlot[];
  private readonly expectedExits = new Set<number>();
  private ending = false;
  private step = "starting the cluster";

  constructor(
    readonly config: ClusterConfig,
    /** The cluster the demo runs (a function: the cluster is built after this, with its args). */
    private readonly cluster: () => LocalCluster,
    /** How the demo narrates the dashboard's actions. */
    readonly print: (line: string) => void,
    /** How its replicas are named in lines about users' actions: "r" or "arbiter r". */
    private readonly prefix = "r",
  ) {
    this.ids = config.replicas.map((_, id) => id);
    this.slots = this.ids.map((id) => freshFaultSlot(id));
  }

  /** Names the demo's current step, for the lines about a user's actions. */
  enter(step: string): void {
    this.step = step;
  }

  slot(id: number): FaultSlot | undefined {
    return this.slots[id];
  }

  child(id: number): ReplicaChild | undefined {
    return this.cluster().children[id];
  }

  stopping(): boolean {
    return this.ending;
  }

  /** The replica's extra command-line arguments at its next start. */
  replicaArgs(id: number): readonly string[] {
    const behaviour = this.slots[id]?.behaviour;
    return behaviour === undefined ? [] : ["--byzantine", behaviour];
  }

  /** A button's restart: the slot's behaviour was set by the caller. */
  respawn(slot: FaultSlot): void {
    this.spawn(slot.id);
  }

  /** The dashboard's user did `action` (recorded for the demo's failure and summary lines). */
  userDid(replica: number, action: ControlAction, behaviour: string | undefined): void {
    this.userActions.push({
      replica: `${this.prefix}${replica}`,
      action,
      behaviour,
      step: this.step,
    });
  }

  /** The demo's own SIGKILL; a DemoFailure when a user's action already stopped it. */
  async kill(id: number): Promise<void> {
    // Held: a button's kill or restart of it is under way.
    if (this.child(id)?.alive !== true || this.slots[id]?.held === true)
      this.refuse(id, `SIGKILL ${this.prefix}${id}: it is not running`);
    this.expectedExits.add(id);
    await this.cluster().kill(id, "SIGKILL");
  }

  /**
   * The demo's own start of replica `id`, correct or lying as `behaviour` says; a DemoFailure
   * when a user's action already started it, or made another replica lie so that this one would
   * be one more than the cluster tolerates.
   */
  start(id: number, behaviour?: string): void {
    if (this.child(id)?.alive === true)
      this.refuse(id, `start ${this.prefix}${id}: it is already running`);
    const slot = this.slots[id];
    if (slot === undefined) throw new Error(`replica ${id} is not in the configuration`);
    if (behaviour !== undefined) this.checkMayLie(id);
    slot.behaviour = behaviour;
    this.spawn(id);
  }

  /**
   * A DemoFailure if replica `id` may not be made Byzantine now: a user's button press made
   * others lie, and one more would exceed f. Checked before the demo announces such a step too.
   */
  checkMayLie(id: number): void {
    const lying = this.slots.filter((s) => s.id !== id && s.behaviour !== undefined);
    if (lying.length < this.config.f) return;
    const liar = lying[0]!.id;
    this.refuse(
      liar,
      `restart ${this.prefix}${id} as a Byzantine replica: ${this.prefix}${liar} already lies and the cluster tolerates f = ${this.config.f}`,
    );
  }

  startAll(): void {
    for (const id of this.ids) this.start(id);
  }

  /** Whether replica `id`'s exit is news: not the demo's own kill, nor a button's, nor the end. */
  unexpectedExit(id: number): boolean {
    if (this.ending || this.expectedExits.delete(id)) return false;
    const slot = this.slots[id];
    if (slot !== undefined) slot.paused = false;
    return slot?.held !== true;
  }

  /** From now on every exit is expected; paused replicas run again, to act on the SIGTERM. */
  halt(): void {
    this.ending = true;
    for (const slot of this.slots) {
      if (slot.paused) this.child(slot.id)?.process.kill("SIGCONT");
      slot.paused = false;
    }
  }

  /** The user's actions, one line, or undefined when there were none. */
  userActionsLine(): string | undefined {
    if (this.userActions.length === 0) return undefined;
    return this.userActions.map(describe).join("; ");
  }

  private spawn(id: number): void {
    const slot = this.slots[id]!;
    slot.held = false;
    slot.down = false;
    slot.paused = false;
    slot.cut = false;
    this.cluster().start(id);
  }

  /** A scripted step that a user's action made impossible: says which action, when. */
  private refuse(id: number, what: string): never {
    const theirs = this.userActions
      .filter((a) => a.replica === `${this.prefix}${id}`)
      .map(describe);
    const why = theirs.length === 0 ? "" : ` (${theirs.join("; ")})`;
    throw new DemoFailure(`cannot ${what} in step "${this.step}"${why}`);
  }
}

/** The fault buttons over a demo's replicas: up's, and each press recorded for the demo. */
export class DemoControls extends UpControls {
  constructor(private readonly demo: DemoFaults) {
    super(demo);
  }

  override async perform(id: number, action: ControlAction, behaviour?: string): Promise<string> {
    const line = await super.perform(id, action, behaviour);
    this.demo.userDid(id, action, behaviour);
    return line;
  }
}
