import { afterAll, describe, expect, test } from "vitest";
import { connect } from "../../src/client/index.js";
import { formatKeyFile, KeyFileError, replicaKeyFile } from "../../src/net/keys.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { startReplica } from "../../src/runtime/replica.js";
import { createServiceKit } from "../../src/state-machines/registry.js";
import { ClusterFixture } from "../runtime/helpers.js";

// A JavaScript caller may hand connect() the key file's JSON as parsed instead of
// readKeyFile(path): that works, and anything else that is not a key file fails at once with a
// line naming what to pass, not with a TypeError from deep inside a key derivation.

const fixtures: ClusterFixture[] = [];
afterAll(() => {
  for (const f of fixtures) f.remove();
});

describe("connect() keys", () => {
  test("accepts the key file's parsed JSON and serves with it", async () => {
    const f = await ClusterFixture.create({ n: 1 });
    fixtures.push(f);
    const replica = await startReplica({
      config: f.config,
      id: 0,
      keys: replicaKeyFile(f.keys, 0),
      dataDir: f.dataDir(0),
      service: createServiceKit("kv").definition,
      logger: silentLogger,
      metrics: false,
    });
    try {
      const raw: unknown = JSON.parse(formatKeyFile(f.keys));
      const c = await connect({
        config: f.config,
        keys: raw as Parameters<typeof connect>[0]["keys"],
        clientId: "alice",
        timeoutMs: 5_000,
      });
      await c.invoke({ op: "put", key: "k", value: "v" });
      expect(await c.query({ op: "get", key: "k" })).toEqual({ ok: true, value: "v" });
      await c.close();
    } finally {
      await replica.close();
    }
  });

  test("refuses what is not a key file with one clear error", async () => {
    const f = await ClusterFixture.create({ n: 1 });
    fixtures.push(f);
    const json = JSON.parse(formatKeyFile(f.keys)) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [undefined, /keys: expected readKeyFile\(path\), got undefined/],
      ["keys.json", /keys: expected readKeyFile\(path\), got a string/],
      [
        { kind: "cluster", clusterSecret: "abc", clientSecret: "abc", replicas: [] },
        /keys.clusterSecret: expected bytes \(use readKeyFile\(path\)\), got a string/,
      ],
      [{ kind: "nope" }, /kind "cluster", "replica" or "client"\), got kind a string/],
      [{ ...json, lockstep: "something-else" }, /lockstep: expected "cluster-keys"/],
    ];
    for (const [keys, message] of cases) {
      const attempt = connect({
        config: f.config,
        keys: keys as Parameters<typeof connect>[0]["keys"],
        clientId: "alice",
      });
      await expect(attempt).rejects.toThrow(KeyFileError);
      await expect(attempt).rejects.toThrow(message);
    }
  });
});
