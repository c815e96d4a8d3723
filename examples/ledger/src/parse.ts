import { FieldReader, type StringBound, type Value } from "lockstep";
import { type LedgerCommand, type LedgerQuery, limits } from "./types.js";

const id: StringBound = { min: 1, max: limits.maxIdLength, unit: "characters" };

/**
 * Parses an untrusted command (it arrived over the network): throws InvalidInputError naming
 * the bad field. Unknown fields are refused so nothing unchecked rides along in the log.
 */
export function parseCommand(input: Value): LedgerCommand {
  const r = new FieldReader("ledger command", input, [
    "open",
    "transfer",
    "hold",
    "capture",
    "release",
  ]);
  switch (r.op) {
    case "open":
      return r.end({
        op: "open",
        account: r.string("account", id),
        initial: r.integer("initial", 0, limits.maxAmount),
      });
    case "transfer":
      return r.end({
        op: "transfer",
        from: r.string("from", id),
        to: r.string("to", id),
        amount: r.integer("amount", 1, limits.maxAmount),
      });
    case "hold":
      return r.end({
        op: "hold",
        id: r.string("id", id),
        account: r.string("account", id),
        amount: r.integer("amount", 1, limits.maxAmount),
        ttlMs: r.integer("ttlMs", 1, limits.maxTtlMs),
      });
    case "capture":
      return r.end({ op: "capture", id: r.string("id", id), to: r.string("to", id) });
    case "release":
      return r.end({ op: "release", id: r.string("id", id) });
  }
}

/** Parses an untrusted query. */
export function parseQuery(input: Value): LedgerQuery {
  const r = new FieldReader("ledger query", input, ["balance", "total"]);
  if (r.op === "total") return r.end({ op: "total" });
  return r.end({ op: "balance", account: r.string("account", id) });
}
