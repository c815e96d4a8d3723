import { describe, expect, it } from "vitest";
import { validateClusterConfig } from "../../src/core/config.js";
import { clientKeyFile, generateClusterKeys } from "../../src/net/keys.js";
import { replicaCountOf } from "../../src/protocols/registry.js";
import { arbiterHandler, checkArbiterAnswer } from "../../src/runtime/arbiter-handler.js";
import { freePorts } from "./helpers.js";

describe("the runtime's arbiter handler", () => {
  it("takes only an answer for the epoch asked about, with a winner", () => {
    const request = { epoch: 4, replica: 1 };
    expect(checkArbiterAnswer(request, { epoch: 4, winner: 0 })).toEqual({
      ok: true,
      answer: { epoch: 4, winner: 0 },
    });
    expect(checkArbiterAnswer(request, { epoch: 3, winner: 1 })).toMatchObject({ ok: false });
    expect(checkArbiterAnswer(request, { epoch: 4, winner: null })).toMatchObject({ ok: false });
    expect(checkArbiterAnswer(request, { epoch: 4, winner: -1 })).toMatchObject({ ok: false });
    expect(checkArbiterAnswer(request, "yes")).toMatchObject({ ok: false });
  });

  it("an unreachable arbiter ends in { ok: false } within its own timeout, never a win", async () => {
    const ports = await freePorts(3);
    const config = validateClusterConfig(
      {
        protocol: "raft",
        f: 1,
        replicas: ports.map((port, id) => ({ id, host: "127.0.0.1", port })),
        service: "arbiter",
      },
      replicaCountOf,
    );
    const keys = clientKeyFile(generateClusterKeys(3), "pb-0");
    const handler = arbiterHandler({ config, keys, timeoutMs: 300 });
    const started = performance.now();
    const result = await handler.call(0, { epoch: 2, replica: 0 });
    expect(result.ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(5_000);
    // A replica may not ask on behalf of another.
    expect(await handler.call(1, { epoch: 2, replica: 0 })).toMatchObject({ ok: false });
    await handler.close();
    expect(await handler.call(0, { epoch: 3, replica: 0 })).toMatchObject({ ok: false });
  });
});
