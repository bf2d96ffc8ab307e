import { canonicalJson } from "../request/canonical.ts";
import { detectInString } from "./detectors.ts";
import { childPointer, isWithin } from "./pointer.ts";
import { placeholder, stronger } from "./strategies.ts";
import type { Finding, FindingKind, MaskStrategy } from "./types.ts";

/** A mask asked for by the policy (SPEC §2 `mask`). */
export interface MaskRule {
  readonly path: string;
  readonly strategy: MaskStrategy;
  /**
   * Only findings of this detector type under `path` (so an e-mail and a phone number in one
   * string can be masked differently). Without a type the rule covers every finding under
   * `path`, and masks the whole field when there is none.
   */
  readonly type?: string;
}

/** Why a value was masked the way it was. */
export type MaskReason =
  | "policy" // a policy rule covered it
  | "default" // a finding no rule covered: Interlock masks every finding regardless
  | "secret-safety-net"; // the policy asked for `partial` on a secret: raised to redact

/** One masking that was applied: where, what kind of thing, how, and why. Never the value. */
export interface AppliedMask {
  readonly path: string;
  readonly in: "key" | "value";
  /** The detector type, or "value" for a whole field a policy rule masked. */
  readonly type: string;
  readonly kind: FindingKind | "field";
  readonly strategy: MaskStrategy;
  readonly reason: MaskReason;
}

export interface MaskOptions {
  /** Key for `hash` tokens: the repository's, so tokens are stable within it. */
  readonly hmacKey: Uint8Array;
  /**
   * Fields that identify principals (requester, sponsor): the gate and the audit need them
   * in the clear, so personal-data findings there are left as they are and policy rules
   * cannot mask them. Secrets found there are still masked.
   */
  readonly identityPaths?: readonly string[];
}

export interface MaskResult {
  readonly value: unknown;
  readonly applied: readonly AppliedMask[];
  /** Policy rules that did not apply, and why (the path is absent, or an identity field). */
  readonly ignoredRules: readonly { rule: MaskRule; why: string }[];
}

export const DEFAULT_IDENTITY_PATHS = [
  "/action",
  "/requester/id",
  "/requester/kind",
  "/requester/on_behalf_of",
];

interface Planned {
  readonly finding: Finding;
  readonly strategy: MaskStrategy;
  readonly reason: MaskReason;
}

/**
 * Masks a JSON document: every finding is masked (policy rules choose the strategy; a finding
 * no rule covers is redacted; a secret is never shown partially), and a policy rule whose path
 * holds no finding masks that whole field. A finding inside a longer string masks only its
 * span, so a reviewer still sees the shape of a query. Pure: the input is not modified.
 */
export function maskDocument(
  doc: unknown,
  findings: readonly Finding[],
  rules: readonly MaskRule[],
  opts: MaskOptions,
): MaskResult {
  const identity = opts.identityPaths ?? DEFAULT_IDENTITY_PATHS;
  const isIdentity = (p: string) => identity.some((i) => isWithin(p, i));
  const ignoredRules: { rule: MaskRule; why: string }[] = [];
  const usableRules: MaskRule[] = [];
  for (const rule of rules) {
    if (rule.path === "") ignoredRules.push({ rule, why: "a rule cannot mask the whole request" });
    else if (isIdentity(rule.path) || identity.some((i) => isWithin(i, rule.path)))
      ignoredRules.push({ rule, why: "identity fields stay readable for the gate and the audit" });
    else if (!exists(doc, rule.path))
      ignoredRules.push({ rule, why: "no such field in the request" });
    else usableRules.push(rule);
  }

  // Rules by path, so that each finding looks up the rules of its own path and its ancestors
  // (comparing every finding with every rule was quadratic: the policy gives one per finding).
  const rulesByPath = new Map<string, MaskRule[]>();
  for (const r of usableRules) {
    const list = rulesByPath.get(r.path);
    if (list === undefined) rulesByPath.set(r.path, [r]);
    else list.push(r);
  }
  /** The rules at a path or at any of its ancestors, once per distinct path. */
  const inherited = new Map<string, readonly MaskRule[]>();
  const rulesAt = (path: string): readonly MaskRule[] => {
    if (rulesByPath.size === 0) return [];
    let rules = inherited.get(path);
    if (rules !== undefined) return rules;
    const cut = path.lastIndexOf("/");
    const above = cut <= 0 ? [] : rulesAt(path.slice(0, cut)); // no rule masks the whole request
    const own = rulesByPath.get(path);
    rules = own === undefined ? above : above.length === 0 ? own : [...above, ...own];
    inherited.set(path, rules);
    return rules;
  };
  const byValue = new Map<string, Planned[]>();
  const byKey = new Map<string, Planned[]>();
  for (const f of findings) {
    if (f.kind !== "secret" && isIdentity(f.path)) continue;
    let strategy: MaskStrategy | undefined;
    for (const r of rulesAt(f.path)) {
      if (covers(r, f))
        strategy = strategy === undefined ? r.strategy : stronger(strategy, r.strategy);
    }
    let reason: MaskReason = strategy === undefined ? "default" : "policy";
    strategy ??= "redact";
    if (f.kind === "secret" && strategy === "partial") {
      strategy = "redact";
      reason = "secret-safety-net";
    }
    const map = f.in === "key" ? byKey : byValue;
    const list = map.get(f.path) ?? [];
    list.push({ finding: f, strategy, reason });
    map.set(f.path, list);
  }

  // Untyped rules that cover no finding mask their whole field.
  const whole = new Map<string, MaskStrategy>();
  for (const r of usableRules) {
    if (r.type !== undefined || findings.some((f) => covers(r, f))) continue;
    whole.set(r.path, stronger(whole.get(r.path) ?? "partial", r.strategy));
  }

  const applied: AppliedMask[] = [];
  const out = build(doc, "", { byValue, byKey, whole, applied, hmacKey: opts.hmacKey });
  return { value: out.keep ? out.value : null, applied, ignoredRules };
}

function covers(rule: MaskRule, f: Finding): boolean {
  return isWithin(f.path, rule.path) && (rule.type === undefined || rule.type === f.type);
}

interface Ctx {
  readonly byValue: Map<string, Planned[]>;
  readonly byKey: Map<string, Planned[]>;
  readonly whole: Map<string, MaskStrategy>;
  readonly applied: AppliedMask[];
  readonly hmacKey: Uint8Array;
}

function build(value: unknown, pointer: string, ctx: Ctx): { keep: boolean; value: unknown } {
  const wholeStrategy = ctx.whole.get(pointer);
  if (wholeStrategy !== undefined) {
    ctx.applied.push({
      path: pointer,
      in: "value",
      type: "value",
      kind: "field",
      strategy: wholeStrategy,
      reason: "policy",
    });
    if (wholeStrategy === "drop") return { keep: false, value: undefined };
    const text = typeof value === "string" ? value : canonicalJson(value);
    const strategy =
      typeof value === "string"
        ? wholeStrategy
        : wholeStrategy === "partial"
          ? "redact"
          : wholeStrategy;
    return { keep: true, value: placeholder(strategy, "redacted", text, ctx.hmacKey) };
  }
  if (typeof value === "string") {
    const planned = ctx.byValue.get(pointer);
    if (planned === undefined) return { keep: true, value };
    record(ctx, planned);
    if (planned.some((p) => p.strategy === "drop")) return { keep: false, value: undefined };
    return { keep: true, value: replaceSpans(value, planned, ctx.hmacKey) };
  }
  if (value === null || typeof value !== "object") return { keep: true, value };
  if (Array.isArray(value)) {
    const arr: unknown[] = [];
    value.forEach((v, i) => {
      const r = build(v, childPointer(pointer, i), ctx);
      if (r.keep) arr.push(r.value);
    });
    return { keep: true, value: arr };
  }
  const obj: Record<string, unknown> = {};
  /** Next suffix to try per masked key, so colliding placeholders stay linear. */
  let nextSuffix: Map<string, number> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const child = childPointer(pointer, k);
    const keyPlans = ctx.byKey.get(child);
    let key = k;
    if (keyPlans !== undefined) {
      record(ctx, keyPlans);
      if (keyPlans.some((p) => p.strategy === "drop")) continue;
      key = replaceSpans(k, keyPlans, ctx.hmacKey);
    }
    const r = build(v, child, ctx);
    if (!r.keep) continue;
    let unique = key;
    if (Object.hasOwn(obj, unique)) {
      nextSuffix ??= new Map();
      let n = nextSuffix.get(key) ?? 2;
      while (Object.hasOwn(obj, `${key} #${n}`)) n++;
      unique = `${key} #${n}`;
      nextSuffix.set(key, n + 1);
    }
    Object.defineProperty(obj, unique, {
      value: r.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { keep: true, value: obj };
}

function record(ctx: Ctx, planned: readonly Planned[]): void {
  for (const p of planned) {
    ctx.applied.push({
      path: p.finding.path,
      in: p.finding.in,
      type: p.finding.type,
      kind: p.finding.kind,
      strategy: p.strategy,
      reason: p.reason,
    });
  }
}

function replaceSpans(text: string, planned: readonly Planned[], hmacKey: Uint8Array): string {
  const sorted = [...planned].sort((a, b) => a.finding.start - b.finding.start);
  let out = "";
  let at = 0;
  for (const p of sorted) {
    const { start, end, type } = p.finding;
    if (start < at) continue; // overlapping spans: the earlier one already covers this text
    out += text.slice(at, start);
    out += placeholder(
      p.strategy === "drop" ? "redact" : p.strategy,
      type,
      text.slice(start, end),
      hmacKey,
    );
    at = end;
  }
  return out + text.slice(at);
}

function exists(doc: unknown, pointer: string): boolean {
  let at: unknown = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (at === null || typeof at !== "object" || !Object.hasOwn(at, seg)) return false;
    at = (at as Record<string, unknown>)[seg];
  }
  return true;
}

/**
 * Redacts every detected span in free text: for error messages, logs and policy-written
 * reasons, which may quote a request's values.
 */
export function maskText(text: string): string {
  const spans = detectInString(text);
  if (spans.length === 0) return text;
  let out = "";
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    out += text.slice(at, s.start) + `[${s.type}]`;
    at = s.end;
  }
  return out + text.slice(at);
}
