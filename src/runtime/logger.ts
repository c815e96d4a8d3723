/**
 * Structured logs: one JSON object per line, `{"ts", "level", "replica", "msg", ...fields}`,
 * written to stderr by default. Fields are plain data; errors are flattened to their message.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export const logLevels: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export type LogFields = { readonly [key: string]: unknown };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  /** The replica id written in every line (omitted when undefined). */
  readonly replica?: number;
  /** Lines below this level are dropped (default "info"). */
  readonly level?: LogLevel;
  /** Where lines go (default: process.stderr). */
  readonly write?: (line: string) => void;
  /** The clock (default Date.now), for tests. */
  readonly now?: () => number;
}

/** Turns values JSON cannot carry (errors, bigints, byte arrays) into something readable. */
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (typeof code === "string") out.code = code;
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const min = levelRank[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const log = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (levelRank[level] < min) return;
    const record: Record<string, unknown> = { ts: new Date(now()).toISOString(), level };
    if (options.replica !== undefined) record.replica = options.replica;
    record.msg = msg;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        if (key === "ts" || key === "level" || key === "replica" || key === "msg") continue;
        if (value !== undefined) record[key] = plain(value);
      }
    }
    let line: string;
    try {
      line = JSON.stringify(record, (_key, v: unknown) => plain(v));
    } catch {
      line = JSON.stringify({ ts: record.ts, level, replica: options.replica, msg });
    }
    try {
      write(`${line}\n`);
    } catch {
      // A closed stderr must not take the replica down.
    }
  };
  return {
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
