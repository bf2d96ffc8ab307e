import { commitText } from "../presentation/escape.ts";
import type { Forge, ProposalContext } from "../forge/forge.ts";
import { collectSnapshot, type Collected } from "../gate/collect.ts";
import { evaluateGate } from "../gate/gate.ts";
import type { GateVerdict } from "../gate/snapshot.ts";
import { InterlockError } from "../errors.ts";

export interface GateResult {
  readonly verdict: GateVerdict;
  readonly collected: Extract<Collected, { ok: true }>;
  readonly context: ProposalContext;
}

/** Evaluates the gate of an open proposal at its current head. */
export async function checkGate(forge: Forge, id: string, now: Date): Promise<GateResult> {
  const context = await forge.proposal(id);
  if (context === undefined) {
    throw new InterlockError("usage", `no open proposal for request ${id}`, {
      hint: "It was merged, denied or never filed: 'interlock show <id>' tells which.",
    });
  }
  const collected = await collectSnapshot(context, now);
  if (!collected.ok) throw new InterlockError("request.invalid", collected.reason);
  return { verdict: evaluateGate(collected.snapshot), collected, context };
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
