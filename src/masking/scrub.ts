import { Buffer } from "node:buffer";
import type { AppliedMask } from "./mask.ts";
import { atSafePointer, safeKeys, scalarText } from "./scan.ts";
import { unescapeSegment } from "./pointer.ts";
import type { Finding } from "./types.ts";

/**
 * Removes from text every value that was masked in one request, in its common encodings.
 * Detectors only find what looks sensitive; a scrubber also finds what the policy masked by
 * path (a customer's name), so that an executor's output or an error that echoes it cannot
 * write it down. Holds the values: never serialise it, and drop it when the request is done.
 */
export interface Scrubber {
  /** The text with every occurrence of a masked value replaced by its placeholder. */
  scrub(text: string): string;
  /** How many distinct values it scrubs (for tests and diagnostics; never the values). */
  readonly size: number;
}

/** One value to scrub and the label its placeholder shows (`[email]`, `[redacted]`). */
export interface ScrubValue {
  readonly text: string;
  readonly label: string;
}

/**
 * Values shorter than this are not scrubbed: a three-letter value would erase ordinary words
 * from every later output. Detected spans are rarely that short; a policy-masked field that
 * short says little about anyone.
 */
export const SCRUB_MIN_LENGTH = 4;
/** Base64 of a value is matched by its alignment-independent core; shorter cores are skipped. */
const BASE64_MIN_CORE = 8;

export const NO_SCRUBBER: Scrubber = { scrub: (text) => text, size: 0 };

/**
 * The values masked in a request: the original text of every finding (in keys, strings and
 * numbers) and every scalar inside a field that a policy rule masked whole. `doc` is the
 * original (unsealed) request; findings and masks use safe paths (see scan.ts).
 */
export function maskedValues(
  doc: unknown,
  findings: readonly Finding[],
  applied: readonly AppliedMask[],
): ScrubValue[] {
  const out: ScrubValue[] = [];
  for (const f of findings) {
    const text = f.in === "key" ? keyAt(doc, f.path) : scalarText(atSafePointer(doc, f.path).value);
    if (text !== undefined) out.push({ text: text.slice(f.start, f.end), label: f.type });
  }
  for (const m of applied) {
    if (m.kind !== "field") continue;
    const at = atSafePointer(doc, m.path);
    if (at.found) leaves(at.value, (text) => out.push({ text, label: "redacted" }));
  }
  return out;
}

function keyAt(doc: unknown, path: string): string | undefined {
  const cut = path.lastIndexOf("/");
  const parent = atSafePointer(doc, path.slice(0, cut)).value;
  if (parent === null || typeof parent !== "object" || Array.isArray(parent)) return undefined;
  const safe = unescapeSegment(path.slice(cut + 1));
  return safeKeys(parent).find((k) => k.safe === safe)?.key;
}

function leaves(value: unknown, emit: (text: string) => void): void {
  const text = scalarText(value);
  if (text !== undefined) emit(text);
  else if (Array.isArray(value)) for (const v of value) leaves(v, emit);
  else if (value !== null && typeof value === "object")
    for (const v of Object.values(value)) leaves(v, emit);
}

/**
 * A scrubber for these values. Each is matched as it is, JSON-escaped, URL-encoded (`%20` and
 * `+` for spaces), and as hex, all ignoring case; and as base64, respecting case: on its own
 * (padded or not, standard or URL-safe), and inside a longer payload at each of the three byte
 * alignments it can have there (the characters that depend on the value alone, when there are
 * at least 8 of them: a value of 5 bytes or fewer inside a longer payload is not recognised). The
 * longest match wins. Linear in the text for a given set of values.
 */
export function createScrubber(values: readonly ScrubValue[]): Scrubber {
  const folded = new Map<string, string>(); // needle (lower case) → label
  const exact = new Map<string, string>(); // base64 needle → label
  let size = 0;
  const seen = new Set<string>();
  for (const { text, label } of values) {
    if (text.length < SCRUB_MIN_LENGTH || seen.has(text)) continue;
    seen.add(text);
    size++;
    const bytes = Buffer.from(text, "utf8");
    const json = JSON.stringify(text).slice(1, -1);
    const url = encodeURIComponent(text);
    for (const v of [text, json, url, url.replace(/%20/g, "+"), bytes.toString("hex")]) {
      if (!folded.has(v.toLowerCase())) folded.set(v.toLowerCase(), label);
    }
    const whole = bytes.toString("base64");
    const wholeForms = [whole, whole.replace(/=+$/, ""), bytes.toString("base64url")];
    for (const b of [...wholeForms, ...base64Cores(bytes)]) if (!exact.has(b)) exact.set(b, label);
  }
  if (size === 0) return NO_SCRUBBER;
  const caseless = alternation([...folded.keys()], "gi")!;
  const cased = alternation([...exact.keys()], "g");
  return {
    size,
    scrub(text: string): string {
      let out = text.replace(caseless, (m) => `[${folded.get(m.toLowerCase()) ?? "redacted"}]`);
      if (cased !== undefined) out = out.replace(cased, (m) => `[${exact.get(m) ?? "redacted"}]`);
      return out;
    },
  };
}

/** The base64 characters that depend only on the value, for each alignment, both alphabets. */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes]);
    const full = Math.floor(padded.length / 3) * 4; // complete groups only
    const core = padded.toString("base64").slice(k === 0 ? 0 : 4, full);
    if (core.length < BASE64_MIN_CORE) continue;
    cores.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return cores;
}

function alternation(needles: readonly string[], flags: string): RegExp | undefined {
  if (needles.length === 0) return undefined;
  const sorted = [...new Set(needles)].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map((n) => n.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")).join("|"), flags);
}
