import { describe, expect, it } from "vitest";
import { simulatedCluster } from "../../../src/core/config.js";
import {
  createPrimaryBackupProtocol,
  defaultPrimaryBackupSettings,
  MemoryArbiter,
  parsePrimaryBackupSettings,
  primaryBackupReplicaCount,
  primaryBackupStatus,
} from "../../../src/protocols/primary-backup/index.js";
import { findProtocol, validateConfig } from "../../../src/protocols/registry.js";

describe("primary/backup settings", () => {
  it("fills in defaults (acknowledging after the backup's write) and keeps given values", () => {
    expect(parsePrimaryBackupSettings({})).toEqual(defaultPrimaryBackupSettings);
    expect(defaultPrimaryBackupSettings.ackOn).toBe("durable");
    expect(parsePrimaryBackupSettings({ ackOn: "receipt", failTicks: 9 })).toMatchObject({
      ackOn: "receipt",
      failTicks: 9,
    });
  });

  it("names every bad field in one error", () => {
    let message = "";
    try {
      parsePrimaryBackupSettings({ ackOn: "never", maxBackupLag: 0, leases: true, toString: 1 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('settings.ackOn: expected "receipt" or "durable", got "never"');
    expect(message).toContain("settings.maxBackupLag: expected an integer ≥ 1, got 0");
    expect(message).toContain("settings.leases: unknown setting for protocol primary-backup");
    expect(message).toContain("settings.toString: unknown setting");
  });

  it("requires the failure timeout to exceed the heartbeat", () => {
    expect(() => parsePrimaryBackupSettings({ heartbeatTicks: 5, failTicks: 5 })).toThrow(
      /failTicks: must exceed heartbeatTicks/,
    );
  });

  it("a config with bad settings is refused before a replica is built", () => {
    expect(() =>
      validateConfig({
        protocol: "primary-backup",
        f: 1,
        replicas: [{ id: 0 }, { id: 1 }],
        settings: { ackOn: 1 },
      }),
    ).toThrow(/ackOn/);
    const config = simulatedCluster("primary-backup", 2, 1, {});
    expect(createPrimaryBackupProtocol().validateSettings(config)).toEqual([]);
  });
});

describe("primary/backup contract", () => {
  it("needs f+1 replicas plus an arbiter, and tolerates one fault at most", () => {
    expect(primaryBackupReplicaCount.replicasFor(1)).toBe(2);
    expect(primaryBackupReplicaCount.faultsTolerated(2)).toBe(1);
    expect(primaryBackupReplicaCount.maxF).toBe(1);
    expect(primaryBackupReplicaCount.extra).toBe("an arbiter (test-and-set)");
  });

  it("reads its status without role names leaking out", () => {
    const status = { term: 3, leader: 0, commitIndex: 0, lastIndex: 0 };
    expect(primaryBackupStatus.epochName).toBe("epoch");
    expect(primaryBackupStatus.leads({ ...status, role: "primary" })).toBe(true);
    expect(primaryBackupStatus.leads({ ...status, role: "backup" })).toBe(false);
    expect(primaryBackupStatus.campaigning({ ...status, role: "campaigning" })).toBe(true);
  });

  it("is registered with an in-memory arbiter and eight planted bugs", () => {
    expect(findProtocol("primary-backup").simExternal).toBeDefined();
    expect(findProtocol("primary-backup-bug-go-live-without-arbiter").broken).toBe(true);
  });
});

describe("the in-memory arbiter", () => {
  it("gives each epoch to its first asker for good, and refuses asking for someone else", () => {
    const arbiter = new MemoryArbiter();
    expect(arbiter.call(1, { epoch: 1, replica: 1 })).toEqual({
      ok: true,
      answer: { epoch: 1, winner: 1 },
    });
    expect(arbiter.call(0, { epoch: 1, replica: 0 })).toEqual({
      ok: true,
      answer: { epoch: 1, winner: 1 },
    });
    expect(arbiter.call(0, { epoch: 2, replica: 0 })).toMatchObject({ answer: { winner: 0 } });
    expect(arbiter.call(0, { epoch: 3, replica: 1 })).toMatchObject({ ok: false });
    expect(arbiter.call(0, { epoch: 0, replica: 0 } as never)).toMatchObject({ ok: false });
    expect(arbiter.winnerOf(3)).toBeUndefined();
  });
});
