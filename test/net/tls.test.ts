import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { TlsOptions } from "../../src/net/tls.js";
import { RawDialer, request, TestCluster, waitFor } from "./helpers.js";

/** Generates a throwaway CA and a certificate for 127.0.0.1 with the openssl CLI, if present. */
function makePki(dir: string): { good: TlsOptions; rogue: TlsOptions } | string {
  const openssl = (...args: string[]) =>
    execFileSync("openssl", args, {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 20_000,
    });
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore", timeout: 5_000 });
  } catch {
    return "the openssl CLI is not available to generate test certificates";
  }
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const make = (name: string) => {
    openssl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${name}-ca.key`,
      "-out",
      `${name}-ca.crt`,
      "-subj",
      `/CN=${name} test CA`,
      "-days",
      "1",
    );
    openssl(
      "req",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name} node`,
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    );
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${name}-ca.crt`,
      "-CAkey",
      `${name}-ca.key`,
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "1",
      "-copy_extensions",
      "copy",
    );
    const read = (file: string) => readFileSync(join(dir, file), "utf8");
    return { cert: read(`${name}.crt`), key: read(`${name}.key`), ca: read(`${name}-ca.crt`) };
  };
  try {
    return { good: make("good"), rogue: make("rogue") };
  } catch (error) {
    return `openssl could not make test certificates: ${(error as Error).message}`;
  }
}

const dir = mkdtempSync(join(tmpdir(), "lockstep-tls-"));
const pki = makePki(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe.skipIf(typeof pki === "string")(
  `mutual TLS${typeof pki === "string" ? ` (skipped: ${pki})` : ""}`,
  () => {
    const { good, rogue } = pki as Exclude<typeof pki, string>;

    it("carries peer and client traffic under TLS with the HMAC layer on top", async () => {
      cluster = await TestCluster.start(2, { tls: good });
      const c = cluster;
      c.replica(0).transport.sendPeer(1, { type: "ping", n: 1 });
      await waitFor(() => c.replica(1).peerInbox.length === 1, "ping over TLS");
      const alice = c.client("alice", { tls: good });
      alice.send(1, request("alice", 1, "tls"));
      await waitFor(() => c.replica(1).clientInbox.length === 1, "request over TLS");
      expect(c.replica(1).transport.counters.tlsFailures).toBe(0);
    });

    it("counts a TLS handshake in progress against the unauthenticated budget (issue 15)", async () => {
      cluster = await TestCluster.start(1, {
        tls: good,
        maxUnauthenticated: 8,
        maxUnauthenticatedPerAddress: 4,
      });
      const c = cluster;
      const t = c.replica(0).transport;
      // Idle TCP sockets that never start TLS: only 4 are held, the oldest are closed.
      const idle = Array.from({ length: 12 }, () => new RawDialer(c.replica(0).port));
      try {
        await waitFor(() => t.counters.refusedPerAddressBudget >= 8, "idle TLS sockets closed");
        expect(t.unauthenticatedConnections()).toBeLessThanOrEqual(4);
        const alice = c.client("alice", { tls: good });
        alice.send(0, request("alice", 1, "in"));
        await waitFor(() => c.replica(0).clientInbox.length === 1, "alice's request over TLS");
        await waitFor(() => t.unauthenticatedConnections() <= 4, "alice's slot released");
      } finally {
        for (const d of idle) d.socket.destroy();
      }
    });

    it("refuses plain TCP, and certificates from another CA, on both sides", async () => {
      cluster = await TestCluster.start(2, { tls: good });
      const c = cluster;
      const r1 = c.replica(1).transport;
      const plain = new RawDialer(c.replica(1).port, c.handshakeKeysOf("c:alice"), "r1");
      await waitFor(() => plain.closed, "plain TCP refused");
      await waitFor(() => r1.counters.tlsFailures === 1, "counted");
      expect(plain.established).toBe(false);

      // Right HMAC keys, wrong CA: TLS stops it before the handshake; each side counts it.
      const mallory = c.client("alice", { tls: rogue });
      mallory.send(1, request("alice", 1, "rogue"));
      await waitFor(
        () => r1.counters.tlsFailures >= 2 && mallory.counters.tlsFailures >= 1,
        "rogue refused",
      );
      expect(c.replica(1).clientInbox).toEqual([]);
      await mallory.close();

      // Right CA, wrong HMAC key (a client claiming r0): TLS lets it in, the handshake does not.
      const { ReplicaTransport } = await import("../../src/net/transport.js");
      const impostor = new ReplicaTransport({
        self: 0,
        config: c.config,
        keys: { ...c.ringOf("c:eve"), self: "r0" },
        schemas: (await import("./helpers.js")).testSchemas,
        tls: good,
        backoff: { initialMs: 10, maxMs: 50 },
      });
      try {
        impostor.setAddress(1, "127.0.0.1", c.replica(1).port);
        impostor.connectPeers();
        await waitFor(() => r1.counters.unauthenticated >= 1, "impostor refused by the handshake");
      } finally {
        await impostor.close();
      }
    });
  },
);
