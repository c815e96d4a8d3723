// The live dashboard in a browser for the two protocols besides Raft: PBFT's "restart as
// Byzantine" button, and the primary/backup page (epoch, primary, backup lag, the arbiter line,
// a failover after kill -9 on the primary, and the arbiter group's own rows and buttons).
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, noBrowserReason } from "./browser.js";
import { type SupervisedCluster, startSupervisedCluster } from "./supervised-cluster.js";

if (noBrowserReason !== undefined)
  console.log(`skipping the live dashboard's protocol browser tests: ${noBrowserReason}`);

const leaderRow = '#replicas tbody tr[data-leads="true"]';

async function leaderOf(page: Page, timeoutMs: number, not?: string): Promise<string> {
  const selector = not === undefined ? leaderRow : `${leaderRow}:not([data-replica="${not}"])`;
  const row = page.locator(selector);
  await row.waitFor({ timeout: timeoutMs });
  return (await row.getAttribute("data-replica")) ?? "";
}

/** The text of row `id`'s cell under the column headed `label`. */
async function cell(page: Page, id: string, label: string): Promise<string> {
  const headers = await page.locator("#replicas thead th").allTextContents();
  const at = headers.indexOf(label);
  if (at < 0) throw new Error(`no column ${label} in ${headers.join(", ")}`);
  const cells = page.locator(`#replicas tr[data-replica="${id}"] > *`);
  return (await cells.nth(at).textContent()) ?? "";
}

describe.skipIf(noBrowserReason !== undefined)(
  "the live dashboard of pbft and primary-backup",
  () => {
    let browser: Browser;
    const clusters: SupervisedCluster[] = [];

    beforeAll(async () => {
      browser = await launchBrowser();
    }, 15_000);

    afterAll(async () => {
      await browser?.close();
      for (const cluster of clusters) await cluster.stop();
    }, 20_000);

    it("pbft: restart as Byzantine, and the row then says so with the behaviour", async () => {
      const cluster = await startSupervisedCluster("pbft", 4);
      clusters.push(cluster);
      const page = await browser.newPage();
      await page.goto(cluster.url);
      await expect
        .poll(() => page.locator("#replicas tbody tr").count(), { timeout: 5_000 })
        .toBe(4);
      const primary = await leaderOf(page, 5_000);
      const backup = String((Number(primary) + 1) % 4);
      const row = page.locator(`#replicas tr[data-replica="${backup}"]`);
      await row.locator("select").selectOption("corrupt-replies");
      await row.locator('button[data-action="byzantine"]').click();
      await expect
        .poll(() => row.textContent(), { timeout: 8_000 })
        .toContain("⚠ BYZANTINE: corrupt-replies");
      await expect
        .poll(() => page.locator("#timeline").textContent(), { timeout: 3_000 })
        .toContain(`r${backup} restarted as a Byzantine replica (corrupt-replies)`);
      await page.close();
      await cluster.stop();
    }, 25_000);

    it("primary-backup: epoch, primary, backup lag and the arbiter; kill -9 on the primary → a new primary and epoch", async () => {
      const cluster = await startSupervisedCluster("primary-backup", null);
      clusters.push(cluster);
      const page = await browser.newPage();
      await page.goto(cluster.url);
      await expect
        .poll(() => page.locator("#replicas tbody tr").count(), { timeout: 5_000 })
        .toBe(2);
      const primary = await leaderOf(page, 8_000);
      const epoch = Number(await cell(page, primary, "epoch"));
      expect(epoch).toBeGreaterThan(0);
      expect(await cell(page, primary, "primary")).toBe(`r${primary}`);
      await expect
        .poll(() => cell(page, primary, "backup lag"), { timeout: 5_000 })
        .toMatch(/^\d+$/);
      expect(await page.locator("#summary").textContent()).toContain(
        `primary: r${primary} (epoch ${epoch})`,
      );
      await expect
        .poll(() => page.locator("#arbiter").textContent(), { timeout: 3_000 })
        .toMatch(/^arbiter: raft group of 3, leader r\d \(term \d+\); 3\/3 answering$/);

      await page
        .locator(`#replicas tr[data-replica="${primary}"] button[data-action="kill"]`)
        .click();
      const next = await leaderOf(page, 10_000, primary);
      expect(next).not.toBe(primary);
      expect(Number(await cell(page, next, "epoch"))).toBeGreaterThan(epoch);
      await expect
        .poll(() => page.locator("#summary").textContent(), { timeout: 2_000 })
        .toContain(`primary: r${next} (epoch`);

      // The arbiter group's replicas have rows and buttons too: kill -9 on one of its followers.
      expect(await page.locator("#arbiter-replicas tbody tr").count()).toBe(3);
      const follower = page.locator(
        '#arbiter-replicas tbody tr[data-leads="false"][data-state="up"]',
      );
      const id = await follower.first().getAttribute("data-replica");
      const arbiterRow = page.locator(`#arbiter-replicas tr[data-replica="${id}"]`);
      await arbiterRow.locator('button[data-action="kill"]').click();
      await expect
        .poll(() => arbiterRow.textContent(), { timeout: 3_000 })
        .toContain("killed from the dashboard");
      await expect
        .poll(() => page.locator("#arbiter").textContent(), { timeout: 3_000 })
        .toContain("2/3 answering");
      // The action lands on the timeline when the kill's request returns, which can be after
      // the arbiter's own sample already saw the replica gone.
      await expect
        .poll(() => page.locator("#timeline").textContent(), { timeout: 3_000 })
        .toContain(`arbiter r${id} killed (SIGKILL`);
      await page.close();
    }, 30_000);
  },
);
