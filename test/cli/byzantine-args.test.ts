import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { byzantineBehaviours } from "../../src/protocols/pbft/adversary.js";
import { runCli } from "./run-cli.js";

// `--byzantine` is refused clearly (exit 2) where it cannot apply, before anything starts.

const root = mkdtempSync(join(tmpdir(), "lockstep-byzantine-args-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function init(protocol: string): string {
  const dir = join(root, protocol);
  const made = runCli(["init", "--protocol", protocol, "--dir", dir, "--base-port", "7700"]);
  expect(made.code, made.stderr).toBe(0);
  return dir;
}

const replica = (dir: string, ...extra: string[]) =>
  runCli([
    "replica",
    "--config",
    join(dir, "cluster.json"),
    "--keys",
    join(dir, "keys", "replica-0.json"),
    "--id",
    "0",
    "--data",
    join(dir, "data-0"),
    ...extra,
  ]);

describe("--byzantine", () => {
  const raft = init("raft");
  const pbft = init("pbft");

  test("replica: only for pbft", () => {
    const r = replica(raft, "--byzantine", "equivocate");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--byzantine is only for protocol pbft .* this cluster runs raft/);
  });

  test("replica: an unknown behaviour lists the catalog", () => {
    const r = replica(pbft, "--byzantine", "lie-a-lot");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the catalog: ${byzantineBehaviours.join(", ")}`);
  });

  test("replica: --byzantine-seed needs --byzantine", () => {
    const r = replica(pbft, "--byzantine-seed", "3");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--byzantine-seed needs --byzantine/);
  });

  test("up: only for pbft, known behaviours, at most f replicas", () => {
    const up = (dir: string, list: string) =>
      runCli(["up", "--config", join(dir, "cluster.json"), "--byzantine", list]);
    expect(up(raft, "r0=silent").stderr).toMatch(/only for protocol pbft/);
    const unknown = up(pbft, "r0=fibbing");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown Byzantine behaviour "fibbing"; the catalog: silent/);
    const two = up(pbft, "r0=silent,r1=flood");
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/names 2 replicas, but the cluster tolerates f = 1/);
    const bad = up(pbft, "r9=silent");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expects r<id>=<behaviour> pairs/);
  });
});
