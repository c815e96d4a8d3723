import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SimTrace } from "../../src/sim/trace/trace-format.js";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "lockstep-sim-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("lockstep sim --trace", () => {
  it("writes the structured trace of one seed, the same run as without it", () => {
    const args = ["sim", "--protocol", "raft", "--seed", "6", "--clients", "3", "--duration", "1"];
    const plain = runCli(args, { timeoutMs: 120_000 });
    const file = join(dir, "raft-6.json");
    const traced = runCli([...args, "--trace", file], { timeoutMs: 120_000 });
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.stdout).toContain(`structured trace: ${file}`);
    const hash = /trace ([0-9a-f]{16})/.exec(plain.stdout)![1];
    expect(traced.stdout).toContain(`trace ${hash}`);
    const trace = JSON.parse(readFileSync(file, "utf8")) as SimTrace;
    expect(trace.format).toBe("lockstep-sim-trace");
    expect(trace.traceHash).toBe(hash);
    expect(trace.messages.length).toBeGreaterThan(100);
    expect(trace.verdict.ok).toBe(true);
  }, 240_000);

  it("refuses a file it cannot write before running, with one line", () => {
    const file = join(dir, "no-such-dir", "t.json");
    const { code, stderr } = runCli(["sim", "--protocol", "raft", "--seed", "1", "--trace", file]);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(`lockstep: sim: --trace: cannot write ${file} (ENOENT)`);
  });
});
