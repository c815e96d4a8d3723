import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkBindRule, requestAllowed } from "./access-rule.js";
import { loadTraceFile } from "./load-trace.js";
import { readAsset, replayAssetsDir } from "./replay-assets.js";
import { replayPageHtml } from "./replay-page.js";

export interface ServedPage {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the replay viewer for one structured simulator trace (`lockstep dashboard --replay`):
 * the page at /, its modules at /assets/NAME.js and the trace at /trace.json. The file is read
 * and checked once, before listening: a wrong file throws an Error with a one-line message.
 */
export async function serveReplay(opts: {
  file: string;
  host: string;
  port: number;
  token?: string;
}): Promise<ServedPage> {
  checkBindRule(opts.host, opts.token);
  const trace = await loadTraceFile(opts.file);
  const assets = replayAssetsDir();
  const token = opts.token === "" ? undefined : opts.token;
  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent)
        send(response, 500, "text/plain; charset=utf-8", "internal error\n");
      else response.destroy();
    });
  });
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://replay.invalid");
    if (!requestAllowed(request, url, token)) {
      send(
        response,
        401,
        "text/plain; charset=utf-8",
        "a token is required (?token= or Authorization: Bearer)\n",
      );
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      send(response, 405, "text/plain; charset=utf-8", "only GET\n");
      return;
    }
    if (url.pathname === "/" || url.pathname === "/index.html") {
      send(response, 200, "text/html; charset=utf-8", replayPageHtml(opts.file, token));
      return;
    }
    if (url.pathname === "/trace.json") {
      send(response, 200, "application/json", trace);
      return;
    }
    const asset = url.pathname.startsWith("/assets/")
      ? await readAsset(assets, url.pathname.slice("/assets/".length))
      : undefined;
    if (asset) send(response, 200, asset.type, asset.body);
    else send(response, 404, "text/plain; charset=utf-8", "not found\n");
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot serve the replay on ${opts.host}:${opts.port}: ${error.code ?? error.message}`,
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(":") && !opts.host.startsWith("[") ? `[${opts.host}]` : opts.host;
  const query = token === undefined ? "" : `?token=${encodeURIComponent(token)}`;
  return {
    url: `http://${host}:${port}/${query}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  response.end(response.req.method === "HEAD" ? undefined : body);
}
