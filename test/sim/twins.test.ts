import { describe, expect, it } from "vitest";
import { accessPolicyOf, simulatedCluster } from "../../src/core/config.js";
import { createRandom } from "../../src/core/prng.js";
import { emptyDurableState } from "../../src/core/protocol.js";
import { ReplicatedService } from "../../src/core/replicated-service.js";
import { signRequest } from "../../src/protocols/pbft/authenticator.js";
import { findProtocol } from "../../src/protocols/registry.js";
import { defaultSimOptions, replayCommand, type SimOptions } from "../../src/sim/options.js";
import { SimCrypto } from "../../src/sim/sim-crypto.js";
import { simServiceKit } from "../../src/sim/sim-service.js";
import { runSimulation } from "../../src/sim/simulation.js";
import { TwinReplica } from "../../src/sim/twins-replica.js";
import { TwinsTopology, twinsScenario, twinsScenarioCount } from "../../src/sim/twins-scenario.js";

describe("Twins scenarios", () => {
  it("are enumerated, not drawn: scenario i is always the same, and the count wraps around", () => {
    // 4 twins × 8 first splits × (8 second splits + healed) × 2 client placements × 3 phase lengths.
    expect(twinsScenarioCount(4)).toBe(4 * 8 * 9 * 2 * 3);
    expect(twinsScenario(7, 4)).toEqual(twinsScenario(7, 4));
    expect(twinsScenario(7 + twinsScenarioCount(4), 4).label).toBe(twinsScenario(7, 4).label);
    expect(twinsScenario(0, 4).label).toBe(
      "twin r0, clients reach both copies: [A 1,2,3 | B ] @0 -> [A 1,2,3 | B ] @0.5 -> healed @1",
    );
    expect(twinsScenario(1 + 4 * 5, 4).label).toBe(
      "twin r1, clients reach both copies: [A 2 | B 0,3] @0 -> [A 0,2,3 | B ] @0.5 -> healed @1",
    );
  });

  it("twin every replica under every first split within the first n·2^(n-1) seeds", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4 * 8; i++) {
      const s = twinsScenario(i, 4);
      seen.add(`${s.twins[0]}:${JSON.stringify(s.phases[0]!.sides)}`);
    }
    expect(seen.size).toBe(32);
    // And over the whole space every second phase (seven splits and healed) and placement occurs.
    const second = new Set<string>();
    for (let i = 0; i < twinsScenarioCount(4); i++) {
      const s = twinsScenario(i, 4);
      second.add(
        `${s.twins[0]}/${JSON.stringify(s.phases[1]!.sides)}/${s.clientsReachBoth}/${s.phases[1]!.from}`,
      );
    }
    expect(second.size).toBe(4 * 9 * 2 * 3);
  });

  it("twin several replicas at once: every pair of seven, the others split, one-twin numbering kept", () => {
    // C(7,2) = 21 pairs × 2^5 first splits × (2^5 + 1) × 2 × 3.
    expect(twinsScenarioCount(7, 2)).toBe(21 * 32 * 33 * 2 * 3);
    expect(twinsScenarioCount(7)).toBe(7 * 64 * 65 * 2 * 3);
    expect(twinsScenario(5, 7, 1).twins).toEqual([5]);
    expect(twinsScenario(0, 7, 2).label).toBe(
      "twins r0,r1, clients reach both copies: [A 2,3,4,5,6 | B ] @0 -> [A 2,3,4,5,6 | B ] @0.5 -> healed @1",
    );
    const pairs = new Set<string>();
    for (let i = 0; i < 21; i++) pairs.add(twinsScenario(i, 7, 2).twins.join(","));
    expect(pairs.size).toBe(21);
    expect(() => twinsScenario(0, 6, 2)).toThrow(/at most f/);
    // Index 1 + 21·5: twins r0 and r2 (pair 1), first split mask 0b00101 over r1, r3, r4, r5, r6:
    // copy A with r3, r5 and r6, copy B with r1 and r4.
    const t = new TwinsTopology(twinsScenario(1 + 21 * 5, 7, 2));
    expect(t.scenario.twins).toEqual([0, 2]);
    expect([1, 3, 4, 5, 6].map((p) => t.reaches(0, p))).toEqual([false, true, false, true, true]);
    expect([1, 3, 4, 5, 6].map((p) => t.reaches(1, p))).toEqual([true, false, true, false, false]);
    // The twins hear each other from either side.
    expect([t.reaches(0, 2), t.reaches(1, 2), t.reaches(0, 0), t.reaches(1, 0)]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(t.groups()).toEqual([
      [0, 2, 3, 5, 6],
      [0, 1, 2, 4],
    ]);
  });

  it("route each copy to its side only, and to everyone once healed", () => {
    // Index 1 + 4·5: twin r1, copy A with r2, copy B with r0 and r3.
    const t = new TwinsTopology(twinsScenario(1 + 4 * 5, 4));
    expect([0, 2, 3].map((p) => t.reaches(0, p))).toEqual([false, true, false]);
    expect([0, 2, 3].map((p) => t.reaches(1, p))).toEqual([true, false, true]);
    expect(t.groups()).toEqual([
      [1, 2],
      [0, 1, 3],
    ]);
    t.heal();
    expect(t.groups()).toBeUndefined();
    expect([0, 2, 3].every((p) => t.reaches(0, p) && t.reaches(1, p))).toBe(true);
  });
});

const base: SimOptions = {
  ...defaultSimOptions,
  protocol: "pbft",
  seed: 1,
  clients: 1,
  duration: 0.3,
  faults: [],
  twins: true,
};

describe("simulator: Twins runs (--twins)", () => {
  it("pbft survives a twinned replica: agreement, linearizable history, liveness after healing; runs replay", () => {
    let completed = 0;
    // Seeds 1, 5, 9: the first primary (r0) twinned; 2: r1, with copy B alone.
    for (const seed of [1, 2, 5, 9]) {
      const r = runSimulation({ ...base, seed });
      expect(r.violations, `seed ${seed}`).toEqual([]);
      expect(r.stats.faultyReplicas).toBe(1);
      expect(r.stats.partitions, "the scenario's split phases").toBeGreaterThanOrEqual(1);
      completed += r.stats.completed;
    }
    expect(completed).toBeGreaterThan(20);
    const a = runSimulation({ ...base, seed: 5 }, true);
    const b = runSimulation({ ...base, seed: 5 });
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.trace.join("\n")).toMatch(/twins scenario 4: twin r0.*\n(.*\n)*.*twins phase 1/);
    expect(replayCommand(a.options)).toMatch(/--twins$/);
  });

  it("finds a planted bug with no hand-written lie: the twin's two honest copies are enough", () => {
    // VIEW-CHANGE without the prepared certificates: with a twin for the only faulty replica,
    // correct replicas end up executing different requests at one sequence number. The plain
    // seeds find this bug too, but there with the adversary's lying replicas.
    const bug = runSimulation({
      ...base,
      protocol: "pbft-bug-view-change-drops-certificates",
      seed: 15,
    });
    expect(bug.violations.join("\n")).toMatch(/executed a different entry at index \d+/);
    expect(runSimulation({ ...base, seed: 15 }).violations).toEqual([]);
  });
});

describe("a twinned replica", () => {
  // Replica 0, the primary of view 0, twinned: copy A with replicas 1 and 2, copy B with 3
  // (scenario 16: first split mask 0b100), clients reaching both copies.
  const make = () => {
    const config = simulatedCluster("pbft", 4, 1, { maxBatchRequests: 1, maxInFlight: 2 });
    const definition = findProtocol("pbft").definition;
    const kit = simServiceKit("kv");
    const copy = (seed: number) => ({
      core: definition.createReplica({
        id: 0,
        config,
        random: createRandom(seed),
        crypto: new SimCrypto("r0", 7),
        durable: emptyDurableState,
      }),
      service: new ReplicatedService(kit.definition, config.sessions, accessPolicyOf(config)),
    });
    const topology = new TwinsTopology(twinsScenario(16, 4));
    const twin = new TwinReplica(0, [copy(1), copy(2)], topology);
    const client = new SimCrypto("c:c0", 7);
    const request = (timestamp: number) =>
      signRequest(client, {
        client: "c0",
        timestamp,
        ackedBelow: 0,
        readOnly: false,
        op: { kind: "command", value: null },
      });
    const prePreparesTo = (outputs: readonly { type: string; to?: number; msg?: unknown }[]) =>
      outputs
        .filter((o) => o.type === "send" && (o.msg as { type?: string }).type === "preprepare")
        .map((o) => o.to);
    return { twin, topology, request, prePreparesTo };
  };

  it("is two primaries that each speak only to their own side, and both to everyone once healed", () => {
    const { twin, topology, request, prePreparesTo } = make();
    twin.step({ type: "tick", now: 1_000_000, mono: 10 });
    const split = twin.step({ type: "client", client: "c0", msg: request(0), mono: 10 });
    // Each backup hears exactly one primary: 1 and 2 copy A's pre-prepare, 3 copy B's.
    expect(prePreparesTo(split).sort()).toEqual([1, 2, 3]);
    expect(twin.sent[0]).toBeGreaterThan(0);
    expect(twin.sent[1]).toBeGreaterThan(0);
    topology.heal();
    twin.step({ type: "tick", now: 1_000_010, mono: 20 });
    const healed = twin.step({ type: "client", client: "c0", msg: request(1), mono: 20 });
    // Healed, every backup gets a pre-prepare from each copy: two for one sequence number.
    expect(prePreparesTo(healed).sort()).toEqual([1, 1, 2, 2, 3, 3]);
  });
});
