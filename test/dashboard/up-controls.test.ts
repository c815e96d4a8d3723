import { describe, expect, it } from "vitest";
import { freshFaultSlot } from "../../src/cli/replica-faults.js";
import { UpControls } from "../../src/cli/up-controls.js";
import { RestartTracker } from "../../src/cli/up-restart-policy.js";
import type { Slot, SupervisorFaults } from "../../src/cli/up-supervisor.js";
import { localClusterConfig } from "../../src/runtime/cluster-folder.js";

function slot(id: number, over: Partial<Slot> = {}): Slot {
  return {
    ...freshFaultSlot(id),
    tracker: new RestartTracker(),
    startedAt: 0,
    restarts: 0,
    ...over,
  };
}

/** A supervisor's faults view over `slots` with no process running: only refusals can happen. */
async function faults(protocol: "raft" | "pbft", slots: Slot[]): Promise<SupervisorFaults> {
  const config = await localClusterConfig(protocol, slots.length);
  return {
    config,
    ids: slots.map((s) => s.id),
    slot: (id) => slots.find((s) => s.id === id),
    child: () => undefined,
    print: () => {},
    respawn: () => {
      throw new Error("nothing may be started in this test");
    },
    stopping: () => false,
  };
}

describe("the supervisor's fault buttons (up --dashboard)", () => {
  it("offers restart as Byzantine for pbft only", async () => {
    const raft = new UpControls(await faults("raft", [slot(0), slot(1), slot(2)]));
    expect(raft.actions).not.toContain("byzantine");
    expect(raft.behaviours).toEqual([]);
    const pbft = new UpControls(await faults("pbft", [slot(0), slot(1), slot(2), slot(3)]));
    expect(pbft.actions).toContain("byzantine");
    expect(pbft.behaviours).toContain("equivocate");
  });

  it("refuses, in one line, what it cannot do", async () => {
    const slots = [slot(0, { behaviour: "silent" }), slot(1), slot(2), slot(3)];
    const pbft = new UpControls(await faults("pbft", slots));
    await expect(pbft.perform(1, "byzantine", "equivocate")).rejects.toThrow(
      "the cluster tolerates f = 1 Byzantine replica(s) and r0 already lies: restart it as a correct replica first",
    );
    await expect(pbft.perform(1, "byzantine", "lie-a-lot")).rejects.toThrow(
      /unknown Byzantine behaviour "lie-a-lot"; the catalog: silent, equivocate/,
    );
    await expect(pbft.perform(1, "byzantine")).rejects.toThrow(/say which behaviour/);
    await expect(pbft.perform(9, "kill")).rejects.toThrow("r9 is not supervised here");
    for (const action of ["kill", "pause", "resume", "cut", "heal"] as const) {
      await expect(pbft.perform(2, action)).rejects.toThrow("r2 is not running");
    }
    const raft = new UpControls(await faults("raft", [slot(0), slot(1), slot(2)]));
    await expect(raft.perform(0, "byzantine", "equivocate")).rejects.toThrow(
      /--byzantine is only for protocol pbft/,
    );
  });

  it("says what only the supervisor knows", async () => {
    const slots = [
      slot(0, { held: true }),
      slot(1, { paused: true, cut: true }),
      slot(2, { down: true }),
    ];
    const controls = new UpControls(await faults("raft", slots));
    expect(controls.note(0)).toBe("killed from the dashboard; press restart");
    expect(controls.note(1)).toBe("paused (SIGSTOP); links cut");
    expect(controls.note(2)).toBe("down for good");
    expect(controls.note(5)).toBeNull();
  });
});
