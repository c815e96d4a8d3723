import { spawnSync } from "node:child_process";
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
