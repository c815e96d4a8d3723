import { describe, expect, it } from "vitest";
import { defaultPbftSettings, parsePbftSettings } from "../../../src/protocols/pbft/settings.js";

describe("PBFT settings", () => {
  it("fills in the defaults", () => {
    expect(parsePbftSettings(undefined)).toEqual(defaultPbftSettings);
    expect(parsePbftSettings({})).toEqual(defaultPbftSettings);
    expect(defaultPbftSettings.maxRequestWaitTicks).toBe(
      8 * defaultPbftSettings.requestTimeoutTicks,
    );
  });

  it("derives the overall request bound from a request timer set alone", () => {
    expect(parsePbftSettings({ requestTimeoutTicks: 1000 }).maxRequestWaitTicks).toBe(8000);
    expect(parsePbftSettings({ requestTimeoutTicks: 50, maxRequestWaitTicks: 60 })).toMatchObject({
      requestTimeoutTicks: 50,
      maxRequestWaitTicks: 60,
    });
  });

  it("names every bad field in one error", () => {
    expect(() =>
      parsePbftSettings({ requestTimeoutTicks: 100, maxRequestWaitTicks: 50, bogus: 1 }),
    ).toThrow("bogus: unknown pbft setting");
    expect(() => parsePbftSettings({ requestTimeoutTicks: 100, maxRequestWaitTicks: 50 })).toThrow(
      "maxRequestWaitTicks: must be at least requestTimeoutTicks",
    );
    expect(() => parsePbftSettings({ maxRequestWaitTicks: 1 })).toThrow(
      "maxRequestWaitTicks: expected an integer from 2 to 100000000, got 1",
    );
    expect(() => parsePbftSettings([])).toThrow("pbft settings: expected an object");
  });

  it("members: at least 4 distinct address-book ids, kept ascending; unset, everyone", () => {
    expect(parsePbftSettings({}).members).toBeUndefined();
    expect(parsePbftSettings({ members: [4, 0, 2, 1] }, 5).members).toEqual([0, 1, 2, 4]);
    expect(() => parsePbftSettings({ members: [0, 1, 2] }, 5)).toThrow(
      "members: expected an array of at least 4 replica ids, got [0,1,2]",
    );
    expect(() => parsePbftSettings({ members: [0, 1, 2, 5] }, 5)).toThrow(
      "members: 5 is not a replica id below 5",
    );
    expect(() => parsePbftSettings({ members: [0, 1, 2, 2] }, 5)).toThrow(
      "members: replica 2 listed twice",
    );
    expect(() => parsePbftSettings({ members: "all" })).toThrow(/members: expected an array/);
  });
});
