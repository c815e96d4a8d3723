import type { ServedPage } from "../../dashboard/http/served-page.js";
import { startLiveDashboard } from "../../dashboard/serve-live.js";
import { DemoControls, type DemoFaults } from "./demo-faults.js";
import type { Screen } from "./screen.js";

/**
 * The live dashboard of a demo's cluster, on a free port of 127.0.0.1, for as long as the demo
 * runs, with the fault buttons of `up --dashboard` over the demo's replica processes (`faults`;
 * for primary/backup also over its arbiter group's, `arbiter`).
 * A dashboard that cannot be served is reported and the demo goes on without it.
 */
export async function startDemoDashboard(
  screen: Screen,
  enabled: boolean,
  faults: DemoFaults,
  arbiter?: DemoFaults,
): Promise<ServedPage | undefined> {
  if (!enabled) return undefined;
  try {
    const page = await startLiveDashboard({
      config: faults.config,
      host: "127.0.0.1",
      port: 0,
      title: "demo",
      controls: new DemoControls(faults),
      ...(arbiter && { arbiter: arbiter.config, arbiterControls: new DemoControls(arbiter) }),
    });
    screen.print(
      `dashboard: ${page.url} (live while the demo runs, with fault buttons; --no-dashboard turns it off)`,
    );
    return page;
  } catch (error) {
    screen.print(`dashboard not served: ${(error as Error).message}`);
    return undefined;
  }
}
