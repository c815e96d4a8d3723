// Load time and frame time of the replay viewer (lockstep dashboard --replay) on large traces,
// in Debian's chromium driven by playwright-core. Run after `npm run build`:
//   node bench/replay-render.mjs [--protocol raft] [--seed 8] [--clients 8] [--duration 0.4,1,4]
// Each duration makes one trace; the table has one row per trace. Timings are the browser's own
// (performance.now()); the machine's load shows in them, so compare on a quiet machine.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values } = parseArgs({
  options: {
    protocol: { type: "string", default: "raft" },
    seed: { type: "string", default: "8" },
    clients: { type: "string", default: "8" },
    duration: { type: "string", default: "0.4,1,4" },
  },
});
const root = fileURLToPath(new URL("..", import.meta.url));
const browserPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!browserPath) throw new Error("no chromium (apt-get install chromium)");
const { serveReplay } = await import(join(root, "dist/dashboard/replay/serve-replay.js"));
const dir = mkdtempSync(join(tmpdir(), "lockstep-replay-bench-"));
const browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const ms = (x) => x.toFixed(1).padStart(7);

const rows = [];
try {
  for (const duration of values.duration.split(",")) {
    const file = join(dir, `trace-${duration}.json`);
    const sim = spawnSync(
      process.execPath,
      [
        join(root, "dist/cli/main.js"),
        "sim",
        ...["--protocol", values.protocol, "--seed", values.seed, "--clients", values.clients],
        ...["--duration", duration, "--trace", file, "--out", dir],
      ],
      { encoding: "utf8", timeout: 600_000 },
    );
    if (!existsSync(file)) throw new Error(`sim wrote no trace:\n${sim.stdout}\n${sim.stderr}`);
    const served = await serveReplay({ file, host: "127.0.0.1", port: 0 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(served.url);
    await page.waitForFunction("window.replayDebug !== undefined", undefined, { timeout: 120_000 });
    const loadMs = await page.evaluate("window.replayDebug.loadMs");
    const items = await page.evaluate("window.replayDebug.items");
    // Seeking: 300 positions across the run at the default 20 ms window (draw time only).
    const seekDraws = await page.evaluate(`(async () => {
      const d = window.replayDebug; d.drawMs.length = 0;
      const last = document.querySelector('#seek');
      for (let i = 0; i < 300; i++) { last.value = String(Math.floor((i / 300) * Number(last.max))); last.dispatchEvent(new Event('input')); }
      return [...d.drawMs];
    })()`);
    // Playing at 250 ms/s for 3 s: intervals between animation frames, and draw times.
    await page.selectOption("#speed", "250");
    const play = await page.evaluate(`(async () => {
      const d = window.replayDebug; d.drawMs.length = 0; d.seek(0);
      document.querySelector('#play').click();
      const gaps = []; let last = performance.now();
      await new Promise((resolve) => {
        const stop = performance.now() + 3000;
        const tick = (t) => { gaps.push(t - last); last = t; if (t < stop) requestAnimationFrame(tick); else resolve(); };
        requestAnimationFrame(tick);
      });
      document.querySelector('#play').click();
      return { gaps: gaps.slice(1), draws: [...d.drawMs] };
    })()`);
    // The whole run in the window: every arrow on screen at once (the worst frame).
    for (let i = 0; i < 20; i++) await page.click("#zoom-out");
    const wholeDraws = await page.evaluate(`(async () => {
      const d = window.replayDebug; d.drawMs.length = 0;
      for (let i = 0; i < 20; i++) d.seek(i);
      return [...d.drawMs];
    })()`);
    rows.push({
      duration,
      items,
      mb: statSync(file).size / 1e6,
      loadMs,
      seek: seekDraws,
      gaps: play.gaps,
      draws: play.draws,
      whole: wholeDraws,
    });
    await page.close();
    await served.close();
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `replay viewer, ${values.protocol} seed ${values.seed}, ${values.clients} clients, chromium headless, 1400x900\n`,
);
console.log(
  "sim s | events |   MB | load ms | seek draw p50/p99 ms | play frame gap p50/p99 ms | play draw p99 ms | whole-run draw p50 ms",
);
for (const r of rows) {
  console.log(
    `${r.duration.padStart(5)} | ${String(r.items).padStart(6)} | ${r.mb.toFixed(1).padStart(4)} | ${ms(r.loadMs)} | ${ms(quantile(r.seek, 0.5))} / ${ms(quantile(r.seek, 0.99))}    | ${ms(quantile(r.gaps, 0.5))} / ${ms(quantile(r.gaps, 0.99))}         | ${ms(quantile(r.draws, 0.99))}          | ${ms(quantile(r.whole, 0.5))}`,
  );
}
