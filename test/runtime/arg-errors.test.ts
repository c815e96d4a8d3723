import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import { describeParseError } from "../../src/runtime/arg-errors.js";

/** The message describeParseError gives for what parseArgs throws on `args`. */
function messageFor(args: string[]): string {
  try {
    parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { duration: { type: "string" }, json: { type: "boolean" } },
    });
  } catch (error) {
    return describeParseError(error);
  }
  throw new Error(`parseArgs accepted ${args.join(" ")}`);
}

describe("command-line parse errors", () => {
  it.each([
    [["--bogus"], "unknown option --bogus"],
    [["-x"], "unknown option -x"],
    [["--duration"], "--duration needs a value"],
    [
      ["--duration", "-1"],
      '--duration needs a value (write a value that starts with "-" as --duration=VALUE)',
    ],
    [["--json=yes"], "--json takes no value"],
  ])("%j gives one short line", (args, expected) => {
    expect(messageFor(args)).toBe(expected);
  });

  it("falls back to the first line of anything else", () => {
    expect(describeParseError(new Error("first\nsecond"))).toBe("first");
    expect(describeParseError("plain")).toBe("plain");
  });
});
