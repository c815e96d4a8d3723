/**
 * Raft tests that read as traces, in the spirit of etcd's datadriven testdata: a file is a list
 * of blocks, each a command line, a `----` line, and the output that command must print (up to
 * a blank line). Lines starting with `#` are comments. The commands drive a Cluster (harness.ts:
 * RaftCores behind the project's ReplicaNode) and print what went over the wire and the state:
 *
 *   cluster n=3 [settings={...}] [bug=name]   a new cluster (prints nothing)
 *   tick <id|all> [n=K]       K ticks per node; prints the messages they sent
 *   deliver [n=K]             delivers in-flight messages (all, or the first K) in FIFO order,
 *                             and what they cause, printing each delivered or dropped message
 *   run [n=K]                 K rounds of: tick every live node, deliver everything (silent)
 *   elect                     runs until a leader has committed an entry of its term (silent)
 *   campaign <id>             ticks <id> until it campaigns, then as elect (silent)
 *   propose <id> <client> <seq> <key> <value>   a command put(key, value) (seq 0 opens a session)
 *   read <id> <client> <qid> <key> [after=MS]   a query; `after` adds MS to the node's clock
 *   admin <id> add=R | remove=R | transfer=R
 *   crash <id> / restart <id> / isolate <id> / heal / partition 0,1|2
 *   drop <type>[,<type>] | drop none  drop every message of those types (append, vote, ...)
 *   status [id...]            prints each live node's state
 *   log <id>                  prints the node's durable log
 *
 * Messages print as `from->to type fields`, client answers as `id=>client type fields`.
 * Set RAFT_TRACE_REWRITE=1 to write the current outputs into the files (then review the diff).
 */
import type { ClientReplyMessage } from "../../../src/core/client-messages.js";
import type { LogEntry } from "../../../src/core/log-entry.js";
import type { Value } from "../../../src/core/value.js";
import type { RaftMessage } from "../../../src/protocols/raft/messages.js";
import { snapshotTerm } from "../../../src/protocols/raft/snapshot-meta.js";
import type { RaftPlantedBug } from "../../../src/protocols/raft/types.js";
import { Cluster, type InFlight, put } from "./harness.js";

export interface TraceBlock {
  readonly line: number;
  readonly command: string;
  readonly expected: string;
}

/** Splits a trace file into blocks. */
export function parseTrace(text: string): TraceBlock[] {
  const lines = text.split("\n");
  const blocks: TraceBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) {
      i++;
      continue;
    }
    const start = i + 1;
    const command = line.trim();
    i++;
    if (lines[i] !== "----") throw new Error(`line ${i + 1}: expected ---- after "${command}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== "") out.push(lines[i++]!);
    blocks.push({ line: start, command, expected: out.join("\n") });
  }
  return blocks;
}

/** Writes blocks back with new outputs (for RAFT_TRACE_REWRITE), keeping comments in place. */
export function rewriteTrace(text: string, outputs: readonly string[]): string {
  const lines = text.split("\n");
  const result: string[] = [];
  let i = 0;
  let block = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) {
      result.push(line);
      i++;
      continue;
    }
    result.push(line, "----");
    i += 2;
    while (i < lines.length && lines[i] !== "") i++;
    const out = outputs[block++] ?? "";
    if (out !== "") result.push(...out.split("\n"));
  }
  return result.join("\n");
}

function show(v: Value | undefined): string {
  return JSON.stringify(v) ?? "undefined";
}

function entryText(e: LogEntry): string {
  const p = e.payload;
  let body: string;
  if (p.type === "noop") body = "noop";
  else if (p.type === "config") {
    const m = p.config as { voters: number[]; learners: number[] };
    body = `config v=${m.voters.join(",")}${m.learners.length ? ` l=${m.learners.join(",")}` : ""}`;
  } else if (p.type === "commands") {
    body = `cmds(${p.commands.map((c) => `${c.client}:${c.seq}${c.cmd === null ? "" : ` ${show(c.cmd)}`}`).join("; ")})`;
  } else body = "?";
  return `${e.index}@${e.term} ${body}`;
}

export function messageText(m: RaftMessage): string {
  switch (m.type) {
    case "vote":
      return `${m.pre ? "prevote" : "vote"} t=${m.term} last=${m.lastIndex}@${m.lastTerm}${m.transfer ? " transfer" : ""}`;
    case "voteReply":
      return `${m.pre ? "prevoteResp" : "voteResp"} t=${m.term} ${m.granted ? "granted" : "rejected"}`;
    case "append": {
      const entries = m.entries.length ? ` [${m.entries.map(entryText).join(", ")}]` : "";
      return `app t=${m.term} prev=${m.prevIndex}@${m.prevTerm} commit=${m.commit} round=${m.round}${entries}`;
    }
    case "appendReply":
      return m.success
        ? `appResp t=${m.term} ok match=${m.matchIndex} round=${m.round}`
        : `appResp t=${m.term} reject at=${m.rejectedIndex} hint=${m.conflictIndex}@${m.conflictTerm} round=${m.round}`;
    case "snapshot":
      return `snap t=${m.term} index=${m.index}@${m.snapTerm} bytes=${m.offset}..${m.offset + m.data.length}/${m.total}${m.done ? " done" : ""}`;
    case "snapshotReply":
      return `snapResp t=${m.term} index=${m.index} received=${m.received}${m.done ? " done" : ""}`;
    case "timeoutNow":
      return `timeoutNow t=${m.term}`;
  }
}

function replyText(msg: ClientReplyMessage): string {
  const r = msg.result;
  const result = r.ok
    ? `ok ${show(r.value)}`
    : `${r.error}${"leader" in r && r.leader !== undefined ? ` leader=${r.leader}` : ""}`;
  if (msg.type === "reply") return `reply seq=${msg.seq} ${result}`;
  if (msg.type === "queryReply") return `queryReply qid=${msg.qid} ${result}`;
  return `adminReply aid=${msg.aid} ${result}`;
}

/** Runs one trace file's blocks; returns each block's output. */
export class TraceRunner {
  private c: Cluster | undefined;
  private printedReplies = 0;
  private dropTypes = new Set<string>();

  private get cluster(): Cluster {
    if (!this.c) throw new Error("no cluster yet: start with `cluster n=...`");
    return this.c;
  }

  run(command: string): string {
    const [name, ...args] = command.split(/\s+/);
    const opts = new Map<string, string>();
    const positional: string[] = [];
    for (const a of args) {
      const eq = a.indexOf("=");
      if (eq > 0 && !a.startsWith("{")) opts.set(a.slice(0, eq), a.slice(eq + 1));
      else positional.push(a);
    }
    const count = Number(opts.get("n") ?? "1");
    const out: string[] = [];
    switch (name) {
      case "cluster": {
        this.c = new Cluster({
          n: Number(opts.get("n")),
          settings: opts.has("settings") ? JSON.parse(command.split("settings=")[1]!) : {},
          bug: opts.get("bug") as RaftPlantedBug | undefined,
        });
        this.c.drop = (m) => this.dropTypes.has(m.msg.type);
        this.printedReplies = 0;
        break;
      }
      case "tick": {
        const c = this.cluster;
        const ids = positional[0] === "all" ? c.nodes.map((n) => n.id) : [Number(positional[0])];
        for (let k = 0; k < count; k++) {
          for (const id of ids) if (c.node(id).alive) this.sent(() => c.tick(id), out);
        }
        break;
      }
      case "deliver": {
        const c = this.cluster;
        const limit = opts.has("n") ? count : 100_000;
        for (let k = 0; k < limit && c.network.length > 0; k++) {
          const m = c.network[0]!;
          const delivered = c.delivered.length;
          this.sent(() => c.deliverAt(0), out, m);
          if (c.delivered.length === delivered) out.push(`drop ${this.wire(m)}`);
        }
        break;
      }
      case "run":
        this.cluster.run(count);
        this.printedReplies = this.cluster.replies.length;
        break;
      case "campaign": {
        const c = this.cluster;
        const id = Number(positional[0]);
        for (let k = 0; k < 1000 && c.status(id).role === "follower"; k++) c.tick(id);
        c.deliverAll();
        out.push(`leader ${c.elect()}`);
        this.printedReplies = c.replies.length;
        break;
      }
      case "elect":
        out.push(`leader ${this.cluster.elect()}`);
        this.printedReplies = this.cluster.replies.length;
        break;
      case "propose": {
        const [id, client, seq, key, value] = positional;
        const s = Number(seq);
        const cmd = s === 0 ? null : put(key!, Number(value));
        this.sent(
          () =>
            this.cluster.client(Number(id), {
              type: "request",
              client: client!,
              seq: s,
              ackedBelow: s,
              cmd,
            }),
          out,
        );
        break;
      }
      case "read": {
        const [id, client, qid, key] = positional;
        const node = this.cluster.node(Number(id));
        const mono = node.now + Number(opts.get("after") ?? "0");
        this.sent(
          () =>
            this.cluster.client(
              Number(id),
              { type: "query", client: client!, qid: Number(qid), q: { get: key! } },
              mono,
            ),
          out,
        );
        break;
      }
      case "admin": {
        const id = Number(positional[0]);
        const [op, target] = [...opts.entries()][0]!;
        const admin =
          op === "transfer"
            ? { op: "transfer" as const, to: Number(target) }
            : { op: op as "add" | "remove", replica: Number(target) };
        this.sent(
          () => this.cluster.client(id, { type: "admin", client: "admin", aid: 1, admin }),
          out,
        );
        break;
      }
      case "crash":
        this.cluster.crash(Number(positional[0]));
        break;
      case "restart":
        this.cluster.restart(Number(positional[0]));
        break;
      case "isolate":
        this.cluster.isolate(Number(positional[0]));
        break;
      case "heal":
        this.cluster.heal();
        break;
      case "partition":
        this.cluster.partition(...positional[0]!.split("|").map((g) => g.split(",").map(Number)));
        break;
      case "drop":
        this.dropTypes = new Set(positional[0] === "none" ? [] : positional[0]!.split(","));
        break;
      case "status": {
        const c = this.cluster;
        const ids = positional.length ? positional.map(Number) : c.nodes.map((n) => n.id);
        for (const id of ids) out.push(this.statusLine(id));
        break;
      }
      case "log": {
        const d = this.cluster.node(Number(positional[0])).disk.build();
        if (d.snapshot)
          out.push(`snapshot ${d.snapshot.meta.index}@${snapshotTerm(d.snapshot.meta)}`);
        for (const e of d.entries) out.push(entryText(e));
        break;
      }
      default:
        throw new Error(`unknown trace command "${name}"`);
    }
    return out.join("\n");
  }

  private wire(m: InFlight): string {
    return `${m.from}->${m.to} ${messageText(m.msg)}`;
  }

  /** Runs `act`, printing (indented under `cause`, if any) the messages and answers it released. */
  private sent(act: () => unknown, out: string[], cause?: InFlight): void {
    const c = this.cluster;
    const net = c.network.length - (cause ? 1 : 0);
    act();
    const fresh = c.network.slice(net);
    const indent = cause ? "  " : "";
    if (cause && c.delivered.at(-1) === cause) out.push(this.wire(cause));
    for (const m of fresh) out.push(`${indent}${this.wire(m)}`);
    for (const r of c.replies.slice(this.printedReplies))
      out.push(`${indent}${r.from}=>${r.client} ${replyText(r.msg)}`);
    this.printedReplies = c.replies.length;
  }

  private statusLine(id: number): string {
    const node = this.cluster.node(id);
    if (!node.alive) return `${id}: down`;
    const s = node.core.status();
    const d = s.details as { voters: number[]; learners: number[]; appliedIndex: number };
    const learners = d.learners.length ? ` learners=${d.learners.join(",")}` : "";
    return `${id}: ${s.role} term=${s.term} leader=${s.leader ?? "-"} commit=${s.commitIndex} applied=${d.appliedIndex} last=${s.lastIndex} voters=${d.voters.join(",")}${learners}`;
  }
}
