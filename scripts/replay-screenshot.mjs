// Regenerates docs/images/dashboard-replay.png: the replay viewer on the trace of a planted-bug
// seed (Raft answering reads without a quorum), with the checker's counterexample selected.
// Run after `npm run build`: node scripts/replay-screenshot.mjs
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "docs/images/dashboard-replay.png");
const browserPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!browserPath) throw new Error("no chromium (apt-get install chromium)");

const dir = mkdtempSync(join(tmpdir(), "lockstep-replay-shot-"));
const file = join(dir, "trace.json");
const sim = spawnSync(
  process.execPath,
  [
    join(root, "dist/cli/main.js"),
    "sim",
    ...["--protocol", "raft-bug-read-index-without-quorum", "--seed", "38"],
    ...["--clients", "3", "--duration", "2", "--trace", file, "--out", dir],
  ],
  { encoding: "utf8", timeout: 120_000 },
);
if (!existsSync(file)) throw new Error(`sim wrote no trace:\n${sim.stdout}\n${sim.stderr}`);

const { serveReplay } = await import(join(root, "dist/dashboard/replay/serve-replay.js"));
const page = await serveReplay({ file, host: "127.0.0.1", port: 0 });
const browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
try {
  const tab = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await tab.goto(page.url);
  await tab.waitForFunction(() => window.replayDebug !== undefined);
  await tab.locator("#verdict button.stuck").first().click();
  await tab.locator("#zoom-out").click();
  await tab.locator("#zoom-out").click();
  await tab.locator("#step-forward").focus();
  await tab.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await page.close();
  rmSync(dir, { recursive: true, force: true });
}
