/**
 * Provider tokens from the generated gitleaks rules and the hand-maintained extra rules
 * (extra-rules.ts: formats whose prefix is the context).
 *
 * Hundreds of rules cannot each scan every string, so gitleaks' keyword prefilter decides which
 * run: one pass of an Aho–Corasick automaton over the text (ASCII letters folded to lower case
 * on the fly, no lower-cased copy) marks the rules whose keywords occur, and only those rules'
 * regexes run. A string with no keyword costs one table lookup per character. The same
 * automaton finds the built-in detectors' keywords (keywords.ts), as one bit per group, and the
 * detectors run it in the pass that computes their text features (detectors.ts), so a string
 * is read once for both.
 *
 * A match is then confirmed as gitleaks does: the secret (the rule's capture group) must reach
 * the rule's entropy threshold and must not be on the global or the rule's allowlist.
 */
import { EXTRA_RULES } from "./extra-rules.ts";
import { KEYWORD_GROUPS } from "../keywords.ts";
import { GENERATED_RULES, GLOBAL_ALLOW, GLOBAL_STOPWORDS } from "./gitleaks-rules.generated.ts";
import type { GeneratedRule } from "./rule.ts";
import { shannonEntropy } from "../entropy.ts";

/** A confirmed provider token: the rule's finding type and [start, end) of the secret. */
export interface ProviderHit {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/** Symbols of the automaton: 0 for any character outside printable ASCII, 1..95 for ' '..'~'. */
export const SYMBOLS = 96;

export function symbolOf(c: number): number {
  if (c >= 65 && c <= 90) return c + 32 - 31; // A-Z folded to a-z
  return c >= 32 && c < 127 ? c - 31 : 0;
}

/** The compiled rule set: built on first use, never at import time. */
export interface Matcher {
  readonly rules: readonly GeneratedRule[];
  /** Each rule's regex, compiled the first time its keyword occurs (most never run). */
  readonly regexes: (RegExp | undefined)[];
  /** Rules without keywords: run on every string. */
  readonly always: readonly number[];
  /**
   * DFA transitions: delta[row + symbol], where row = state * SYMBOLS. An entry holds the next
   * state's row (pre-multiplied: one add and one load per character in the hot loop), plus 1
   * when a keyword ends in that state (rows are even, so the low bit is free).
   */
  readonly delta: Int32Array;
  /** Rule indexes whose keyword ends in each state (via failure links included); empty: none. */
  readonly outputs: readonly (readonly number[])[];
  /** KEYWORD_GROUPS bits whose word ends in each state (via failure links included). */
  readonly groupBits: Int32Array;
  /** symbolOf for every UTF-16 unit below 128 (0 above). */
  readonly symbol: Uint8Array;
  /** The rules' regexes for a sticky re-run with indices, once a match is found (lazily too). */
  readonly located: (RegExp | undefined)[];
  /** Scratch for triggeredRules: 1 for a rule already listed (cleared before it returns). */
  readonly seen: Uint8Array;
}

let matcher: Matcher | undefined;

function compile(rules: readonly GeneratedRule[], groups: readonly (readonly string[])[]): Matcher {
  // Trie of keywords: the rules' (indexes 0…), then the built-in groups' (rules.length + g).
  const next: Map<number, number>[] = [new Map()];
  const out: Set<number>[] = [new Set()];
  const always: number[] = [];
  const keywordLists = [...rules.map((rule) => rule.keywords), ...groups];
  keywordLists.forEach((keywords, r) => {
    if (r < rules.length && keywords.length === 0) always.push(r);
    for (const keyword of keywords) {
      let s = 0;
      for (let i = 0; i < keyword.length; i++) {
        const sym = symbolOf(keyword.charCodeAt(i));
        let t = next[s]?.get(sym);
        if (t === undefined) {
          t = next.length;
          next.push(new Map());
          out.push(new Set());
          next[s]?.set(sym, t);
        }
        s = t;
      }
      out[s]?.add(r);
    }
  });
  // Breadth-first: failure links folded into a full transition table. A state's row starts as
  // a copy of its failure state's row (complete already: that state is shallower) and then
  // takes its own trie edges, so the work is one native copy per state plus one step per edge
  // rather than one per (state, symbol): this runs on every command's first scan. Entries hold
  // the next state's row plus its output bit (see Matcher.delta), final as they are written:
  // a state's outputs are its own plus its failure state's, and that state is shallower too.
  const states = next.length;
  const delta = new Int32Array(states * SYMBOLS);
  const fail = new Int32Array(states);
  const hasOutput = new Uint8Array(states);
  const queue: number[] = [0];
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q] as number;
    const row = s * SYMBOLS;
    if (s !== 0) {
      const f = (fail[s] as number) * SYMBOLS;
      delta.copyWithin(row, f, f + SYMBOLS);
      for (const r of out[fail[s] as number] ?? []) out[s]?.add(r);
    }
    for (const [sym, t] of next[s] ?? []) {
      const f =
        s === 0 ? 0 : ((delta[(fail[s] as number) * SYMBOLS + sym] as number) & -2) / SYMBOLS;
      fail[t] = f;
      hasOutput[t] = (out[t]?.size ?? 0) > 0 || hasOutput[f] === 1 ? 1 : 0;
      delta[row + sym] = t * SYMBOLS + (hasOutput[t] as number);
      queue.push(t);
    }
  }
  const outputs = out.map((set) => [...set].filter((r) => r < rules.length));
  const groupBits = Int32Array.from(out, (set) => {
    let bits = 0;
    for (const r of set) if (r >= rules.length) bits |= 1 << (r - rules.length);
    return bits;
  });
  return {
    rules,
    regexes: new Array<RegExp | undefined>(rules.length),
    located: new Array<RegExp | undefined>(rules.length),
    always,
    delta,
    outputs,
    groupBits,
    symbol: Uint8Array.from({ length: 128 }, (_, c) => symbolOf(c)),
    seen: new Uint8Array(rules.length),
  };
}

/** The automaton of the provider rules' and the built-in groups' keywords (built on first use). */
export function keywordMatcher(): Matcher {
  matcher ??= compile([...GENERATED_RULES, ...EXTRA_RULES], KEYWORD_GROUPS);
  return matcher;
}

/** What the keyword pass found: the rules whose keywords occur, in order of first occurrence. */
export interface KeywordHits {
  /** Rule indexes (keyword-less rules not included); undefined: none. */
  readonly rules: readonly number[] | undefined;
  /** KEYWORD_GROUPS bits of the groups whose words occur. */
  readonly groups: number;
}

/**
 * Adds the rules and groups that end in state row `row` (an entry with its output bit set) to
 * `hits`, each rule once (m.seen marks those listed; the caller clears it with clearSeen).
 */
export function addOutputs(
  m: Matcher,
  row: number,
  hits: number[] | undefined,
): number[] | undefined {
  const o = m.outputs[row / SYMBOLS] as readonly number[];
  const seen = m.seen;
  for (let k = 0; k < o.length; k++) {
    const r = o[k] as number;
    if (seen[r] === 0) {
      seen[r] = 1;
      (hits ??= []).push(r);
    }
  }
  return hits;
}

/** Clears the scratch marks addOutputs set for `hits`. */
export function clearSeen(m: Matcher, hits: readonly number[] | undefined): void {
  if (hits !== undefined) for (const r of hits) m.seen[r] = 0;
}

/**
 * The keyword pass on its own (the detectors fuse it with their character pass; this is for
 * texts too long for that pass).
 */
export function keywordsIn(text: string): KeywordHits {
  const m = keywordMatcher();
  let hits: number[] | undefined;
  let groups = 0;
  const { delta, symbol, groupBits } = m;
  let row = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const entry = delta[row + (c < 128 ? (symbol[c] as number) : 0)] as number;
    row = entry & -2;
    if ((entry & 1) === 0) continue;
    groups |= groupBits[row / SYMBOLS] as number;
    hits = addOutputs(m, row, hits);
  }
  clearSeen(m, hits);
  return { rules: hits, groups };
}

function allowed(rule: GeneratedRule, secret: string, match: string): boolean {
  if (rule.entropy > 0 && shannonEntropy(secret) < rule.entropy) return true;
  const lower = secret.toLowerCase();
  if (GLOBAL_STOPWORDS.some((w) => lower.includes(w))) return true;
  if (rule.stopwords.some((w) => lower.includes(w))) return true;
  if (GLOBAL_ALLOW.some((re) => re.test(secret))) return true;
  if (rule.allow.some((re) => re.test(secret))) return true;
  return rule.allowMatch.some((re) => re.test(match));
}

/** The secret's range in a match: the rule's group, the first group that matched, or all. */
function secretRange(rule: GeneratedRule, m: RegExpExecArray): [number, number] | undefined {
  const indices = m.indices;
  if (indices === undefined) return [m.index, m.index + m[0].length];
  if (rule.group > 0) return indices[rule.group];
  if (rule.group === -1) {
    for (let g = 1; g < indices.length; g++) if (indices[g] !== undefined) return indices[g];
  }
  return indices[0];
}

function isQuote(c: number): boolean {
  return c === 34 || c === 39 || c === 96;
}

const NO_HITS: readonly ProviderHit[] = [];

/**
 * Every provider token in `text`, in rule order (callers sort and resolve overlaps). `triggered`:
 * the rules whose keywords occur in `text` (KeywordHits.rules of this very text); the rules
 * without keywords run on every text.
 */
export function scanProviderTokens(
  text: string,
  triggered: readonly number[] | undefined,
): readonly ProviderHit[] {
  const m = keywordMatcher();
  if (triggered === undefined && m.always.length === 0) return NO_HITS;
  const rules = m.always.length === 0 ? (triggered ?? []) : [...m.always, ...(triggered ?? [])];
  const hits: ProviderHit[] = [];
  for (const r of rules) {
    const rule = m.rules[r] as GeneratedRule;
    // Scanning without indices is faster; a match is re-run sticky with "d" for group offsets.
    const re = (m.regexes[r] ??= new RegExp(rule.regex.source, "g"));
    const located = (m.located[r] ??= new RegExp(rule.regex.source, "dy"));
    re.lastIndex = 0;
    let candidate: RegExpExecArray | null;
    while ((candidate = re.exec(text)) !== null) {
      located.lastIndex = candidate.index;
      const found = located.exec(text) ?? candidate;
      let range = secretRange(rule, found);
      if (range !== undefined && isQuote(text.charCodeAt(range[0])) && range[1] - range[0] > 2) {
        // A group that includes its quotes ("…"): the secret is inside them.
        if (text.charCodeAt(range[1] - 1) === text.charCodeAt(range[0])) {
          range = [range[0] + 1, range[1] - 1];
        }
      }
      if (range !== undefined && range[1] > range[0]) {
        const secret = text.slice(range[0], range[1]);
        if (!allowed(rule, secret, found[0])) {
          hits.push({ type: rule.type, start: range[0], end: range[1] });
        }
      }
      if (re.lastIndex <= candidate.index) re.lastIndex = candidate.index + 1;
    }
  }
  return hits;
}

/** The generated and extra rules' regexes (for the linear-time check) and allowlist regexes. */
export function providerRegexes(): { name: string; re: RegExp }[] {
  const out: { name: string; re: RegExp }[] = [];
  for (const rule of [...GENERATED_RULES, ...EXTRA_RULES]) {
    out.push({ name: rule.id, re: new RegExp(rule.regex.source, "g") });
    rule.allow.forEach((re, i) => out.push({ name: `${rule.id} allow[${i}]`, re }));
    rule.allowMatch.forEach((re, i) => out.push({ name: `${rule.id} allowMatch[${i}]`, re }));
  }
  GLOBAL_ALLOW.forEach((re, i) => out.push({ name: `global allow[${i}]`, re }));
  return out;
}
