import { afterAll, describe, expect, test } from "vitest";
import type { ClusterConfig } from "../../src/core/config.js";
import type { AnyServiceDefinition } from "../../src/core/state-machine.js";
import { replicaKeyFile } from "../../src/net/keys.js";
import { StartupError } from "../../src/runtime/errors.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { startReplica } from "../../src/runtime/replica.js";
import { createServiceKit } from "../../src/state-machines/registry.js";
import { ClusterFixture } from "./helpers.js";

// Issue 10, bug 4: a data directory records its protocol and service; another one refuses it.

const fixtures: ClusterFixture[] = [];
afterAll(() => {
  for (const f of fixtures) f.remove();
});

async function run(
  f: ClusterFixture,
  service: AnyServiceDefinition,
  config: ClusterConfig = f.config,
): Promise<void> {
  const replica = await startReplica({
    config,
    id: 0,
    keys: replicaKeyFile(f.keys, 0),
    dataDir: f.dataDir(0),
    service,
    logger: silentLogger,
    metrics: false,
  });
  await replica.close();
}

async function refusal(promise: Promise<unknown>): Promise<StartupError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StartupError);
    return error as StartupError;
  }
  throw new Error("expected the replica to refuse to start");
}

describe("data directory identity", () => {
  test("a replica started with another service or service version refuses the directory", async () => {
    const f = await ClusterFixture.create({ n: 1 });
    fixtures.push(f);
    const kv = createServiceKit("kv").definition;
    await run(f, kv);
    await run(f, kv); // the same service starts again

    const other = await refusal(run(f, createServiceKit("counter").definition));
    expect(other.kind).toBe("storage");
    expect(other.message).toMatch(
      /holds protocol raft, service "kv".*runs protocol raft, service "counter"/,
    );

    const newer = await refusal(run(f, { ...kv, version: 2 }));
    expect(newer.message).toMatch(/"kv" \(no version\).*"kv" \(version 2\)/);

    await run(f, kv); // the refusals changed nothing
  });

  test("the initial client roles may not change under a data directory (issue 15)", async () => {
    const f = await ClusterFixture.create({ n: 1 });
    fixtures.push(f);
    const kv = createServiceKit("kv").definition;
    const roles = { defaultRole: "write", roles: { cli: "admin" } } as const;
    await run(f, kv, { ...f.config, clients: roles });
    await run(f, kv, { ...f.config, clients: { roles: { cli: "admin" }, defaultRole: "write" } });
    const changed = await refusal(
      run(f, kv, { ...f.config, clients: { defaultRole: "read", roles: { cli: "admin" } } }),
    );
    expect(changed.kind).toBe("config");
    expect(changed.message).toMatch(/clients: the configuration's initial roles .*"read".* differ/);
    // Dropping the section is a change too (every client would be admin).
    expect((await refusal(run(f, kv))).kind).toBe("config");
  });
});
