import { createServer, type Server } from "node:http";

export interface MetricsServerHandlers {
  /** Prometheus text for /metrics. */
  metrics(): string;
  /** JSON-able status for /status. */
  status(): unknown;
}

/**
 * The replica's HTTP endpoint: `GET /metrics` (Prometheus text), `GET /status` (JSON) and
 * `GET /healthz` ("ok" while the replica runs). Nothing else; no request body is read.
 */
export class MetricsServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static listen(
    host: string,
    port: number,
    handlers: MetricsServerHandlers,
  ): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      const send = (code: number, type: string, body: string) => {
        res.writeHead(code, { "content-type": type, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : body);
      };
      if (req.method !== "GET" && req.method !== "HEAD") {
        send(405, "text/plain; charset=utf-8", "method not allowed\n");
        return;
      }
      try {
        if (path === "/metrics")
          send(200, "text/plain; version=0.0.4; charset=utf-8", handlers.metrics());
        else if (path === "/status")
          send(200, "application/json", `${JSON.stringify(handlers.status(), null, 2)}\n`);
        else if (path === "/healthz") send(200, "text/plain; charset=utf-8", "ok\n");
        else
          send(404, "text/plain; charset=utf-8", "not found: try /metrics, /status or /healthz\n");
      } catch (error) {
        send(500, "text/plain; charset=utf-8", `${(error as Error)?.message ?? String(error)}\n`);
      }
    });
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    server.maxHeadersCount = 50;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        server.on("error", () => {}); // accept errors later on must not crash the replica
        const address = server.address();
        resolve(
          new MetricsServer(server, typeof address === "object" && address ? address.port : port),
        );
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
