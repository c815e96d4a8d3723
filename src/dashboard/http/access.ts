import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** Loopback names and addresses: only these may be bound without a token. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Why these bind options are refused (one line), or undefined when they are fine. */
export function bindProblem(host: string, token: string | undefined): string | undefined {
  if (token !== undefined && token.length < 16)
    return "--token must be at least 16 characters (e.g. openssl rand -hex 16)";
  if (!isLoopbackHost(host) && token === undefined)
    return `--host ${host} is not a loopback address: anyone who can reach it could watch the cluster (and press its buttons), so it needs --token`;
  return undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The cookie that carries the token for the page's own requests (its script, style sheet and
 * event stream cannot add a header or a query string): set when the page is opened with the
 * token, HttpOnly and SameSite=Strict. Named per port: cookies are shared by every port of a host.
 */
export function tokenCookieName(port: number): string {
  return `lockstep_dashboard_${port}`;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name)
      return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

/** The token a request carries: `?token=`, `Authorization: Bearer`, or the page's cookie. */
export function requestToken(req: IncomingMessage, port: number): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice(7).trim();
  const query = new URL(req.url ?? "/", "http://x").searchParams.get("token");
  return query ?? cookie(req, tokenCookieName(port));
}

/**
 * Whether `req` may be served. With a token, it must carry it. Without one (a loopback bind),
 * its Host header must name a loopback host too: a page elsewhere that gets a name resolved to
 * 127.0.0.1 (DNS rebinding) must not read the dashboard.
 */
export function allowed(req: IncomingMessage, token: string | undefined, port: number): boolean {
  if (token !== undefined) {
    const given = requestToken(req, port);
    return given !== undefined && sameSecret(given, token);
  }
  const host = req.headers.host ?? "";
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  return isLoopbackHost(name);
}

/**
 * Whether a POST may change anything: it must say it is JSON (a cross-site form cannot, and a
 * cross-site script cannot without a preflight this server never answers), and an Origin
 * header, when sent, must be this server's.
 */
export function sameOriginPost(req: IncomingMessage): boolean {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host ?? ""}`;
}
