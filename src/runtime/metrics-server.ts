import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { limits } from "../core/limits.js";

export interface MetricsServerHandlers {
  /** Prometheus text for /metrics. */
  metrics(): string;
  /** JSON-able status for /status. */
  status(): unknown;
}

export interface MetricsServerOptions {
  /** Connections held at once (default limits.httpConnections). */
  readonly maxConnections?: number;
  /** Request headers must arrive within this (ms; default limits.httpHeadersMs). */
  readonly headersTimeoutMs?: number;
  /** The whole request within this (ms; default limits.httpRequestMs). */
  readonly requestTimeoutMs?: number;
  /** An idle or silent connection is closed after this (ms; default limits.httpIdleMs). */
  readonly idleTimeoutMs?: number;
}

/** What the endpoint counts (exported on /metrics as lockstep_http_*). */
export interface HttpCounters {
  /** Connections accepted. */
  accepted: number;
  /** Connections closed because the cap was reached: an idle one to admit a newcomer, or the newcomer. */
  refused: number;
  /** Connections closed for sending nothing, or too slowly, within the timeouts. */
  timedOut: number;
}

/**
 * The replica's HTTP endpoint: `GET /metrics` (Prometheus text), `GET /status` (JSON) and
 * `GET /healthz` ("ok" while the replica runs). Nothing else; no request body is read.
 *
 * Nobody authenticates here, so it must never cost the replica more than a fixed number of file
 * descriptors: at most `maxConnections` sockets are held, each for a few seconds at most. When
 * the cap is reached, the oldest connection with no request in progress is closed to admit the
 * newcomer (an idle flood cannot lock a monitoring probe out), or, if every one is busy, the
 * newcomer is.
 */
export class MetricsServer {
  readonly counters: HttpCounters = { accepted: 0, refused: 0, timedOut: 0 };
  /** Open connections, oldest first, and those with a request in progress. */
  private readonly open = new Set<Socket>();
  private readonly busy = new Set<Socket>();
  private server!: Server;
  private boundPort = 0;

  private constructor(private readonly maxConnections: number) {}

  get port(): number {
    return this.boundPort;
  }

  /** Connections open now. */
  get connections(): number {
    return this.open.size;
  }

  static async listen(
    host: string,
    port: number,
    handlers: MetricsServerHandlers,
    options: MetricsServerOptions = {},
  ): Promise<MetricsServer> {
    const maxConnections = options.maxConnections ?? limits.httpConnections;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`);
    }
    const idleMs = options.idleTimeoutMs ?? limits.httpIdleMs;
    const headersMs = options.headersTimeoutMs ?? limits.httpHeadersMs;
    const requestMs = Math.max(headersMs, options.requestTimeoutMs ?? limits.httpRequestMs);
    const self = new MetricsServer(maxConnections);
    const server = createServer(
      {
        // Node checks the header and request timeouts on this interval; its default (30 s) is
        // what let idle sockets live for half a minute.
        connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersMs / 3))),
        headersTimeout: headersMs,
        requestTimeout: requestMs,
        keepAliveTimeout: idleMs,
        maxHeaderSize: 8 * 1024,
      },
      (req, res) => {
        const socket = req.socket;
        self.busy.add(socket);
        res.on("close", () => self.busy.delete(socket));
        serve(req.method, req.url, handlers, (code, type, body) => {
          res.writeHead(code, { "content-type": type, "cache-control": "no-store" });
          res.end(req.method === "HEAD" ? undefined : body);
        });
      },
    );
    server.maxHeadersCount = 50;
    // A socket that sends nothing at all is closed after the idle timeout too.
    server.setTimeout(Math.max(idleMs, headersMs), (socket) => {
      self.counters.timedOut++;
      socket.destroy();
    });
    server.on("connection", (socket: Socket) => self.admit(socket));
    self.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        server.on("error", () => {}); // accept errors later on must not crash the replica
        resolve();
      });
    });
    const address = server.address();
    self.boundPort = typeof address === "object" && address ? address.port : port;
    return self;
  }

  private admit(socket: Socket): void {
    if (this.open.size >= this.maxConnections) {
      let idle: Socket | undefined;
      for (const s of this.open) {
        if (!this.busy.has(s)) {
          idle = s;
          break;
        }
      }
      this.counters.refused++;
      if (!idle) {
        socket.destroy();
        return;
      }
      this.forget(idle);
      idle.destroy();
    }
    this.counters.accepted++;
    this.open.add(socket);
    socket.once("close", () => this.forget(socket));
  }

  private forget(socket: Socket): void {
    this.open.delete(socket);
    this.busy.delete(socket);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.open) socket.destroy();
    });
  }
}

function serve(
  method: string | undefined,
  url: string | undefined,
  handlers: MetricsServerHandlers,
  send: (code: number, type: string, body: string) => void,
): void {
  const path = (url ?? "/").split("?")[0];
  if (method !== "GET" && method !== "HEAD") {
    send(405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  try {
    if (path === "/metrics")
      send(200, "text/plain; version=0.0.4; charset=utf-8", handlers.metrics());
    else if (path === "/status")
      send(200, "application/json", `${JSON.stringify(handlers.status(), null, 2)}\n`);
    else if (path === "/healthz") send(200, "text/plain; charset=utf-8", "ok\n");
    else send(404, "text/plain; charset=utf-8", "not found: try /metrics, /status or /healthz\n");
  } catch (error) {
    send(500, "text/plain; charset=utf-8", `${(error as Error)?.message ?? String(error)}\n`);
  }
}
