#!/usr/bin/env node
import { UsageError } from "./args.js";
import { simCommand } from "./sim-command.js";

const help = `lockstep: fault-tolerant services by state machine replication

Usage: lockstep <command> [options]

Commands:
  init       write a cluster configuration and keys (lockstep init --help)
  replica    run one replica of a cluster (lockstep replica --help)
  up         run and supervise a whole local cluster (lockstep up --help)
  status     each replica's role, term, commit index and lag (lockstep status --help)
  kv         put, get, del, cas against a running key-value cluster (lockstep kv --help)
  keys       client keys: add, set roles and the default role, revoke, rotate (lockstep keys --help)
  bench      measure put throughput and latency of a local cluster (lockstep bench --help)
  sim        run the deterministic simulator over many seeds (lockstep sim --help)
  dashboard  a live web view of a cluster, or a replay of a simulator run (lockstep dashboard --help)
  demo       start a local 3-replica cluster, kill its leader, watch it recover (npm start)
  help       this text

Run "lockstep <command> --help" for a command's options.`;

type Command = (argv: readonly string[]) => Promise<number>;

async function loadCommand(name: string): Promise<Command | undefined> {
  switch (name) {
    case "sim":
      return simCommand;
    case "demo":
      return (await import("./demo-command.js")).demoCommand;
    case "init":
      return (await import("./init-command.js")).initCommand;
    case "kv":
      return (await import("./kv-command.js")).kvCommand;
    case "keys":
      return (await import("./keys-command.js")).keysCommand;
    case "bench":
      return (await import("./bench-command.js")).benchCommand;
    case "replica":
      return (await import("../runtime/replica-main.js")).runReplicaMain;
    case "up":
      return (await import("./up-command.js")).upCommand;
    case "status":
      return (await import("./status-command.js")).statusCommand;
    case "dashboard":
      return (await import("./dashboard-command.js")).dashboardCommand;
    default:
      return undefined;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(help);
    return 0;
  }
  if (name === "--version") {
    console.log("lockstep 0.1.0");
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) throw new UsageError(`unknown command "${name}" (see lockstep --help)`);
  return command(rest);
}

// A reader that goes away (`lockstep bench | head`) must not kill the command before it has
// stopped the replicas it started: output to a closed pipe is dropped instead.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`lockstep: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`lockstep: ${(error as Error)?.stack ?? String(error)}`);
    process.exitCode = 1;
  },
);
