import type { Value } from "../../core/value.js";

/** When the backup acknowledges a log entry (the output rule waits for this acknowledgement). */
export type AckOn =
  /** As soon as the entry arrived (the paper): survives any single failure, not a power loss of both. */
  | "receipt"
  /** After the backup's own write of the entry is durable: also survives losing power on both at once. */
  | "durable";

export interface PrimaryBackupSettings {
  /** A live primary sends the log (or an empty append as a heartbeat) to the others this often, in ticks. */
  readonly heartbeatTicks: number;
  /**
   * Ticks without traffic from the other side before a replica suspects it failed: the backup
   * then asks the arbiter to go live, the paired primary asks to go on alone.
   */
  readonly failTicks: number;
  /** Ticks to wait for the arbiter's answer before asking again (a lost answer is never taken as a win). */
  readonly arbiterRetryTicks: number;
  readonly ackOn: AckOn;
  /**
   * Most log entries a paired backup may leave unacknowledged; beyond it the primary answers new
   * commands `busy` (the paper slows the primary down), which bounds how much a go-live replays.
   * It counts entries, not commands: one entry holds up to `maxBatchCommands` commands, so a
   * go-live replays at most maxBackupLag × maxBatchCommands commands (plus entries in flight).
   */
  readonly maxBackupLag: number;
  /** Most entries in one append message. */
  readonly maxEntriesPerMessage: number;
  /** Most commands folded into one log entry. */
  readonly maxBatchCommands: number;
  /** Take a snapshot every this many applied entries (0: never). */
  readonly snapshotEvery: number;
  /** Most client commands the primary holds awaiting their output; beyond it: `busy`. */
  readonly maxPending: number;
}

export const defaultPrimaryBackupSettings: PrimaryBackupSettings = {
  heartbeatTicks: 2,
  failTicks: 20,
  arbiterRetryTicks: 10,
  ackOn: "durable",
  maxBackupLag: 256,
  maxEntriesPerMessage: 64,
  maxBatchCommands: 256,
  snapshotEvery: 10_000,
  maxPending: 10_000,
};

const minimums: { readonly [K in keyof PrimaryBackupSettings]?: number } = {
  heartbeatTicks: 1,
  failTicks: 2,
  arbiterRetryTicks: 1,
  maxBackupLag: 1,
  maxEntriesPerMessage: 1,
  maxBatchCommands: 1,
  snapshotEvery: 0,
  maxPending: 1,
};

/** Reads the primary-backup settings, naming every bad field. */
export function parsePrimaryBackupSettings(settings: {
  readonly [key: string]: Value;
}): PrimaryBackupSettings {
  const problems: string[] = [];
  const out: Record<string, Value> = { ...defaultPrimaryBackupSettings };
  for (const [key, v] of Object.entries(settings)) {
    if (!Object.hasOwn(defaultPrimaryBackupSettings, key)) {
      problems.push(`settings.${key}: unknown setting for protocol primary-backup`);
    } else if (key === "ackOn") {
      if (v === "receipt" || v === "durable") out[key] = v;
      else
        problems.push(`settings.ackOn: expected "receipt" or "durable", got ${JSON.stringify(v)}`);
    } else {
      const min = minimums[key as keyof PrimaryBackupSettings] ?? 0;
      if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
        problems.push(`settings.${key}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
      } else {
        out[key] = v;
      }
    }
  }
  const heartbeat = out.heartbeatTicks as number;
  const fail = out.failTicks as number;
  if (problems.length === 0 && fail <= heartbeat)
    problems.push(
      `settings.failTicks: must exceed heartbeatTicks (${heartbeat}), got ${fail}: a live peer would be suspected between heartbeats`,
    );
  if (problems.length > 0) throw new Error(problems.join("; "));
  return out as unknown as PrimaryBackupSettings;
}
