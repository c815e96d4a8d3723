import { describe, expect, it } from "vitest";
import {
  benchKey,
  benchValue,
  type PutClient,
  percentiles,
  runPutLoad,
  sharedConnections,
} from "../../src/bench/put-load.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client whose puts take `ms` and fail when `fail(key)` says so; it records what it saw. */
function fakeClient(ms: number, fail: (n: number) => boolean = () => false) {
  let n = 0;
  const seen: { key: string; value: string; at: number }[] = [];
  let closed = 0;
  const client: PutClient = {
    put: async (key, value) => {
      const mine = n++;
      seen.push({ key, value, at: performance.now() });
      await sleep(ms);
      if (fail(mine)) throw Object.assign(new Error("timeout: no reply"), { code: "timeout" });
    },
    close: async () => {
      closed++;
    },
  };
  return { client, seen, closed: () => closed };
}

describe("the put-load driver", () => {
  it("counts only puts that complete in the measured window, after the warm-up", async () => {
    const fake = fakeClient(5);
    let measureStartedAt = 0;
    let calls = 0;
    const t0 = performance.now();
    const r = await runPutLoad({
      clients: 1,
      durationMs: 200,
      warmupMs: 200,
      keySize: 16,
      valueSize: 64,
      keySpace: 10,
      open: async () => fake.client,
      onMeasureStart: () => {
        calls++;
        measureStartedAt = performance.now();
      },
    });
    expect(calls).toBe(1);
    expect(measureStartedAt - t0).toBeGreaterThanOrEqual(195);
    expect(r.warmupSeconds).toBe(0.2);
    // About as many puts ran during the warm-up as in the window, and only the latter count.
    const inWindow = fake.seen.filter((p) => p.at >= measureStartedAt - 6).length;
    expect(fake.seen.length).toBeGreaterThan(r.ops + 10);
    expect(Math.abs(r.ops - inWindow)).toBeLessThanOrEqual(2);
    expect(r.elapsedSeconds).toBeGreaterThanOrEqual(0.2);
    expect(r.elapsedSeconds).toBeLessThan(0.5);
    expect(r.latencyMs!.p50).toBeGreaterThanOrEqual(4);
    expect(fake.closed()).toBe(1);
    for (const p of fake.seen) {
      expect(p.key).toHaveLength(16);
      expect(p.value).toHaveLength(64);
    }
  });

  it("files failures by kind and keeps them out of the latencies", async () => {
    const fake = fakeClient(2, (n) => n % 2 === 1);
    const r = await runPutLoad({
      clients: 1,
      durationMs: 100,
      keySize: 8,
      valueSize: 8,
      keySpace: 5,
      open: async () => fake.client,
    });
    expect(r.warmupSeconds).toBe(0);
    expect(r.errors).toBeGreaterThan(5);
    expect(Math.abs(r.errors - r.ops)).toBeLessThanOrEqual(1);
    expect(r.errorKinds).toEqual({ timeout: r.errors });
  });

  it("shares K connections among C clients and closes each once, after its last user", async () => {
    const opened: ReturnType<typeof fakeClient>[] = [];
    const open = sharedConnections(2, async () => {
      const fake = fakeClient(1);
      opened.push(fake);
      return fake.client;
    });
    const r = await runPutLoad({
      clients: 5,
      durationMs: 50,
      keySize: 4,
      valueSize: 4,
      keySpace: 3,
      open,
    });
    expect(opened).toHaveLength(2);
    expect(opened.map((o) => o.closed())).toEqual([1, 1]);
    expect(opened[0]!.seen.length + opened[1]!.seen.length).toBe(r.ops);
  });

  it("refuses a bad client count or warm-up", async () => {
    const base = { durationMs: 10, keySize: 4, valueSize: 4, keySpace: 3 };
    const open = async () => fakeClient(1).client;
    await expect(runPutLoad({ ...base, clients: 0, open })).rejects.toThrow(/clients/);
    await expect(runPutLoad({ ...base, clients: 1, warmupMs: -1, open })).rejects.toThrow(
      /warmupMs/,
    );
  });

  it("keys, values and percentiles have the promised shape", () => {
    expect(benchKey(42, 8)).toBe("k0000042");
    expect(benchKey(123456, 3)).toBe("456");
    expect(benchValue(3, 7, 10)).toBe("3.7.xxxxxx");
    const p = percentiles(Float64Array.from({ length: 100 }, (_, i) => 100 - i))!;
    expect([p.p50, p.p90, p.p99, p.max, p.mean]).toEqual([50, 90, 99, 100, 50.5]);
    expect(percentiles(new Float64Array(0))).toBeNull();
  });
});
