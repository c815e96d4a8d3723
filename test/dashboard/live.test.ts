import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, noBrowserReason } from "./browser.js";
import { type SupervisedCluster, startSupervisedCluster } from "./supervised-cluster.js";

if (noBrowserReason !== undefined)
  console.log(`skipping the live dashboard's browser test: ${noBrowserReason}`);

const leaderRow = 'tbody tr[data-leads="true"]';

async function leaderOf(page: Page, timeoutMs: number, not?: string): Promise<string> {
  const selector = not === undefined ? leaderRow : `${leaderRow}:not([data-replica="${not}"])`;
  const row = page.locator(selector);
  await row.waitFor({ timeout: timeoutMs });
  return (await row.getAttribute("data-replica")) ?? "";
}

describe.skipIf(noBrowserReason !== undefined)("the live dashboard in a browser", () => {
  let browser: Browser;
  let cluster: SupervisedCluster;

  beforeAll(async () => {
    [browser, cluster] = await Promise.all([launchBrowser(), startSupervisedCluster()]);
  }, 25_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  }, 15_000);

  it("shows 3 replicas and the leader; kill -9 on the leader shows a new one within seconds", async () => {
    const page = await browser.newPage();
    await page.goto(cluster.url);
    await expect.poll(() => page.locator("tbody tr").count(), { timeout: 5_000 }).toBe(3);
    const first = await leaderOf(page, 5_000);
    expect(await page.locator("#summary").textContent()).toContain(`leader: r${first}`);

    await page.locator(`tr[data-replica="${first}"] button[data-action="kill"]`).click();
    const next = await leaderOf(page, 10_000, first);
    expect(next).not.toBe(first);
    const killed = page.locator(`tr[data-replica="${first}"]`);
    await expect.poll(() => killed.textContent(), { timeout: 3_000 }).toContain("DOWN");
    expect(await killed.textContent()).toContain("killed from the dashboard");
    await expect
      .poll(() => page.locator("#timeline").textContent(), { timeout: 2_000 })
      .toContain(`r${first} killed (SIGKILL`);

    // Keyboard: focus the killed replica's restart button and press Enter.
    await killed.locator('button[data-action="restart"]').focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => killed.getAttribute("data-state"), { timeout: 8_000 }).toBe("up");
    await expect
      .poll(() => page.locator("#timeline").textContent(), { timeout: 3_000 })
      .toContain(`r${first} restarted`);

    // Cut the leader's links: the replica itself reports the cut (its /status), the others
    // elect a new leader; heal them again.
    const cutId = await leaderOf(page, 5_000);
    const cutRow = page.locator(`tr[data-replica="${cutId}"]`);
    await cutRow.locator('button[data-action="cut"]').click();
    await expect.poll(() => cutRow.textContent(), { timeout: 3_000 }).toContain("cut (socket");
    await leaderOf(page, 10_000, cutId);
    await cutRow.locator('button[data-action="heal"]').click();
    await expect.poll(() => cutRow.textContent(), { timeout: 3_000 }).not.toContain("cut (socket");

    const followerId = await page
      .locator(`tbody tr[data-leads="false"][data-state="up"]`)
      .first()
      .getAttribute("data-replica");
    const follower = page.locator(`tr[data-replica="${followerId}"]`);
    // Pause: the replica cannot answer its /status, so it shows down, and paused; resume.
    await follower.locator('button[data-action="pause"]').click();
    await expect
      .poll(() => follower.textContent(), { timeout: 3_000 })
      .toContain("paused (SIGSTOP)");
    expect(await follower.getAttribute("data-state")).toBe("down");
    await follower.locator('button[data-action="resume"]').click();
    await expect.poll(() => follower.getAttribute("data-state"), { timeout: 3_000 }).toBe("up");
    // Raft tolerates no lying replica: no Byzantine button, and its endpoint does not exist.
    expect(await page.locator('button[data-action="byzantine"]').count()).toBe(0);
    const byzantine = await page.evaluate(async (id) => {
      const response = await fetch(`api/replicas/${id}/byzantine?behaviour=equivocate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      return response.status;
    }, followerId);
    expect(byzantine).toBe(404);
    await page.close();
  }, 30_000);
});
