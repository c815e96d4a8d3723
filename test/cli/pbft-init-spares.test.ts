import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadClusterConfig } from "../../src/runtime/config-file.js";
import { runCli } from "./run-cli.js";

// `lockstep init --protocol pbft --spares N`: the address book holds the members and N spares,
// settings.members names the members (docs/protocols/pbft.md, "Reconfiguration"). Needs dist/.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "lockstep-pbft-spares-"));
  dirs.push(dir);
  return join(dir, "cluster");
}

describe("lockstep init --protocol pbft --spares", () => {
  it("writes four members and a spare; f derives from the members", () => {
    const dir = newDir();
    const init = runCli([
      "init",
      "--protocol",
      "pbft",
      "--replicas",
      "4",
      "--spares",
      "1",
      "--dir",
      dir,
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/of 5 replica\(s\), 4 members and 1 spare\(s\) \(f = 1\)/);
    const config = loadClusterConfig(join(dir, "cluster.json"));
    expect(config.replicas).toHaveLength(5);
    expect(config.f).toBe(1);
    expect(config.settings).toEqual({ members: [0, 1, 2, 3] });
  });

  it("without --spares every replica is a member, as before", () => {
    const dir = newDir();
    const init = runCli(["init", "--protocol", "pbft", "--dir", dir]);
    expect(init.code, init.stderr).toBe(0);
    expect(loadClusterConfig(join(dir, "cluster.json")).settings).toEqual({});
  });

  it("--spares is refused for raft", () => {
    const init = runCli(["init", "--protocol", "raft", "--spares", "1", "--dir", newDir()]);
    expect(init.code).toBe(2);
    expect(init.stderr).toMatch(/--spares is for --protocol primary-backup or pbft/);
  });
});
