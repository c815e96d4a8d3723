import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { ClusterConfig } from "../../src/core/config.js";
import type { ServedPage } from "../../src/dashboard/http/served-page.js";
import {
  type ControlAction,
  ControlRefused,
  type ReplicaControls,
} from "../../src/dashboard/live/controls.js";
import { startLiveDashboard } from "../../src/dashboard/serve-live.js";
import { freePorts, localClusterConfig } from "../../src/runtime/cluster-folder.js";

const pages: ServedPage[] = [];
afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
});

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  readonly cookie: string | undefined;
}

/** One HTTP request with full control of its headers (fetch would add or refuse some). */
function call(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? "GET", headers: options.headers },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"]),
            body,
            cookie: res.headers["set-cookie"]?.[0],
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.method === "POST" ? "{}" : undefined);
  });
}

/** A cluster whose replicas are not running: every poll finds them down. */
async function silentCluster() {
  return localClusterConfig("raft", 3);
}

/** Records what it was asked; refuses replica 2 as a supervisor refuses a replica not running. */
class RecordingControls implements ReplicaControls {
  readonly actions: readonly ControlAction[] = ["kill", "restart"];
  readonly behaviours: readonly string[] = [];
  readonly replicas = [0, 1, 2];
  readonly done: string[] = [];
  async perform(id: number, action: ControlAction): Promise<string> {
    if (id === 2) throw new ControlRefused("r2 is not running");
    this.done.push(`${action} r${id}`);
    return `r${id} ${action} done`;
  }
  note(): string | null {
    return null;
  }
}

async function serve(
  extra: {
    token?: string;
    controls?: ReplicaControls;
    arbiter?: ClusterConfig;
    arbiterControls?: ReplicaControls;
  } = {},
) {
  const page = await startLiveDashboard({
    config: await silentCluster(),
    host: "127.0.0.1",
    port: 0,
    pollMs: 100,
    ...extra,
  });
  pages.push(page);
  return page;
}

const json = { "content-type": "application/json" };

describe("the live dashboard's server", () => {
  it("serves the page and its built script; shows unreachable replicas as down, in words", async () => {
    const page = await serve();
    expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const html = await call(page.url);
    expect(html.status).toBe(200);
    expect(html.type).toContain("text/html");
    expect(html.body).toContain('src="assets/live/main.js"');
    const script = await call(`${page.url}assets/live/main.js`);
    expect(script.status).toBe(200);
    expect(script.type).toContain("text/javascript");
    expect((await call(`${page.url}assets/../../cli/main.js`)).status).toBe(404);
    expect((await call(`${page.url}assets/live/%2e%2e/%2e%2e/cli/main.js`)).status).toBe(404);
    expect((await call(`${page.url}nothing-here`)).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const snapshot = JSON.parse((await call(`${page.url}api/snapshot`)).body);
    expect(snapshot.controls).toBeNull();
    expect(snapshot.replicas).toHaveLength(3);
    for (const r of snapshot.replicas) {
      expect(r.up).toBe(false);
      expect(r.reason).toBe("connection refused");
    }
  });

  it("has no fault buttons without a supervisor: every POST answers 404", async () => {
    const page = await serve();
    for (const action of ["kill", "restart", "pause", "cut", "byzantine"]) {
      const answer = await call(`${page.url}api/replicas/0/${action}`, {
        method: "POST",
        headers: json,
      });
      expect(answer.status).toBe(404);
    }
  });

  it("runs a supervisor's action for a same-origin JSON POST only, and logs it on the timeline", async () => {
    const controls = new RecordingControls();
    const page = await serve({ controls });
    const form = await call(`${page.url}api/replicas/0/kill`, { method: "POST" });
    expect(form.status).toBe(403);
    const foreign = await call(`${page.url}api/replicas/0/kill`, {
      method: "POST",
      headers: { ...json, origin: "http://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(controls.done).toEqual([]);
    const ok = await call(`${page.url}api/replicas/1/kill`, { method: "POST", headers: json });
    expect(ok.status).toBe(200);
    expect(controls.done).toEqual(["kill r1"]);
    const refused = await call(`${page.url}api/replicas/2/restart`, {
      method: "POST",
      headers: json,
    });
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body).text).toBe("r2 is not running");
    // Offered by no supervisor here: not found; nor are arbiter buttons without an arbiter.
    expect(
      (await call(`${page.url}api/replicas/1/pause`, { method: "POST", headers: json })).status,
    ).toBe(404);
    expect(
      (await call(`${page.url}api/arbiter/1/kill`, { method: "POST", headers: json })).status,
    ).toBe(404);
    const snapshot = JSON.parse((await call(`${page.url}api/snapshot`)).body);
    expect(snapshot.controls).toEqual({
      actions: ["kill", "restart"],
      behaviours: [],
      replicas: [0, 1, 2],
    });
    expect(snapshot.timeline.filter((e: { kind: string }) => e.kind === "action")).toMatchObject([
      { replica: 1, text: "r1 kill done" },
    ]);
  });

  it("primary-backup: shows the arbiter group's rows and runs its own supervisor's buttons", async () => {
    const controls = new RecordingControls();
    const arbiterControls = new RecordingControls();
    const page = await serve({
      controls,
      arbiter: await localClusterConfig("raft", 3),
      arbiterControls,
    });
    const ok = await call(`${page.url}api/arbiter/1/kill`, { method: "POST", headers: json });
    expect(ok.status).toBe(200);
    expect(arbiterControls.done).toEqual(["kill r1"]);
    expect(controls.done).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const snapshot = JSON.parse((await call(`${page.url}api/snapshot`)).body);
    expect(snapshot.arbiter.replicas).toHaveLength(3);
    expect(snapshot.arbiter.controls.actions).toEqual(["kill", "restart"]);
    expect(snapshot.timeline.filter((e: { kind: string }) => e.kind === "action")).toMatchObject([
      { replica: null, text: "arbiter r1 kill done" },
    ]);
  });

  it("with a token, answers only requests that carry it (query or bearer)", async () => {
    const token = "0123456789abcdef0123";
    const page = await serve({ token });
    expect((await call(page.url)).status).toBe(401);
    expect((await call(`${page.url}?token=wrong-token-wrong-token`)).status).toBe(401);
    expect((await call(`${page.url}?token=${token}`)).status).toBe(200);
    expect(
      (await call(`${page.url}api/snapshot`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
    // The page's own requests (script, events) carry it as the cookie the page was given.
    const opened = await call(`${page.url}?token=${token}`);
    expect(opened.cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const cookie = opened.cookie!.split(";")[0]!;
    expect((await call(`${page.url}assets/live/main.js`)).status).toBe(401);
    expect((await call(`${page.url}assets/live/main.js`, { headers: { cookie } })).status).toBe(
      200,
    );
    expect(
      (await call(`${page.url}api/snapshot`, { headers: { cookie: `${cookie}x` } })).status,
    ).toBe(401);
  });

  it("without a token, refuses a Host header that is not a loopback name (DNS rebinding)", async () => {
    const page = await serve();
    expect((await call(page.url, { headers: { host: "attacker.example" } })).status).toBe(401);
    expect((await call(page.url, { headers: { host: "localhost" } })).status).toBe(200);
  });

  it("streams a snapshot and then updates as server-sent events", async () => {
    const page = await serve();
    const seen = await new Promise<string>((resolve, reject) => {
      let text = "";
      const req = request(`${page.url}api/events`, (res) => {
        expect(res.headers["content-type"]).toContain("text/event-stream");
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
          if (text.includes("event: update")) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on("error", (error) => (text.includes("event: update") ? undefined : reject(error)));
      req.end();
    });
    expect(seen.indexOf("event: snapshot")).toBeLessThan(seen.indexOf("event: update"));
  });

  it("refuses a port in use with an error (the command turns it into one line)", async () => {
    const [port] = await freePorts(1);
    const first = await startLiveDashboard({
      config: await silentCluster(),
      host: "127.0.0.1",
      port: port!,
    });
    pages.push(first);
    await expect(
      startLiveDashboard({ config: await silentCluster(), host: "127.0.0.1", port: port! }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
