import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";

/**
 * Whether `host` names this machine: a loopback or wildcard address, "localhost", the host
 * name, or an address of one of its interfaces. Other names are not resolved (a DNS lookup
 * could hang), so they count as not local; callers only warn about those.
 */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost" || h.endsWith(".localhost") || h === hostname().toLowerCase()) return true;
  if (isIP(h) === 0) return false;
  if (h.startsWith("127.") || h === "::1" || h === "0.0.0.0" || h === "::") return true;
  return Object.values(networkInterfaces()).some((addresses) =>
    (addresses ?? []).some((a) => a.address.toLowerCase() === h),
  );
}
