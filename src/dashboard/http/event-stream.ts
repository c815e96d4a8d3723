import type { ServerResponse } from "node:http";

/**
 * One server-sent event stream: `send` writes an event, a comment every `heartbeatMs` keeps
 * proxies and the browser from timing it out, `close` ends it.
 */
export function openEventStream(res: ServerResponse, heartbeatMs = 15_000) {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), heartbeatMs);
  heartbeat.unref();
  return {
    send(event: string, data: unknown): void {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close(): void {
      clearInterval(heartbeat);
      res.end();
    },
    onClose(callback: () => void): void {
      res.on("close", () => {
        clearInterval(heartbeat);
        callback();
      });
    },
  };
}
