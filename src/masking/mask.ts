import { canonicalJson } from "../request/canonical.ts";
import { detectInString } from "./detectors.ts";
import { childPointer, isWithin } from "./pointer.ts";
import {
  atSafePointer,
  keyIndex,
  redactSpans,
  safeKeys,
  safePointer,
  scalarText,
  type KeyCache,
  type SafeKey,
} from "./scan.ts";
import { placeholder, stronger } from "./strategies.ts";
import type { Finding, FindingKind, MaskStrategy } from "./types.ts";

/** A mask asked for by the policy (the decision's `mask`, docs/policy.md). */
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
  /** Safe key names already computed by scan() for this document (saves scanning keys twice). */
  readonly keyCache?: KeyCache;
  /**
   * Told each original text that was masked (a finding's span in a key, string or number, and
   * every scalar inside a field masked whole), with its label: what a scrubber is built from.
   */
  readonly onMasked?: (text: string, label: string) => void;
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
  const cache: KeyCache = opts.keyCache ?? new WeakMap();
  // A policy reads the raw request, so a rule may name a key as it is there: paths are safe
  // names everywhere from here on (a key holding a value never becomes a path segment).
  for (const raw of rules) {
    const rule = { ...raw, path: safePointer(doc, raw.path, cache) };
    if (rule.path === "") ignoredRules.push({ rule, why: "a rule cannot mask the whole request" });
    else if (isIdentity(rule.path) || identity.some((i) => isWithin(i, rule.path)))
      ignoredRules.push({ rule, why: "identity fields stay readable for the gate and the audit" });
    else if (!atSafePointer(doc, rule.path, cache).found)
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

  // Untyped rules that cover no finding mask their whole field. An untyped rule covers a
  // finding when its path is the finding's path or an ancestor: every such path, once.
  const withFindings = new Set<string>();
  for (const f of findings) {
    for (let p = f.path; !withFindings.has(p); p = p.slice(0, Math.max(0, p.lastIndexOf("/")))) {
      withFindings.add(p);
      if (p === "") break;
    }
  }
  const whole = new Map<string, MaskStrategy>();
  for (const r of usableRules) {
    if (r.type !== undefined || withFindings.has(r.path)) continue;
    whole.set(r.path, stronger(whole.get(r.path) ?? "partial", r.strategy));
  }
  // Paths at or above something to mask: below any other path, the document is copied as it is
  // (keys under their safe names) without building a path per node.
  const touched = withFindings;
  for (const p0 of whole.keys()) {
    for (let p = p0; !touched.has(p); p = p.slice(0, Math.max(0, p.lastIndexOf("/")))) {
      touched.add(p);
      if (p === "") break;
    }
  }

  const applied: AppliedMask[] = [];
  const out = build(doc, "", {
    byValue,
    byKey,
    whole,
    applied,
    touched,
    hmacKey: opts.hmacKey,
    cache,
    onMasked: opts.onMasked ?? (() => {}),
  });
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
  /** Paths at or above a finding or a whole-field mask (see maskDocument). */
  readonly touched: ReadonlySet<string>;
  readonly hmacKey: Uint8Array;
  readonly cache: KeyCache;
  readonly onMasked: (text: string, label: string) => void;
}

function build(value: unknown, pointer: string, ctx: Ctx): { keep: boolean; value: unknown } {
  if (!ctx.touched.has(pointer)) return { keep: true, value: copy(value, ctx.cache) };
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
    leaves(value, (text) => ctx.onMasked(text, "redacted"));
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
  const text = scalarText(value);
  if (text !== undefined) {
    const planned = ctx.byValue.get(pointer);
    if (planned === undefined) return { keep: true, value };
    record(ctx, planned);
    for (const p of planned)
      ctx.onMasked(text.slice(p.finding.start, p.finding.end), p.finding.type);
    if (planned.some((p) => p.strategy === "drop")) return { keep: false, value: undefined };
    // A number with a finding becomes a string: the placeholder.
    return { keep: true, value: replaceSpans(text, planned, ctx.hmacKey) };
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
  for (const k of safeKeys(value, ctx.cache)) {
    // The key's name is its safe name (findings in it redacted, kept distinct), the same name
    // every path uses; `drop` on a key finding removes the field.
    const child = childPointer(pointer, k.safe);
    const keyPlans = ctx.byKey.get(child);
    if (keyPlans !== undefined) {
      record(ctx, keyPlans, "redact");
      for (const p of keyPlans)
        ctx.onMasked(k.key.slice(p.finding.start, p.finding.end), p.finding.type);
      if (keyPlans.some((p) => p.strategy === "drop")) continue;
    }
    const r = build((value as Record<string, unknown>)[k.key], child, ctx);
    if (!r.keep) continue;
    setOwn(obj, k.safe, r.value);
  }
  return { keep: true, value: obj };
}

/** Plain assignment is an own data property for every name but `__proto__`, a setter. */
function setOwn(obj: Record<string, unknown>, name: string, value: unknown): void {
  if (name !== "__proto__") obj[name] = value;
  else
    Object.defineProperty(obj, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

/**
 * A copy of a part of the document with nothing to mask: the same values, keys under their safe
 * names (the same names build gives them).
 */
function copy(value: unknown, cache: KeyCache): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const arr: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) arr[i] = copy(value[i], cache);
    return arr;
  }
  const obj: Record<string, unknown> = {};
  const index = keyIndex(value, cache);
  if (index.clean) {
    for (const name of index.keys)
      setOwn(obj, name, copy((value as Record<string, unknown>)[name], cache));
    return obj;
  }
  for (const k of index.list as SafeKey[])
    setOwn(obj, k.safe, copy((value as Record<string, unknown>)[k.key], cache));
  return obj;
}

/** Calls `emit` with every scalar (string, finite number) inside a value. */
function leaves(value: unknown, emit: (text: string) => void): void {
  const text = scalarText(value);
  if (text !== undefined) emit(text);
  else if (Array.isArray(value)) for (const v of value) leaves(v, emit);
  else if (value !== null && typeof value === "object")
    for (const v of Object.values(value)) leaves(v, emit);
}

/** Records the masks applied; a key is always redacted (its safe name), unless dropped. */
function record(ctx: Ctx, planned: readonly Planned[], keyStrategy?: "redact"): void {
  for (const p of planned) {
    ctx.applied.push({
      path: p.finding.path,
      in: p.finding.in,
      type: p.finding.type,
      kind: p.finding.kind,
      strategy: keyStrategy !== undefined && p.strategy !== "drop" ? keyStrategy : p.strategy,
      reason: p.reason,
    });
  }
}

function replaceSpans(text: string, planned: readonly Planned[], hmacKey: Uint8Array): string {
  const sorted = [...planned].sort((a, b) => a.finding.start - b.finding.start);
  let out = "";
  let at = 0;
  for (const p of sorted) {
    const { end, type } = p.finding;
    // Overlapping spans: the earlier one covers the overlap, this one the rest of itself.
    if (end <= at) continue;
    const start = Math.max(at, p.finding.start);
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

/**
 * Redacts every detected span in free text: for error messages, logs and policy-written
 * reasons, which may quote a request's values.
 */
export function maskText(text: string): string {
  const spans = detectInString(text);
  if (spans.length === 0) return text;
  return redactSpans(text, spans);
}
