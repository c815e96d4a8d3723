import type { ClusterConfig } from "../core/config.js";
import { serveLive } from "./http/live-server.js";
import type { ServedPage } from "./http/served-page.js";
import type { ReplicaControls } from "./live/controls.js";
import { LiveHub } from "./live/live-hub.js";

export interface LiveDashboardOptions {
  readonly config: ClusterConfig;
  readonly host: string;
  /** 0: any free port (the URL says which). */
  readonly port: number;
  readonly token?: string;
  /** Poll interval (ms; default 400). */
  readonly pollMs?: number;
  /** The fault buttons' supervisor; without it the page only watches. */
  readonly controls?: ReplicaControls;
  /** primary-backup: its arbiter group's configuration. */
  readonly arbiter?: ClusterConfig;
  /** The arbiter replicas' fault buttons (only where the same supervisor runs them). */
  readonly arbiterControls?: ReplicaControls;
  /** The page's title (the configuration file, say). */
  readonly title?: string;
}

/** The default poll interval: every replica's /status and /metrics, 2.5 times a second. */
export const defaultPollMs = 400;

/**
 * Serves the live dashboard of one cluster until close(): polls its replicas, serves the page,
 * pushes updates to it. The URL does not carry the token: whoever opens it adds ?token=.
 */
export async function startLiveDashboard(options: LiveDashboardOptions): Promise<ServedPage> {
  const hub = new LiveHub({
    config: options.config,
    pollMs: options.pollMs ?? defaultPollMs,
    ...(options.controls && { controls: options.controls }),
    ...(options.arbiter && { arbiter: options.arbiter }),
    ...(options.arbiter && options.arbiterControls && { arbiterControls: options.arbiterControls }),
  });
  const served = await serveLive({
    hub,
    host: options.host,
    port: options.port,
    ...(options.token !== undefined && { token: options.token }),
    ...(options.controls && { controls: options.controls }),
    ...(options.arbiter && options.arbiterControls && { arbiterControls: options.arbiterControls }),
    title: options.title ?? `${options.config.protocol}`,
  });
  hub.start();
  return {
    url: served.url,
    close: async () => {
      hub.stop();
      await served.close();
    },
  };
}
