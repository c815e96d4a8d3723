import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import { utf8Length } from "./utf8.js";
import { kindOf, preview } from "./values.js";

/** A command or query from the network that does not have the service's shape. */
export class InvalidInputError extends Error {
  override readonly name = "InvalidInputError";
}

/** How long a string field may be, and in which unit its length is measured. */
export interface StringBound {
  readonly max: number;
  readonly min?: number;
  readonly unit: "characters" | "UTF-8 bytes";
}

/**
 * Reads the fields of one `{ op, ... }` object from an untrusted source, throwing
 * InvalidInputError with a message that names the field and the problem. Parsers read each
 * field they expect and finish with `end`, which rejects any field nobody read: an unchecked
 * field would otherwise ride along in the log and in every replica's state.
 */
export class FieldReader<Op extends string> {
  readonly op: Op;
  private readonly record: Readonly<Record<string, unknown>>;
  private readonly seen = new Set<string>(["op"]);
  private readonly prefix: string;

  /** `what` names the source in messages, e.g. "kv command". */
  constructor(what: string, input: Value, ops: readonly Op[]) {
    const expected = ops.map((op) => JSON.stringify(op)).join(", ");
    if (!isPlainObject(input)) {
      throw new InvalidInputError(
        `${what} must be an object with an "op" field, got ${kindOf(input)}`,
      );
    }
    if (!Object.hasOwn(input, "op") || input.op === undefined) {
      throw new InvalidInputError(`${what} is missing field "op" (one of ${expected})`);
    }
    const raw = input.op;
    const op = ops.find((candidate) => candidate === raw);
    if (op === undefined) {
      const shown = typeof raw === "string" ? preview(raw) : kindOf(raw);
      throw new InvalidInputError(`${what} has unknown op ${shown} (expected one of ${expected})`);
    }
    this.op = op;
    this.record = input;
    this.prefix = `${what} ${op}`;
  }

  string(field: string, bound: StringBound): string {
    const v = this.field(field);
    if (typeof v !== "string")
      throw this.fail(`field "${field}" must be a string, got ${kindOf(v)}`);
    return this.checkLength(field, v, bound);
  }

  /** A string or an explicit null; a missing field is still an error, so a typo cannot mean null. */
  nullableString(field: string, bound: StringBound): string | null {
    const v = this.field(field);
    if (v === null) return null;
    if (typeof v !== "string") {
      throw this.fail(`field "${field}" must be a string or null, got ${kindOf(v)}`);
    }
    return this.checkLength(field, v, bound);
  }

  integer(field: string, min: number, max: number): number {
    const v = this.field(field);
    if (typeof v !== "number")
      throw this.fail(`field "${field}" must be an integer, got ${kindOf(v)}`);
    if (!Number.isInteger(v)) throw this.fail(`field "${field}" must be an integer, got ${v}`);
    if (v < min || v > max) {
      throw this.fail(`field "${field}" is out of range (got ${v}, allowed ${min} to ${max})`);
    }
    return v;
  }

  /** Rejects fields that were not read, then returns the parsed value. */
  end<T>(parsed: T): T {
    for (const key of Object.keys(this.record)) {
      if (!this.seen.has(key)) throw this.fail(`unexpected field ${preview(key)}`);
    }
    return parsed;
  }

  private field(field: string): unknown {
    this.seen.add(field);
    const v = Object.hasOwn(this.record, field) ? this.record[field] : undefined;
    if (v === undefined) throw this.fail(`missing field "${field}"`);
    return v;
  }

  private checkLength(field: string, v: string, bound: StringBound): string {
    const min = bound.min ?? 0;
    // Each UTF-16 unit is at least one UTF-8 byte, so a string longer than the bound in units is
    // too long in bytes too; this keeps the check cheap for hostile multi-megabyte strings.
    const length = bound.unit === "characters" || v.length > bound.max ? v.length : utf8Length(v);
    if (length < min) {
      throw this.fail(
        min === 1
          ? `field "${field}" must not be empty`
          : `field "${field}" is too short (${length} ${bound.unit}, at least ${min})`,
      );
    }
    if (length > bound.max) {
      throw this.fail(
        `field "${field}" is too long (${length} ${bound.unit}, at most ${bound.max})`,
      );
    }
    return v;
  }

  private fail(problem: string): InvalidInputError {
    return new InvalidInputError(`${this.prefix}: ${problem}`);
  }
}

/** Runs a parser for validateCommand/validateQuery: its message, or undefined when it parses. */
export function validationMessage(parse: () => unknown): string | undefined {
  try {
    parse();
    return undefined;
  } catch (error) {
    if (error instanceof InvalidInputError) return error.message;
    throw error;
  }
}

/** Runs a parser for a model, which must not throw: undefined for malformed input. */
export function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidInputError) return undefined;
    throw error;
  }
}
