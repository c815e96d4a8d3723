import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliPath, runCliAsync } from "../cli/run-cli.js";

/**
 * `lockstep dashboard --replay FILE` end to end: the command the docs give serves the replay page
 * and the trace `sim --trace` wrote, and refuses a file that is not a trace with one line.
 */
let dir: string | undefined;
let server: ChildProcess | undefined;

afterEach(() => {
  if (server && server.exitCode === null) server.kill("SIGKILL");
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function urlOf(child: ChildProcess): Promise<string> {
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
  const deadline = Date.now() + 10_000;
  while (!/dashboard: (\S+)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no URL:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return /dashboard: (\S+)/.exec(out)![1]!;
}

describe("lockstep dashboard --replay", () => {
  it("serves the page and the trace that sim --trace wrote", async () => {
    dir = mkdtempSync(join(tmpdir(), "lockstep-replay-cli-"));
    const file = join(dir, "run.json");
    const sim = await runCliAsync([
      "sim",
      "--protocol",
      "raft",
      "--seed",
      "3",
      "--duration",
      "0.3",
      "--trace",
      file,
    ]);
    expect(sim.code, sim.stderr).toBe(0);
    server = spawn(process.execPath, [cliPath, "dashboard", "--replay", file, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await urlOf(server);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<canvas");
    const trace = (await (await fetch(new URL("trace.json", url))).json()) as {
      format: string;
      options: { seed: number };
    };
    expect(trace.format).toBe("lockstep-sim-trace");
    expect(trace.options.seed).toBe(3);
    expect((await fetch(new URL("nothing-here", url))).status).toBe(404);
  });

  it("refuses a file that is not a trace with one line", async () => {
    dir = mkdtempSync(join(tmpdir(), "lockstep-replay-cli-"));
    const file = join(dir, "junk.json");
    writeFileSync(file, '{"hello": "world"}');
    const result = await runCliAsync(["dashboard", "--replay", file]);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^lockstep: dashboard: /);
  });
});
