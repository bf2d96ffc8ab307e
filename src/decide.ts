import { policyIdentity, type IdentityDirectory } from "./identity/directory.ts";
import type { Decision } from "./policy/decision.ts";
import { planExecutableMasks, valueAt, verifyExecutableMasks } from "./executable/check.ts";
import type { PolicyAnalysis, PolicyEngine, PolicyInput } from "./policy/engine.ts";
import { maskDocument, maskText, type AppliedMask, type MaskRule } from "./masking/mask.ts";
import { scan } from "./masking/scan.ts";
import type { Finding } from "./masking/types.ts";
import { ttlSeconds, type Request } from "./request/schema.ts";
import { classifyStatement } from "./sql/classify.ts";
import { normalizeForMatching } from "./sql/normalize.ts";

/** What the edges provide to a decision: the policy, the clock, and the repository's key. */
export interface DecideContext {
  readonly engine: PolicyEngine;
  readonly now: Date;
  /** The approvals repository's name, if known (the policy may use it). */
  readonly repo: string | null;
  /** The repository's masking key (stable `hash` tokens). */
  readonly hmacKey: Uint8Array;
  /** Who is who, so the policy sees every name of the requester and its sponsor. */
  readonly identities?: IdentityDirectory;
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
  const { input, plan, executable } = prepare(request, ctx);
  const findings = plan.findings;
  const raw = ctx.engine.decide(input);
  const masked = maskDocument(request, findings, raw.mask, { hmacKey: ctx.hmacKey });
  const hostDenials = [
    ...plan.denials,
    ...verifyExecutableMasks(request, masked.value, executable, plan),
  ];
  const decided = hostDenials.length === 0 ? raw : denyAlso(raw, hostDenials);
  const decision: Decision = {
    ...decided,
    deny: decided.deny.map(maskText),
    why: decided.why.map(maskText),
    mask: decided.mask.map((m) => ({ ...m, path: maskText(m.path) })),
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

/**
 * The policy's input for a request, exactly as decideAndMask builds it (for timing the policy
 * alone, or evaluating it elsewhere).
 */
export function policyInputFor(request: Request, ctx: DecideContext): PolicyInput {
  return prepare(request, ctx).input;
}

function prepare(request: Request, ctx: DecideContext) {
  const executable = ctx.engine.executableParams(request.action);
  // Masks in executable parameters are widened to whole literals, or deny (executable/check.ts).
  const plan = planExecutableMasks(request, scan(request), executable, ctx.engine.sql);
  const input: PolicyInput = {
    request,
    findings: plan.findings,
    analysis: analyse(request, executable, ctx.engine),
    context: {
      now: ctx.now.toISOString(),
      repo: ctx.repo,
      requested_ttl_seconds: request.ttl === undefined ? null : ttlSeconds(request.ttl),
    },
    ...(ctx.identities ? { identity: policyIdentity(ctx.identities, request.requester) } : {}),
  };
  return { input, plan, executable };
}

/** What the host proves for the policy: executable parameters, SQL read-only, the resource. */
function analyse(
  request: Request,
  executable: ReturnType<PolicyEngine["executableParams"]>,
  engine: PolicyEngine,
): PolicyAnalysis {
  const sql: Record<string, ReturnType<typeof classifyStatement>> = {};
  const languages: Record<string, (typeof executable)[number]["language"]> = {};
  for (const p of executable) {
    languages[p.path] = p.language;
    if (p.language !== "sql") continue;
    const text = valueAt(request, p.path);
    if (typeof text !== "string") continue;
    sql[p.path] =
      engine.sql === null
        ? { read_only: false, reasons: ["the SQL parser could not be loaded"], statements: 0 }
        : classifyStatement(engine.sql, text);
  }
  return {
    executable: languages,
    sql,
    resource: { normalized: normalizeForMatching(request.resource) },
  };
}

/** The policy's decision with the host's own denials added: denied, so never auto-approved. */
function denyAlso(raw: Decision, denials: readonly string[]): Decision {
  return {
    ...raw,
    allow: false,
    auto_approve: false,
    deny: [...raw.deny, ...denials],
    why: [
      ...raw.why,
      "Interlock denies it: an executable parameter failed the host's check (see the denial reasons).",
    ],
  };
}
