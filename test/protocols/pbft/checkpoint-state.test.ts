import { describe, expect, it } from "vitest";
import { encode } from "../../../src/platform/codec.js";
import {
  checkpointData,
  splitCheckpointData,
} from "../../../src/protocols/pbft/checkpoint-state.js";
import { applyChange, initialMembership, settle } from "../../../src/protocols/pbft/membership.js";

/** A service snapshot's envelope starts with its applied index, a number. */
const service = encode([12, {}, new Uint8Array([1, 2, 3]), 5000]);
const configured = initialMembership([0, 1, 2, 3]);

describe("the state a checkpoint digest covers", () => {
  it("is the service snapshot alone while the membership is the configured one", () => {
    expect(checkpointData(configured, service)).toBe(service);
    expect(splitCheckpointData(service, 5)).toEqual({ record: undefined, service });
  });

  it("carries the membership once a change executed, and gives both back", () => {
    const verdict = applyChange(configured, { op: "add", replica: 4 }, 3, {
      interval: 2,
      windowSize: 4,
      replicaCount: 5,
    });
    if (!verdict.ok) throw new Error(verdict.message);
    for (const record of [verdict.record, settle(verdict.record, 8)]) {
      const data = checkpointData(record, service);
      expect(data).not.toEqual(service);
      const split = splitCheckpointData(data, 5);
      expect(split.record).toEqual(record);
      expect([...split.service]).toEqual([...service]);
    }
  });

  it("refuses a malformed envelope or a membership outside the address book", () => {
    const bad = encode(["lockstep/pbft-membership", { epoch: 1 }]);
    expect(() => splitCheckpointData(bad, 5)).toThrow(/malformed membership envelope/);
    const stranger = encode([
      "lockstep/pbft-membership",
      { epoch: 1, members: [0, 1, 2, 9], since: 8 },
      service,
    ]);
    expect(() => splitCheckpointData(stranger, 5)).toThrow(/address book/);
  });
});
