import { describe, expect, it } from "vitest";
import type { Value } from "../../../src/core/value.js";
import { fuzz } from "./fuzz.js";

/** Setting mixes that stress different paths (tiny windows, frequent snapshots, no pre-vote…). */
const variants: Record<string, { [key: string]: Value }> = {
  defaults: {},
  "learners, snapshots, small pipeline": {
    initialVoters: [0, 1, 2],
    snapshotEvery: 30,
    compactionSlack: 3,
    snapshotChunkBytes: 64,
    maxInflight: 3,
  },
  "no pre-vote, snapshots without slack": {
    preVote: false,
    snapshotEvery: 25,
    compactionSlack: 0,
    snapshotChunkBytes: 50,
  },
  "no check-quorum, one entry per message": {
    checkQuorum: false,
    maxEntriesPerMessage: 1,
    maxInflight: 1,
  },
  "lease reads": { leaseReads: true, snapshotEvery: 40, heartbeatTicks: 1 },
  "one command per entry, eager resends": {
    maxBatchCommands: 1,
    retransmitTicks: 2,
    learnerCatchUpEntries: 0,
  },
};

describe("raft under random faults (safety and liveness)", () => {
  for (const [name, settings] of Object.entries(variants)) {
    for (const n of [3, 5]) {
      it(`${name}, ${n} replicas`, () => {
        for (let seed = 1; seed <= 3; seed++) {
          const r = fuzz({
            seed,
            n,
            rounds: 1500,
            crashes: true,
            reads: true,
            admin: true,
            settings,
          });
          expect(r.commands).toBeGreaterThan(20);
          expect(r.reads).toBeGreaterThan(10);
        }
      });
    }
  }

  it("exercises snapshot installs, crashes and membership changes", () => {
    const r = fuzz({
      seed: 11,
      n: 5,
      rounds: 1500,
      crashes: true,
      reads: true,
      admin: true,
      settings: variants["learners, snapshots, small pipeline"],
    });
    expect(r.crashes).toBeGreaterThan(3);
    expect(r.snapshots).toBeGreaterThanOrEqual(3);
    expect(r.admins).toBeGreaterThan(3);
    expect(r.terms).toBeGreaterThan(2);
  });
});

describe("the fault test catches planted bugs that break safety", () => {
  it.each([
    ["apply-before-commit" as const, /applied entry/],
    ["read-index-without-quorum" as const, /read .* after/],
    ["double-vote" as const, /two leaders|saw two leaders/],
  ])("%s", (bug, expected) => {
    let caught: unknown;
    for (let seed = 1; seed <= 20 && caught === undefined; seed++) {
      try {
        fuzz({ seed, n: 3, rounds: 1500, crashes: true, reads: true, bug });
      } catch (error) {
        caught = error;
      }
    }
    expect(String(caught)).toMatch(expected);
  });
});
