import { expect } from "vitest";
import { runCli } from "../run-cli.js";

// Each planted bug is a known mistake in one protocol; the simulator must find every one within
// 1000 seeds. A seed replays exactly, so the seed that catches a bug is the same on every run.
export function catchesWithin1000Seeds(variant: string, extra: readonly string[] = []): void {
  const { code, stdout } = runCli(
    [
      "sim",
      "--protocol",
      variant,
      "--seeds",
      "1000",
      "--until-failure",
      ...extra,
      "--jobs",
      "2",
      "--out",
      "lockstep-failures/planted",
    ],
    { timeoutMs: 900_000 },
  );
  expect(stdout, stdout.slice(-2000)).toMatch(/FAIL seed \d+/);
  expect(code).toBe(1);
  const seed = /FAIL seed (\d+)/.exec(stdout)![1];
  console.log(`${variant}: caught at seed ${seed}`);
}
