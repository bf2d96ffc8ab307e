import { failClosed, type Decision } from "./policy/decision.ts";
import type { PolicyEngine, PolicyInput } from "./policy/engine.ts";
import { maskDocument, maskText, type AppliedMask, type MaskRule } from "./masking/mask.ts";
import { scan } from "./masking/scan.ts";
import type { Finding } from "./masking/types.ts";
import { ttlSeconds, type Request } from "./request/schema.ts";

/**
 * A request with more findings than this is denied without asking the policy: the policy's
 * answer has one mask per finding and at most 10,000 masks, and OPA's Wasm runtime takes time
 * that grows faster than linearly with the findings (40,000 took over 30 s).
 */
export const MAX_POLICY_FINDINGS = 10_000;

/** What the edges provide to a decision: the policy, the clock, and the repository's key. */
export interface DecideContext {
  readonly engine: PolicyEngine;
  readonly now: Date;
  /** The approvals repository's name, if known (the policy may use it). */
  readonly repo: string | null;
  /** The repository's masking key (stable `hash` tokens). */
  readonly hmacKey: Uint8Array;
}

/** A finding as it may be written down: located, typed, and its path masked too. */
export type FindingRecord = Omit<Finding, "start" | "end">;

/**
 * The result of deciding and masking one request. Everything in it is safe to print or write:
 * the request is masked, findings and masks carry no values, and the decision's free text
 * (reasons written by the policy) has been masked too.
 */
export interface Evaluation {
  readonly decision: Decision;
  readonly request: Record<string, unknown>;
  readonly findings: readonly FindingRecord[];
  readonly masks: readonly AppliedMask[];
  readonly ignoredMaskRules: readonly { readonly rule: MaskRule; readonly why: string }[];
}

/**
 * request → findings → decision → masking. Pure apart from the policy engine, which is itself
 * deterministic for a given input. Nothing is written here.
 */
export function decideAndMask(request: Request, ctx: DecideContext): Evaluation {
  const findings = scan(request);
  const input: PolicyInput = {
    request,
    findings,
    context: {
      now: ctx.now.toISOString(),
      repo: ctx.repo,
      requested_ttl_seconds: request.ttl === undefined ? null : ttlSeconds(request.ttl),
    },
  };
  const raw =
    findings.length > MAX_POLICY_FINDINGS
      ? failClosed(
          "evaluate",
          `the request has ${findings.length} findings (personal data or secrets); the policy decides at most ${MAX_POLICY_FINDINGS}`,
          "Split the request, or keep bulk data out of it and let the executor fetch it.",
          ctx.engine.revision,
        )
      : ctx.engine.decide(input);
  const masked = maskDocument(request, findings, raw.mask, { hmacKey: ctx.hmacKey });
  const decision: Decision = {
    ...raw,
    deny: raw.deny.map(maskText),
    why: raw.why.map(maskText),
    mask: raw.mask.map((m) => ({ ...m, path: maskText(m.path) })),
  };
  return {
    decision,
    request: masked.value as Record<string, unknown>,
    findings: findings.map((f) => ({
      type: f.type,
      kind: f.kind,
      path: maskText(f.path),
      in: f.in,
    })),
    masks: masked.applied.map((m) => ({ ...m, path: maskText(m.path) })),
    ignoredMaskRules: masked.ignoredRules.map((r) => ({
      rule: { ...r.rule, path: maskText(r.rule.path) },
      why: r.why,
    })),
  };
}
