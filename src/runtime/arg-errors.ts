/** node:util's parseArgs messages, shortened to the part a user needs. */
export function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as { message?: unknown } | null)?.message ?? error);
  const option = /'(-[^' ]*)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return `unknown option ${option}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option?.startsWith("--")) {
    // "--duration -1": the value looks like an option, so parseArgs will not take it.
    if (/ambiguous/.test(message))
      return `${option} needs a value (write a value that starts with "-" as ${option}=VALUE)`;
    if (/argument missing/.test(message)) return `${option} needs a value`;
    if (/does not take an argument/.test(message)) return `${option} takes no value`;
  }
  return message.split("\n")[0]!;
}
