import { Buffer } from "node:buffer";

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
 * The compact view (letters and digits only, folded) drops values shorter than this: a short
 * run of digits or letters would match ordinary output once separators are ignored.
 */
const COMPACT_MIN_LENGTH = 8;
/** Compact values at least this long are also matched by any run of FRAGMENT characters. */
const FRAGMENT_MIN_VALUE = 16;
const FRAGMENT = 12;

/**
 * A scrubber for these values. Each is matched as it is and (unless `encodings` is false) JSON-escaped, URL-encoded (`%20` and
 * `+` for spaces), and as hex, all ignoring case; and as base64, respecting case: on its own
 * (padded or not, standard or URL-safe), and inside a longer payload at each of the three byte
 * alignments it can have there (the characters that depend on the value alone, when there are
 * at least 8 of them: a value of 5 bytes or fewer inside a longer payload is not recognised). The
 * longest match wins. With encodings, the text is then searched once more in its compact view
 * (letters and digits only, ignoring case, mapped back to the text's spans), for each value of
 * at least 8 such characters forwards and reversed, and for a value of at least 16 also for any
 * 12 consecutive characters of it: so a value echoed reversed, spaced out, split across lines or
 * cut in pieces of 12 or more is still removed (with the separators between its pieces). See
 * Needles for the cost; every pass is linear in the text.
 */
export function createScrubber(
  values: readonly ScrubValue[],
  opts: { readonly encodings?: boolean } = {},
): Scrubber {
  const distinct = new Map<string, string>(); // value → label
  for (const { text, label } of values) {
    if (text.length >= SCRUB_MIN_LENGTH && !distinct.has(text)) distinct.set(text, label);
  }
  if (distinct.size === 0) return NO_SCRUBBER;
  const encodings = opts.encodings ?? true;
  // Built on first use: a request with many masked values pays for the encodings only when
  // something is actually scrubbed.
  let built: { caseless: Needles; cased: Needles; pieces: Needles } | undefined;
  const build = () => {
    const folded = new Map<string, string>(); // needle (lower case) → label
    const exact = new Map<string, string>(); // base64 needle → label
    for (const [text, label] of distinct) {
      const forms = [text];
      if (encodings) {
        const url = encodeURIComponent(text);
        forms.push(JSON.stringify(text).slice(1, -1), url, url.replace(/%20/g, "+"));
        const bytes = Buffer.from(text, "utf8");
        forms.push(bytes.toString("hex"));
        const whole = bytes.toString("base64");
        const b64 = [whole, whole.replace(/=+$/, ""), bytes.toString("base64url")];
        for (const b of [...b64, ...base64Cores(bytes)]) if (!exact.has(b)) exact.set(b, label);
      }
      for (const v of forms) {
        const f = fold(v);
        if (!folded.has(f)) folded.set(f, label);
      }
    }
    const pieces = new Map<string, string>(); // compact needle → label
    if (encodings) {
      for (const [text, label] of distinct) {
        const c = compact(text).view;
        if (c.length < COMPACT_MIN_LENGTH) continue;
        for (const v of [c, [...c].reverse().join("")]) {
          if (!pieces.has(v)) pieces.set(v, label);
          if (c.length < FRAGMENT_MIN_VALUE) continue;
          for (let i = 0; i + FRAGMENT <= v.length; i++) {
            const f = v.slice(i, i + FRAGMENT);
            if (!pieces.has(f)) pieces.set(f, label);
          }
        }
      }
    }
    return {
      caseless: new Needles(folded, true),
      cased: new Needles(exact, false),
      pieces: new Needles(pieces, false),
    };
  };
  return {
    size: distinct.size,
    scrub(text: string): string {
      if (text.length < SCRUB_MIN_LENGTH) return text;
      built ??= build();
      return scrubCompact(built.cased.replace(built.caseless.replace(text)), built.pieces);
    },
  };
}

/** Letters and digits only (UTF-16 units, folded) and, for each, its position in the text. */
function compact(text: string): { view: string; at: number[] } {
  let view = "";
  const at: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const unit = text[i]!;
    const keep =
      code < 0x80
        ? (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)
        : /[\p{L}\p{N}]/u.test(unit);
    if (!keep) continue;
    const lower = unit.toLowerCase();
    view += lower.length === 1 ? lower : unit;
    at.push(i);
  }
  return { view, at };
}

/** Replaces every text span whose compact view is covered by a piece, separators included. */
function scrubCompact(text: string, pieces: Needles): string {
  if (pieces.size === 0) return text;
  const { view, at } = compact(text);
  const spans = pieces.cover(view);
  if (spans.length === 0) return text;
  let out = "";
  let from = 0;
  for (const { start, end, label } of spans) {
    const a = at[start]!;
    const b = at[end - 1]! + 1;
    out += `${text.slice(from, a)}[${label}]`;
    from = b;
  }
  return out + text.slice(from);
}

/** Lower case, one UTF-16 unit for one (so positions in the folded text are positions in the text). */
function fold(text: string): string {
  // eslint-disable-next-line no-control-regex -- ASCII is the fast path
  if (!/[^\x00-\x7f]/.test(text)) return text.toLowerCase();
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const unit = text[i]!;
    const lower = unit.toLowerCase();
    out += lower.length === 1 ? lower : unit;
  }
  return out;
}

/**
 * Many literal needles found in one pass: at each position, the 4 characters there are looked up
 * (every needle is at least that long), and only then the needle lengths that start with them,
 * longest first. Linear in the text times the number of distinct lengths per prefix; never in
 * the number of needles, so a request with many masked values stays cheap.
 */
class Needles {
  readonly #labels: Map<string, string>;
  readonly #lengths = new Map<string, number[]>(); // 4-character prefix → needle lengths, longest first
  readonly #fold: boolean;

  constructor(labels: Map<string, string>, caseless: boolean) {
    this.#labels = labels;
    this.#fold = caseless;
    for (const n of labels.keys()) {
      const prefix = n.slice(0, PREFIX);
      const lengths = this.#lengths.get(prefix) ?? [];
      if (!lengths.includes(n.length)) lengths.push(n.length);
      this.#lengths.set(prefix, lengths);
    }
    for (const lengths of this.#lengths.values()) lengths.sort((x, y) => y - x);
  }

  get size(): number {
    return this.#labels.size;
  }

  /**
   * The maximal runs of the text that matches cover (every position tried, overlaps joined),
   * each with the label of its first match; the text must already be folded as the needles are.
   */
  cover(hay: string): { start: number; end: number; label: string }[] {
    const runs: { start: number; end: number; label: string }[] = [];
    for (let i = 0; i + PREFIX <= hay.length; i++) {
      const lengths = this.#lengths.get(hay.slice(i, i + PREFIX));
      if (lengths === undefined) continue;
      for (const length of lengths) {
        const label =
          i + length <= hay.length ? this.#labels.get(hay.slice(i, i + length)) : undefined;
        if (label === undefined) continue;
        const last = runs[runs.length - 1];
        if (last !== undefined && i <= last.end) last.end = Math.max(last.end, i + length);
        else runs.push({ start: i, end: i + length, label });
        break;
      }
    }
    return runs;
  }

  replace(text: string): string {
    if (this.#labels.size === 0 || text.length < PREFIX) return text;
    const hay = this.#fold ? fold(text) : text;
    let out = "";
    let at = 0;
    let i = 0;
    while (i + PREFIX <= hay.length) {
      const lengths = this.#lengths.get(hay.slice(i, i + PREFIX));
      let matched = 0;
      if (lengths !== undefined) {
        for (const length of lengths) {
          const label =
            i + length <= hay.length ? this.#labels.get(hay.slice(i, i + length)) : undefined;
          if (label === undefined) continue;
          out += `${text.slice(at, i)}[${label}]`;
          matched = length;
          break;
        }
      }
      if (matched > 0) {
        i += matched;
        at = i;
      } else i++;
    }
    return out + text.slice(at);
  }
}

/** Every needle is at least this long (SCRUB_MIN_LENGTH, and base64 forms are longer). */
const PREFIX = 4;

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
