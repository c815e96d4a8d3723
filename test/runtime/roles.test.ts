import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { connect, type LockstepClient } from "../../src/client/index.js";
import { readKeyFile, writeKeyFile } from "../../src/net/keys.js";
import { runCliAsync } from "../cli/run-cli.js";
import { ClusterFixture, failure, killAll, metric, ProcessCluster, waitFor } from "./helpers.js";

// Issue 15: roles, revocation and rotation on real replica processes (127.0.0.1).

const clients: LockstepClient[] = [];
const fixtures: ClusterFixture[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await killAll();
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

/** What `lockstep init` writes: cli administers, every other client writes. */
const initRoles = { defaultRole: "write", roles: { cli: "admin" } };

async function client(fixture: ClusterFixture, name: string, timeoutMs = 5_000) {
  const c = await connect({ config: fixture.config, keys: fixture.clientKeys(name), timeoutMs });
  clients.push(c);
  return c;
}

async function voters(cluster: ProcessCluster, leader: number): Promise<number[]> {
  const s = await cluster.replica(leader).status();
  return (s.details as { voters: number[] }).voters;
}

describe("client roles on real processes", () => {
  test("an ordinary client's remove is refused with forbidden (counted, logged); an admin's succeeds", async () => {
    const fixture = await ClusterFixture.create({ clients: initRoles });
    fixtures.push(fixture);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    const leader = await cluster.leader();
    const follower = (leader + 1) % 3;

    const app = await client(fixture, "app");
    await app.invoke({ op: "put", key: "k", value: "v" });
    const refused = await failure(app.admin({ op: "remove", replica: follower }));
    expect(refused.code).toBe("forbidden");
    expect(refused.indeterminate).toBe(false);
    // The refusal does not block app's session.
    await app.invoke({ op: "put", key: "k", value: "w" });
    expect(await voters(cluster, leader)).toHaveLength(3);

    const m = await cluster.replica(leader).metrics();
    expect(
      metric(m, "lockstep_requests_refused_total", leader, 'reason="forbidden"'),
    ).toBeGreaterThanOrEqual(1);
    await waitFor("the refusal in the leader's log", () =>
      cluster
        .replica(leader)
        .logs.some(
          (l) => l.msg === "request refused: forbidden" && String(l.client).startsWith("app"),
        ),
    );

    const cli = await client(fixture, "cli");
    await cli.admin({ op: "remove", replica: follower });
    await waitFor("the removal", async () => (await voters(cluster, leader)).length === 2);
  }, 60_000);

  test("keys add-client / revoke / rotate: refused on every leader, after a leader change and after restarts from snapshots", async () => {
    const fixture = await ClusterFixture.create({
      clients: initRoles,
      settings: { snapshotEvery: 10 },
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
        "10000",
      ]);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    await cluster.leader();

    // A read-only client: its key file is written 0600, it may read but not write.
    const added = await keys("add-client", "viewer", "--role", "read");
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const viewerFile = path.join(fixture.dir, "client-viewer.json");
    expect(fs.statSync(viewerFile).mode & 0o777).toBe(0o600);
    const viewer = await connect({ config: fixture.config, keys: readKeyFile(viewerFile) });
    clients.push(viewer);
    expect((await failure(viewer.invoke({ op: "put", key: "x", value: "1" }))).code).toBe(
      "forbidden",
    );
    expect(await viewer.query({ op: "get", key: "x" })).toMatchObject({ ok: true });

    const app = await client(fixture, "app");
    await app.invoke({ op: "put", key: "a", value: "1" });
    const revoked = await keys("revoke", "app");
    expect(revoked.code).toBe(0);
    expect((await failure(app.invoke({ op: "put", key: "a", value: "2" }))).code).toBe("forbidden");
    // A new connection with the revoked key gets a clear answer too, not a timeout.
    const again = await client(fixture, "app");
    expect((await failure(again.query({ op: "get", key: "a" }))).code).toBe("forbidden");

    // A leader change: the new leader refuses app too.
    const old = await cluster.leader();
    await cluster.replica(old).kill("SIGKILL");
    const next = await cluster.leader(10_000, old);
    expect(next).not.toBe(old);
    expect((await failure(app.invoke({ op: "put", key: "a", value: "3" }))).code).toBe("forbidden");
    cluster.start(old);
    await cluster.replica(old).ready();

    // Enough writes for snapshots on every replica, then every replica restarts from its own.
    const other = await client(fixture, "other");
    for (let i = 0; i < 25; i++) await other.invoke({ op: "put", key: "b", value: String(i) });
    await waitFor(
      "a snapshot on every replica",
      async () => (await cluster.statuses()).filter((s) => s.snapshotIndex > 0).length === 3,
      20_000,
    );
    await killAll();
    await cluster.startAll();
    await cluster.leader();
    const restored = await cluster.statuses();
    for (const s of restored) expect(s.snapshotIndex).toBeGreaterThan(0);
    expect((await failure(app.invoke({ op: "put", key: "a", value: "4" }))).code).toBe("forbidden");

    // Rotation: a new key for app; the old one is refused at the handshake (with a clear
    // answer, not a timeout: it proves a genuine old key), the new one works.
    const rotated = await keys("rotate", "app");
    expect(rotated.code).toBe(0);
    const appFile = path.join(fixture.dir, "client-app.json");
    const fresh = await connect({ config: fixture.config, keys: readKeyFile(appFile) });
    clients.push(fresh);
    await fresh.invoke({ op: "put", key: "a", value: "5" });
    const stale = await connect({
      config: fixture.config,
      keys: fixture.clientKeys("app"),
      timeoutMs: 1_500,
    });
    clients.push(stale);
    const refusedOld = await failure(stale.invoke({ op: "put", key: "a", value: "6" }));
    expect(refusedOld.code).toBe("forbidden");
    expect(refusedOld.message).toMatch(
      /refused this client's key .*r\d+ refused the key of c:app: it was rotated out/,
    );
    // Every later call is refused at once, unsent.
    const unsent = await failure(stale.query({ op: "get", key: "a" }));
    expect(unsent.code).toBe("forbidden");
    expect(unsent.indeterminate).toBe(false);
    expect(await fresh.query({ op: "get", key: "a" })).toMatchObject({ value: "5" });
  }, 120_000);

  test("keys set-default-role: every client without a role of its own gets the new one, across a restart", async () => {
    const fixture = await ClusterFixture.create({
      clients: initRoles,
      settings: { snapshotEvery: 10 },
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
        "10000",
      ]);
    const cluster = new ProcessCluster(fixture);
    await cluster.startAll();
    await cluster.leader();
    const app = await client(fixture, "app");
    await app.invoke({ op: "put", key: "a", value: "1" });

    const set = await keys("set-default-role", "read");
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/without a role of their own now have role read/);
    expect((await failure(app.invoke({ op: "put", key: "a", value: "2" }))).code).toBe("forbidden");
    expect(await app.query({ op: "get", key: "a" })).toMatchObject({ value: "1" });
    // --role equal to cluster.json's default is still submitted: the default is no longer that.
    expect((await keys("add-client", "writer", "--role", "write")).code).toBe(0);
    const writer = await connect({
      config: fixture.config,
      keys: readKeyFile(path.join(fixture.dir, "client-writer.json")),
    });
    clients.push(writer);
    await writer.invoke({ op: "put", key: "w", value: "1" });
    // The client API takes the same request; a writer may not make it.
    expect((await failure(writer.admin({ op: "setDefaultRole", role: "admin" }))).code).toBe(
      "forbidden",
    );

    // The new default survives snapshots and a restart of every replica.
    for (let i = 0; i < 25; i++) await writer.invoke({ op: "put", key: "b", value: String(i) });
    await waitFor(
      "a snapshot on every replica",
      async () => (await cluster.statuses()).filter((s) => s.snapshotIndex > 0).length === 3,
      20_000,
    );
    await killAll();
    await cluster.startAll();
    await cluster.leader();
    expect((await failure(app.invoke({ op: "put", key: "a", value: "3" }))).code).toBe("forbidden");
    const cli = await client(fixture, "cli");
    await cli.admin({ op: "setDefaultRole", role: "write" });
    await app.invoke({ op: "put", key: "a", value: "4" });
  }, 120_000);

  test("keys: bad arguments get one clear line and exit code 2", async () => {
    const r = await runCliAsync(["keys", "add-client", "bad:name", "--config", "x", "--keys", "y"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NAME: a client id may not contain ':'/);
    const role = await runCliAsync([
      "keys",
      "set-role",
      "a",
      "--role",
      "root",
      "--config",
      "x",
      "--keys",
      "y",
    ]);
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/--role expects one of read, write, admin, got "root"/);
    const bad = await runCliAsync([
      "keys",
      "set-default-role",
      "root",
      "--config",
      "x",
      "--keys",
      "y",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ROLE expects one of read, write, admin, got "root"/);
  });
});
