import type { Crypto } from "../core/crypto.js";
import { createRandom } from "../core/prng.js";
import type { ProtocolCore, WireTypes } from "../core/protocol.js";
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

/** Wraps a correct core so that it lies as `option` says. */
export function byzantineCore(
  core: ProtocolCore<WireTypes>,
  option: ByzantineOption,
  crypto: Crypto,
): ProtocolCore<WireTypes> {
  return byzantine(core, option.behaviour, createRandom(option.seed), crypto);
}

/** The loud line a Byzantine replica prints on stderr when it starts. */
export function byzantineWarning(id: number, behaviour: ByzantineBehaviour): string {
  return (
    `lockstep replica: WARNING: r${id} runs as a BYZANTINE replica (${behaviour}): it lies to ` +
    "the other replicas and to clients on purpose. For tests and demos only, never in a real cluster."
  );
}
