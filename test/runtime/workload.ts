import { connect, type LockstepClient, LockstepError } from "../../src/client/index.js";
import type { ClientOperation } from "../../src/core/client-operation.js";
import type { ClusterConfig } from "../../src/core/config.js";
import type { Value } from "../../src/core/value.js";
import type { Operation } from "../../src/model/history.js";
import type { ClientKeyFile } from "../../src/net/keys.js";

/** What a load run recorded: the history for the checker and what the test reads back. */
export interface LoadResult {
  readonly history: Operation<ClientOperation, Value>[];
  /** Writes to keys nobody else writes, acknowledged: key → value. */
  readonly acknowledgedUnique: Map<string, string>;
  readonly completed: number;
  /** Definite refusals (omitted from the history). */
  readonly failed: number;
  /** Timeouts and unknown outcomes (in the history without a return). */
  readonly indeterminate: number;
  readonly errors: Map<string, number>;
  /** Times (performance.now) at which each operation returned ok, for availability gaps. */
  readonly okTimes: number[];
  /** The clients' protocol counters (LockstepClient.protocolStats), summed. */
  readonly protocolStats: Record<string, number>;
}

export interface LoadOptions {
  readonly config: ClusterConfig;
  readonly keys: (name: string) => ClientKeyFile;
  readonly clients: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
  readonly sharedKeys: readonly string[];
}

/**
 * Jepsen-style load: each client process runs one operation at a time through its own
 * LockstepClient (puts, cas, gets as commands and as linearizable queries on a few shared keys,
 * plus puts to keys of its own), and records invocation and return times. An operation that
 * timed out or whose outcome is unknown stays in the history without a return, and the process
 * continues under a new name (it may still take effect later, concurrently with the next one).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const history: Operation<ClientOperation, Value>[] = [];
  const acknowledgedUnique = new Map<string, string>();
  const errors = new Map<string, number>();
  const okTimes: number[] = [];
  let completed = 0;
  let failed = 0;
  let indeterminate = 0;
  let nextId = 1;
  const protocolStats: Record<string, number> = {};
  const deadline = performance.now() + options.durationMs;

  const processLoop = async (index: number): Promise<void> => {
    const name = `w${index}`;
    const client: LockstepClient = await connect({
      config: options.config,
      keys: options.keys(name),
      timeoutMs: options.timeoutMs,
    });
    let incarnation = 0;
    let n = 0;
    const lastSeen = new Map<string, string | null>();
    try {
      for (let i = 0; i < 100_000 && performance.now() < deadline; i++) {
        n++;
        const key = options.sharedKeys[Math.floor(Math.random() * options.sharedKeys.length)]!;
        const value = `${name}-${n}`;
        const roll = Math.random();
        let op: ClientOperation;
        let uniqueKey: string | undefined;
        if (roll < 0.3) op = { kind: "command", value: { op: "put", key, value } };
        else if (roll < 0.5) op = { kind: "query", value: { op: "get", key } };
        else if (roll < 0.6) op = { kind: "command", value: { op: "get", key } };
        else if (roll < 0.85) {
          const expected = lastSeen.get(key) ?? null;
          op = { kind: "command", value: { op: "cas", key, expected, value } };
        } else {
          uniqueKey = `u-${name}-${n}`;
          op = { kind: "command", value: { op: "put", key: uniqueKey, value } };
        }
        const call = performance.now();
        const id = nextId++;
        const who = `${name}/${incarnation}`;
        try {
          const output =
            op.kind === "command" ? await client.invoke(op.value) : await client.query(op.value);
          const ret = performance.now();
          history.push({ id, client: who, input: op, call, ret, output });
          completed++;
          okTimes.push(ret);
          if (uniqueKey) acknowledgedUnique.set(uniqueKey, value);
          const out = output as { value?: unknown };
          if (typeof out.value === "string" || out.value === null) {
            lastSeen.set(key, out.value as string | null);
          } else if (
            op.kind === "command" &&
            (op.value as { op: string }).op === "put" &&
            !uniqueKey
          ) {
            lastSeen.set(key, value);
          }
        } catch (error) {
          const code = error instanceof LockstepError ? error.code : "other";
          errors.set(code, (errors.get(code) ?? 0) + 1);
          if (error instanceof LockstepError && !error.indeterminate) {
            failed++;
          } else {
            indeterminate++;
            history.push({ id, client: who, input: op, call, ret: undefined, output: undefined });
            incarnation++;
          }
        }
      }
    } finally {
      for (const [name, value] of Object.entries(client.protocolStats)) {
        protocolStats[name] = (protocolStats[name] ?? 0) + value;
      }
      await client.close();
    }
  };

  await Promise.all(Array.from({ length: options.clients }, (_, i) => processLoop(i)));
  return {
    history,
    acknowledgedUnique,
    completed,
    failed,
    indeterminate,
    errors,
    okTimes,
    protocolStats,
  };
}

/** The longest stretch (ms) without a successful operation between `from` and `to`. */
export function longestGap(okTimes: readonly number[], from: number, to: number): number {
  const times = [from, ...okTimes.filter((t) => t > from && t < to).sort((a, b) => a - b), to];
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}
