import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedPage, serveReplay } from "../../src/dashboard/replay/serve-replay.js";
import { defaultSimOptions } from "../../src/sim/options.js";
import { runSeeds } from "../../src/sim/run-seeds.js";
import type { SimTrace } from "../../src/sim/trace/trace-format.js";
import { launchBrowser, noBrowserReason } from "./browser.js";

if (noBrowserReason !== undefined) console.log(`replay browser test skipped: ${noBrowserReason}`);

// The replay viewer in a real browser, on the trace a failing seed leaves in --out: Raft with a
// planted bug (reads served without a quorum), caught by seed 38 of short runs as a
// linearizability violation.
describe.skipIf(noBrowserReason !== undefined)("the replay viewer", () => {
  const dir = mkdtempSync(join(tmpdir(), "lockstep-replay-"));
  let trace: SimTrace;
  let served: ServedPage;
  let browser: Browser;

  beforeAll(async () => {
    const base = {
      ...defaultSimOptions,
      protocol: "raft-bug-read-index-without-quorum",
      clients: 3,
      duration: 2,
    };
    const report = await runSeeds({ base, seeds: [38], jobs: 1, outDir: dir });
    const file = report.failures[0]!.files.find((f) => f.endsWith(".trace.json"))!;
    trace = JSON.parse(readFileSync(file, "utf8")) as SimTrace;
    served = await serveReplay({ file, host: "127.0.0.1", port: 0 });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("steps through the run and highlights the checker's counterexample", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(served.url);
    // Page code runs in the browser: given as text, since the tests are typed without the DOM.
    await page.waitForFunction("window.replayDebug !== undefined", undefined, { timeout: 10_000 });
    await expect
      .poll(() => page.locator("#run-verdict").textContent())
      .toBe("failed: linearizability: history is not linearizable");
    const clock = page.locator("#clock");
    expect(await clock.textContent()).toMatch(/event 1 of \d+/);

    // Keyboard: arrows step event by event, space plays and pauses.
    await page.locator("#diagram").focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
    expect(await clock.textContent()).toMatch(/event 4 of/);
    await page.keyboard.press("ArrowLeft");
    expect(await clock.textContent()).toMatch(/event 3 of/);
    await page.keyboard.press(" ");
    await expect.poll(() => page.locator("#play").textContent()).toBe("‖ pause");
    await page.keyboard.press(" ");
    await expect.poll(() => page.locator("#play").textContent()).toBe("▶ play");
    // The controls are reachable by Tab, one after another.
    await page.locator("#to-start").focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.id")).toBe("step-back");

    // The counterexample: the operation the checker could not linearize, selected from the
    // verdict, is marked in the event list at its instant.
    const stuck = trace.verdict.counterexample!.stuck[0]!;
    const button = page.locator("#verdict button.stuck").first();
    expect(await button.textContent()).toContain(`⚠ cannot be linearized next: #${stuck} `);
    await button.click();
    const op = trace.operations.find((o) => o.id === stuck)!;
    expect(await clock.textContent()).toContain(`t = ${op.invoked.toFixed(3)} ms`);
    const marked = page.locator("#events li.cx");
    expect(await marked.last().textContent()).toContain(
      `⚠ counterexample: ${op.client} invokes #${stuck}`,
    );
    // The replicas' state at that instant: one row per replica.
    const replicas = trace.lanes.filter((l) => l.kind === "replica").length;
    expect(await page.locator("#states tr").count()).toBe(replicas + 1);
    expect(await page.locator("#states").textContent()).toContain("★ leads");

    // A filter hides a message kind from the event list.
    await page.locator('#filters input[name="append"]').uncheck();
    expect(await page.locator("#events").textContent()).not.toContain(" append:");
    expect(errors).toEqual([]);
  }, 30_000);
});
