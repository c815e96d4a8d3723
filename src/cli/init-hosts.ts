import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { UsageError } from "./args.js";
import { isLocalHost } from "./local-host.js";

/** One entry of `init --hosts`: a host and, when given as host:port, its port. */
export interface HostSpec {
  readonly host: string;
  readonly port: number | undefined;
}

function parsePort(entry: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`init: --hosts: bad port in ${JSON.stringify(entry)}`);
  }
  return port;
}

/**
 * Parses `--hosts h1,h2:7000,[::1]:7001,fe80::1`: names or addresses, each optionally with a
 * port (IPv6 addresses with a port go in brackets; a bare IPv6 address has no port).
 */
export function parseHosts(raw: string): HostSpec[] {
  const entries = raw.split(",").map((s) => s.trim());
  if (entries.length === 0 || entries.some((e) => e === "")) {
    throw new UsageError("init: --hosts needs a comma-separated list of hosts, e.g. h1,h2,h3");
  }
  return entries.map((entry) => {
    const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
    if (bracketed) {
      const port = bracketed[2] === undefined ? undefined : parsePort(entry, bracketed[2]);
      return { host: bracketed[1]!, port };
    }
    const colons = entry.split(":").length - 1;
    if (colons === 1) {
      const [host, port] = entry.split(":") as [string, string];
      if (host === "") throw new UsageError(`init: --hosts: no host in ${JSON.stringify(entry)}`);
      return { host, port: parsePort(entry, port) };
    }
    if (entry.length > 255) throw new UsageError("init: --hosts: host name too long");
    return { host: entry, port: undefined };
  });
}

/**
 * The replica and metrics port of each host: a given port is used as is (metrics at the same
 * offset as the base ports); otherwise a host's k-th replica gets base + k, so three machines
 * all listen on the base port and replicas sharing a machine get consecutive ones.
 */
export function assignPorts(
  hosts: readonly HostSpec[],
  basePort: number,
  metricsBasePort: number,
): { host: string; port: number; metricsPort: number }[] {
  const perHost = new Map<string, number>();
  return hosts.map(({ host, port }) => {
    const k = perHost.get(host) ?? 0;
    perHost.set(host, k + 1);
    const p = port ?? basePort + k;
    const metricsPort = p + (metricsBasePort - basePort);
    if (metricsPort < 1 || metricsPort > 65535) {
      throw new UsageError(`init: the metrics port of ${host}:${p} would be ${metricsPort}`);
    }
    return { host, port: p, metricsPort };
  });
}

/** A fresh cluster id: "ls-" and 12 hex digits. */
export function newClusterId(): string {
  return `ls-${randomBytes(6).toString("hex")}`;
}

/** Whether something listens on host:port now (binding it fails with EADDRINUSE). */
function inUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
    server.listen(port, host.replace(/^\[(.*)\]$/, "$1"), () => server.close(() => resolve(false)));
  });
}

/**
 * The host:port pairs on this machine that are taken now (another cluster running on them,
 * typically). Addresses of other machines are not checked.
 */
export async function portsInUse(
  addresses: readonly { host: string; port: number }[],
): Promise<string[]> {
  const taken: string[] = [];
  for (const { host, port } of addresses) {
    if (isLocalHost(host) && (await inUse(host, port))) taken.push(`${host}:${port}`);
  }
  return taken;
}
