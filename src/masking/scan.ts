import { detectInString } from "./detectors.ts";
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
  walk(value, base, undefined, out, cache);
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
  return keyIndex(obj, cache).list;
}

/** An object's safe key names, and lookups by safe name and by raw key (built when first used). */
export interface KeyIndex {
  readonly list: SafeKey[];
  bySafe?: Map<string, SafeKey>;
  byKey?: Map<string, SafeKey>;
}

/** Key indexes already computed for objects of one document (callers that resolve many paths). */
export type KeyCache = WeakMap<object, KeyIndex>;

function keyIndex(obj: object, cache?: KeyCache): KeyIndex {
  const cached = cache?.get(obj);
  if (cached !== undefined) return cached;
  const index: KeyIndex = { list: computeSafeKeys(obj) };
  cache?.set(obj, index);
  return index;
}

function bySafe(obj: object, cache?: KeyCache): Map<string, SafeKey> {
  const index = keyIndex(obj, cache);
  index.bySafe ??= new Map(index.list.map((k) => [k.safe, k]));
  return index.bySafe;
}

function byKey(obj: object, cache?: KeyCache): Map<string, SafeKey> {
  const index = keyIndex(obj, cache);
  index.byKey ??= new Map(index.list.map((k) => [k.key, k]));
  return index.byKey;
}

function computeSafeKeys(obj: object): SafeKey[] {
  const keys = Object.keys(obj);
  const spans = keys.map((k) => detectInString(k));
  if (spans.every((x) => x.length === 0))
    return keys.map((key, i) => ({ key, safe: key, spans: spans[i]! }));
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

function walk(
  value: unknown,
  pointer: string,
  keyName: string | undefined,
  out: Finding[],
  cache: KeyCache | undefined,
): void {
  const text = scalarText(value);
  if (text !== undefined) {
    for (const s of detectInString(text, keyName)) out.push({ ...s, path: pointer, in: "value" });
    if (typeof value === "string" && value.includes("-----BEGIN ")) {
      multiPart([value], pointer, [0], keyName, out);
    }
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      walk(value[i], childPointer(pointer, i), keyName, out, cache);
    // Runs of consecutive strings: a secret may be split across them.
    let start = 0;
    for (let i = 0; i <= value.length; i++) {
      if (i < value.length && typeof value[i] === "string") continue;
      if (i - start >= 2) {
        const run = value.slice(start, i) as string[];
        multiPart(
          run,
          pointer,
          run.map((_, j) => start + j),
          keyName,
          out,
        );
      }
      start = i + 1;
    }
    return;
  }
  for (const k of safeKeys(value, cache)) {
    const child = childPointer(pointer, k.safe);
    for (const s of k.spans) out.push({ ...s, path: child, in: "key" });
    walk((value as Record<string, unknown>)[k.key], child, k.key, out, cache);
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
  keyName: string | undefined,
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
    const spans: Span[] = parts.length >= 2 ? [...detectInString(lines, keyName)] : [];
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
    report(pieces, 0, detectInString(text, keyName));
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
