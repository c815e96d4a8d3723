import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ControlRefused, isControlAction, type ReplicaControls } from "../live/controls.js";
import type { LiveHub } from "../live/live-hub.js";
import { allowed, sameOriginPost, tokenCookieName } from "./access.js";
import { openEventStream } from "./event-stream.js";
import { livePage } from "./live-page.js";
import { liveStyle } from "./live-style.js";
import type { ServedPage } from "./served-page.js";
import { readAsset, webRoot } from "./static-files.js";

export interface LiveServerOptions {
  readonly hub: LiveHub;
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly title: string;
  readonly controls?: ReplicaControls;
  /** primary-backup under `up --dashboard`: the arbiter replicas' buttons. */
  readonly arbiterControls?: ReplicaControls;
}

function send(res: ServerResponse, code: number, type: string, body: string | Buffer): void {
  res.writeHead(code, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'self'; style-src 'self'; img-src 'self' data:",
  });
  res.end(body);
}

const text = "text/plain; charset=utf-8";
const json = "application/json; charset=utf-8";

/**
 * The live dashboard's HTTP server: GET / (the page), /assets/… (the built browser code),
 * /api/snapshot (JSON), /api/events (server-sent events); and, only with a supervisor,
 * POST /api/replicas/ID/ACTION[?behaviour=B] (and /api/arbiter/ID/ACTION for the arbiter group's
 * replicas when it runs them too). Everything else is 404.
 */
export async function serveLive(options: LiveServerOptions): Promise<ServedPage> {
  const root = webRoot();
  const server = createServer((req, res) => {
    void route(req, res, options, root).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, text, `${(error as Error)?.message ?? String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  options: LiveServerOptions,
  root: string,
): Promise<void> {
  const port = req.socket.localPort ?? 0;
  if (!allowed(req, options.token, port)) {
    send(res, 401, text, "unauthorized: pass ?token= or Authorization: Bearer\n");
    return;
  }
  if (options.token !== undefined) {
    // The page's script, style sheet and event stream then carry the token as a cookie.
    res.setHeader(
      "set-cookie",
      `${tokenCookieName(port)}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/`,
    );
  }
  const url = new URL(req.url ?? "/", "http://dashboard");
  const path = url.pathname;
  if (req.method === "POST") {
    const match = /^\/api\/(replicas|arbiter)\/(\d+)\/([a-z]+)$/.exec(path);
    const arbiter = match?.[1] === "arbiter";
    const controls = arbiter ? options.arbiterControls : options.controls;
    if (controls === undefined || !match) {
      send(res, 404, text, "not found\n");
      return;
    }
    const id = Number(match[2]);
    await control(req, res, controls, options.hub, id, match[3]!, url, arbiter);
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, text, "method not allowed\n");
    return;
  }
  if (path === "/" || path === "/index.html")
    send(res, 200, "text/html; charset=utf-8", livePage(options.title));
  // No icon: an empty answer rather than a 404 in every browser console.
  else if (path === "/favicon.ico") send(res, 204, text, "");
  else if (path === "/live.css") send(res, 200, "text/css; charset=utf-8", liveStyle);
  else if (path === "/api/snapshot") send(res, 200, json, JSON.stringify(options.hub.snapshot()));
  else if (path === "/api/events") {
    const stream = openEventStream(res);
    stream.send("snapshot", options.hub.snapshot());
    const unsubscribe = options.hub.subscribe((update) => stream.send("update", update));
    stream.onClose(unsubscribe);
  } else if (path.startsWith("/assets/")) {
    const asset = await readAsset(root, path.slice("/assets/".length));
    if (asset === undefined) send(res, 404, text, "not found\n");
    else send(res, 200, asset.type, asset.body);
  } else send(res, 404, text, "not found\n");
}

async function control(
  req: IncomingMessage,
  res: ServerResponse,
  controls: ReplicaControls,
  hub: LiveHub,
  id: number,
  action: string,
  url: URL,
  arbiter: boolean,
): Promise<void> {
  if (!isControlAction(action) || !controls.actions.includes(action)) {
    send(res, 404, text, "not found\n");
    return;
  }
  if (!sameOriginPost(req)) {
    send(res, 403, text, "a control request must be a same-origin JSON POST\n");
    return;
  }
  req.resume();
  const behaviour = url.searchParams.get("behaviour") ?? undefined;
  try {
    const line = await controls.perform(id, action, behaviour);
    // The timeline's replica numbers are the cluster's; an arbiter replica is named in the text.
    if (arbiter)
      hub.record({ at: Date.now(), kind: "action", replica: null, text: `arbiter ${line}` });
    else hub.record({ at: Date.now(), kind: "action", replica: id, text: line });
    send(res, 200, json, JSON.stringify({ ok: true, text: line }));
  } catch (error) {
    if (!(error instanceof ControlRefused)) throw error;
    send(res, 409, json, JSON.stringify({ ok: false, text: error.message }));
  }
}
