import {
  batchSizeBuckets,
  type PbftCounters,
  pbftRejectionKinds,
} from "../protocols/pbft/counters.js";
import type { PbftPhase } from "./pbft-phases.js";
import { pbftPhases } from "./pbft-phases.js";
import type { HistogramSnapshot, MetricsWriter } from "./prometheus.js";

type Labels = { readonly [name: string]: string | number };

/**
 * PBFT's metrics (docs/operations.md, "Metrics"): the counters the core keeps in its status
 * details (PbftCore.counters) and the per-phase latency the runtime times. Counters only: rates
 * (MACs per second, view changes per minute) come from Prometheus' rate().
 */
export function writePbftMetrics(
  w: MetricsWriter,
  details: unknown,
  phases: Readonly<Record<PbftPhase, HistogramSnapshot>> | undefined,
  base: Labels,
): void {
  const c = (details as { counters?: PbftCounters } | null)?.counters;
  if (c) {
    const crypto = "Cryptographic operations by this replica's protocol core";
    w.counter(
      "lockstep_pbft_signatures_total",
      `${crypto}: Ed25519 signatures.`,
      c.signaturesComputed,
      { ...base, op: "sign" },
    );
    w.counter(
      "lockstep_pbft_signatures_total",
      `${crypto}: Ed25519 signatures.`,
      c.signaturesVerified,
      { ...base, op: "verify" },
    );
    w.counter(
      "lockstep_pbft_signatures_remembered_total",
      "Signature checks answered from memory: the same signed bytes verified before (no Ed25519 work).",
      c.signaturesRemembered,
      base,
    );
    w.counter("lockstep_pbft_macs_total", `${crypto}: HMAC-SHA256.`, c.macsComputed, {
      ...base,
      op: "compute",
    });
    w.counter("lockstep_pbft_macs_total", `${crypto}: HMAC-SHA256.`, c.macsVerified, {
      ...base,
      op: "verify",
    });
    w.counter(
      "lockstep_pbft_digests_total",
      `${crypto}: SHA-256 digests.`,
      c.digestsComputed,
      base,
    );
    w.counter(
      "lockstep_pbft_batches_proposed_total",
      "Batches this replica proposed (pre-prepared) as primary.",
      c.batchesProposed,
      base,
    );
    w.histogram(
      "lockstep_pbft_batch_size_requests",
      "Requests per batch executed here (null batches count as 0).",
      {
        bounds: batchSizeBuckets,
        counts: [...c.batchSizeCounts, 0],
        count: c.batchesExecuted,
        sum: c.requestsExecuted,
      },
      base,
    );
    w.counter(
      "lockstep_pbft_checkpoints_stable_total",
      "Checkpoints that became stable here (2f+1 matching CHECKPOINTs or a verified proof).",
      c.checkpointsStable,
      base,
    );
    w.counter(
      "lockstep_pbft_view_changes_total",
      "View changes this replica started (sent a VIEW-CHANGE for a higher view).",
      c.viewChangesStarted,
      base,
    );
    w.counter(
      "lockstep_pbft_new_views_total",
      "New views this replica installed (NEW-VIEW sent or accepted).",
      c.newViewsInstalled,
      base,
    );
    w.counter(
      "lockstep_pbft_adopted_committed_total",
      "Pre-prepares taken in place of a faulty primary's other one for the same view and sequence number, because 2f+1 COMMITs certified them.",
      c.adoptedCommitted,
      base,
    );
    w.counter(
      "lockstep_pbft_tentative_executions_total",
      "Batches executed tentatively, once prepared and before they committed (tentativeExecution).",
      c.tentativeExecutions,
      base,
    );
    w.counter(
      "lockstep_pbft_tentative_rollbacks_total",
      "Tentative executions undone because a view change bound their slot to another batch.",
      c.tentativeRollbacks,
      base,
    );
    for (const kind of pbftRejectionKinds) {
      w.counter(
        "lockstep_pbft_rejected_total",
        "Replica messages and requests the protocol core dropped, by kind (bad-signature, bad-mac, wrong-sender, bad-proof, malformed, outside-window, wrong-view, not-primary, equivocation, bad-time, bad-batch, busy).",
        c.rejected[kind] ?? 0,
        { ...base, kind },
      );
    }
  }
  if (phases) {
    for (const phase of pbftPhases) {
      w.histogram(
        "lockstep_pbft_phase_duration_seconds",
        "Per sequence number at this replica: prepare = pre-prepare to prepared, commit = prepared to own COMMIT sent (certificate durable), execute = own COMMIT to executed.",
        phases[phase],
        { ...base, phase },
      );
    }
  }
}
