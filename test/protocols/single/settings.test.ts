import { describe, expect, it } from "vitest";
import { defaultSingleSettings, parseSingleSettings } from "../../../src/protocols/single/index.js";

describe("parseSingleSettings", () => {
  it("fills in defaults and keeps given values", () => {
    expect(parseSingleSettings({})).toEqual(defaultSingleSettings);
    expect(parseSingleSettings({ snapshotEvery: 0, maxBatchCommands: 7 })).toEqual({
      snapshotEvery: 0,
      maxBatchCommands: 7,
    });
  });

  it("names every bad field in one error", () => {
    let message = "";
    try {
      parseSingleSettings({ snapshotEvery: -1, maxBatchCommands: "8", batchSize: 4 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("settings.snapshotEvery: expected a non-negative integer, got -1");
    expect(message).toContain(
      'settings.maxBatchCommands: expected a non-negative integer, got "8"',
    );
    expect(message).toContain("settings.batchSize: unknown setting for protocol single");
  });

  it("requires at least one command per batch", () => {
    expect(() => parseSingleSettings({ maxBatchCommands: 0 })).toThrow(
      "settings.maxBatchCommands: must be at least 1",
    );
    expect(() => parseSingleSettings({ snapshotEvery: 1.5 })).toThrow(/snapshotEvery/);
  });

  // BUG: `key in defaultSingleSettings` sees Object.prototype members, so these pass as settings.
  it("rejects settings named after Object.prototype members", () => {
    expect(() => parseSingleSettings({ toString: 1 })).toThrow(/unknown setting/);
  });
});
