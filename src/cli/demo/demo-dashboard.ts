import type { ClusterConfig } from "../../core/config.js";
import type { ServedPage } from "../../dashboard/http/served-page.js";
import { startLiveDashboard } from "../../dashboard/serve-live.js";
import type { Screen } from "./screen.js";

/**
 * The live dashboard of a demo's cluster, on a free port of 127.0.0.1, for as long as the demo
 * runs (it only watches: the demo itself kills and restarts replicas). A dashboard that cannot be
 * served is reported and the demo goes on without it.
 */
export async function startDemoDashboard(
  screen: Screen,
  enabled: boolean,
  config: ClusterConfig,
  arbiter?: ClusterConfig,
): Promise<ServedPage | undefined> {
  if (!enabled) return undefined;
  try {
    const page = await startLiveDashboard({
      config,
      host: "127.0.0.1",
      port: 0,
      title: "demo",
      ...(arbiter && { arbiter }),
    });
    screen.print(`dashboard: ${page.url} (live while the demo runs; --no-dashboard turns it off)`);
    return page;
  } catch (error) {
    screen.print(`dashboard not served: ${(error as Error).message}`);
    return undefined;
  }
}
