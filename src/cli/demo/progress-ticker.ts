import { type Screen, seconds } from "./screen.js";

/** What the progress line shows, read afresh at each redraw. */
export interface ProgressSample {
  readonly ops: number;
  readonly errors: number;
  readonly leader: { readonly replica: number; readonly term: number } | undefined;
  readonly up: number;
  readonly replicas: number;
  /** How the protocol calls its leader and its epoch (default "leader", "term"). */
  readonly names?: { readonly leader: string; readonly epoch: string };
}

/**
 * Redraws the progress line: four times a second on a terminal, once a second otherwise (a pipe
 * or a log file gets one line per second). The rate is over the last second, so a stall after a
 * leader's death shows at once instead of being averaged away. Returns a function that stops it.
 */
export function startProgress(screen: Screen, sample: () => ProgressSample): () => void {
  const history: { at: number; ops: number }[] = [];
  const draw = (): void => {
    const now = screen.elapsed();
    const s = sample();
    history.push({ at: now, ops: s.ops });
    while (history.length > 1 && now - history[0]!.at > 1_050) history.shift();
    const oldest = history[0]!;
    const rate = now > oldest.at ? ((s.ops - oldest.ops) * 1000) / (now - oldest.at) : 0;
    const names = s.names ?? { leader: "leader", epoch: "term" };
    const leader = s.leader
      ? `${names.leader} r${s.leader.replica} ${names.epoch} ${s.leader.term}`
      : `no ${names.leader}`;
    screen.progress(
      `${seconds(now).padStart(6)} s | ${s.ops} ops | ${rate.toFixed(0)} ops/s | ` +
        `${s.errors} errors | ${leader} | ${s.up}/${s.replicas} up`,
    );
  };
  draw();
  const timer = setInterval(draw, screen.redraws ? 250 : 1_000);
  return () => clearInterval(timer);
}
