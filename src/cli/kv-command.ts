import { parseArgs } from "node:util";
import { LockstepError } from "../client/errors.js";
import { connect } from "../client/index.js";
import type { Value } from "../core/value.js";
import { readKeyFile } from "../net/keys.js";
import { describeParseError } from "../runtime/arg-errors.js";
import { loadClusterConfig } from "../runtime/config-file.js";
import { intOption, UsageError } from "./args.js";

export const kvHelp = `lockstep kv: read and write a lockstep key-value cluster

Usage: lockstep kv <put|get|del|cas> --config FILE --keys FILE [args]

  lockstep kv put KEY VALUE          set KEY; prints the previous value
  lockstep kv get KEY                linearizable read of KEY
  lockstep kv del KEY                delete KEY; prints whether it existed
  lockstep kv cas KEY EXPECTED NEW   set KEY to NEW if it holds EXPECTED ("-" means absent)

  --config FILE     cluster configuration (cluster.json from lockstep init)
  --keys FILE       a client key file (keys/client-cli.json from lockstep init)
  --client ID       client id (default: the key file's)
  --timeout MS      give up after MS milliseconds (default 10000)
  --help            this text

Prints the result as JSON. Exit code 0 on success, 1 if the cluster refused or timed out (a
timed-out write may still take effect), 2 on a usage error.`;

const arity: Record<string, number> = { put: 2, get: 1, del: 1, cas: 3 };

export async function kvCommand(argv: readonly string[]): Promise<number> {
  const [op, ...rest] = argv;
  if (op === undefined || op === "--help" || op === "-h") {
    console.log(kvHelp);
    return 0;
  }
  const want = arity[op];
  if (want === undefined)
    throw new UsageError(`kv: unknown operation "${op}"; expected put, get, del or cas`);
  let args: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        config: { type: "string" },
        keys: { type: "string" },
        client: { type: "string" },
        timeout: { type: "string" },
      },
    });
    args = parsed.values as Record<string, string | boolean | undefined>;
    positionals = parsed.positionals;
  } catch (error) {
    throw new UsageError(`kv: ${describeParseError(error)} (see lockstep kv --help)`);
  }
  if (positionals.length !== want)
    throw new UsageError(`kv ${op}: expected ${want} argument(s), got ${positionals.length}`);
  if (typeof args.config !== "string") throw new UsageError("kv: --config is required");
  if (typeof args.keys !== "string") throw new UsageError("kv: --keys is required");
  const timeoutMs = intOption("kv", "timeout", args.timeout, 10_000, 1, 3_600_000);
  let config: ReturnType<typeof loadClusterConfig>;
  let keys: ReturnType<typeof readKeyFile>;
  try {
    config = loadClusterConfig(args.config);
    keys = readKeyFile(args.keys);
  } catch (error) {
    throw new UsageError(`kv: ${(error as Error).message.split("\n")[0]}`);
  }
  const [key, a, b] = positionals as [string, string | undefined, string | undefined];
  const absent = (s: string | undefined) => (s === "-" || s === undefined ? null : s);
  const client = await connect({
    config,
    keys,
    timeoutMs,
    ...(typeof args.client === "string" ? { clientId: args.client } : {}),
  });
  try {
    let result: Value;
    if (op === "get") result = await client.query({ op: "get", key });
    else if (op === "put") result = await client.invoke({ op: "put", key, value: a! });
    else if (op === "del") result = await client.invoke({ op: "del", key });
    else result = await client.invoke({ op: "cas", key, expected: absent(a), value: absent(b) });
    console.log(JSON.stringify(result));
    return 0;
  } catch (error) {
    const e = error as LockstepError;
    console.error(
      `lockstep: kv ${op}: ${e instanceof LockstepError ? `${e.code}: ` : ""}${e.message}`,
    );
    return 1;
  } finally {
    await client.close();
  }
}
