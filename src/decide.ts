import { policyIdentity, type IdentityDirectory } from "./identity/directory.ts";
import { failClosed, type Decision } from "./policy/decision.ts";
import { planExecutableMasks, valueAt, verifyExecutableMasks } from "./executable/check.ts";
import type { PolicyAnalysis, PolicyEngine, PolicyInput } from "./policy/engine.ts";
import {
  DEFAULT_IDENTITY_PATHS,
  maskDocument,
  maskText,
  type AppliedMask,
  type MaskRule,
} from "./masking/mask.ts";
import { safePointer, scan, type KeyCache } from "./masking/scan.ts";
import { createScrubber, type Scrubber, type ScrubValue } from "./masking/scrub.ts";
import type { Finding } from "./masking/types.ts";
import { ttlSeconds, type Request } from "./request/schema.ts";
import type { Range } from "./executable/literals.ts";
import { analyseSql, type SqlClassification } from "./sql/classify.ts";
import { normalizeForMatching, principalSkeleton } from "./text/unicode.ts";

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
  return decideMaskAndScrub(request, ctx).evaluation;
}

/**
 * decideAndMask, and the scrubber for everything written later about this request: it removes
 * every value masked in the request (found by a detector or masked by a policy rule), in its
 * common encodings. The executor uses it on results; the scrubber holds values and is never
 * written anywhere.
 */
export function decideMaskAndScrub(
  request: Request,
  ctx: DecideContext,
): { evaluation: Evaluation; scrubber: Scrubber } {
  const keyCache: KeyCache = new WeakMap();
  const { input, plan, executable } = prepare(request, ctx, keyCache);
  const findings = plan.findings;
  const raw =
    findings.length > MAX_POLICY_FINDINGS
      ? failClosed(
          "evaluate",
          `the request has ${findings.length} findings (personal data or secrets); the policy decides at most ${MAX_POLICY_FINDINGS}`,
          "Split the request, or keep bulk data out of it and let the executor fetch it.",
          ctx.engine.revision,
        )
      : ctx.engine.decide(input);
  const values: ScrubValue[] = [];
  const masked = maskDocument(request, findings, raw.mask, {
    identityPaths: [...DEFAULT_IDENTITY_PATHS, ...(raw.readable ?? [])],
    hmacKey: ctx.hmacKey,
    keyCache,
    onMasked: (text, label) => values.push({ text, label }),
  });
  // Finding and mask paths are built from safe key names (scan.ts): no value reaches them; the
  // detectors run over them once more, as over every text.
  // The executor's scrubber knows every encoding (it is built when first used); the policy's
  // text quotes values as they are, so the decision is cleaned with a lighter one.
  const hostDenials = [
    ...plan.denials,
    ...verifyExecutableMasks(request, masked.value, executable, plan),
  ];
  const decided = hostDenials.length === 0 ? raw : denyAlso(raw, hostDenials);
  const scrubber = createScrubber(values);
  const plainScrubber = createScrubber(values, { encodings: false });
  // The same paths come back in findings, masks and the decision: each text is masked once.
  const masks = new Map<string, string>();
  const mask = (text: string) => {
    let out = masks.get(text);
    if (out === undefined) {
      out = maskText(text);
      masks.set(text, out);
    }
    return out;
  };
  const clean = (text: string) => mask(plainScrubber.scrub(text));
  // Mask rules name keys as the policy read them: written down, they use safe names.
  const cleanPath = (path: string) => clean(safePointer(request, path, keyCache));
  return {
    scrubber,
    evaluation: {
      decision: cleanDecision(decided, clean, cleanPath),
      request: masked.value as Record<string, unknown>,
      findings: findings.map((f) => ({
        type: f.type,
        kind: f.kind,
        path: mask(f.path),
        in: f.in,
      })),
      masks: masked.applied.map((m) => ({ ...m, path: mask(m.path) })),
      ignoredMaskRules: masked.ignoredRules.map((r) => ({
        rule: { ...r.rule, path: cleanPath(r.rule.path) },
        why: r.why,
      })),
    },
  };
}

/**
 * The text a policy writes into a decision (reasons, mask paths, group names, a fail-closed
 * hint) is masked like everything else before it is stored: a policy may quote the request.
 * Owners are left as they are: they are people the gate must recognise.
 */
function cleanDecision(
  raw: Decision,
  clean: (text: string) => string,
  cleanPath: (path: string) => string,
): Decision {
  return {
    ...raw,
    deny: raw.deny.map(clean),
    why: raw.why.map(clean),
    mask: raw.mask.map((m) => ({ ...m, path: cleanPath(m.path) })),
    approvals: {
      groups: raw.approvals.groups.map((g) => ({ ...g, name: clean(g.name) })),
    },
    ...(raw.failed_closed === undefined
      ? {}
      : { failed_closed: { ...raw.failed_closed, hint: clean(raw.failed_closed.hint) } }),
  };
}

/**
 * The policy's input for a request, exactly as decideAndMask builds it (for timing the policy
 * alone, or evaluating it elsewhere).
 */
export function policyInputFor(request: Request, ctx: DecideContext): PolicyInput {
  return prepare(request, ctx).input;
}

function prepare(request: Request, ctx: DecideContext, keyCache: KeyCache = new WeakMap()) {
  const executable = ctx.engine.executableParams(request.action);
  // Each SQL parameter is parsed once: the parse classifies it and proves its plain string
  // literals, so a mask inside one of those needs no second pass of the scanner.
  const { analysis, proven } = analyse(request, executable, ctx.engine);
  // Masks in executable parameters are widened to whole literals, or deny (executable/check.ts).
  const plan = planExecutableMasks(
    request,
    scan(request, "", keyCache),
    executable,
    ctx.engine.sql,
    proven,
  );
  const input: PolicyInput = {
    request,
    findings: plan.findings,
    analysis,
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
): { analysis: PolicyAnalysis; proven: Map<string, readonly Range[]> } {
  const sql: Record<string, SqlClassification> = {};
  const proven = new Map<string, readonly Range[]>();
  const languages: Record<string, (typeof executable)[number]["language"]> = {};
  for (const p of executable) {
    languages[p.path] = p.language;
    if (p.language !== "sql") continue;
    const text = valueAt(request, p.path);
    if (typeof text !== "string") continue;
    if (engine.sql === null) {
      sql[p.path] = {
        read_only: false,
        reasons: ["the SQL parser could not be loaded"],
        statements: 0,
        qualifiers: [],
      };
      continue;
    }
    const parsed = analyseSql(engine.sql, text);
    sql[p.path] = parsed.classification;
    proven.set(p.path, parsed.strings);
  }
  return {
    analysis: {
      executable: languages,
      sql,
      resource: { normalized: normalizeForMatching(request.resource) },
      principals: principalsIn(request.params),
    },
    proven,
  };
}

/** Longer skeletons name no principal; leaving them out keeps a bulky query out of the input. */
const MAX_PRINCIPAL_LENGTH = 320;

/** The skeleton of every string in a value (object values, array items, any depth). */
function principalsIn(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      const s = principalSkeleton(v);
      if (s !== "" && s.length <= MAX_PRINCIPAL_LENGTH) out.add(s);
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item);
    } else if (v !== null && typeof v === "object") {
      for (const item of Object.values(v)) walk(item);
    }
  };
  walk(value);
  return [...out].sort();
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
