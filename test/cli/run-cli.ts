import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const cliPath = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Runs the built CLI (npm test builds first) and returns its exit code and output. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): { code: number; stdout: string; stderr: string } {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 600_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Whether `port` on 127.0.0.1 can be bound now (nothing left listening there). */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built CLI without blocking the event loop (for tests that keep talking to processes
 * meanwhile); rejects with its stderr if it takes over `timeoutMs`.
 */
export function runCliAsync(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.env ? { env: options.env } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`lockstep ${args.join(" ")} took over ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
