import { connect, LockstepError } from "../../client/index.js";
import type { ClusterConfig } from "../../core/config.js";
import { type ClusterKeyFile, clientKeyFile } from "../../net/keys.js";

export interface ReadBackResult {
  readonly checked: number;
  /** Keys whose value is not the acknowledged one: key, expected, what the cluster returned. */
  readonly lost: readonly { key: string; expected: string; got: string }[];
  /** Keys that could not be read (every attempt failed): key and the last error code. */
  readonly unreadable: readonly { key: string; error: string }[];
}

/** Reads in flight at once: enough to read thousands of keys in well under a second. */
const concurrency = 32;
const attempts = 3;

/**
 * Reads every acknowledged write back with linearizable gets through a fresh client. A value
 * that differs from the acknowledged one is a lost write; a key that cannot be read at all is
 * reported apart (the cluster did not answer, which proves nothing either way).
 */
export async function readBack(
  config: ClusterConfig,
  keys: ClusterKeyFile,
  acknowledged: ReadonlyMap<string, string>,
  timeoutMs: number,
): Promise<ReadBackResult> {
  const client = await connect({ config, keys: clientKeyFile(keys, "demo-reader"), timeoutMs });
  const lost: { key: string; expected: string; got: string }[] = [];
  const unreadable: { key: string; error: string }[] = [];
  const entries = [...acknowledged];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const [key, expected] = entries[next++]!;
      let error = "";
      for (let attempt = 0; attempt < attempts; attempt++) {
        try {
          const result = (await client.query({ op: "get", key })) as { value?: unknown };
          if (result.value !== expected) lost.push({ key, expected, got: String(result.value) });
          error = "";
          break;
        } catch (e) {
          error = e instanceof LockstepError ? e.code : String(e);
        }
      }
      if (error !== "") unreadable.push({ key, error });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await client.close();
  }
  return { checked: entries.length, lost, unreadable };
}
