import type { Value } from "../../core/value.js";
import type { ClientOperation } from "../service-kit.js";
import { FieldReader, type StringBound, tryParse } from "../shared/fields.js";
import { KV_MAX_KEY_LENGTH, KV_MAX_VALUE_BYTES, type KvCommand, type KvQuery } from "./types.js";

const KEY: StringBound = { max: KV_MAX_KEY_LENGTH, unit: "characters" };
const VALUE: StringBound = { max: KV_MAX_VALUE_BYTES, unit: "UTF-8 bytes" };

/** Parses an untrusted command; throws InvalidInputError naming the bad field. */
export function parseKvCommand(input: Value): KvCommand {
  const r = new FieldReader("kv command", input, ["put", "get", "del", "cas"]);
  switch (r.op) {
    case "put":
      return r.end({ op: "put", key: r.string("key", KEY), value: r.string("value", VALUE) });
    case "get":
      return r.end({ op: "get", key: r.string("key", KEY) });
    case "del":
      return r.end({ op: "del", key: r.string("key", KEY) });
    case "cas":
      return r.end({
        op: "cas",
        key: r.string("key", KEY),
        expected: r.nullableString("expected", VALUE),
        value: r.nullableString("value", VALUE),
      });
  }
}

/** Parses an untrusted query; throws InvalidInputError naming the bad field. */
export function parseKvQuery(input: Value): KvQuery {
  const r = new FieldReader("kv query", input, ["get"]);
  return r.end({ op: r.op, key: r.string("key", KEY) });
}

/** A kit operation as a command, or undefined if malformed. A `get` reads the same either way. */
export function parseKvOperation(op: ClientOperation): KvCommand | undefined {
  return tryParse(() =>
    op.kind === "command" ? parseKvCommand(op.value) : parseKvQuery(op.value),
  );
}
