import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { LockstepError } from "../../src/client/index.js";
import type { ClusterConfig } from "../../src/core/config.js";
import { validateClusterConfig } from "../../src/core/config.js";
import type { Value } from "../../src/core/value.js";
import {
  type ClientKeyFile,
  type ClusterKeyFile,
  clientKeyFile,
  generateClusterKeys,
  replicaKeyFile,
  writeKeyFile,
} from "../../src/net/keys.js";
import type { ReplicaStatus } from "../../src/runtime/status.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const replicaMain = path.join(repoRoot, "dist/runtime/replica-main.js");

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `npm test` builds first (pretest); running vitest alone needs `npm run build` beforehand. */
export function requireBuild(): void {
  if (!fs.existsSync(replicaMain)) {
    throw new Error(`${replicaMain} is missing: run "npm run build" first (npm test does it)`);
  }
}

/** Polls an async condition until it returns a value (not undefined/false); bounded in time and count. */
export async function waitFor<T>(
  what: string,
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let i = 0; i < 10_000; i++) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) break;
    await sleep(everyMs);
  }
  const why = lastError ? ` (last error: ${(lastError as Error).message})` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}

/** n distinct free ports on 127.0.0.1: bind all to port 0 at once, then release them. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = net.createServer();
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export interface ClusterFixtureOptions {
  /** Default "raft". */
  readonly protocol?: string;
  readonly n?: number;
  readonly f?: number;
  readonly tickMs?: number;
  readonly settings?: { [key: string]: Value };
  readonly sessions?: { [key: string]: number };
  /** Initial client roles (the `clients` section of cluster.json). */
  readonly clients?: { readonly defaultRole?: string; readonly roles?: { [id: string]: string } };
}

/** A temp directory with a cluster's config file, key files and data directories. */
export class ClusterFixture {
  private constructor(
    readonly dir: string,
    readonly config: ClusterConfig,
    readonly keys: ClusterKeyFile,
    readonly metricsPorts: readonly number[],
  ) {}

  static async create(options: ClusterFixtureOptions = {}): Promise<ClusterFixture> {
    const n = options.n ?? 3;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lockstep-runtime-"));
    const ports = await freePorts(2 * n);
    const raw = {
      protocol: options.protocol ?? "raft",
      f: options.f ?? Math.floor((n - 1) / (options.protocol === "pbft" ? 3 : 2)),
      tickMs: options.tickMs ?? 10,
      replicas: Array.from({ length: n }, (_, id) => ({ id, host: "127.0.0.1", port: ports[id] })),
      settings: options.settings ?? {},
      ...(options.sessions ? { sessions: options.sessions } : {}),
      ...(options.clients ? { clients: options.clients } : {}),
    };
    const config = validateClusterConfig(raw);
    fs.writeFileSync(path.join(dir, "cluster.json"), `${JSON.stringify(raw, null, 2)}\n`);
    const keys = generateClusterKeys(n);
    for (let id = 0; id < n; id++) {
      writeKeyFile(path.join(dir, `r${id}.keys.json`), replicaKeyFile(keys, id));
    }
    return new ClusterFixture(dir, config, keys, ports.slice(n));
  }

  get configFile(): string {
    return path.join(this.dir, "cluster.json");
  }

  keyFile(id: number): string {
    return path.join(this.dir, `r${id}.keys.json`);
  }

  dataDir(id: number): string {
    return path.join(this.dir, `r${id}-data`);
  }

  clientKeys(name: string): ClientKeyFile {
    return clientKeyFile(this.keys, name);
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface LogLine {
  readonly ts: string;
  readonly level: string;
  readonly replica?: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

const running = new Set<ReplicaProcess>();

/** A replica child process (`node dist/runtime/replica-main.js`), its logs and its endpoints. */
export class ReplicaProcess {
  readonly logs: LogLine[] = [];
  /** stderr lines that are not JSON (one-line startup errors). */
  readonly plainErrors: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitCode: number | null | undefined;
  private buffer = "";

  private constructor(
    readonly id: number,
    readonly child: ChildProcess,
    readonly metricsPort: number,
  ) {
    running.add(this);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => this.onStderr(chunk));
    child.stdout?.resume();
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        running.delete(this);
        this.exitCode = code;
        resolve({ code, signal });
      });
    });
  }

  /** `fdLimit`: run the replica under that soft and hard RLIMIT_NOFILE (`ulimit -n`). */
  static spawn(
    fixture: ClusterFixture,
    id: number,
    extraArgs: readonly string[] = [],
    options: { readonly fdLimit?: number } = {},
  ): ReplicaProcess {
    requireBuild();
    const command =
      options.fdLimit === undefined
        ? { file: process.execPath, prefix: [] as string[] }
        : {
            file: "/bin/sh",
            prefix: ["-c", `ulimit -n ${options.fdLimit} && exec "$0" "$@"`, process.execPath],
          };
    const child = spawn(
      command.file,
      [
        ...command.prefix,
        replicaMain,
        "--config",
        fixture.configFile,
        "--keys",
        fixture.keyFile(id),
        "--id",
        String(id),
        "--data",
        fixture.dataDir(id),
        "--metrics-port",
        String(fixture.metricsPorts[id]),
        ...extraArgs,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    return new ReplicaProcess(id, child, fixture.metricsPorts[id]!);
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  private onStderr(chunk: string): void {
    this.buffer += chunk;
    let at = this.buffer.indexOf("\n");
    while (at >= 0) {
      const line = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 1);
      if (line.trim() !== "") {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.plainErrors.push(line);
        }
      }
      at = this.buffer.indexOf("\n");
    }
  }

  log(msg: string): LogLine | undefined {
    return this.logs.find((l) => l.msg === msg);
  }

  async fetch(pathname: string): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}${pathname}`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!response.ok) throw new Error(`${pathname}: HTTP ${response.status}`);
    return response.text();
  }

  async status(): Promise<ReplicaStatus> {
    return JSON.parse(await this.fetch("/status")) as ReplicaStatus;
  }

  async metrics(): Promise<Map<string, number>> {
    return parseMetrics(await this.fetch("/metrics"));
  }

  /** Waits until the replica serves /status. */
  async ready(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      `r${this.id} to serve /status`,
      async () => {
        if (!this.alive) throw new Error(`r${this.id} exited: ${this.plainErrors.join(" | ")}`);
        return (await this.status()).replica === this.id;
      },
      timeoutMs,
    );
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    await this.exited;
  }
}

/** Kills every replica process still running (afterEach/afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill("SIGKILL")));
}

/** `name{labels} value` lines of a Prometheus text into a map keyed by `name{labels}`. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The value of metric `name` for replica `id` (labels other than replica must be given in `extra`). */
export function metric(metrics: Map<string, number>, name: string, id: number, extra = ""): number {
  const key = `${name}{replica="${id}"${extra ? `,${extra}` : ""}}`;
  const value = metrics.get(key);
  if (value === undefined) throw new Error(`metric ${key} not found`);
  return value;
}

/** A running cluster of replica processes. */
export class ProcessCluster {
  readonly replicas: (ReplicaProcess | undefined)[];

  constructor(readonly fixture: ClusterFixture) {
    this.replicas = new Array(fixture.config.replicas.length).fill(undefined);
  }

  start(id: number, options: { readonly fdLimit?: number } = {}): ReplicaProcess {
    const p = ReplicaProcess.spawn(this.fixture, id, [], options);
    this.replicas[id] = p;
    return p;
  }

  async startAll(options: { readonly fdLimit?: number } = {}): Promise<void> {
    for (let id = 0; id < this.replicas.length; id++) this.start(id, options);
    await Promise.all(this.replicas.map((r) => r!.ready()));
  }

  replica(id: number): ReplicaProcess {
    const r = this.replicas[id];
    if (!r) throw new Error(`r${id} is not running`);
    return r;
  }

  /** Statuses of the replicas that answer. */
  async statuses(): Promise<ReplicaStatus[]> {
    const all = await Promise.all(
      this.replicas.map((r) => (r?.alive ? r.status().catch(() => undefined) : undefined)),
    );
    return all.filter((s): s is ReplicaStatus => s !== undefined);
  }

  /** Waits until exactly one live replica is leader and the others follow it; returns its id. */
  async leader(timeoutMs = 10_000, exclude?: number): Promise<number> {
    return waitFor(
      "a leader",
      async () => {
        const statuses = await this.statuses();
        const leaders = statuses.filter((s) => s.role === "leader" && s.replica !== exclude);
        if (leaders.length !== 1) return undefined;
        return leaders[0]!.replica;
      },
      timeoutMs,
    );
  }
}

/** Awaits a call that must fail with a LockstepError and returns that error. */
export async function failure(promise: Promise<unknown>): Promise<LockstepError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof LockstepError)) throw error;
    return error;
  }
  throw new Error("expected the call to fail");
}
