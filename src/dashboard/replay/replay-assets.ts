import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The replay page's compiled browser modules (src/dashboard/web/replay, built by
 * tsconfig.web-replay.json into dist/dashboard/web/replay). Run from dist they sit next to this
 * module; run from the sources (tests) they are in the repository's dist/ after `npm run build`.
 */
export function replayAssetsDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const candidates = [
    join(here, "../web/replay"),
    join(here, "../../../dist/dashboard/web/replay"),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, "main.js")));
  if (found === undefined) {
    throw new Error(
      `the replay page is not built (no main.js in ${candidates.join(" or ")}): run npm run build`,
    );
  }
  return found;
}

const assetName = /^[a-z0-9-]+\.js(\.map)?$/;

/** One of the page's modules by its file name, or undefined for anything else. */
export async function readAsset(
  dir: string,
  name: string,
): Promise<{ body: Buffer; type: string } | undefined> {
  if (!assetName.test(name)) return undefined;
  try {
    const body = await readFile(join(dir, name));
    const type = name.endsWith(".map") ? "application/json" : "text/javascript; charset=utf-8";
    return { body, type };
  } catch {
    return undefined;
  }
}
