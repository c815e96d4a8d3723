import type { Value } from "../../core/value.js";
import type { History, Operation } from "../../model/history.js";
import type { ClientOperation } from "../service-kit.js";
import { parseKvOperation } from "./parse.js";

type KvOperation = Operation<ClientOperation, Value>;

/**
 * Every kv operation reads or writes exactly one key, and keys do not interact, so a history is
 * linearizable iff each key's sub-history is (P-compositionality): the checker then searches
 * many small histories instead of one large one. Order within a partition is kept. Malformed
 * operations touch no key and go to a partition of their own.
 */
export function partitionKvHistory(
  history: History<ClientOperation, Value>,
): History<ClientOperation, Value>[] {
  const byKey = new Map<string, KvOperation[]>();
  const malformed: KvOperation[] = [];
  for (const op of history) {
    const cmd = parseKvOperation(op.input);
    if (cmd === undefined) {
      malformed.push(op);
      continue;
    }
    let ops = byKey.get(cmd.key);
    if (ops === undefined) {
      ops = [];
      byKey.set(cmd.key, ops);
    }
    ops.push(op);
  }
  const partitions: History<ClientOperation, Value>[] = [...byKey.values()];
  if (malformed.length > 0) partitions.push(malformed);
  return partitions;
}
