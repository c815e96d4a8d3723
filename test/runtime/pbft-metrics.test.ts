import { describe, expect, it } from "vitest";
import { emptyPbftCounters } from "../../src/protocols/pbft/counters.js";
import { certPut } from "../../src/protocols/pbft/durable.js";
import type { PreparedCertificate } from "../../src/protocols/pbft/messages.js";
import { writePbftMetrics } from "../../src/runtime/pbft-metrics.js";
import { PbftPhaseLatency } from "../../src/runtime/pbft-phases.js";
import { MetricsWriter } from "../../src/runtime/prometheus.js";

/** A prepared certificate stand-in: the phase tracker only reads the persist key. */
const certAt = (seq: number) => ({ prePrepare: { seq } }) as unknown as PreparedCertificate;

describe("PBFT metrics", () => {
  it("times each phase from the first pre-prepare, the certificate persist, the first COMMIT and execution", () => {
    let now = 0;
    const p = new PbftPhaseLatency(() => now);
    p.message({ type: "preprepare", seq: 1 }, false);
    now = 2;
    p.message({ type: "preprepare", seq: 1 }, false); // a retransmission: the phase does not restart
    now = 3;
    p.persisting([certPut(certAt(1), [])]);
    now = 10;
    p.message({ type: "commit", seq: 1 }, true);
    p.message({ type: "commit", seq: 1 }, false); // someone else's commit: not ours
    now = 14;
    p.executedAt(1);
    const s = p.snapshot();
    expect([s.prepare.count, s.prepare.sum]).toEqual([1, 0.003]);
    expect([s.commit.count, s.commit.sum]).toEqual([1, 0.007]);
    expect([s.execute.count, s.execute.sum]).toEqual([1, 0.004]);
    // Executed seqs are not followed again (a late retransmission starts nothing).
    p.message({ type: "preprepare", seq: 1 }, false);
    p.persisting([certPut(certAt(1), [])]);
    expect(p.snapshot().prepare.count).toBe(1);
  });

  it("exports the core's counters and the phases as Prometheus families", () => {
    const counters = emptyPbftCounters();
    counters.signaturesVerified = 7;
    counters.rejected["bad-mac"] = 2;
    counters.batchesExecuted = 2;
    counters.requestsExecuted = 40;
    counters.batchSizeCounts[5] = 2; // two batches of ≤ 32
    counters.viewChangesStarted = 1;
    const w = new MetricsWriter();
    writePbftMetrics(w, { counters }, new PbftPhaseLatency().snapshot(), { replica: 2 });
    const text = w.text();
    expect(text).toContain('lockstep_pbft_signatures_total{replica="2",op="verify"} 7');
    expect(text).toContain('lockstep_pbft_rejected_total{replica="2",kind="bad-mac"} 2');
    expect(text).toContain('lockstep_pbft_rejected_total{replica="2",kind="wrong-view"} 0');
    expect(text).toContain('lockstep_pbft_batch_size_requests_bucket{replica="2",le="16"} 0');
    expect(text).toContain('lockstep_pbft_batch_size_requests_bucket{replica="2",le="32"} 2');
    expect(text).toContain('lockstep_pbft_batch_size_requests_sum{replica="2"} 40');
    expect(text).toContain('lockstep_pbft_view_changes_total{replica="2"} 1');
    expect(text).toContain(
      'lockstep_pbft_phase_duration_seconds_count{replica="2",phase="commit"} 0',
    );
  });
});
