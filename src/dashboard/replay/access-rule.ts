import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

const localHosts = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** A page bound anywhere but the loopback interface must be guarded by a token. */
export function checkBindRule(host: string, token: string | undefined): void {
  if (!localHosts.has(host) && (token === undefined || token === "")) {
    throw new Error(
      `the replay page would be open to the network on ${host}: give a token (--token) or bind 127.0.0.1`,
    );
  }
}

/** With a token, every request must carry it: `?token=` or `Authorization: Bearer`. */
export function requestAllowed(
  request: IncomingMessage,
  url: URL,
  token: string | undefined,
): boolean {
  if (token === undefined || token === "") return true;
  const header = request.headers.authorization;
  const bearer =
    typeof header === "string" && header.startsWith("Bearer ") ? header.slice(7) : undefined;
  const given = url.searchParams.get("token") ?? bearer;
  return given !== undefined && given !== null && sameSecret(given, token);
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
