// The demo's dashboard has up's fault buttons over the demo's own replica processes, and a
// button press that makes a scripted step impossible fails that step with a line naming it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DemoCluster } from "../../src/cli/demo/demo-cluster.js";
import { startDemoDashboard } from "../../src/cli/demo/demo-dashboard.js";
import { DemoControls, DemoFaults } from "../../src/cli/demo/demo-faults.js";
import { Screen } from "../../src/cli/demo/screen.js";
import type { ServedPage } from "../../src/dashboard/http/served-page.js";
import type { LiveSnapshot } from "../../src/dashboard/web/shared/live-wire.js";
import { localClusterConfig } from "../../src/runtime/cluster-folder.js";
import { LocalCluster } from "../../src/runtime/local-cluster.js";

const dir = mkdtempSync(join(tmpdir(), "lockstep-demo-dash-"));
let out = "";
const sink = {
  write: (text: string) => {
    out += text;
    return true;
  },
  isTTY: false,
};
const stream = sink as unknown as NodeJS.WriteStream;
const screen = new Screen(() => 0, stream, stream);
let demo: DemoCluster;
let page: ServedPage | undefined;

beforeAll(async () => {
  demo = await DemoCluster.create(join(dir, "demo"), screen);
  demo.startAll();
  await demo.leader("no leader");
  page = await startDemoDashboard(screen, true, demo.faults);
}, 30_000);

afterAll(async () => {
  await page?.close();
  await demo?.stop(2_000);
  rmSync(dir, { recursive: true, force: true });
});

function press(id: number, action: string) {
  return fetch(`${page!.url}api/replicas/${id}/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
}

describe("the demo's dashboard", () => {
  it("kills and restarts the demo's replicas, and the demo says so instead of lying", async () => {
    const snapshot = (await (await fetch(`${page!.url}api/snapshot`)).json()) as LiveSnapshot;
    expect(snapshot.controls?.replicas).toEqual([0, 1, 2]);
    expect(snapshot.controls?.actions).toContain("kill");
    expect(snapshot.controls?.actions).not.toContain("byzantine");
    expect(out).toMatch(
      /dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(live while the demo runs, with fault buttons/,
    );

    demo.faults.enter("steady load");
    const killed = await press(1, "kill");
    expect(killed.status).toBe(200);
    expect(((await killed.json()) as { text: string }).text).toMatch(/^r1 killed \(SIGKILL/);
    expect(demo.cluster.children[1]?.alive).toBe(false);
    // The demo's own kill of r1 is now impossible: it fails, naming the user's action.
    await expect(demo.kill(1)).rejects.toThrow(
      'cannot SIGKILL r1: it is not running in step "steady load" (user pressed kill on r1 during step "steady load")',
    );

    demo.faults.enter("restart the killed replica");
    expect((await press(1, "restart")).status).toBe(200);
    expect(demo.cluster.children[1]?.alive).toBe(true);
    expect(() => demo.start(1)).toThrow(
      'cannot start r1: it is already running in step "restart the killed replica" (user pressed kill on r1 during step "steady load"; user pressed restart on r1 during step "restart the killed replica")',
    );
    // A button's kill is no unexpected exit; it is narrated as the dashboard's.
    expect(out).toMatch(/dashboard: r1 killed \(SIGKILL/);
    expect(out).not.toMatch(/exited unexpectedly/);
    const timeline = ((await (await fetch(`${page!.url}api/snapshot`)).json()) as LiveSnapshot)
      .timeline;
    expect(timeline.filter((e) => e.kind === "action").map((e) => e.text)).toEqual([
      expect.stringMatching(/^r1 killed/),
      "r1 restarted",
    ]);
  }, 30_000);

  it("pbft: a scripted Byzantine restart beyond f, after a user's, fails naming the press", async () => {
    const config = await localClusterConfig("pbft", 4);
    // No process is started here: the refusal comes before any.
    const cluster = new LocalCluster({
      config,
      configFile: "unused",
      keyFile: () => "unused",
      dataDir: () => "unused",
    });
    const faults = new DemoFaults(
      config,
      () => cluster,
      () => {},
    );
    faults.enter("steady load");
    faults.slot(2)!.behaviour = "silent";
    faults.userDid(2, "byzantine", "silent");
    faults.enter("restart the primary as equivocating");
    expect(() => faults.start(0, "equivocate")).toThrow(
      'cannot restart r0 as a Byzantine replica: r2 already lies and the cluster tolerates f = 1 in step "restart the primary as equivocating" (user pressed byzantine (silent) on r2 during step "steady load")',
    );
    // The buttons refuse a second liar too (up's rule, over the demo's replicas).
    await expect(new DemoControls(faults).perform(1, "byzantine", "equivocate")).rejects.toThrow(
      /tolerates f = 1 Byzantine replica\(s\) and r2 already lies/,
    );
  });
});
