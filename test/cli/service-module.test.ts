import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

// `--service ./module.js`: a user's service module for sim, replica, init and up, with clear
// errors for a module that is missing, fails to load or exports the wrong shape.

const ledger = fileURLToPath(new URL("../../dist-examples/ledger/src/index.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "lockstep-service-module-"));
const wrongShape = join(dir, "wrong.mjs");
writeFileSync(wrongShape, 'export default { name: "x", create: 1 };\n');
const throws = join(dir, "throws.mjs");
writeFileSync(throws, 'throw new Error("boom at load");\n');
const noDefault = join(dir, "nodefault.mjs");
writeFileSync(noDefault, "export const x = 1;\n");
const noWorkload = join(dir, "noworkload.mjs");
writeFileSync(
  noWorkload,
  'export default { name: "bare", create: () => ({}), validateCommand: () => undefined, validateQuery: () => undefined };\n',
);

describe("--service with a module path", () => {
  it("sim runs a user's service module, replays it by path, and refuses bad modules clearly", () => {
    const ok = runCli([
      "sim",
      "--protocol",
      "raft",
      "--service",
      ledger,
      "--seed",
      "5",
      "--duration",
      "1",
    ]);
    expect(ok.stdout).toMatch(/seed 5: ok/);
    expect(ok.code).toBe(0);

    const cases: [string, RegExp][] = [
      [join(dir, "missing.js"), /missing\.js: no such file/],
      [wrongShape, /its default export is wrong: expected a ServiceDefinition/],
      [throws, /failed to load: boom at load/],
      [noDefault, /has no default export/],
      [noWorkload, /exports no workload/],
    ];
    for (const [file, message] of cases) {
      const run = runCli(["sim", "--protocol", "raft", "--service", file, "--seeds", "1"]);
      expect(run.stderr, file).toMatch(message);
      expect(run.code, file).toBe(2);
    }
    const unknown = runCli(["sim", "--protocol", "raft", "--service", "ledger", "--seeds", "1"]);
    expect(unknown.stderr).toMatch(
      /one of kv, counter, lock, arbiter or the path of a service module/,
    );
  });

  it("init records the module in the configuration; replica refuses a bad module at startup", () => {
    const cluster = join(dir, "bank");
    const init = runCli([
      "init",
      "--protocol",
      "raft",
      "--replicas",
      "3",
      "--dir",
      cluster,
      "--service",
      ledger,
    ]);
    expect(init.code).toBe(0);
    const config = JSON.parse(readFileSync(join(cluster, "cluster.json"), "utf8"));
    expect(config.service).toBe(ledger);

    const badInit = runCli([
      "init",
      "--protocol",
      "raft",
      "--replicas",
      "3",
      "--dir",
      join(dir, "x"),
      "--service",
      wrongShape,
    ]);
    expect(badInit.stderr).toMatch(/init: service module .*default export is wrong/);
    expect(badInit.code).toBe(2);

    const replica = runCli([
      "replica",
      "--config",
      join(cluster, "cluster.json"),
      "--keys",
      join(cluster, "keys", "replica-0.json"),
      "--id",
      "0",
      "--data",
      join(dir, "data-0"),
      "--service",
      throws,
    ]);
    expect(replica.stderr).toMatch(/config error: service module .*failed to load: boom at load/);
    expect(replica.code).toBe(1);
  });
});
