import path from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { connect, type LockstepClient } from "../../src/client/index.js";
import { readKeyFile, writeKeyFile } from "../../src/net/keys.js";
import { runCliAsync } from "../cli/run-cli.js";
import { ClusterFixture, failure, killAll, ProcessCluster } from "./helpers.js";

// Issue 15 on PBFT: access changes are ordered requests (src/protocols/pbft/wire.ts `admin`),
// so `lockstep keys` works against a 4-replica PBFT cluster of real processes (127.0.0.1).

const clients: LockstepClient[] = [];
const fixtures: ClusterFixture[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await killAll();
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

describe("client roles on a PBFT cluster of real processes", () => {
  test("keys set-role, revoke and rotate take effect at every replica; a writer's admin request is refused", async () => {
    const fixture = await ClusterFixture.create({
      protocol: "pbft",
      n: 4,
      clients: { defaultRole: "write", roles: { cli: "admin" } },
    });
    fixtures.push(fixture);
    const clusterKeys = path.join(fixture.dir, "cluster-keys.json");
    writeKeyFile(clusterKeys, fixture.keys);
    const keys = (...args: string[]) =>
      runCliAsync([
        "keys",
        ...args,
        "--config",
        fixture.configFile,
        "--keys",
        clusterKeys,
        "--timeout",
        "15000",
      ]);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    await Promise.all([0, 1, 2, 3].map((id) => cluster.replica(id).ready()));
    const open = async (name: string) => {
      const c = await connect({
        config: fixture.config,
        keys: fixture.clientKeys(name),
        timeoutMs: 10_000,
      });
      clients.push(c);
      return c;
    };

    const app = await open("app");
    await app.invoke({ op: "put", key: "a", value: "1" });
    // An ordinary client may not change access (checked where the change executes).
    const refused = await failure(app.admin({ op: "revoke", client: "other" }));
    expect(refused.code).toBe("forbidden");
    await app.invoke({ op: "put", key: "a", value: "2" });

    // Demoted to read: writes refused, reads still answered (2f+1 matching replies).
    expect((await keys("set-role", "app", "--role", "read")).code).toBe(0);
    expect((await failure(app.invoke({ op: "put", key: "a", value: "3" }))).code).toBe("forbidden");
    expect(await app.query({ op: "get", key: "a" })).toMatchObject({ value: "2" });

    // Revoked: reads refused too.
    expect((await keys("revoke", "app")).code).toBe(0);
    expect((await failure(app.query({ op: "get", key: "a" }))).code).toBe("forbidden");

    // Rotated: the new key file signs with the new pair and works; the old key is refused.
    const writer = await open("writer");
    await writer.invoke({ op: "put", key: "w", value: "1" });
    expect((await keys("rotate", "writer")).code).toBe(0);
    const fresh = await connect({
      config: fixture.config,
      keys: readKeyFile(path.join(fixture.dir, "client-writer.json")),
      timeoutMs: 10_000,
    });
    clients.push(fresh);
    await fresh.invoke({ op: "put", key: "w", value: "2" });
    const stale = await connect({
      config: fixture.config,
      keys: fixture.clientKeys("writer"),
      timeoutMs: 3_000,
    });
    clients.push(stale);
    expect((await failure(stale.invoke({ op: "put", key: "w", value: "3" }))).code).toBe(
      "forbidden",
    );
    expect(await fresh.query({ op: "get", key: "w" })).toMatchObject({ value: "2" });
  }, 120_000);
});
