import { parseArgs } from "node:util";

/** A command-line mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; default?: string | boolean }
>;

export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  spec: OptionSpec,
): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: spec,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0)
      throw new UsageError(
        `${command}: unexpected argument "${positionals[0]}" (see lockstep ${command} --help)`,
      );
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `${command}: ${describeParseError(error)} (see lockstep ${command} --help)`,
    );
  }
}

export function intOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const text = String(raw);
  if (!/^-?\d+$/.test(text))
    throw new UsageError(`${command}: --${name} expects an integer, got "${text}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${command}: --${name} must be from ${min} to ${max}, got ${text}`);
  }
  return n;
}

export function numberOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const text = String(raw);
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(
      `${command}: --${name} must be a number from ${min} to ${max}, got "${text}"`,
    );
  }
  return n;
}

/** node:util's parseArgs messages, shortened to the part a user needs. */
function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-[^' ]*)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return `unknown option ${option}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option?.startsWith("--")) {
    // "--duration -1": the value looks like an option, so parseArgs will not take it.
    if (/ambiguous/.test(message))
      return `${option} needs a value (write a value that starts with "-" as ${option}=VALUE)`;
    if (/argument missing/.test(message)) return `${option} needs a value`;
    if (/does not take an argument/.test(message)) return `${option} takes no value`;
  }
  return message.split("\n")[0] ?? message;
}
