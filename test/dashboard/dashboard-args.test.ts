import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/args.js";
import { planDashboard } from "../../src/cli/dashboard-command.js";
import { bindProblem, isLoopbackHost } from "../../src/dashboard/http/access.js";
import { runCliAsync } from "../cli/run-cli.js";

function usage(argv: readonly string[]): string {
  try {
    planDashboard(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`no usage error for ${argv.join(" ")}`);
}

describe("lockstep dashboard's arguments", () => {
  it("says in one line what is wrong", () => {
    expect(usage([])).toMatch(/--config FILE or --replay FILE is required/);
    expect(usage(["--config", "a.json", "--replay", "t.json"])).toMatch(/not both/);
    expect(usage(["--config", "a.json", "--port", "http"])).toMatch(/--port expects an integer/);
    expect(usage(["--config", "a.json", "--port", "70000"])).toMatch(
      /--port must be from 0 to 65535/,
    );
    expect(usage(["--config", "a.json", "--poll", "5"])).toMatch(/--poll must be from 100/);
    expect(usage(["--replay", "t.json", "--poll", "500"])).toMatch(/--poll has no effect/);
    expect(usage(["--config", "a.json", "--bogus"])).toMatch(/bogus/);
    expect(usage(["--config", ""])).toMatch(/--config must not be empty/);
    expect(usage(["--config", "a.json", "extra"])).toMatch(/unexpected argument "extra"/);
  });

  it("binds a non-loopback address only with a token of at least 16 characters", () => {
    expect(usage(["--config", "a.json", "--host", "0.0.0.0"])).toMatch(
      /not a loopback address.*needs --token/,
    );
    expect(usage(["--config", "a.json", "--token", "short"])).toMatch(/at least 16 characters/);
    const plan = planDashboard([
      "--config",
      "a.json",
      "--host",
      "0.0.0.0",
      "--token",
      "x".repeat(16),
    ]);
    expect(plan).toMatchObject({ mode: "live", host: "0.0.0.0", port: 0, pollMs: 400 });
    expect(planDashboard(["--config", "a.json"])).toMatchObject({ host: "127.0.0.1" });
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("[::1]")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("10.0.0.1")).toBe(false);
    expect(isLoopbackHost("::")).toBe(false);
    expect(bindProblem("127.0.0.1", undefined)).toBeUndefined();
  });

  it("exits 2 with one line from the command line (dashboard and up --dashboard)", async () => {
    const noToken = await runCliAsync(["dashboard", "--config", "x.json", "--host", "0.0.0.0"]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr.trim().split("\n")).toHaveLength(1);
    expect(noToken.stderr).toMatch(/^lockstep: dashboard: --host 0\.0\.0\.0 is not a loopback/);
    const missing = await runCliAsync(["dashboard", "--config", "/nonexistent/cluster.json"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    const upPort = await runCliAsync(["up", "--config", "x.json", "--dashboard-port", "8080"]);
    expect(upPort.code).toBe(2);
    expect(upPort.stderr).toMatch(/--dashboard-port needs --dashboard/);
    const upHost = await runCliAsync([
      "up",
      "--config",
      "x.json",
      "--dashboard",
      "--dashboard-host",
      "0.0.0.0",
    ]);
    expect(upHost.code).toBe(2);
    expect(upHost.stderr).toMatch(/needs --dashboard-token/);
    const help = await runCliAsync(["dashboard", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: lockstep dashboard --config FILE");
  });
});
