import { commitText } from "../presentation/escape.ts";
import { evidenceAtMerge, type EvidenceCache } from "../evidence/evidence.ts";
import type { EvidenceSource } from "../evidence/reader.ts";
import type { TrustChain } from "../trust/chain.ts";
import type { Forge, ProposalContext } from "../forge/forge.ts";
import { contextEvidence } from "../gate/collect.ts";
import type { GateSnapshot, GateVerdict } from "../gate/snapshot.ts";
import type { ParsedRequestFile } from "../proposal/request-file.ts";
import { InterlockError } from "../errors.ts";

export interface GateResult {
  readonly verdict: GateVerdict;
  readonly collected: {
    readonly snapshot: GateSnapshot;
    readonly record: ParsedRequestFile;
    readonly path: string;
  };
  readonly context: ProposalContext;
}

/** One evidence source, trust chain and cache for judging many requests (list, show). */
export interface SharedEvidence {
  readonly source: EvidenceSource;
  readonly trust: TrustChain | undefined;
  readonly cache?: EvidenceCache;
}

const noProposal = (id: string) =>
  new InterlockError("usage", `no open proposal for request ${id}`, {
    hint: "It was merged, denied or never filed: 'interlock show <id>' tells which.",
  });

/**
 * Evaluates the gate of an open proposal at its current head, as the merge that would land it
 * now: through the one evidence check where the forge provides it (trust inputs as committed
 * on the default branch the merge lands on, exactly what the executor and the audit re-check).
 */
export async function checkGate(
  forge: Forge,
  id: string,
  now: Date,
  shared?: SharedEvidence,
): Promise<GateResult> {
  if (shared || forge.evidenceSource) {
    const source = shared?.source ?? forge.evidenceSource!();
    try {
      const trust = shared ? shared.trust : await source.trust?.();
      if (trust?.broken && trust.root === "") {
        // No pinned trust root: nothing in this repository can be trusted.
        throw new InterlockError("config.invalid", trust.broken.reason);
      }
      const context = await forge.proposal(id);
      const m = await source.prospective(id, now);
      if (m === undefined || context === undefined) throw noProposal(id);
      if (m.head !== context.headCommit) {
        throw new InterlockError("usage", `the proposal for ${id} moved while it was checked`, {
          hint: "Run the command again.",
        });
      }
      const ev = await evidenceAtMerge(source.reader, m, {
        now,
        ...(trust ? { trust } : {}),
        ...(shared?.cache ? { cache: shared.cache } : {}),
      });
      if (!ev.ok) throw new InterlockError("request.invalid", ev.reason);
      return {
        verdict: ev.verdict,
        collected: { snapshot: ev.snapshot, record: ev.record, path: ev.path },
        context,
      };
    } finally {
      if (!shared) source.close();
    }
  }
  const context = await forge.proposal(id);
  if (context === undefined) throw noProposal(id);
  const ev = await contextEvidence(context, now, now);
  if (!ev.ok) throw new InterlockError("request.invalid", ev.reason);
  return {
    verdict: ev.verdict,
    collected: { snapshot: ev.snapshot, record: ev.record, path: ev.path },
    context,
  };
}

/** The merge commit message: what was approved, by whom, on which head, under which policy. */
export function mergeMessage(r: GateResult): string {
  const { record } = r.collected;
  const approvers = r.verdict.approvals.filter((a) => a.counted).map((a) => a.who);
  const trailers = [
    `Interlock-Request: ${record.id}`,
    `Interlock-Head: ${r.context.headCommit}`,
    ...(r.verdict.autoApproved ? ["Interlock-Auto-Approved: true"] : []),
    ...[...new Set(approvers)].map((a) => `Interlock-Approved-By: ${a}`),
    `Interlock-Gate: satisfied (${r.verdict.rules.filter((x) => x.ok).length}/${r.verdict.rules.length} rules)`,
    `Interlock-Policy: ${record.decision.revision}`,
  ];
  return `Merge ${commitText(record.request.action)} request ${record.id}\n\n${commitText(r.verdict.summary)}\n\n${trailers.join("\n")}`;
}

export type MergeOutcome =
  | { readonly merged: true; readonly commit: string; readonly gate: GateResult }
  | { readonly merged: false; readonly gate: GateResult };

/** Merges when, and only when, the gate holds on the head it was evaluated on. */
export async function mergeRequest(forge: Forge, id: string, now: Date): Promise<MergeOutcome> {
  const gate = await checkGate(forge, id, now);
  if (!gate.verdict.satisfied) return { merged: false, gate };
  const commit = await forge.merge(id, gate.context.headCommit, mergeMessage(gate), now);
  return { merged: true, commit, gate };
}
