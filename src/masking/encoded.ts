/**
 * Encoded payloads: base64 (standard and URL-safe), hex and URL-encoding are decoded and the
 * decoded text is scanned again, so that a secret does not pass in clear just because it was
 * encoded. Decoding is bounded in depth and size; a payload beyond the bounds that still decodes
 * to text fails closed: it is reported whole (type "encoded"), never left in clear.
 *
 * - base64/hex: a finding inside the decoded run masks the whole encoded run.
 * - URL-encoding: the string is decoded with an offset map, and each finding is reported on the
 *   original range it came from (a `%40` stays part of the e-mail address it encodes).
 */
import { Buffer } from "node:buffer";
import type { FindingKind, FindingType, Span } from "./types.ts";

/** How many times a payload inside a payload is decoded. */
export const MAX_DECODE_DEPTH = 3;
/** Longest encoded run that is decoded and scanned (characters). */
export const MAX_ENCODED_RUN = 64 * 1024;
/** Shortest run worth decoding: 12 decoded bytes (base64) or 8 (hex). */
const MIN_BASE64_RUN = 16;
const MIN_HEX_RUN = 16;
/** Shortest run of base64/hex characters this module decodes (callers may skip shorter text). */
export const MIN_ENCODED_RUN = Math.min(MIN_BASE64_RUN, MIN_HEX_RUN);

// A run of base64 (either alphabet) or hex characters, with its padding. The lookbehind makes
// each run start once, so the scan is linear.
const ENCODED_RUN_RE = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_ONLY_RE = /^[0-9A-Fa-f]+$/;
const PERCENT_RE = /%[0-9A-Fa-f]{2}/;

/** Regexes of this module, for the linear-time check. */
export const ENCODED_PATTERNS: readonly RegExp[] = [ENCODED_RUN_RE, HEX_ONLY_RE, PERCENT_RE];

/** Detects in a decoded text at the given depth (the caller's detectInString, recursively). */
export type DetectDecoded = (text: string, depth: number) => Span[];

const UTF8 = new TextDecoder("utf-8");

/** The decoded bytes as text if they are valid UTF-8 and almost all printable, else null. */
function asText(bytes: Uint8Array): string | null {
  if (bytes.length < 6) return null;
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b >= 0x80) ascii = false;
    else if (b < 32 && b !== 9 && b !== 10 && b !== 13) return null; // control byte: binary
  }
  const text = ascii ? Buffer.from(bytes).toString("latin1") : UTF8.decode(bytes);
  if (!ascii && text.includes("\ufffd")) return null; // not valid UTF-8
  let printable = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 32 && c !== 127) || c === 9 || c === 10 || c === 13) printable++;
  }
  return printable >= text.length * 0.95 ? text : null;
}

/**
 * Whether each 4-character group of a base64 run starts with a character whose top bit is 0
 * ('A'–'Z', 'a'–'f'), as when it encodes a byte below 0x80. Mostly-ASCII text passes; names
 * and paths that merely use the base64 alphabet mostly do not, and are never decoded.
 */
function asciiGroups(body: string): boolean {
  let misses = 0;
  for (let i = 0; i < body.length; i += 4) {
    const c = body.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 102))) misses++;
  }
  // UTF-8 text with some non-ASCII letters still has mostly ASCII bytes.
  return misses * 4 <= body.length / 4;
}

/**
 * A UUID (8-4-4-4-12 hex digits, RFC 9562): an identifier in the base64url alphabet, the most
 * common run in logs and records. Decoded as base64url it is 27 bytes of binary, never text,
 * so it is not decoded at all.
 */
function isUuid(run: string): boolean {
  if (run.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = run.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) {
      return false;
    }
  }
  return true;
}

/**
 * Whether hex digits encode a control byte that asText rejects (below 0x20, not a tab or a line
 * break), checked without decoding: a random hex identifier (a trace id, a digest) almost
 * always has one, and is then not decoded as hex at all.
 */
function hexControlByte(hex: string): boolean {
  for (let i = 0; i + 1 < hex.length; i += 2) {
    const hi = hex.charCodeAt(i);
    if (hi !== 48 && hi !== 49) continue; // "0" or "1": a byte below 0x20
    const lo = hex.charCodeAt(i + 1);
    if (hi === 48 && (lo === 57 || lo === 65 || lo === 97 || lo === 68 || lo === 100)) continue;
    return true;
  }
  return false;
}

/** The run decoded as hex or base64 text, or null when it is not an encoding of text. */
function decodeRun(run: string): string | null {
  if (isUuid(run)) return null;
  let bodyEnd = run.length;
  while (bodyEnd > 0 && run.charCodeAt(bodyEnd - 1) === 61) bodyEnd--;
  const body = bodyEnd === run.length ? run : run.slice(0, bodyEnd);
  if (
    body.length >= MIN_HEX_RUN &&
    body.length % 2 === 0 &&
    HEX_ONLY_RE.test(body) &&
    !hexControlByte(body)
  ) {
    const text = asText(Buffer.from(body, "hex"));
    if (text !== null) return text;
  }
  if (body.length < MIN_BASE64_RUN || body.length % 4 === 1) return null;
  if (!asciiGroups(body)) return null;
  const urlSafe = body.includes("-") || body.includes("_");
  if (urlSafe && (body.includes("+") || body.includes("/"))) return null; // mixed alphabets
  return asText(Buffer.from(body, urlSafe ? "base64url" : "base64"));
}

/** Characters of either base64 alphabet (hex digits included): 1, else 0. */
const BASE64_CHAR: Uint8Array = (() => {
  const table = new Uint8Array(128);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = 1;
  return table;
})();

/**
 * The runs of ENCODED_RUN_RE (16+ base64 characters and their "=" padding) as [start, run],
 * found by one hand-written pass: the regex would test its lookbehind at every character.
 */
export function encodedRuns(text: string): [number, string][] {
  const runs: [number, string][] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 128 || BASE64_CHAR[c] === 0) {
      i++;
      continue;
    }
    const start = i;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d >= 128 || BASE64_CHAR[d] === 0) break;
      i++;
    }
    if (i - start < MIN_BASE64_RUN) continue;
    let end = i;
    while (end < n && end - i < 2 && text.charCodeAt(end) === 61) end++;
    runs.push([start, text.slice(start, end)]);
    i = end;
  }
  return runs;
}

/** Whether [start, end) overlaps one of the sorted spans. */
function covered(spans: readonly Span[], start: number, end: number): boolean {
  for (const s of spans) {
    if (s.start >= end) return false;
    if (s.end > start) return true;
  }
  return false;
}

/** The type and kind to report for a payload whose decoded text holds these findings. */
function payloadFinding(inner: readonly Span[]): { type: FindingType; kind: FindingKind } {
  const secret = inner.find((s) => s.kind === "secret");
  const first = secret ?? (inner[0] as Span);
  return { type: first.type, kind: first.kind };
}

/**
 * Findings for base64 and hex runs of `text` not already inside one of `spans` (sorted): the
 * whole run, when its decoded text has a finding or when it is beyond the bounds.
 */
export function scanEncodedRuns(
  text: string,
  spans: readonly Span[],
  depth: number,
  detect: DetectDecoded,
): Span[] {
  if (text.length < MIN_HEX_RUN) return [];
  // Collect the runs first: decoding recurses into detection.
  const runs = encodedRuns(text);
  const out: Span[] = [];
  for (const [start, run] of runs) {
    const end = start + run.length;
    if (covered(spans, start, end)) continue;
    if (run.length > MAX_ENCODED_RUN || depth >= MAX_DECODE_DEPTH) {
      // Beyond the bounds: masked whole if it still decodes to text (fail closed).
      const probe = run.slice(0, 1024);
      if (decodeRun(probe.slice(0, probe.length - (probe.length % 4))) !== null) {
        out.push({ type: "encoded", kind: "secret", start, end });
      }
      continue;
    }
    const decoded = decodeRun(run);
    if (decoded === null) continue;
    const inner = detect(decoded, depth + 1);
    if (inner.length > 0) out.push({ ...payloadFinding(inner), start, end });
  }
  return out;
}

/**
 * A percent-decoded view of `text` (only %XX of ASCII bytes, so offsets stay simple) and the
 * original range of each decoded unit, or null when nothing is percent-encoded.
 */
function percentDecoded(text: string): { text: string; from: Int32Array; to: Int32Array } | null {
  if (!text.includes("%") || !PERCENT_RE.test(text)) return null;
  let out = "";
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 37 && i + 2 < text.length) {
      const code = parseInt(text.slice(i + 1, i + 3), 16);
      if (!Number.isNaN(code) && code < 0x80 && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
        out += String.fromCharCode(code);
        from.push(i);
        to.push(i + 3);
        i += 2;
        continue;
      }
    }
    out += text.charAt(i);
    from.push(i);
    to.push(i + 1);
  }
  return { text: out, from: Int32Array.from(from), to: Int32Array.from(to) };
}

/**
 * Findings in the URL-decoded form of `text` that are not already covered by `spans`, mapped
 * back to the original ranges. Beyond the depth bound, a percent-encoded text is reported whole.
 */
export function scanPercentEncoded(
  text: string,
  spans: readonly Span[],
  depth: number,
  detect: DetectDecoded,
): Span[] {
  if (text.length > MAX_ENCODED_RUN) return [];
  const view = percentDecoded(text);
  if (view === null) return [];
  if (depth >= MAX_DECODE_DEPTH)
    return [{ type: "encoded", kind: "secret", start: 0, end: text.length }];
  const out: Span[] = [];
  for (const s of detect(view.text, depth + 1)) {
    const start = view.from[s.start] as number;
    const end = view.to[s.end - 1] as number;
    if (!covered(spans, start, end)) out.push({ ...s, start, end });
  }
  return out;
}
