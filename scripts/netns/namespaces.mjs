// Linux network namespaces for partition tests: one namespace per replica and one for the
// clients, each with a veth on a bridge that lives in a namespace of its own ("hub"), on the
// private subnet 10.213.7.0/24. Nothing is added to the root namespace: traffic goes only
// between namespaces this module creates. Partitions are iptables DROP rules inside the
// replica namespaces. Every name starts with `lsnp-`, so a crashed run's leftovers are found
// and removed by `cleanup()`.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const prefix = "lsnp-";
export const hub = `${prefix}hub`;
export const clientNs = `${prefix}c`;
export const subnet = "10.213.7";
export const clientAddress = `${subnet}.100`;

export const replicaNs = (id) => `${prefix}r${id}`;
export const replicaAddress = (id) => `${subnet}.${10 + id}`;

function run(command, args, { quiet = false } = {}) {
  try {
    return execFileSync(command, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 10_000,
    });
  } catch (error) {
    if (quiet) return "";
    const stderr = error.stderr ? String(error.stderr).trim() : "";
    throw new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`);
  }
}

const ip = (...args) => run("ip", args);

/**
 * Why this machine cannot run the namespace tests, or undefined when it can: Linux, root,
 * `ip` and `iptables` present, and namespaces creatable.
 */
export function unsupportedReason() {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    return "not running as root (network namespaces and iptables need root)";
  }
  for (const tool of ["ip", "iptables"]) {
    const found = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].some((d) =>
      existsSync(`${d}/${tool}`),
    );
    if (!found) return `${tool} is not installed (apt-get install -y iproute2 iptables)`;
  }
  const probe = `${prefix}probe`;
  try {
    run("ip", ["netns", "add", probe]);
    run("ip", ["netns", "exec", probe, "iptables", "-S"]);
  } catch (error) {
    return `cannot create a network namespace with iptables: ${error.message.split("\n")[0]}`;
  } finally {
    run("ip", ["netns", "del", probe], { quiet: true });
  }
  return undefined;
}

/** Namespaces left by this harness (current or an earlier crashed run). */
export function ourNamespaces() {
  return run("ip", ["netns", "list"], { quiet: true })
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter((name) => name?.startsWith(prefix));
}

/**
 * Removes every namespace named `lsnp-*` (their veths, the bridge and the iptables rules go
 * with them) after killing the processes still running inside them.
 */
export function cleanup() {
  for (const ns of ourNamespaces()) {
    const pids = run("ip", ["netns", "pids", ns], { quiet: true })
      .split("\n")
      .map((s) => Number(s.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    run("ip", ["netns", "del", ns], { quiet: true });
  }
  const left = ourNamespaces();
  if (left.length > 0) throw new Error(`could not remove namespaces: ${left.join(", ")}`);
}

function attach(ns, address) {
  const hostSide = `${prefix}h-${ns.slice(prefix.length)}`;
  ip("netns", "add", ns);
  ip("link", "add", hostSide, "netns", hub, "type", "veth", "peer", "name", "eth0", "netns", ns);
  ip("-n", hub, "link", "set", hostSide, "master", "br0", "up");
  ip("-n", ns, "addr", "add", `${address}/24`, "dev", "eth0");
  ip("-n", ns, "link", "set", "eth0", "up");
  ip("-n", ns, "link", "set", "lo", "up");
}

/** Creates the hub with its bridge, `n` replica namespaces and the client namespace. */
export function setup(n) {
  if (!(n >= 1 && n <= 50)) throw new RangeError("1 to 50 replicas");
  ip("netns", "add", hub);
  ip("-n", hub, "link", "add", "br0", "type", "bridge");
  ip("-n", hub, "link", "set", "br0", "up");
  for (let id = 0; id < n; id++) attach(replicaNs(id), replicaAddress(id));
  attach(clientNs, clientAddress);
}

/** The argv prefix that runs a command inside namespace `ns`. */
export const inNamespace = (ns, command) => ["ip", ["netns", "exec", ns, ...command]];

function iptables(id, args) {
  run("ip", ["netns", "exec", replicaNs(id), "iptables", "-w", "2", ...args]);
}

/** Drops packets from replica `from` to replica `to` (one direction; both ends see it). */
export function dropOneWay(from, to) {
  iptables(from, ["-A", "OUTPUT", "-d", replicaAddress(to), "-j", "DROP"]);
  iptables(to, ["-A", "INPUT", "-s", replicaAddress(from), "-j", "DROP"]);
}

/** Drops packets between replicas `a` and `b`, both directions. */
export function cut(a, b) {
  dropOneWay(a, b);
  dropOneWay(b, a);
}

/** Removes every partition rule. */
export function healAll(n) {
  for (let id = 0; id < n; id++) {
    iptables(id, ["-F", "INPUT"]);
    iptables(id, ["-F", "OUTPUT"]);
  }
}

/** `ss -tin` inside replica `id`'s namespace: TCP state, rto, backoff, Send-Q per socket. */
export function sockets(id) {
  return run("ip", ["netns", "exec", replicaNs(id), "ss", "-tin"], { quiet: true });
}
