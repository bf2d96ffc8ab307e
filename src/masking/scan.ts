import {
  analyzeKeyName,
  childKeyContext,
  detectInString,
  detectNumberUnderKey,
  detectUnderKey,
  type AnalyzedKey,
} from "./detectors.ts";
import { childPointer, escapeSegment, unescapeSegment } from "./pointer.ts";
import type { Finding, Span } from "./types.ts";

/**
 * Runs every detector over every scalar in a JSON value: object keys, string values and numbers
 * (a card or phone number given as a JSON number), at any depth. A value is scanned with the
 * key it sits under, so `{"password": "..."}` is recognised by the key's name. Consecutive
 * strings of an array are also scanned joined, so a private key split into one element per
 * line (or a token cut in two) is found, and every part is reported.
 *
 * Paths are built from safe key names (see safeKeys): a finding's path never carries a value,
 * because a key that holds one is masked before it becomes a path segment. Returns findings in
 * document order, without matched text.
 */
export function scan(value: unknown, base = "", cache?: KeyCache): Finding[] {
  const out: Finding[] = [];
  walk(value, { base, segments: [] }, undefined, out, cache);
  return out;
}

/** One object key: its name in the request, the name paths and the masked document use, its spans. */
export interface SafeKey {
  readonly key: string;
  readonly safe: string;
  readonly spans: readonly Span[];
}

/**
 * The safe names of an object's keys, in order. A key with no finding keeps its name; a key
 * with findings has each span replaced by `[type]`; when that would collide with another key of
 * the same object, ` #2`, ` #3`, … is added, so masked keys stay distinct (and distinct from
 * the keys that were not masked). Deterministic: scanning and masking agree on every path.
 */
export function safeKeys(obj: object, cache?: KeyCache): SafeKey[] {
  const index = keyIndex(obj, cache);
  index.list ??= index.keys.map((key) => ({ key, safe: key, spans: NO_SPANS }));
  return index.list;
}

/**
 * An object's keys and safe key names, and lookups by safe name and by raw key (built when
 * first used). Most objects have no key with a finding (`clean`): their keys are their safe
 * names, and walking them needs no list of SafeKey records.
 */
export interface KeyIndex {
  /** The object's own enumerable keys, in order. */
  readonly keys: readonly string[];
  /** No key has a finding: every key is its own safe name. */
  readonly clean: boolean;
  /** The safe keys (for a clean object, built when first asked for). */
  list?: SafeKey[];
  bySafe?: Map<string, SafeKey>;
  byKey?: Map<string, SafeKey>;
}

/** Key indexes already computed for objects of one document (callers that resolve many paths). */
export type KeyCache = WeakMap<object, KeyIndex>;

const NO_SPANS: readonly Span[] = Object.freeze([]);

/** The object's KeyIndex, from the cache when there is one. */
export function keyIndex(obj: object, cache?: KeyCache): KeyIndex {
  const cached = cache?.get(obj);
  if (cached !== undefined) return cached;
  const keys = Object.keys(obj);
  let spans: (readonly Span[])[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const found = detectInString(keys[i] as string);
    if (found.length === 0) continue;
    spans ??= new Array<readonly Span[]>(keys.length).fill(NO_SPANS);
    spans[i] = found;
  }
  const index: KeyIndex =
    spans === undefined
      ? { keys, clean: true }
      : { keys, clean: false, list: computeSafeKeys(keys, spans) };
  cache?.set(obj, index);
  return index;
}

function bySafe(obj: object, cache?: KeyCache): Map<string, SafeKey> {
  const index = keyIndex(obj, cache);
  index.bySafe ??= new Map(safeKeys(obj, cache).map((k) => [k.safe, k]));
  return index.bySafe;
}

function byKey(obj: object, cache?: KeyCache): Map<string, SafeKey> {
  const index = keyIndex(obj, cache);
  index.byKey ??= new Map(safeKeys(obj, cache).map((k) => [k.key, k]));
  return index.byKey;
}

/** Safe names for keys some of which have findings (`spans`, one list per key). */
function computeSafeKeys(keys: readonly string[], spans: readonly (readonly Span[])[]): SafeKey[] {
  const used = new Set<string>();
  keys.forEach((k, i) => {
    if (spans[i]!.length === 0) used.add(k);
  });
  // The next suffix to try per masked name: probing from #2 for every key that masks to the same
  // name was quadratic (50,000 keys that are e-mail addresses did not finish in minutes).
  const next = new Map<string, number>();
  return keys.map((key, i) => {
    const s = spans[i]!;
    if (s.length === 0) return { key, safe: key, spans: s };
    const masked = redactSpans(key, s);
    let safe = masked;
    let n = next.get(masked) ?? 2;
    if (used.has(safe)) {
      while (used.has(`${masked} #${n}`)) n++;
      safe = `${masked} #${n}`;
      n++;
    }
    next.set(masked, n);
    used.add(safe);
    return { key, safe, spans: s };
  });
}

/** Replaces each span with `[type]`; of overlapping spans, each covers what the earlier did not. */
export function redactSpans(text: string, spans: readonly Span[]): string {
  let out = "";
  let at = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.end <= at) continue;
    out += text.slice(at, Math.max(at, s.start)) + `[${s.type}]`;
    at = s.end;
  }
  return out + text.slice(at);
}

/**
 * Translates a pointer that may name keys as they are in the request (a policy reads the raw
 * request) into the safe pointer that findings, masks and the masked document use. Segments
 * that are not keys of the document are kept as they are (the path does not exist).
 */
export function safePointer(doc: unknown, pointer: string, cache?: KeyCache): string {
  if (pointer === "") return "";
  let at: unknown = doc;
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = unescapeSegment(raw);
    if (at === null || typeof at !== "object") {
      out += `/${raw}`;
      at = undefined;
      continue;
    }
    if (Array.isArray(at)) {
      out += `/${raw}`;
      at = /^(?:0|[1-9][0-9]*)$/.test(seg) ? at[Number(seg)] : undefined;
      continue;
    }
    const hit = byKey(at, cache).get(seg) ?? bySafe(at, cache).get(seg);
    if (hit === undefined) {
      out += `/${raw}`;
      at = undefined;
    } else {
      out = childPointer(out, hit.safe);
      at = (at as Record<string, unknown>)[hit.key];
    }
  }
  return out;
}

/**
 * A pointer built from raw keys (a parse error's field) with each segment's findings redacted:
 * for paths made before masking could run. Segments are unescaped before they are scanned, so
 * `~1` cannot hide a `/` from a detector.
 */
export function maskPointer(pointer: string): string {
  if (pointer === "" || pointer === "/") return pointer;
  return pointer
    .split("/")
    .map((raw, i) => {
      if (i === 0) return raw;
      const seg = unescapeSegment(raw);
      const spans = detectInString(seg);
      return spans.length === 0 ? raw : escapeSegment(redactSpans(seg, spans));
    })
    .join("/");
}

/** The value at a safe pointer, or `undefined` when there is none. */
export function atSafePointer(
  doc: unknown,
  pointer: string,
  cache?: KeyCache,
): { found: boolean; value: unknown } {
  let at: unknown = doc;
  for (const raw of pointer === "" ? [] : pointer.split("/").slice(1)) {
    const seg = unescapeSegment(raw);
    if (at === null || typeof at !== "object") return { found: false, value: undefined };
    if (Array.isArray(at)) {
      if (!/^(?:0|[1-9][0-9]*)$/.test(seg) || Number(seg) >= at.length)
        return { found: false, value: undefined };
      at = at[Number(seg)];
      continue;
    }
    const hit = bySafe(at, cache).get(seg);
    if (hit === undefined) return { found: false, value: undefined };
    at = (at as Record<string, unknown>)[hit.key];
  }
  return { found: true, value: at };
}

/** The text a detector reads for a scalar: a string as it is, a finite number as JSON writes it. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Where the walk is: the base pointer and the segments below it (safe key names unescaped, or
 * array indexes). The pointer string is built only when a finding needs it: most scalars have
 * none, and building a path per node was a good share of scanning a large document.
 */
interface Where {
  readonly base: string;
  readonly segments: (string | number)[];
}

function pointerOf(where: Where): string {
  let out = where.base;
  for (const seg of where.segments) out = childPointer(out, seg);
  return out;
}

function walk(
  value: unknown,
  where: Where,
  key: AnalyzedKey | undefined,
  out: Finding[],
  cache: KeyCache | undefined,
): void {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return;
    const spans = detectNumberUnderKey(value, key);
    if (spans.length > 0) {
      const path = pointerOf(where);
      for (const s of spans) out.push({ ...s, path, in: "value" });
    }
    return;
  }
  const text = scalarText(value);
  if (text !== undefined) {
    const spans = detectUnderKey(text, key);
    if (spans.length > 0) {
      const path = pointerOf(where);
      for (const s of spans) out.push({ ...s, path, in: "value" });
    }
    if (typeof value === "string" && value.includes("-----BEGIN ")) {
      multiPart([value], pointerOf(where), [0], key, out);
    }
    return;
  }
  if (value === null || typeof value !== "object") return;
  const segments = where.segments;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      segments.push(i);
      walk(value[i], where, key, out, cache);
      segments.pop();
    }
    // Runs of consecutive strings: a secret may be split across them.
    let start = 0;
    for (let i = 0; i <= value.length; i++) {
      if (i < value.length && typeof value[i] === "string") continue;
      if (i - start >= 2) {
        const run = value.slice(start, i) as string[];
        multiPart(
          run,
          pointerOf(where),
          run.map((_, j) => start + j),
          key,
          out,
        );
      }
      start = i + 1;
    }
    return;
  }
  const index = keyIndex(value, cache);
  if (index.clean) {
    for (const name of index.keys) {
      segments.push(name);
      const child = childKeyContext(key, analyzeKeyName(name));
      walk((value as Record<string, unknown>)[name], where, child, out, cache);
      segments.pop();
    }
    return;
  }
  for (const k of index.list as SafeKey[]) {
    segments.push(k.safe);
    if (k.spans.length > 0) {
      const child = pointerOf(where);
      for (const s of k.spans) out.push({ ...s, path: child, in: "key" });
    }
    const child = childKeyContext(key, analyzeKeyName(k.key));
    walk((value as Record<string, unknown>)[k.key], where, child, out, cache);
    segments.pop();
  }
}

/** `-----BEGIN … PRIVATE KEY-----` (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP … BLOCK). */
const PRIVATE_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const PRIVATE_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

/** How far a token cut across parts is looked for on either side of a cut. */
const CUT_REACH = 256;
/** No token Interlock detects is shorter than this: shorter runs across a cut are skipped. */
const CUT_MIN = 16;
/** Characters a token is made of; a cut token has a run of them on both sides of the cut. */
const TOKEN_CHAR = /[A-Za-z0-9_\-+/=.~:]/;

/**
 * Secrets split across parts. A private key given one line per element: when a part holds a
 * BEGIN line, the run is joined by newlines and scanned, and a BEGIN with no END after it fails
 * closed (everything from BEGIN to the end of the run is reported). A token cut in two or more:
 * at each cut, the run of token characters that ends the part before and starts the parts after
 * (at most CUT_REACH each way) is joined and scanned for secrets (personal data does not count
 * there: a word next to an e-mail address would read as part of it). Every span that crosses a
 * cut is reported in each part it touches. Work is bounded by the runs at the cuts, so ordinary
 * arrays of words cost almost nothing.
 */
function multiPart(
  parts: readonly string[],
  pointer: string,
  indices: readonly number[],
  key: AnalyzedKey | undefined,
  out: Finding[],
): void {
  // A lone string is its own path; elements of an array are its children.
  const pathOf = (i: number) =>
    indices.length === 1 && parts.length === 1 ? pointer : childPointer(pointer, indices[i]!);
  const seen = new Set<string>();
  /** Reports spans found in `text`, made of pieces [part index, start, end) laid end to end. */
  const report = (
    pieces: readonly (readonly [number, number, number])[],
    sepLength: number,
    spans: readonly Span[],
    whole?: Span,
  ) => {
    const starts: number[] = [];
    let at = 0;
    for (const [, from, to] of pieces) {
      starts.push(at);
      at += to - from + sepLength;
    }
    for (const s of spans) {
      const first = partAt(starts, s.start);
      const last = partAt(starts, Math.max(s.start, s.end - 1));
      if (first === last && s !== whole) continue; // inside one part: found on its own
      if (sepLength === 0 && s.kind !== "secret") continue;
      for (let j = first; j <= last; j++) {
        const [i, from, to] = pieces[j]!;
        const start = from + Math.max(0, s.start - starts[j]!);
        const end = Math.min(to, from + s.end - starts[j]!);
        const id = `${i}\0${start}\0${end}\0${s.type}`;
        if (end <= start || seen.has(id)) continue;
        seen.add(id);
        out.push({ type: s.type, kind: s.kind, start, end, path: pathOf(i), in: "value" });
      }
    }
  };

  if (parts.some((p) => p.includes("-----BEGIN "))) {
    const lines = parts.join("\n");
    const spans: Span[] = parts.length >= 2 ? [...detectUnderKey(lines, key)] : [];
    const unterminated = unterminatedPrivateKey(lines);
    if (unterminated !== undefined) spans.push(unterminated);
    report(
      parts.map((p, i) => [i, 0, p.length] as const),
      1,
      spans,
      unterminated,
    );
  }

  for (let i = 0; i + 1 < parts.length; i++) {
    const before = parts[i]!;
    let from = before.length;
    while (from > 0 && before.length - from < CUT_REACH && TOKEN_CHAR.test(before[from - 1]!))
      from--;
    if (from === before.length) continue;
    const pieces: [number, number, number][] = [[i, from, before.length]];
    let length = before.length - from;
    for (let k = i + 1; k < parts.length && length < 2 * CUT_REACH; k++) {
      const p = parts[k]!;
      let to = 0;
      while (to < p.length && to < CUT_REACH && TOKEN_CHAR.test(p[to]!)) to++;
      if (to > 0) pieces.push([k, 0, to]);
      length += to;
      if (to < p.length || to === 0) break; // the run ends inside this part
    }
    if (pieces.length < 2 || length < CUT_MIN) continue;
    const text = pieces.map(([k, a, b]) => parts[k]!.slice(a, b)).join("");
    report(pieces, 0, detectUnderKey(text, key));
  }
}

function partAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function unterminatedPrivateKey(text: string): Span | undefined {
  if (!text.includes("PRIVATE KEY")) return undefined;
  let lastBegin = -1;
  for (const m of text.matchAll(PRIVATE_BEGIN)) lastBegin = m.index;
  if (lastBegin < 0) return undefined;
  let lastEnd = -1;
  for (const m of text.matchAll(PRIVATE_END)) lastEnd = m.index;
  if (lastEnd > lastBegin) return undefined;
  return { type: "private_key", kind: "secret", start: lastBegin, end: text.length };
}
