#!/usr/bin/env node
// Regenerates docs/images/dashboard-live.png: a 3-replica Raft cluster under `lockstep up
// --dashboard` with a small client workload; the leader is killed and restarted from the
// dashboard so the timeline and charts have something to show. Needs `npm run build` first and
// chromium (/usr/bin/chromium, as test/dashboard/browser.ts). Usage: node scripts/dashboard-screenshots.mjs
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
if (!existsSync(join(dist, "dashboard", "web", "live", "main.js"))) {
  console.error("dist/ has no dashboard: run npm run build first");
  process.exit(1);
}
const browserPath = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
].find(existsSync);
if (browserPath === undefined) {
  console.error("no chromium found (install Debian's chromium package)");
  process.exit(1);
}
const { localClusterConfig, writeClusterFolder } = await import(
  join(dist, "runtime", "cluster-folder.js")
);
const { DemoWorkload } = await import(join(dist, "cli", "demo", "workload.js"));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = mkdtempSync(join(tmpdir(), "lockstep-screenshot-"));
const config = await localClusterConfig("raft", 3);
const { folder, keys } = writeClusterFolder(join(dir, "c"), config);
const up = spawn(
  process.execPath,
  [
    join(dist, "cli", "main.js"),
    "up",
    "--config",
    folder.configFile,
    "--dashboard",
    "--log-level",
    "warn",
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let out = "";
up.stdout.setEncoding("utf8").on("data", (d) => {
  out += d;
  process.stdout.write(d);
});
let workload;
let browser;
try {
  const deadline = Date.now() + 20_000;
  while (!/cluster ready/.test(out) || !/dashboard: (\S+)/.test(out)) {
    if (Date.now() > deadline) throw new Error("up did not get ready in 20 s");
    await sleep(100);
  }
  const url = /dashboard: (\S+)/.exec(out)[1];
  const started = Date.now();
  workload = await DemoWorkload.start({
    config,
    keys,
    clients: 4,
    timeoutMs: 2_000,
    elapsed: () => Date.now() - started,
  });
  const act = async (id, action) => {
    const response = await fetch(`${url}api/replicas/${id}/${action}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    console.log((await response.json()).text);
  };
  const leader = async () => (await (await fetch(`${url}api/snapshot`)).json()).cluster.leader;
  await sleep(6_000);
  const victim = await leader();
  await act(victim, "kill");
  await sleep(4_000);
  await act(victim, "restart");
  await sleep(6_000);
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox"],
    headless: true,
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url);
  await page.locator('tbody tr[data-leads="true"]').waitFor({ timeout: 5_000 });
  await sleep(1_500);
  mkdirSync(join(root, "docs", "images"), { recursive: true });
  const file = join(root, "docs", "images", "dashboard-live.png");
  await page.screenshot({ path: file, fullPage: true });
  console.log(`wrote ${file}`);
} finally {
  await browser?.close();
  await workload?.abort();
  up.kill("SIGINT");
  await new Promise((resolve) => up.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
}
