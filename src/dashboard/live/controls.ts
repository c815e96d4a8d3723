/**
 * The fault buttons' back end: a supervisor that started the replicas as its own child processes
 * (`lockstep up --dashboard`). Without one the dashboard only watches and its POST endpoints
 * answer 404.
 */
export const controlActions = [
  "kill",
  "restart",
  "pause",
  "resume",
  "cut",
  "heal",
  "byzantine",
] as const;

export type ControlAction = (typeof controlActions)[number];

export function isControlAction(name: string): name is ControlAction {
  return (controlActions as readonly string[]).includes(name);
}

/** A request the supervisor refuses (unknown replica, not running, not pbft…): HTTP 409. */
export class ControlRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ControlRefused";
  }
}

export interface ReplicaControls {
  /** The actions this supervisor offers (a subset of controlActions). */
  readonly actions: readonly ControlAction[];
  /** For "byzantine": the catalog (empty when the protocol tolerates no lying replica). */
  readonly behaviours: readonly string[];
  /** The replicas it runs (others may run elsewhere: no buttons for them). */
  readonly replicas: readonly number[];
  /**
   * Does `action` to replica `id`; resolves to a line for the timeline ("r1 killed (SIGKILL) from
   * the dashboard"), throws ControlRefused for what cannot be done.
   */
  perform(id: number, action: ControlAction, behaviour?: string): Promise<string>;
  /** What the supervisor knows that /status cannot say: "paused", "killed; not restarted". */
  note(id: number): string | null;
}
