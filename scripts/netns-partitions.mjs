#!/usr/bin/env node
// Partition runs on real replica processes in Linux network namespaces (docs/operations.md,
// "Partition tests in network namespaces"). Needs root, `ip` and `iptables`; run `npm run build`
// first. Usage:
//
//   node scripts/netns-partitions.mjs --scenario mixed --replicas 3 --duration 60 --out DIR
//
// Scenarios: isolate-leader, majority-minority, one-way, bridge, pause, kill, heal-kill (the
// issue 11 regression: isolate a follower, heal, kill the other follower), mixed (all of them
// once), random (random faults until --duration seconds have passed). With
// `--protocol primary-backup` (a pair, replicas 0 and 1, plus its arbiter: a 3-replica Raft
// group in namespaces of its own, or one process with `--arbiter single`), the scenario is
// arbiter-cut: the primary is cut from the arbiter and from its backup; the backup must go live
// through the arbiter, the primary must not (no commit, no newer epoch) and rejoin after the
// heal (`--cut backup` cuts the backup instead: the primary goes on alone). Prints one JSON summary
// line; exits 0 when no acknowledged write was lost, the history is linearizable and writes
// came back within --goal-ms after every heal; 1 otherwise; 2 on bad arguments or a machine
// that cannot run it (the reason is printed). --cleanup only removes leftovers of a crashed run.
import { spawn } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import * as ns from "./netns/namespaces.mjs";

const root = resolve(new URL("..", import.meta.url).pathname);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const scenarios = [
  "isolate-leader",
  "majority-minority",
  "one-way",
  "bridge",
  "pause",
  "kill",
  "heal-kill",
  "mixed",
  "random",
];
/** The scenarios each protocol can run (primary/backup's need its arbiter). */
const protocolScenarios = {
  raft: scenarios,
  "primary-backup": ["arbiter-cut"],
};

function usage(message) {
  console.error(`netns-partitions: ${message}`);
  console.error(
    `usage: node scripts/netns-partitions.mjs --scenario ${scenarios.join("|")}|arbiter-cut (primary-backup) [--replicas N] [--duration S] [--isolate-ms MS] [--goal-ms MS] [--protocol raft|primary-backup] [--arbiter raft|single] [--cut primary|backup] [--clients N] [--out DIR] [--seed N] | --cleanup`,
  );
  process.exit(2);
}

/** A running cluster in namespaces, the client driver and the fault log. */
class Run {
  constructor(options) {
    this.o = options;
    this.n = options.replicas;
    // Primary/backup's arbiter replicas run in the namespaces after the pair's: arbiter i in
    // replica namespace n + i. `namespaces` counts both.
    this.arbiterN =
      options.protocol === "primary-backup" ? (options.arbiter === "single" ? 1 : 3) : 0;
    this.namespaces = this.n + this.arbiterN;
    this.arbiterChildren = new Map(); // arbiter id → ChildProcess
    this.children = new Map(); // id → ChildProcess
    this.paused = new Set();
    this.events = [];
    this.dir = options.out;
  }

  log(message) {
    if (!this.o.quiet) console.error(`[${((now() - this.t0) / 1000).toFixed(1)}s] ${message}`);
  }

  event(kind, detail = {}, measure = false) {
    this.events.push({ t: now(), kind, ...detail, measure });
    this.log(`${kind} ${JSON.stringify(detail)}`);
  }

  async start() {
    this.t0 = now();
    const lib = await import(join(root, "dist/index.js"));
    const keys = lib.generateClusterKeys(this.n);
    const pb = this.o.protocol === "primary-backup";
    const config = lib.validateClusterConfig({
      ...(pb ? { clusterId: "netns-pb" } : {}),
      protocol: this.o.protocol,
      f: this.o.protocol === "single" ? 0 : pb ? 1 : Math.floor((this.n - 1) / 2),
      tickMs: 10,
      replicas: Array.from({ length: this.n }, (_, id) => ({
        id,
        host: ns.replicaAddress(id),
        port: 7000,
        metricsPort: 7100,
      })),
      settings: {},
    });
    this.configFile = join(this.dir, "cluster.json");
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
    this.keysFile = join(this.dir, "cluster-keys.json");
    lib.writeKeyFile(this.keysFile, keys);
    for (let id = 0; id < this.n; id++) {
      lib.writeKeyFile(join(this.dir, `replica-${id}.json`), lib.replicaKeyFile(keys, id));
    }
    if (pb) await this.writeArbiter(config);
    ns.cleanup();
    ns.setup(this.namespaces);
    for (let id = 0; id < this.arbiterN; id++) this.startArbiter(id);
    for (let id = 0; id < this.n; id++) this.startReplica(id);
    this.startDriver();
    // The driver answers once it has loaded the library; on a loaded machine that can take a
    // while, so the first question waits longer than the rest.
    await this.ask({ cmd: "status" }, 120_000);
  }

  /**
   * The arbiter as `lockstep init --protocol primary-backup` lays it out (DIR/arbiter/, and each
   * pair replica's client key in DIR/keys/arbiter-client-<id>.json, where replicas look for it).
   */
  async writeArbiter(pairConfig) {
    const init = await import(join(root, "dist/cli/init-arbiter.js"));
    const addresses = Array.from({ length: this.arbiterN }, (_, i) => ({
      host: ns.replicaAddress(this.n + i),
      port: 7000,
      metricsPort: 7100,
    }));
    const config = init.arbiterConfig(
      this.o.arbiter,
      pairConfig.clusterId,
      addresses,
      this.n,
      pairConfig.tickMs,
    );
    mkdirSync(join(this.dir, "keys"), { recursive: true, mode: 0o700 });
    init.writeArbiter(this.dir, config, this.n);
  }

  startArbiter(id) {
    const dir = join(this.dir, "arbiter");
    const out = openSync(join(dir, `arbiter-${id}.log`), "a");
    const argv = [
      "netns",
      "exec",
      ns.replicaNs(this.n + id),
      process.execPath,
      join(root, "dist/runtime/replica-main.js"),
      "--config",
      join(dir, "cluster.json"),
      "--keys",
      join(dir, "keys", `replica-${id}.json`),
      "--id",
      String(id),
      "--data",
      join(dir, `data-${id}`),
      "--metrics-host",
      ns.replicaAddress(this.n + id),
      "--log-level",
      "warn",
    ];
    this.arbiterChildren.set(id, spawn("ip", argv, { stdio: ["ignore", out, out] }));
  }

  /** Namespace indexes of the arbiter's replicas. */
  arbiterNamespaces() {
    return Array.from({ length: this.arbiterN }, (_, i) => this.n + i);
  }

  startReplica(id) {
    const out = openSync(join(this.dir, `replica-${id}.log`), "a");
    const argv = [
      "netns",
      "exec",
      ns.replicaNs(id),
      process.execPath,
      join(root, "dist/runtime/replica-main.js"),
      "--config",
      this.configFile,
      "--keys",
      join(this.dir, `replica-${id}.json`),
      "--id",
      String(id),
      "--data",
      join(this.dir, `data-${id}`),
      "--metrics-host",
      ns.replicaAddress(id),
      "--log-level",
      "warn",
    ];
    // `ip netns exec` execs the command, so the child's pid is the replica's.
    const child = spawn("ip", argv, { stdio: ["ignore", out, out] });
    this.children.set(id, child);
  }

  startDriver() {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns.clientNs,
        process.execPath,
        join(root, "scripts/netns/driver.mjs"),
        this.configFile,
        this.keysFile,
        this.dir,
      ],
      { stdio: ["pipe", "pipe", openSync(join(this.dir, "driver.log"), "a")] },
    );
    this.driver = child;
    this.nextSeq = 1;
    this.waiters = new Map(); // seq → waiter
    createInterface({ input: child.stdout }).on("line", (line) => {
      let answer;
      try {
        answer = JSON.parse(line);
      } catch {
        return;
      }
      const waiter = this.waiters.get(answer.seq);
      this.waiters.delete(answer.seq);
      if (waiter) waiter(answer);
    });
  }

  /** Sends one command to the driver and waits (bounded) for its answer. */
  ask(command, timeoutMs = 30_000) {
    const seq = this.nextSeq++;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(seq);
        reject(new Error(`driver did not answer ${command.cmd} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(seq, (answer) => {
        clearTimeout(timer);
        if (answer.error) reject(new Error(`driver: ${answer.error}`));
        else resolvePromise(answer);
      });
      this.driver.stdin.write(`${JSON.stringify({ ...command, seq })}\n`);
    });
  }

  /** The replica leading in the newest term, as its peers' statuses say (bounded wait). */
  async leader(timeoutMs = 10_000, not = new Set()) {
    const deadline = now() + timeoutMs;
    for (let i = 0; i < 1_000 && now() < deadline; i++) {
      const { statuses } = await this.ask({ cmd: "status" });
      const up = statuses.filter((s) => s.role !== undefined);
      const term = Math.max(...up.map((s) => s.term));
      const leaders = up.filter((s) => s.leads && s.term === term);
      if (leaders.length === 1 && !not.has(leaders[0].replica)) return leaders[0].replica;
      await sleep(100);
    }
    throw new Error(`no leader within ${timeoutMs} ms`);
  }

  /** Primary/backup: waits until `backup` follows `primary` in its epoch, in sync (eligible). */
  async backupInSync(primary, backup, timeoutMs = 15_000) {
    const deadline = now() + timeoutMs;
    for (let i = 0; i < 1_000 && now() < deadline; i++) {
      const statuses = await this.statuses();
      const p = statuses.find((s) => s.replica === primary);
      const b = statuses.find((s) => s.replica === backup);
      if (b?.role === "backup" && b.leader === primary && b.term === p?.term) return;
      await sleep(100);
    }
    throw new Error(`r${backup} was not an in-sync backup of r${primary} within ${timeoutMs} ms`);
  }

  async statuses() {
    return (await this.ask({ cmd: "status" })).statuses;
  }

  others(...ids) {
    return Array.from({ length: this.n }, (_, i) => i).filter((i) => !ids.includes(i));
  }

  isolate(ids) {
    for (const a of ids) for (const b of this.others(...ids)) ns.cut(a, b);
  }

  heal() {
    this.socketReport("before-heal");
    ns.healAll(this.namespaces);
    this.event("heal", {}, true);
  }

  /** Appends `ss -tin` of every replica namespace to OUT/sockets.txt (TCP backoff, Send-Q). */
  socketReport(label) {
    const lines = [`== ${label} at ${Math.round(now() - this.t0)} ms`];
    for (let id = 0; id < this.n; id++) {
      lines.push(`-- r${id}`, ns.sockets(id));
    }
    appendFileSync(join(this.dir, "sockets.txt"), `${lines.join("\n")}\n`);
  }

  kill(id) {
    this.children.get(id)?.kill("SIGKILL");
    this.children.delete(id);
  }

  pause(id) {
    this.children.get(id)?.kill("SIGSTOP");
    this.paused.add(id);
  }

  resume(id) {
    this.children.get(id)?.kill("SIGCONT");
    this.paused.delete(id);
  }

  /** Heals everything and brings every replica back; waits until all applied the same index. */
  async restoreAll() {
    ns.healAll(this.namespaces);
    for (const id of [...this.paused]) this.resume(id);
    for (let id = 0; id < this.n; id++) if (!this.children.has(id)) this.startReplica(id);
    const leader = await this.leader(15_000);
    const deadline = now() + 20_000;
    for (let i = 0; i < 400 && now() < deadline; i++) {
      const statuses = await this.statuses();
      const commit = statuses.find((s) => s.replica === leader)?.commitIndex ?? Infinity;
      if (statuses.every((s) => s.appliedIndex >= commit)) return;
      await sleep(250);
    }
    throw new Error("replicas did not converge within 20 s after the final heal");
  }

  async stopAll() {
    for (const id of [...this.paused]) this.resume(id);
    const all = [...this.children.values(), ...this.arbiterChildren.values()];
    for (const child of all) child.kill("SIGTERM");
    const deadline = now() + 5_000;
    for (let i = 0; i < 100 && now() < deadline; i++) {
      if (all.every((c) => c.exitCode !== null || c.signalCode)) break;
      await sleep(50);
    }
    for (const child of all) child.kill("SIGKILL");
    this.children.clear();
    this.arbiterChildren.clear();
    this.driver?.kill("SIGKILL");
  }
}

// ---- scenarios: each starts with load running and leaves healing to the caller

const hold = (o) => o.holdMs;

const steps = {
  async "isolate-leader"(run, o) {
    const leader = await run.leader();
    run.isolate([leader]);
    run.event("isolate", { replicas: [leader], leader: true });
    await sleep(hold(o));
    run.heal();
    await sleep(o.settleMs);
  },
  async "majority-minority"(run, o) {
    const leader = await run.leader();
    // The old leader and enough others to stay a minority.
    const minority = [leader, ...run.others(leader)].slice(0, Math.floor((run.n - 1) / 2));
    run.isolate(minority);
    run.event("partition", { minority, majority: run.others(...minority) });
    await sleep(hold(o));
    run.heal();
    await sleep(o.settleMs);
  },
  async "one-way"(run, o) {
    const leader = await run.leader();
    for (const other of run.others(leader)) ns.dropOneWay(leader, other);
    run.event("one-way", { from: leader, to: run.others(leader) });
    await sleep(hold(o));
    run.heal();
    await sleep(o.settleMs);
  },
  async bridge(run, o) {
    // Everyone but the bridge is cut from everyone else but the bridge; the leader is not it.
    const leader = await run.leader();
    const bridge = run.others(leader)[0];
    const rest = run.others(bridge);
    for (const a of rest) for (const b of rest) if (a < b) ns.cut(a, b);
    run.event("bridge", { bridge, cutApart: rest });
    await sleep(hold(o));
    run.heal();
    await sleep(o.settleMs);
  },
  async pause(run, o) {
    const leader = await run.leader();
    run.pause(leader);
    run.event("sigstop", { replica: leader });
    await sleep(Math.min(hold(o), 3_000));
    run.resume(leader);
    run.event("sigcont", { replica: leader }, true);
    await sleep(o.settleMs);
  },
  async kill(run, o) {
    const leader = await run.leader();
    run.kill(leader);
    run.event("kill", { replica: leader });
    await sleep(1_000);
    run.startReplica(leader);
    run.event("restart", { replica: leader });
    await sleep(o.settleMs);
  },
  /** Issue 11: isolate a follower, heal, and 1 s later kill -9 the other follower. */
  async "heal-kill"(run, o) {
    const leader = await run.leader();
    // The follower the leader dials (higher id) stalled in the runs; isolate that one.
    const followers = run.others(leader);
    const [isolated, victim] = o.isolateLow ? followers : [...followers].reverse();
    run.isolate([isolated]);
    run.event("isolate", { replicas: [isolated] });
    await sleep(o.isolateMs);
    run.heal();
    const healedAt = now();
    // Diagnostics: when the leader's link to the healed follower is live again, and how far
    // behind the follower still is when its partner dies.
    let linkBackMs = null;
    for (let i = 0; i < 20 && now() - healedAt < 900; i++) {
      const leaderStatus = (await run.statuses()).find((s) => s.replica === leader);
      const link = leaderStatus?.links?.find((l) => l.replica === isolated);
      if (
        link?.state === "live" ||
        (!leaderStatus?.links && leaderStatus?.peersConnected?.includes(isolated))
      ) {
        linkBackMs = Math.round(now() - healedAt);
        break;
      }
      await sleep(50);
    }
    await sleep(Math.max(0, 1_000 - (now() - healedAt)));
    const before = await run.statuses();
    const commit = before.find((s) => s.replica === leader)?.commitIndex ?? null;
    const applied = before.find((s) => s.replica === isolated)?.appliedIndex ?? null;
    run.kill(victim);
    run.event(
      "kill",
      {
        replica: victim,
        afterHeal: true,
        leaderLinkBackMs: linkBackMs,
        healedFollowerBehind: commit === null || applied === null ? null : commit - applied,
      },
      true,
    );
    run.socketReport("1 s after the heal, right after the kill");
    await sleep(4_000);
    run.startReplica(victim);
    run.event("restart", { replica: victim });
    await sleep(o.settleMs);
  },
};

/**
 * Primary/backup: one replica of the pair (`--cut primary`, the default, or `--cut backup`) is
 * cut from every arbiter replica and from the other replica of the pair; the clients still
 * reach both. The other replica reaches the arbiter, so it must win the next epoch and serve;
 * the cut-off one must not go live: it commits nothing after the cut and never leads in a newer
 * epoch. Exactly one side serves. Then heal: the cut-off replica follows the newer epoch.
 */
steps["arbiter-cut"] = async (run, o) => {
  const primary = await run.leader();
  const backup = run.others(primary)[0];
  await run.backupInSync(primary, backup);
  const cutOff = o.cut === "backup" ? backup : primary;
  const other = cutOff === primary ? backup : primary;
  const epoch = (await run.statuses()).find((s) => s.replica === primary).term;
  for (const a of run.arbiterNamespaces()) ns.cut(cutOff, a);
  ns.cut(primary, backup);
  const cutAt = now();
  run.event("arbiter-cut", { replica: cutOff, primary, epoch }, true);
  const watch = {
    cutOff,
    other,
    epoch,
    cutOffCommitAtCut: null,
    cutOffCommitAtEnd: null,
    cutOffLedNewerEpoch: false,
    cutOffRoles: [],
    otherLive: null,
    polls: 0,
  };
  const end = cutAt + o.holdMs;
  for (let i = 0; i < 10_000 && now() < end; i++) {
    const statuses = await run.statuses();
    watch.polls++;
    const c = statuses.find((s) => s.replica === cutOff);
    const t = statuses.find((s) => s.replica === other);
    if (c?.role !== undefined) {
      watch.cutOffCommitAtCut ??= c.commitIndex;
      watch.cutOffCommitAtEnd = c.commitIndex;
      if (c.leads && c.term > epoch) watch.cutOffLedNewerEpoch = true;
      if (!watch.cutOffRoles.includes(c.role)) watch.cutOffRoles.push(c.role);
    }
    if (t?.leads && t.term > epoch && watch.otherLive === null)
      watch.otherLive = { epoch: t.term, afterMs: Math.round(now() - cutAt) };
    await sleep(100);
  }
  run.pb = watch;
  run.heal();
  await sleep(o.settleMs);
};

steps.mixed = async (run, o) => {
  for (const name of [
    "isolate-leader",
    "majority-minority",
    "one-way",
    "bridge",
    "pause",
    "kill",
  ]) {
    await steps[name](run, o);
  }
};

steps.random = async (run, o) => {
  const kinds = ["isolate-leader", "majority-minority", "one-way", "bridge", "pause", "kill"];
  let seed = o.seed;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const end = now() + o.durationMs;
  for (let i = 0; i < 10_000 && now() < end; i++) {
    const kind = kinds[Math.floor(random() * kinds.length)];
    await steps[kind](run, { ...o, holdMs: 1_000 + Math.floor(random() * 4_000) });
  }
};

/** What the arbiter-cut scenario saw, and what was wrong with it (empty: exactly one side served). */
function primaryBackupVerdict(w) {
  const problems = [];
  if (w.cutOffLedNewerEpoch)
    problems.push(`r${w.cutOff} went live in a newer epoch without reaching the arbiter`);
  if (w.cutOffCommitAtCut === null) problems.push(`r${w.cutOff} never answered a status poll`);
  else if (w.cutOffCommitAtEnd > w.cutOffCommitAtCut)
    problems.push(
      `r${w.cutOff} committed ${w.cutOffCommitAtCut} → ${w.cutOffCommitAtEnd} while cut off`,
    );
  if (w.otherLive === null) problems.push(`r${w.other} did not go live in a newer epoch`);
  return { ...w, problems };
}

/** Availability after each measured event: first acknowledged write, longest write gap. */
function availability(history, events, windowMs) {
  const writes = history
    .filter((op) => op.ret !== undefined && op.input.kind === "command")
    .map((op) => op.ret)
    .sort((a, b) => a - b);
  return events
    .filter((e) => e.measure)
    .map((e) => {
      const first = writes.find((t) => t >= e.t);
      const inWindow = [
        e.t,
        ...writes.filter((t) => t > e.t && t < e.t + windowMs),
        e.t + windowMs,
      ];
      let gap = 0;
      for (let i = 1; i < inWindow.length; i++) gap = Math.max(gap, inWindow[i] - inWindow[i - 1]);
      return {
        event: e.kind,
        ...(e.replica === undefined ? {} : { replica: e.replica }),
        writesBackMs: first === undefined ? null : Math.round(first - e.t),
        longestWriteGapMs: Math.round(gap),
      };
    });
}

async function main() {
  let args;
  try {
    args = parseArgs({
      options: {
        scenario: { type: "string" },
        replicas: { type: "string", default: "3" },
        duration: { type: "string", default: "60" },
        "isolate-ms": { type: "string", default: "30000" },
        "hold-ms": { type: "string", default: "4000" },
        "goal-ms": { type: "string", default: "1000" },
        protocol: { type: "string", default: "raft" },
        arbiter: { type: "string", default: "raft" },
        cut: { type: "string", default: "primary" },
        clients: { type: "string", default: "4" },
        out: { type: "string" },
        seed: { type: "string", default: "1" },
        quiet: { type: "boolean", default: false },
        "isolate-low": { type: "boolean", default: false },
        cleanup: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    usage(error.message);
  }
  const reason = ns.unsupportedReason();
  if (reason) {
    console.log(JSON.stringify({ skipped: reason }));
    console.error(`netns-partitions: cannot run here: ${reason}`);
    process.exit(2);
  }
  if (args.cleanup) {
    ns.cleanup();
    return 0;
  }
  const allowed = protocolScenarios[args.protocol];
  if (!allowed) usage(`--protocol must be one of ${Object.keys(protocolScenarios).join(", ")}`);
  if (!allowed.includes(args.scenario))
    usage(`--scenario with ${args.protocol} must be one of ${allowed.join(", ")}`);
  if (!["raft", "single"].includes(args.arbiter)) usage("--arbiter must be raft or single");
  if (!["primary", "backup"].includes(args.cut)) usage("--cut must be primary or backup");
  const pb = args.protocol === "primary-backup";
  const int = (name, min, max) => {
    const v = Number(args[name]);
    if (!Number.isInteger(v) || v < min || v > max) usage(`--${name} must be ${min}..${max}`);
    return v;
  };
  const o = {
    scenario: args.scenario,
    replicas: pb ? 2 : int("replicas", 3, 9),
    durationMs: int("duration", 1, 86_400) * 1000,
    isolateMs: int("isolate-ms", 0, 600_000),
    holdMs: int("hold-ms", 100, 600_000),
    goalMs: int("goal-ms", 1, 600_000),
    clients: int("clients", 1, 64),
    seed: int("seed", 0, 2 ** 30),
    settleMs: 1_500,
    protocol: args.protocol,
    arbiter: args.arbiter,
    cut: args.cut,
    quiet: args.quiet,
    isolateLow: args["isolate-low"],
  };
  o.out = args.out ? resolve(args.out) : mkdtempSync(join(tmpdir(), "lsnp-"));
  mkdirSync(o.out, { recursive: true });

  const run = new Run(o);
  const onSignal = () => {
    ns.cleanup();
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let summary;
  try {
    await run.start();
    await run.leader(15_000);
    await run.ask({
      cmd: "start",
      clients: o.clients,
      timeoutMs: 500,
      keys: ["a", "b", "c"],
      maxMs: 3_600_000,
    });
    await sleep(1_000);
    await steps[o.scenario](run, o);
    await run.restoreAll();
    const stopped = await run.ask({ cmd: "stop" }, 60_000);
    const read = await run.ask({ cmd: "readback" }, 120_000);
    const history = JSON.parse(readFileSync(stopped.history, "utf8"));
    const lib = await import(join(root, "dist/index.js"));
    const check = lib.checkLinearizability(lib.kvModel, history);
    const after = availability(history, run.events, 3_000);
    const completed = history.filter((op) => op.ret !== undefined).length;
    summary = {
      scenario: o.scenario,
      replicas: o.replicas,
      out: o.out,
      history: stopped.history,
      operations: history.length,
      completed,
      indeterminate: history.length - completed,
      uniqueWritesReadBack: read.checked,
      missing: read.missing,
      verdict: check.verdict,
      availability: after,
      events: run.events.map((e) => ({ ...e, t: Math.round(e.t - run.t0) })),
      ...(run.pb ? { primaryBackup: primaryBackupVerdict(run.pb) } : {}),
      seconds: Math.round((now() - run.t0) / 100) / 10,
    };
  } finally {
    await run.stopAll();
    ns.cleanup();
  }
  console.log(JSON.stringify(summary));
  const slow = summary.availability.filter(
    (a) => a.writesBackMs === null || a.writesBackMs > o.goalMs || a.longestWriteGapMs > o.goalMs,
  );
  const ok =
    summary.missing.length === 0 &&
    summary.verdict === "ok" &&
    slow.length === 0 &&
    (summary.primaryBackup?.problems.length ?? 0) === 0;
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error?.stack ?? String(error));
    try {
      ns.cleanup();
    } catch (cleanupError) {
      console.error(cleanupError.message);
    }
    process.exit(1);
  },
);
