// Launches Debian's chromium (installed by .ci/run) through playwright-core for the dashboard's
// browser tests. Nothing is downloaded: playwright-core is only the driver, the browser is the
// system package, and a test skips with this reason when it is missing.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export const chromiumPath: string | undefined = candidates.find((path) => existsSync(path));

export const noBrowserReason = chromiumPath
  ? undefined
  : `no chromium at ${candidates.join(", ")} (.ci/run installs Debian's chromium when run as root)`;

export async function launchBrowser(): Promise<Browser> {
  if (chromiumPath === undefined) throw new Error(noBrowserReason);
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"], headless: true });
}
