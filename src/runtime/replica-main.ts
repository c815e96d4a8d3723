#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadArbiterHandler } from "./arbiter-args.js";
import type { ArbiterHandler } from "./arbiter-handler.js";
import { byzantineWarning } from "./byzantine-replica.js";
import { loadClusterConfig } from "./config-file.js";
import { firstLine, StartupError } from "./errors.js";
import { isLinkControl } from "./link-cut.js";
import { jsonLogger } from "./logger.js";
import { type Replica, startReplica } from "./replica.js";
import {
  loadReplicaOptions,
  loadReplicaService,
  parseReplicaArgs,
  replicaUsage,
} from "./replica-args.js";

/** The service the configuration records, if it can be read now (loadReplicaOptions reports errors). */
function recordedService(configFile: string): string | undefined {
  try {
    return loadClusterConfig(configFile).service;
  } catch {
    return undefined;
  }
}

/**
 * The replica process: `node dist/runtime/replica-main.js --config FILE --keys FILE --id I
 * --data DIR [--service kv] [--metrics-port P]`. Starts one replica and runs until SIGTERM or
 * SIGINT (graceful close). Bad arguments exit 2, any other startup error exits 1, each with one
 * line on stderr. Returns the process exit code once the replica has stopped.
 */
export async function runReplicaMain(argv: readonly string[]): Promise<number> {
  let replica: Replica;
  let arbiter: ArbiterHandler | undefined;
  try {
    const args = parseReplicaArgs(argv);
    if (args.help) {
      process.stdout.write(`${replicaUsage}\n`);
      return 0;
    }
    await loadReplicaService(args.service ?? recordedService(args.configFile));
    const options = loadReplicaOptions(args);
    if (options.byzantine !== undefined) {
      process.stderr.write(`${byzantineWarning(args.id, options.byzantine.behaviour)}\n`);
    }
    const logger = jsonLogger({ replica: args.id, level: args.logLevel });
    arbiter = loadArbiterHandler(args, options.config);
    replica = await startReplica({ ...options, logger, ...(arbiter && { external: arbiter }) });
  } catch (error) {
    await arbiter?.close();
    const kind = error instanceof StartupError ? error.kind : "internal";
    process.stderr.write(`lockstep replica: ${kind} error: ${firstLine(error)}\n`);
    return kind === "usage" ? 2 : 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (reason: string) => {
      if (stopping) {
        process.stderr.write(`lockstep replica: ${reason} again, exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      replica.close().then(
        () => (arbiter ? arbiter.close().then(() => resolve(0)) : resolve(0)),
        (error: unknown) => {
          process.stderr.write(`lockstep replica: close failed: ${firstLine(error)}\n`);
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    // Started by a supervisor with an IPC channel (lockstep up, bench, demo): the channel closes
    // when the supervisor dies, however it dies, and a replica must not outlive it. The channel
    // does not keep the process alive by itself.
    if (process.channel !== undefined) {
      process.channel.unref();
      process.once("disconnect", () => stop("supervisor gone"));
      // The one order a supervisor may give: cut or heal the links (lockstep up --dashboard).
      process.on("message", (message: unknown) => {
        if (isLinkControl(message)) replica.setLinksCut(message.cut);
      });
      process.channel.unref();
    }
  });
}

/** Whether this module is the process entry point (also when started through a symlink). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runReplicaMain(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Sockets and timers are closed; exit even if a stray handle lingers.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (error: unknown) => {
      process.stderr.write(`lockstep replica: internal error: ${firstLine(error)}\n`);
      process.exit(1);
    },
  );
}
