import type { Random } from "../../core/prng.js";
import type { ClientOperation } from "../service-kit.js";
import { checkCount, checkRatio, pickWeighted } from "../shared/workload.js";
import { KV_MAX_VALUE_BYTES, type KvCommand } from "./types.js";

export interface KvWorkloadOptions {
  /** Number of distinct keys (`k0`, `k1`, ...); few keys make operations contend. Default 5. */
  readonly keys?: number;
  /** Length of written values; they are padded up to it. Default 8. */
  readonly valueSize?: number;
  /** Fraction of operations that are read-only get queries. Default 0.25. */
  readonly queryRatio?: number;
}

/** Remembered writes per key: cas expects one of these so that some swaps succeed. */
const RECENT_PER_KEY = 4;

/**
 * What the generator remembers during one run: a write counter per client (values are
 * `c<client>-<n>`, unique, so the checker can tell writes apart) and the values recently
 * written to each key.
 */
interface Memory {
  readonly writes: Map<number, number>;
  readonly recent: Map<string, string[]>;
}

type Choice = "put" | "get-query" | "get-command" | "del" | "cas";

/**
 * Builds `nextOperation` for the kv kit. The mix of commands is 30 put : 10 get : 10 del :
 * 25 cas, scaled to fill whatever `queryRatio` leaves (so the defaults give 30/25/10/10/25%).
 *
 * The memory is kept per Random instance, not per kit: a run hands the generator its own Random,
 * so a kit shared by many runs (the exported `kvKit`) still generates the same operations for
 * the same seed, and a replay reproduces the run. Everything random comes from `random`.
 */
export function createKvWorkload(
  options: KvWorkloadOptions = {},
): (random: Random, client: number) => ClientOperation {
  const keys = checkCount("keys", options.keys ?? 5, 1, 1_000_000);
  const valueSize = checkCount("valueSize", options.valueSize ?? 8, 1, KV_MAX_VALUE_BYTES);
  const queryRatio = checkRatio("queryRatio", options.queryRatio ?? 0.25);
  const scale = (1 - queryRatio) / 75;
  const choices: readonly (readonly [Choice, number])[] = [
    ["put", 30 * scale],
    ["get-query", queryRatio],
    ["get-command", 10 * scale],
    ["del", 10 * scale],
    ["cas", 25 * scale],
  ];
  const memories = new WeakMap<Random, Memory>();

  return (random, client) => {
    let memory = memories.get(random);
    if (memory === undefined) {
      memory = { writes: new Map(), recent: new Map() };
      memories.set(random, memory);
    }
    const mem = memory;
    const fresh = (key: string): string => {
      const n = mem.writes.get(client) ?? 0;
      mem.writes.set(client, n + 1);
      const value = `c${client}-${n}`.padEnd(valueSize, ".");
      const recent = mem.recent.get(key) ?? [];
      recent.push(value);
      if (recent.length > RECENT_PER_KEY) recent.shift();
      mem.recent.set(key, recent);
      return value;
    };

    const choice = pickWeighted(random, choices);
    const key = `k${random.int(keys)}`;
    let cmd: KvCommand;
    switch (choice) {
      case "get-query":
        return { kind: "query", value: { op: "get", key } };
      case "get-command":
        cmd = { op: "get", key };
        break;
      case "put":
        cmd = { op: "put", key, value: fresh(key) };
        break;
      case "del":
        cmd = { op: "del", key };
        break;
      case "cas": {
        const recent = mem.recent.get(key) ?? [];
        const r = random.next();
        // The latest write is the likeliest current value, so it is expected most often;
        // "absent" matters too, after deletes.
        const expected =
          recent.length === 0 || r < 0.15
            ? null
            : r < 0.65
              ? recent[recent.length - 1]!
              : recent[random.int(recent.length)]!;
        const value = random.chance(0.15) ? null : fresh(key);
        cmd = { op: "cas", key, expected, value };
        break;
      }
    }
    return { kind: "command", value: cmd };
  };
}
