import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterConfig } from "../../core/config.js";
import type { ClusterKeyFile } from "../../net/keys.js";
import { type ClusterFolder, writeClusterFolder } from "../../runtime/cluster-folder.js";
import { UsageError } from "../args.js";

/**
 * The file that marks a folder as the demo's own. The demo wipes its folder at the start of each
 * run; it only ever wipes a folder that has this marker (or an empty one), so a mistyped --dir
 * cannot delete someone's files.
 */
export const demoMarker = ".lockstep-demo";

/** Throws a UsageError unless `dir` is absent, empty, or a folder an earlier demo run wrote. */
export function checkDemoFolder(dir: string): void {
  if (!existsSync(dir)) return;
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) {
    throw new UsageError(`demo: ${dir} exists and is not a folder; choose another with --dir`);
  }
  if (readdirSync(dir).length === 0) return;
  if (!existsSync(join(dir, demoMarker))) {
    throw new UsageError(
      `demo: ${dir} is not empty and is not a demo folder (no ${demoMarker}); ` +
        "refusing to wipe it, choose another with --dir",
    );
  }
}

/**
 * Wipes `dir` (checked by checkDemoFolder) and writes a fresh cluster folder into it: marker,
 * cluster.json, keys. The replicas make their data-<i>/ folders when they start.
 */
export function writeDemoFolder(
  dir: string,
  config: ClusterConfig,
): { readonly folder: ClusterFolder; readonly keys: ClusterKeyFile } {
  checkDemoFolder(dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The marker goes first, so that a run interrupted while writing still leaves a folder the
  // next run recognises and may wipe.
  writeFileSync(
    join(dir, demoMarker),
    "Written by `lockstep demo`, which wipes and rewrites this folder on each run.\n",
  );
  return writeClusterFolder(dir, config);
}
