import * as net from "node:net";
import * as tls from "node:tls";
import type { NetCounters } from "./counters.js";

/**
 * Mutual TLS under the HMAC layer (optional). Both ends present a certificate signed by `ca`
 * and refuse a peer without one. TLS hides traffic and adds a second, independent check; the
 * handshake in handshake.ts still decides who the peer is.
 */
export interface TlsOptions {
  /** This node's certificate chain (PEM). */
  readonly cert: string | Uint8Array;
  /** This node's private key (PEM). */
  readonly key: string | Uint8Array;
  /** The CA certificate(s) peers' certificates must chain to (PEM). */
  readonly ca: string | Uint8Array | readonly (string | Uint8Array)[];
  /**
   * Check that a replica's certificate names the host dialed (default true). Turn off when
   * certificates name roles rather than hosts; identity is still proven by the handshake.
   */
  readonly verifyHostname?: boolean;
}

function secureContextOptions(options: TlsOptions): tls.SecureContextOptions {
  const buf = (x: string | Uint8Array) => (typeof x === "string" ? x : Buffer.from(x));
  const ca = Array.isArray(options.ca)
    ? options.ca.map(buf)
    : [buf(options.ca as string | Uint8Array)];
  return { cert: buf(options.cert), key: buf(options.key), ca, minVersion: "TLSv1.3" };
}

/** A listening server, plain TCP or mutual TLS; `onSocket` gets each accepted (and, for TLS, verified) socket. */
export function createListener(
  options: TlsOptions | undefined,
  counters: NetCounters,
  handshakeTimeoutMs: number,
  onSocket: (socket: net.Socket) => void,
): net.Server {
  if (!options) return net.createServer({ noDelay: true }, onSocket);
  const server = tls.createServer(
    {
      ...secureContextOptions(options),
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: handshakeTimeoutMs,
    },
    onSocket,
  );
  server.on("tlsClientError", (_error, socket) => {
    counters.tlsFailures++;
    socket.destroy();
  });
  return server;
}

/** Opens a socket to host:port, plain TCP or mutual TLS. */
export function dialSocket(
  options: TlsOptions | undefined,
  host: string,
  port: number,
  counters: NetCounters,
): net.Socket {
  if (!options) return net.connect({ host, port, noDelay: true });
  const verifyHostname = options.verifyHostname ?? true;
  const socket = tls.connect({
    ...secureContextOptions(options),
    host,
    port,
    rejectUnauthorized: true,
    ...(net.isIP(host) ? {} : { servername: host }),
    ...(verifyHostname ? {} : { checkServerIdentity: () => undefined }),
  });
  let tcpUp = false;
  let secure = false;
  socket.once("connect", () => {
    tcpUp = true;
  });
  socket.once("secureConnect", () => {
    secure = true;
  });
  // A failure after TCP connected but before TLS finished is a TLS failure (bad or missing certificate).
  socket.once("close", () => {
    if (tcpUp && !secure) counters.tlsFailures++;
  });
  return socket;
}
