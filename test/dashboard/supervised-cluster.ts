// A 3-replica Raft cluster run by `lockstep up --dashboard` (the built CLI) for the dashboard's
// browser test and the screenshot script's sibling: init into a temporary folder on free ports,
// start up, wait for its dashboard URL and a leader; stop() ends it all.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeBasePort } from "../cli/free-ports.js";
import { cliPath, runCliAsync } from "../cli/run-cli.js";

export interface SupervisedCluster {
  readonly url: string;
  readonly configFile: string;
  /** Everything `up` printed so far. */
  output(): string;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `replicas` null: the protocol's own size (primary-backup's pair, with its arbiter group). */
export async function startSupervisedCluster(
  protocol = "raft",
  replicas: number | null = 3,
): Promise<SupervisedCluster> {
  const dir = mkdtempSync(join(tmpdir(), "lockstep-dash-"));
  const base = await freeBasePort();
  const configFile = join(dir, "c", "cluster.json");
  const init = await runCliAsync([
    "init",
    "--protocol",
    protocol,
    ...(replicas === null ? [] : ["--replicas", String(replicas)]),
    "--dir",
    join(dir, "c"),
    "--base-port",
    String(base),
    "--metrics-base-port",
    String(base + 100),
  ]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const up: ChildProcess = spawn(
    process.execPath,
    [cliPath, "up", "--config", configFile, "--dashboard", "--log-level", "warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  up.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  up.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
  const pids = new Set<number>();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const m of out.matchAll(/pid (\d+)/g)) pids.add(Number(m[1]));
    if (up.exitCode === null && up.signalCode === null) {
      const exited = new Promise((resolve) => up.once("exit", resolve));
      up.kill("SIGINT");
      const timer = setTimeout(() => up.kill("SIGKILL"), 8_000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!/cluster ready/.test(out) || !/dashboard: (\S+)/.test(out)) {
    if (Date.now() > deadline || up.exitCode !== null) {
      await stop();
      throw new Error(`up did not get ready:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = /dashboard: (\S+)/.exec(out)![1]!;
  return { url, configFile, output: () => out, stop };
}
