import { intOption, numberOption, parseCommandArgs, UsageError } from "./args.js";
import { pbDemo } from "./demo/pb-demo.js";
import { pbftDemo } from "./demo/pbft-demo.js";
import { realDemo } from "./demo/real-demo.js";
import { simulatedDemo } from "./demo/simulated.js";

export const demoHelp = `lockstep demo: watch a real local Raft cluster survive the loss of its leader

Usage: lockstep demo [--protocol raft|pbft|primary-backup] [--seconds S] [--clients C] [--dir DIR]
                    [--no-dashboard]
       lockstep demo --simulated [--seed N]

Starts 3 replica processes of a Raft key-value store on 127.0.0.1 (on free ports), runs a
workload with a live progress line, kills the leader with SIGKILL, shows the new election and
that writes continue, restarts the killed replica and times its catch-up, reads every
acknowledged write back, and prints a summary. Exits 0 when all of that happened, 1 otherwise.
This is what "npm start" runs.

The data folder (replica-<i>.log: each replica's JSON log; data-<i>/: its write-ahead log and
snapshots) is wiped at the start of each run and kept afterwards. The demo only wipes a folder
it wrote itself (it holds a .lockstep-demo file) or an empty one.

  --protocol P  raft (default); pbft: 4 replicas, the primary restarted as an equivocating
                Byzantine replica and a view change, a backup sending wrong replies out-voted by
                the clients, a replica catching up by state transfer; or primary-backup: a
                primary/backup pair and its arbiter (a 3-replica Raft group), the primary
                killed, the arbiter's decision shown, the old primary back as the new backup
  --seconds S   length of each phase: load before the kill, after it, after the catch-up
                (default 3)
  --clients C   concurrent clients, each with one operation outstanding (default 8)
  --dir DIR     the data folder (default ./lockstep-demo)
  --no-dashboard  do not serve the live dashboard (by default the demo prints its URL,
                "dashboard: http://127.0.0.1:PORT/", and serves it while it runs, with
                buttons to kill, restart, pause or cut off its replicas; the demo then
                names each press, and fails a step a press made impossible)
  --simulated   instead: the deterministic simulator under crashes, partitions and disk faults,
                narrated (no processes, no files)
  --seed N      the simulator's seed, with --simulated (default 1)
  --help        this text`;

export async function demoCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs("demo", argv, {
    protocol: { type: "string" },
    seconds: { type: "string" },
    clients: { type: "string" },
    dir: { type: "string" },
    simulated: { type: "boolean" },
    "no-dashboard": { type: "boolean" },
    seed: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (args.help) {
    console.log(demoHelp);
    return 0;
  }
  if (args.simulated === true) {
    for (const name of ["protocol", "seconds", "clients", "dir", "no-dashboard"]) {
      if (args[name] !== undefined)
        throw new UsageError(`demo: --${name} has no effect with --simulated`);
    }
    return simulatedDemo(intOption("demo", "seed", args.seed, 1, 0, 2 ** 31 - 1));
  }
  if (args.seed !== undefined) throw new UsageError("demo: --seed needs --simulated");
  const dir = args.dir ?? "lockstep-demo";
  if (typeof dir !== "string" || dir.trim() === "")
    throw new UsageError("demo: --dir needs a folder name");
  const protocol = args.protocol ?? "raft";
  if (protocol !== "raft" && protocol !== "pbft" && protocol !== "primary-backup")
    throw new UsageError(
      `demo: --protocol must be raft, pbft or primary-backup, got ${JSON.stringify(protocol)}`,
    );
  if (protocol === "pbft") {
    return pbftDemo({
      dir,
      seconds: numberOption("demo", "seconds", args.seconds, 3, 0.5, 600),
      clients: intOption("demo", "clients", args.clients, 8, 1, 256),
      dashboard: args["no-dashboard"] !== true,
    });
  }
  const run = protocol === "primary-backup" ? pbDemo : realDemo;
  return run({
    dir,
    seconds: numberOption("demo", "seconds", args.seconds, 3, 0.5, 600),
    clients: intOption("demo", "clients", args.clients, 8, 1, 256),
    dashboard: args["no-dashboard"] !== true,
  });
}
