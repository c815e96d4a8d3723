import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedPage, serveReplay } from "../../src/dashboard/replay/serve-replay.js";
import { defaultSimOptions } from "../../src/sim/options.js";
import { runSimulation } from "../../src/sim/simulation.js";
import { traceDocument, writeTraceFile } from "../../src/sim/trace/trace-document.js";
import { TraceRecorder } from "../../src/sim/trace/trace-recorder.js";

const dir = mkdtempSync(join(tmpdir(), "lockstep-serve-replay-"));
const good = join(dir, "good.json");
const served: ServedPage[] = [];

beforeAll(() => {
  const recorder = new TraceRecorder();
  const options = { ...defaultSimOptions, protocol: "raft", seed: 6, clients: 2, duration: 0.5 };
  writeTraceFile(good, traceDocument(runSimulation(options, false, recorder), recorder.result()));
});
afterAll(async () => {
  for (const page of served) await page.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(opts: { file: string; host?: string; token?: string }): Promise<ServedPage> {
  const page = await serveReplay({ host: "127.0.0.1", port: 0, ...opts });
  served.push(page);
  return page;
}

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("serveReplay", () => {
  it.each([
    [
      "a missing file",
      () => join(dir, "nope.json"),
      /^cannot read trace file .*nope\.json: no such file$/,
    ],
    ["a directory", () => dir, /^cannot read trace file .*: it is a directory$/],
    [
      "invalid JSON",
      () => write("bad.json", "{ not json"),
      /^.*bad\.json is not a simulator trace: invalid JSON/,
    ],
    [
      "JSON without the format",
      () => write("other.json", '{"hello": 1}'),
      /is not a simulator trace: no "format": "lockstep-sim-trace"/,
    ],
    [
      "another version",
      () => write("v9.json", '{"format": "lockstep-sim-trace", "version": 9}'),
      /of version 9; this lockstep reads version 1/,
    ],
    [
      "a damaged trace",
      () => write("cut.json", '{"format": "lockstep-sim-trace", "version": 1, "lanes": []}'),
      /damaged simulator trace: "messages" is missing/,
    ],
  ])("refuses %s with one line", async (_what, file, message) => {
    const error = await serveReplay({ file: file(), host: "127.0.0.1", port: 0 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });

  it("refuses a non-local bind without a token", async () => {
    await expect(serveReplay({ file: good, host: "0.0.0.0", port: 0 })).rejects.toThrow(
      /open to the network on 0\.0\.0\.0: give a token/,
    );
  });

  it("serves the page, its modules and the trace on 127.0.0.1; 404 for anything else", async () => {
    const page = await serve({ file: good });
    expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const html = await fetch(page.url);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await html.text()).toContain('<script type="module" src="/assets/main.js">');
    const main = await fetch(new URL("/assets/main.js", page.url));
    expect(main.status).toBe(200);
    expect(main.headers.get("content-type")).toMatch(/^text\/javascript/);
    const trace = await fetch(new URL("/trace.json", page.url));
    expect(trace.headers.get("content-type")).toBe("application/json");
    expect(((await trace.json()) as { seed: number }).seed).toBe(6);
    for (const path of [
      "/nope",
      "/assets/../serve-replay.js",
      "/assets/%2e%2e%2fx.js",
      "/assets/Main.ts",
    ]) {
      expect((await fetch(new URL(path, page.url))).status, path).toBe(404);
    }
  });

  it("with a token, refuses requests without it and takes ?token= or a bearer header", async () => {
    const page = await serve({ file: good, token: "s3cret" });
    expect(page.url).toMatch(/\/\?token=s3cret$/);
    const base = page.url.replace(/\?.*$/, "");
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(`${base}trace.json?token=wrong`)).status).toBe(401);
    expect((await fetch(page.url)).status).toBe(200);
    const html = await (await fetch(page.url)).text();
    expect(html).toContain("/assets/main.js?token=s3cret");
    const bearer = await fetch(`${base}trace.json`, {
      headers: { authorization: "Bearer s3cret" },
    });
    expect(bearer.status).toBe(200);
  });
});
