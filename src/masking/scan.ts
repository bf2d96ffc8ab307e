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
export function scan(value: unknown, base = ""): Finding[] {
  const out: Finding[] = [];
  walk(value, base, undefined, out);
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
  const cached = cache?.get(obj);
  if (cached !== undefined) return cached;
  const result = computeSafeKeys(obj);
  cache?.set(obj, result);
  return result;
}

/** Safe names already computed for objects of one document (callers that resolve many paths). */
export type KeyCache = WeakMap<object, SafeKey[]>;

function computeSafeKeys(obj: object): SafeKey[] {
  const keys = Object.keys(obj);
  const spans = keys.map((k) => detectInString(k));
  const used = new Set<string>();
  keys.forEach((k, i) => {
    if (spans[i]!.length === 0) used.add(k);
  });
  return keys.map((key, i) => {
    const s = spans[i]!;
    if (s.length === 0) return { key, safe: key, spans: s };
    const masked = redactSpans(key, s);
    let safe = masked;
    for (let n = 2; used.has(safe); n++) safe = `${masked} #${n}`;
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
    const keys = safeKeys(at, cache);
    const hit = keys.find((k) => k.key === seg) ?? keys.find((k) => k.safe === seg);
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
    const hit = safeKeys(at, cache).find((k) => k.safe === seg);
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

function walk(value: unknown, pointer: string, keyName: string | undefined, out: Finding[]): void {
  const text = scalarText(value);
  if (text !== undefined) {
    for (const s of detectInString(text, keyName)) out.push({ ...s, path: pointer, in: "value" });
    if (typeof value === "string") multiPart([value], [pointer], keyName, out);
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], childPointer(pointer, i), keyName, out);
    // Runs of consecutive strings: a secret may be split across them.
    let run: string[] = [];
    let paths: string[] = [];
    const flush = () => {
      if (run.length >= 2) multiPart(run, paths, keyName, out);
      run = [];
      paths = [];
    };
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === "string") {
        run.push(v);
        paths.push(childPointer(pointer, i));
      } else flush();
    }
    flush();
    return;
  }
  for (const k of safeKeys(value)) {
    const child = childPointer(pointer, k.safe);
    for (const s of k.spans) out.push({ ...s, path: child, in: "key" });
    walk((value as Record<string, unknown>)[k.key], child, k.key, out);
  }
}

/** `-----BEGIN … PRIVATE KEY-----` (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP … BLOCK). */
const PRIVATE_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const PRIVATE_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

/** A token cut into parts is looked for across at most this many consecutive parts. */
const CUT_WINDOW = 3;

/**
 * Secrets split across parts. The whole run is joined by newlines and scanned (a private key
 * given one line per element); each window of up to CUT_WINDOW parts is joined by nothing and
 * scanned for secrets (a token cut in two or three; personal data does not count there, as a
 * word next to an e-mail address would read as part of it). Every span that crosses a part
 * boundary is reported in each part it touches. A private key's BEGIN line with no END line
 * after it fails closed: everything from BEGIN to the end of the run is reported.
 */
function multiPart(
  parts: readonly string[],
  paths: readonly string[],
  keyName: string | undefined,
  out: Finding[],
): void {
  const seen = new Set<string>();
  const report = (
    from: number,
    count: number,
    sep: string,
    spans: readonly Span[],
    whole?: Span,
  ) => {
    const starts: number[] = [];
    let at = 0;
    for (let i = from; i < from + count; i++) {
      starts.push(at);
      at += parts[i]!.length + sep.length;
    }
    for (const s of spans) {
      const first = partAt(starts, s.start);
      const last = partAt(starts, Math.max(s.start, s.end - 1));
      if (first === last && s !== whole) continue; // inside one part: found on its own
      if (sep === "" && s.kind !== "secret") continue;
      for (let j = first; j <= last; j++) {
        const i = from + j;
        const start = Math.max(0, s.start - starts[j]!);
        const end = Math.min(parts[i]!.length, s.end - starts[j]!);
        const id = `${i}\0${start}\0${end}\0${s.type}`;
        if (end <= start || seen.has(id)) continue;
        seen.add(id);
        out.push({ type: s.type, kind: s.kind, start, end, path: paths[i]!, in: "value" });
      }
    }
  };
  const lines = parts.join("\n");
  const spans: Span[] = parts.length >= 2 ? [...detectInString(lines, keyName)] : [];
  const unterminated = unterminatedPrivateKey(lines);
  if (unterminated !== undefined) spans.push(unterminated);
  report(0, parts.length, "\n", spans, unterminated);
  for (let i = 0; i + 1 < parts.length; i++) {
    const count = Math.min(CUT_WINDOW, parts.length - i);
    report(i, count, "", detectInString(parts.slice(i, i + count).join(""), keyName));
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
