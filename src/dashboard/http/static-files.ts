import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const types: { readonly [ext: string]: string } = {
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/**
 * The built browser code: dist/dashboard/web next to this module in dist, or the built copy when
 * this module runs from src (tests).
 */
export function webRoot(): string {
  const sibling = fileURLToPath(new URL("../web/", import.meta.url));
  if (existsSync(join(sibling, "live", "main.js"))) return sibling;
  return fileURLToPath(new URL("../../../dist/dashboard/web/", import.meta.url));
}

/**
 * A file under `root` for a URL path below the assets prefix, with its content type; undefined
 * for anything outside `root`, of an unknown type, or missing.
 */
export async function readAsset(
  root: string,
  relative: string,
): Promise<{ readonly body: Buffer; readonly type: string } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const path = normalize(join(root, decoded));
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  const type = types[extname(path)];
  if (type === undefined) return undefined;
  try {
    return { body: await readFile(path), type };
  } catch {
    return undefined;
  }
}
