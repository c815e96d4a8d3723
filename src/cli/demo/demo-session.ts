import { DemoFailure } from "./demo-failure.js";
import type { DemoFaults } from "./demo-faults.js";
import type { ReadBackResult } from "./read-back.js";
import type { Screen } from "./screen.js";

/** What every demo's cluster offers the shared handling below. */
interface StoppableCluster {
  readonly dir: string;
  stop(graceMs?: number): Promise<void>;
}

/**
 * Ctrl-C and SIGTERM during a demo: stop the progress line, say so, stop every replica, and exit
 * 130 or 143. `stopProgress` is read at signal time (the demo replaces it once the line starts).
 * Returns the function that removes the handlers again.
 */
export function handleDemoSignals(
  screen: Screen,
  demo: StoppableCluster,
  stopProgress: () => void,
): () => void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    stopProgress();
    screen.endProgress();
    screen.say(`${signal}: stopping every replica (the data folder ${demo.dir} stays)`);
    screen.silence();
    void demo.stop(1_000).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/** Polls `condition` every 50 ms until it yields a value; a DemoFailure saying `failure` after `patienceMs`. */
export async function pollUntil<T>(
  condition: () => T | undefined | Promise<T | undefined>,
  failure: string,
  patienceMs: number,
): Promise<T> {
  const deadline = performance.now() + patienceMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new DemoFailure(failure);
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
  }
}

/** Fails the demo (exit 1, with the line saying why) if the read-back found a gap. */
export function requireEveryWriteRead(check: ReadBackResult): void {
  const missing = check.lost[0];
  if (missing) {
    throw new DemoFailure(
      `${check.lost.length} acknowledged writes lost, e.g. ${missing.key}: ` +
        `acknowledged ${missing.expected}, read ${missing.got}`,
    );
  }
  const unread = check.unreadable[0];
  if (unread) {
    throw new DemoFailure(
      `${check.unreadable.length} acknowledged writes could not be read back (${unread.error})`,
    );
  }
}

/**
 * Says what the dashboard's user did during the run, if anything: the demo's narration and
 * figures then include the effects of those actions, and the reader must know.
 */
export function reportUserActions(screen: Screen, ...groups: DemoFaults[]): void {
  const lines = groups.flatMap((faults) => faults.userActionsLine() ?? []);
  if (lines.length === 0) return;
  const line = lines.join("; ");
  screen.say(
    `the dashboard's user acted during the run (${line}); what is shown above includes their effects`,
  );
}
