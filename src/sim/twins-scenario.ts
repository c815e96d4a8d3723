import type { ReplicaId } from "../core/ids.js";

/**
 * Twins scenarios (Bano et al., "Twins: BFT systems made robust", 2020), enumerated rather than
 * drawn: scenario i of a cluster of n replicas is always the same scenario, so `--seed S
 * --twins` replays it and seeds 1..N cover the space in a fixed order.
 *
 * One replica (the twin) runs as two copies, A and B, with the same identity and keys; with
 * f ≥ 2, up to f replicas are twinned at once (Twins' multi-twin setting), each copy A on side A
 * and each copy B on side B, while the twins hear one another whatever the split (faulty
 * replicas may collude). The other replicas are split between the two sides. A run has up to two split phases
 * during the load, then the network heals (both copies then hear and reach everyone, which is
 * where a twin equivocates most naturally); after the load it stays healed while the simulator
 * checks liveness.
 */

/** Which copy of the twin a replica can talk to in a split phase: 0 = copy A, 1 = copy B. */
export type Side = 0 | 1;

export interface TwinsPhase {
  /** Fraction of the load duration at which this phase starts. */
  readonly from: number;
  /** Side of each replica (index = replica id; the twin's own entry is unused); undefined: healed. */
  readonly sides: readonly Side[] | undefined;
}

export interface TwinsScenario {
  readonly index: number;
  /** The twinned replicas, ascending (one unless the scenario was asked for more). */
  readonly twins: readonly ReplicaId[];
  readonly phases: readonly TwinsPhase[];
  /** Clients reach both copies; otherwise copy A only, until the network heals. */
  readonly clientsReachBoth: boolean;
  /** For traces and failure reports: e.g. `twin r0; [1,2|3] -> [1|2,3] @0.6 -> healed @1`. */
  readonly label: string;
}

/** Where the second phase starts (fraction of the load); the first always starts at 0. */
const secondPhaseAt = [0.5, 0.25, 0.8] as const;

/** How many distinct scenarios n replicas have with `twinCount` twins (i and i + count are the same). */
export function twinsScenarioCount(n: number, twinCount = 1): number {
  const splits = 2 ** (n - twinCount);
  return twinSets(n, twinCount).length * splits * (splits + 1) * 2 * secondPhaseAt.length;
}

/**
 * The sets of `k` replicas out of n, in lexicographic order; for k = 1 that is [0], [1], …, so
 * one-twin scenarios are numbered as they always were.
 */
function twinSets(n: number, k: number): ReplicaId[][] {
  const sets: ReplicaId[][] = [];
  const pick = (from: number, chosen: ReplicaId[]): void => {
    if (chosen.length === k) {
      sets.push(chosen);
      return;
    }
    for (let id = from; id < n; id++) pick(id + 1, [...chosen, id]);
  };
  pick(0, []);
  return sets;
}

/**
 * Scenario `index` (any non-negative integer; taken modulo the count) of n replicas. The
 * fastest-changing digits are the twin and the first split, so the first few hundred seeds
 * already twin every replica (the first primary included) under every first split.
 */
export function twinsScenario(index: number, n: number, twinCount = 1): TwinsScenario {
  if (!Number.isInteger(n) || n < 2 || n > 16) throw new RangeError(`twins: n=${n} out of range`);
  if (!Number.isInteger(twinCount) || twinCount < 1 || 3 * twinCount >= n) {
    throw new RangeError(`twins: ${twinCount} twins out of range for n=${n} (at most f)`);
  }
  const splits = 2 ** (n - twinCount);
  const sets = twinSets(n, twinCount);
  let rest = index % twinsScenarioCount(n, twinCount);
  const digit = (base: number): number => {
    const d = rest % base;
    rest = Math.floor(rest / base);
    return d;
  };
  const twins = sets[digit(sets.length)]!;
  const first = digit(splits);
  const second = digit(splits + 1); // `splits` itself: the second phase is already healed
  const clientsReachBoth = digit(2) === 0;
  const at = secondPhaseAt[digit(secondPhaseAt.length)]!;
  const sidesOf = (mask: number): Side[] => {
    const sides: Side[] = [];
    let bit = 0;
    for (let id = 0; id < n; id++) {
      if (twins.includes(id)) sides.push(0);
      else sides.push(((mask >> bit++) & 1) as Side);
    }
    return sides;
  };
  const phases: TwinsPhase[] = [
    { from: 0, sides: sidesOf(first) },
    { from: at, sides: second === splits ? undefined : sidesOf(second) },
  ];
  const show = (p: TwinsPhase): string => {
    if (!p.sides) return `healed @${p.from}`;
    const a: number[] = [];
    const b: number[] = [];
    p.sides.forEach((s, id) => {
      if (!twins.includes(id)) (s === 0 ? a : b).push(id);
    });
    return `[A ${a.join(",")} | B ${b.join(",")}] @${p.from}`;
  };
  const named = twins.map((t) => `r${t}`).join(",");
  const label = `${twins.length === 1 ? "twin" : "twins"} ${named}, clients ${clientsReachBoth ? "reach both copies" : "reach copy A"}: ${phases
    .map(show)
    .join(" -> ")} -> healed @1`;
  return { index, twins, phases, clientsReachBoth, label };
}

/**
 * The twin's view of the network right now, shared by the simulator (which moves it from phase
 * to phase) and the twin replica (which routes by it). Healed: both copies reach everyone.
 */
export class TwinsTopology {
  private sides: readonly Side[] | undefined;
  private clientsBoth: boolean;

  constructor(readonly scenario: TwinsScenario) {
    this.sides = scenario.phases[0]?.sides;
    this.clientsBoth = scenario.clientsReachBoth;
  }

  enter(phase: TwinsPhase): void {
    this.sides = phase.sides;
    if (!phase.sides) this.clientsBoth = true;
  }

  heal(): void {
    this.sides = undefined;
    this.clientsBoth = true;
  }

  get healed(): boolean {
    return this.sides === undefined;
  }

  /** Copy `copy` of a twin and replica `peer` hear each other (another twin: always). */
  reaches(copy: Side, peer: ReplicaId): boolean {
    return (
      this.sides === undefined || this.sides[peer] === copy || this.scenario.twins.includes(peer)
    );
  }

  /** Copy `copy` of the twin and the clients hear each other. */
  reachesClients(copy: Side): boolean {
    return this.clientsBoth || copy === 0;
  }

  /** The replica groups the network keeps apart (the twins are in both), or undefined if healed. */
  groups(): number[][] | undefined {
    if (!this.sides) return undefined;
    const groups: number[][] = [[], []];
    this.sides.forEach((side, id) => {
      if (this.scenario.twins.includes(id)) {
        groups[0]!.push(id);
        groups[1]!.push(id);
      } else groups[side]!.push(id);
    });
    return groups;
  }
}
