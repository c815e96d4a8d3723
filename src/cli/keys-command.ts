import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { LockstepError } from "../client/errors.js";
import { connect } from "../client/index.js";
import { type AccessChange, type Role, roles } from "../core/access.js";
import type { ClusterConfig } from "../core/config.js";
import { clientKeyFile, type KeyFile, readKeyFile, writeKeyFile } from "../net/keys.js";
import { clientIdProblem } from "../net/principal.js";
import { describeParseError } from "../runtime/arg-errors.js";
import { loadClusterConfig } from "../runtime/config-file.js";
import { intOption, UsageError } from "./args.js";

export const keysHelp = `lockstep keys: client keys, roles, revocation and rotation

Usage: lockstep keys <add-client|set-role|revoke|rotate> NAME --config FILE --keys FILE [options]
       lockstep keys set-default-role read|write|admin --config FILE --keys FILE [options]

  lockstep keys add-client NAME [--role read|write|admin]
      write a key file for client NAME (mode 0600) and, with --role, submit its role (without,
      NAME has the cluster's default role)
  lockstep keys set-role NAME --role read|write|admin
      change the role of client NAME
  lockstep keys revoke NAME
      every replica refuses NAME from the log index where the revocation commits, and closes
      its connections; undone only by rotate (a new key)
  lockstep keys rotate NAME
      issue a new key version for NAME and write its key file; the old key is refused
  lockstep keys set-default-role ROLE
      change the role of every client without a role of its own (set-role); cluster.json's
      clients.defaultRole is only the role a new cluster starts with

  --config FILE     cluster configuration (cluster.json from lockstep init)
  --keys FILE       the cluster key file (keys/cluster-keys.json): new client keys derive from it;
                    revoke and set-role also accept an admin's client key file
  --as ID           the admin client that submits the change (default: cli)
  --admin-key FILE  that admin's own client key file, when it is not derived from --keys
                    (after the admin's key was rotated)
  --out FILE        where to write the key file (default: keys/client-NAME.json next to --keys)
  --timeout MS      give up after MS milliseconds (default 10000)
  --help            this text

Exit code 0 on success, 1 if the cluster refused (forbidden, invalid) or timed out, 2 on a
usage error. See docs/net.md, "Roles and keys".`;

const operations = ["add-client", "set-role", "revoke", "rotate", "set-default-role"] as const;
type Operation = (typeof operations)[number];

export async function keysCommand(argv: readonly string[]): Promise<number> {
  const [op, ...rest] = argv;
  if (op === undefined || op === "--help" || op === "-h") {
    console.log(keysHelp);
    return 0;
  }
  if (!operations.includes(op as Operation))
    throw new UsageError(
      `keys: unknown operation "${op}"; expected ${operations.join(", ")} (see lockstep keys --help)`,
    );
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
        role: { type: "string" },
        as: { type: "string" },
        "admin-key": { type: "string" },
        out: { type: "string" },
        timeout: { type: "string" },
      },
    });
    args = parsed.values as Record<string, string | boolean | undefined>;
    positionals = parsed.positionals;
  } catch (error) {
    throw new UsageError(`keys ${op}: ${describeParseError(error)} (see lockstep keys --help)`);
  }
  const what = op === "set-default-role" ? "ROLE" : "client NAME";
  if (positionals.length !== 1)
    throw new UsageError(`keys ${op}: expected one ${what}, got ${positionals.length} argument(s)`);
  const name = positionals[0]!;
  if (op === "set-default-role") {
    if (!roles.includes(name as Role))
      throw new UsageError(
        `keys set-default-role: ROLE expects one of ${roles.join(", ")}, got "${name}"`,
      );
    if (args.role !== undefined)
      throw new UsageError("keys set-default-role: --role does not apply (the role is ROLE)");
  } else {
    const nameProblem = clientIdProblem(name);
    if (nameProblem !== undefined) throw new UsageError(`keys ${op}: NAME: ${nameProblem}`);
  }
  if (typeof args.config !== "string") throw new UsageError(`keys ${op}: --config is required`);
  if (typeof args.keys !== "string") throw new UsageError(`keys ${op}: --keys is required`);
  const role = args.role;
  if (role !== undefined && !roles.includes(role as Role))
    throw new UsageError(
      `keys ${op}: --role expects one of ${roles.join(", ")}, got "${String(role)}"`,
    );
  if (op === "set-role" && role === undefined)
    throw new UsageError("keys set-role: --role is required");
  if ((op === "revoke" || op === "rotate") && role !== undefined)
    throw new UsageError(`keys ${op}: --role does not apply (use keys set-role)`);
  if (op !== "add-client" && op !== "rotate" && args.out !== undefined)
    throw new UsageError(`keys ${op}: --out does not apply (${op} writes no key file)`);
  const timeoutMs = intOption(`keys ${op}`, "timeout", args.timeout, 10_000, 1, 3_600_000);
  const asClient = typeof args.as === "string" ? args.as : "cli";
  const asProblem = clientIdProblem(asClient);
  if (asProblem !== undefined) throw new UsageError(`keys ${op}: --as: ${asProblem}`);

  let config: ClusterConfig;
  let keys: KeyFile;
  let adminKeys: KeyFile;
  try {
    config = loadClusterConfig(args.config);
    keys = readKeyFile(args.keys);
    adminKeys = typeof args["admin-key"] === "string" ? readKeyFile(args["admin-key"]) : keys;
  } catch (error) {
    throw new UsageError(`keys ${op}: ${(error as Error).message.split("\n")[0]}`);
  }
  const writesKey = op === "add-client" || op === "rotate";
  if (writesKey && keys.kind !== "cluster")
    throw new UsageError(
      `keys ${op}: --keys must be the cluster key file (keys/cluster-keys.json): a new client key derives from its client secret, and ${args.keys} is a ${keys.kind} key file`,
    );
  if (adminKeys.kind === "client" && adminKeys.clientId !== asClient && args.as !== undefined)
    throw new UsageError(
      `keys ${op}: the admin key file belongs to ${adminKeys.clientId}, not --as ${asClient}`,
    );
  const out =
    typeof args.out === "string" ? args.out : join(dirname(args.keys), `client-${name}.json`);

  // What to submit: nothing for an add-client without --role. With one it is submitted even when
  // it equals clients.defaultRole in cluster.json: set-default-role may have changed the default.
  let change: AccessChange | undefined;
  let version = 0;
  if (op === "add-client") {
    if (role !== undefined) change = { op: "setRole", client: name, role: role as Role };
  } else if (op === "set-default-role") {
    change = { op: "setDefaultRole", role: name as Role };
  } else if (op === "set-role") {
    change = { op: "setRole", client: name, role: role as Role };
  } else if (op === "revoke") {
    change = { op: "revoke", client: name };
  } else {
    // Wall-clock milliseconds: newer than any earlier rotation, and the same on a retry.
    version = Date.now();
    change = { op: "rotate", client: name, version };
  }
  if (op === "add-client") {
    writeKeyFile(out, clientKeyFile(keys, name));
    console.log(`wrote ${out} (client ${name}, mode 0600)`);
    if (!config.clients)
      console.log(
        `note: ${args.config} has no "clients" section, so every client is admin (docs/net.md, "Roles and keys")`,
      );
  }
  if (change === undefined) {
    console.log(`client ${name} has the cluster's default role`);
    return 0;
  }

  const client = await connect({
    config,
    keys: adminKeys,
    timeoutMs,
    ...(adminKeys.kind === "client" ? {} : { clientId: asClient }),
  });
  try {
    await client.admin(change);
  } catch (error) {
    const e = error as LockstepError;
    console.error(
      `lockstep: keys ${op} ${name}: ${e instanceof LockstepError ? `${e.code}: ` : ""}${e.message}`,
    );
    return 1;
  } finally {
    await client.close();
  }
  switch (op) {
    case "add-client":
    case "set-role":
      console.log(`client ${name} now has role ${role}`);
      break;
    case "set-default-role":
      console.log(`clients without a role of their own now have role ${name}`);
      break;
    case "revoke":
      console.log(`client ${name} is revoked: every replica refuses it from now on`);
      break;
    case "rotate":
      writeKeyFile(out, clientKeyFile(keys, name, version));
      console.log(
        `client ${name} now has key version ${version}; wrote ${out} (mode 0600); the old key is refused`,
      );
      break;
  }
  return 0;
}
