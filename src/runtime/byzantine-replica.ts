import type { Crypto } from "../core/crypto.js";
import { createRandom } from "../core/prng.js";
import type { CoreOutput, ProtocolCore, WireTypes } from "../core/protocol.js";
import {
  type ByzantineBehaviour,
  byzantine,
  byzantineBehaviours,
} from "../protocols/pbft/adversary.js";

/**
 * A replica started Byzantine on purpose (`lockstep replica --byzantine BEHAVIOUR`), for tests
 * and demos only. It runs the correct core and lies on top of it with the simulator's catalog
 * (protocols/pbft/adversary.ts), signing with its own real keys: it can lie as itself, never as
 * another replica. Only PBFT tolerates a lying replica; every other protocol refuses the option.
 */
export interface ByzantineOption {
  readonly behaviour: ByzantineBehaviour;
  /** Seeds the lies' random choices (which backups get the other batch, forged values). */
  readonly seed: number;
}

export type { ByzantineBehaviour };
export { byzantineBehaviours };

/** The protocols a replica may be started Byzantine in. */
export const byzantineProtocols: readonly string[] = ["pbft"];

export function isByzantineBehaviour(name: string): name is ByzantineBehaviour {
  return (byzantineBehaviours as readonly string[]).includes(name);
}

/** Why `name` is not a behaviour, listing the catalog (one line). */
export function unknownBehaviour(name: string): string {
  return `unknown Byzantine behaviour "${name}"; the catalog: ${byzantineBehaviours.join(", ")}`;
}

/** Why `protocol` cannot run a Byzantine replica, or undefined when it can. */
export function byzantineProtocolProblem(protocol: string): string | undefined {
  return byzantineProtocols.includes(protocol)
    ? undefined
    : `--byzantine is only for protocol pbft (it tolerates lying replicas); this cluster runs ${protocol}`;
}

/** A lying core, and how many of its outputs were lies. */
export interface ByzantineCore {
  readonly core: ProtocolCore<WireTypes>;
  /**
   * Outputs the correct core would not have produced (altered, forged, replayed or duplicated
   * messages), plus those it held back or dropped: what /status reports as `lies`.
   */
  lies(): number;
}

/** Wraps a correct core so that it lies as `option` says, counting its lies. */
export function byzantineCore(
  correct: ProtocolCore<WireTypes>,
  option: ByzantineOption,
  crypto: Crypto,
): ByzantineCore {
  // The catalog passes the outputs it keeps through as the same objects: anything else it
  // emits is a lie, and anything of the correct core's it does not emit was withheld.
  let truths: readonly CoreOutput<WireTypes>[] = [];
  const recorder: ProtocolCore<WireTypes> = {
    id: correct.id,
    status: () => correct.status(),
    step: (input) => {
      truths = correct.step(input);
      return truths;
    },
  };
  const liar = byzantine(recorder, option.behaviour, createRandom(option.seed), crypto);
  let lies = 0;
  const core: ProtocolCore<WireTypes> = {
    id: correct.id,
    status: () => liar.status(),
    step: (input) => {
      truths = [];
      const out = liar.step(input);
      const told = new Set(truths);
      const seen = new Set<CoreOutput<WireTypes>>();
      for (const o of out) {
        if (!told.has(o) || seen.has(o)) lies++;
        seen.add(o);
      }
      for (const o of truths) if (!seen.has(o)) lies++;
      return out;
    },
  };
  return { core, lies: () => lies };
}

/** The loud line a Byzantine replica prints on stderr when it starts. */
export function byzantineWarning(id: number, behaviour: ByzantineBehaviour): string {
  return (
    `lockstep replica: WARNING: r${id} runs as a BYZANTINE replica (${behaviour}): it lies to ` +
    "the other replicas and to clients on purpose. For tests and demos only, never in a real cluster."
  );
}
