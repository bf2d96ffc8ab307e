/**
 * One Unicode normalisation for matching: what a person reads, not how it is encoded.
 *
 * - NFKC: full-width letters, ligatures, superscripts and composed forms become their plain
 *   equivalents ("ｐｒｏｄ" → "prod", "ﬁ" → "fi");
 * - invisible characters are removed: zero-width space/joiners, word joiner, byte-order mark,
 *   soft hyphen, Mongolian vowel separator, bidi marks and controls;
 * - every other space (no-break, thin, ideographic, …) becomes " ";
 * - decimal digits of every script (Arabic-Indic, Devanagari, Thai, …) become ASCII digits.
 *
 * normalizeText gives the normalised string (for comparing names); normalizedView also keeps,
 * for each UTF-16 unit of the normalised text, the range of the original it came from, so that
 * a match found in the view can be reported (and masked) in the original.
 */

/** Removed entirely: ranges of code points that render as nothing. */
const INVISIBLE_RANGES: readonly (readonly [number, number])[] = [
  [0x00ad, 0x00ad], // soft hyphen
  [0x034f, 0x034f], // combining grapheme joiner
  [0x061c, 0x061c], // Arabic letter mark
  [0x115f, 0x1160], // Hangul fillers
  [0x17b4, 0x17b5], // Khmer inherent vowels
  [0x180b, 0x180f], // Mongolian variation selectors and vowel separator
  [0x200b, 0x200f], // zero-width space, non-joiner, joiner, LRM, RLM
  [0x202a, 0x202e], // bidi embeddings and overrides
  [0x2060, 0x206f], // word joiner, invisible operators, bidi isolates
  [0x3164, 0x3164], // Hangul filler
  [0xfe00, 0xfe0f], // variation selectors
  [0xfeff, 0xfeff], // byte-order mark
  [0xffa0, 0xffa0], // half-width Hangul filler
];
/** Shown as a space: no-break, Ogham, en/em/thin/hair spaces, narrow no-break, ideographic. */
const SPACE_RANGES: readonly (readonly [number, number])[] = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];

function inRanges(cp: number, ranges: readonly (readonly [number, number])[]): boolean {
  for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
  return false;
}

/** Whether the code point renders as nothing (removed for matching). */
export function isInvisible(cp: number): boolean {
  return inRanges(cp, INVISIBLE_RANGES);
}

/** A combining mark: kept with the character before it, so NFKC can compose them. */
const MARK_RE = /^\p{M}/u;
/** Anything that normalisation may change; ASCII text skips all the work. */
const NON_ASCII_RE = /[\u0080-\uffff]/;

/** A normalised text and where each of its UTF-16 units came from in the original. */
export interface NormalizedView {
  /** The normalised text. */
  readonly text: string;
  /** The original text. */
  readonly original: string;
  /** Whether text differs from original (when false, offsets are the same). */
  readonly changed: boolean;
  /** [start, end) in the original of the range [start, end) of the normalised text. */
  toOriginal(start: number, end: number): [number, number];
}

function sameRange(start: number, end: number): [number, number] {
  return [start, end];
}

function identity(text: string): NormalizedView {
  return { text, original: text, changed: false, toOriginal: sameRange };
}

/** Length in UTF-16 units of the code point at i. */
function cpLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
}

/** Any invisible character or Unicode space (built from the tables above). */
function specialCharacterRegex(): RegExp {
  const hex = (cp: number): string => "\\u" + cp.toString(16).padStart(4, "0");
  const ranges = [...INVISIBLE_RANGES, ...SPACE_RANGES].map(([lo, hi]) =>
    lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`,
  );
  return new RegExp(`[${ranges.join("")}]`);
}

let specialRe: RegExp | undefined;

/** A decimal digit of a script other than ASCII. */
const OTHER_DIGIT_RE = /(?![0-9])\p{Nd}/u;
/** A decimal digit (Unicode Nd) of any script. */
const DECIMAL_RE = /\p{Nd}/u;

/**
 * The ASCII digit of a decimal digit of another script, or undefined. Unicode assigns decimal
 * digits only in contiguous runs of ten, from zero to nine, so a digit's value is its distance
 * from the start of its run, modulo ten (adjacent runs are whole runs of ten).
 */
function asciiDigit(cp: number): string | undefined {
  if (cp < 0x80 || !DECIMAL_RE.test(String.fromCodePoint(cp))) return undefined;
  let start = cp;
  while (cp - start < 100 && DECIMAL_RE.test(String.fromCodePoint(start - 1))) start--;
  return String((cp - start) % 10);
}

/** The normalised text with a map back to the original (see the module comment). */
export function normalizedView(original: string): NormalizedView {
  if (!NON_ASCII_RE.test(original)) return identity(original);
  // Most non-ASCII text (accented letters, CJK) is already in normal form: one native check.
  specialRe ??= specialCharacterRegex();
  if (
    !specialRe.test(original) &&
    !OTHER_DIGIT_RE.test(original) &&
    original.normalize("NFKC") === original
  ) {
    return identity(original);
  }
  let text = "";
  // For normalised unit k: it came from original [from[k], to[k]).
  const from: number[] = [];
  const to: number[] = [];
  let i = 0;
  const n = original.length;
  while (i < n) {
    const c = original.charCodeAt(i);
    if (c < 0x80) {
      // A run of ASCII, copied as is (a following combining mark is rare; NFKC leaves ASCII).
      let j = i + 1;
      while (j < n && original.charCodeAt(j) < 0x80) j++;
      // Keep the last ASCII character with any combining marks that follow it.
      if (j < n && MARK_RE.test(original.charAt(j))) j--;
      for (let k = i; k < j; k++) {
        from.push(k);
        to.push(k + 1);
      }
      text += original.slice(i, j);
      if (j > i) {
        i = j;
        continue;
      }
    }
    // One code point and the combining marks after it.
    let end = i + cpLength(original, i);
    while (end < n && MARK_RE.test(original.slice(end, end + cpLength(original, end)))) {
      end += cpLength(original, end);
    }
    const segment = original.slice(i, end);
    let replacement: string;
    const cp = segment.codePointAt(0) as number;
    if (isInvisible(cp)) replacement = segment.slice(cp > 0xffff ? 2 : 1);
    else if (inRanges(cp, SPACE_RANGES)) replacement = " " + segment.slice(1);
    else {
      replacement = withoutInvisible(segment.normalize("NFKC"));
      const first = replacement.codePointAt(0);
      const digit = first === undefined ? undefined : asciiDigit(first);
      if (digit !== undefined) replacement = digit + replacement.slice(first! > 0xffff ? 2 : 1);
    }
    for (let k = 0; k < replacement.length; k++) {
      from.push(i);
      to.push(end);
    }
    text += replacement;
    i = end;
  }
  if (text === original) return identity(original);
  const fromArr = Int32Array.from(from);
  const toArr = Int32Array.from(to);
  return {
    text,
    original,
    changed: true,
    toOriginal(start: number, stop: number): [number, number] {
      if (stop <= start) {
        const at = start < fromArr.length ? (fromArr[start] as number) : n;
        return [at, at];
      }
      return [fromArr[start] as number, toArr[stop - 1] as number];
    },
  };
}

function withoutInvisible(text: string): string {
  let out = "";
  for (const ch of text) if (!isInvisible(ch.codePointAt(0) as number)) out += ch;
  return out;
}

/** The normalised form of `text` (NFKC, invisible characters removed, Unicode spaces as " "). */
export function normalizeText(text: string): string {
  return normalizedView(text).text;
}

/**
 * Text normalised for matching names (resources, production markers): the host's one rule, so
 * that `ＰＲＯＤ`, `Prod`, `p\u200brod` and `db%2Dprod` all read as what a person reads.
 *
 *   1. percent-decoding (once; malformed escapes are left as they are),
 *   2. zero-width, bidi and other invisible format characters removed,
 *   3. NFKC (full-width and compatibility forms to their plain letters), case-folded, NFKC again,
 *      and Cyrillic or Greek look-alikes of Latin letters read as those letters,
 *   4. every run of characters that are neither letters nor digits becomes one "/",
 *      so any separator (- _ . : @ space, Unicode dashes, ...) splits words the same way.
 *
 * The result starts and ends without "/" and is safe to split on "/" (Rego has no NFKC).
 */
export function normalizeForMatching(text: string): string {
  const decoded = text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  // The detectors' normalisation (NFKC, invisible characters out, Unicode spaces as spaces),
  // then any other format character, then case-folding.
  const latin = readAs(decoded);
  return latin.replace(/[^\p{L}\p{N}]+/gu, "/").replace(/^\/|\/$/g, "");
}

/**
 * What a person reads: the detectors' normalisation (NFKC, invisible characters out, Unicode
 * spaces as spaces), any other format character out, case-folded, combining marks stripped
 * (NFD, then every \p{M} dropped: `pröd`, `p\u0307rod` read as prod) and look-alike letters of
 * other scripts read as the Latin letters they imitate.
 */
function readAs(text: string): string {
  // ASCII has no format characters, marks or look-alikes, and NFKC leaves it as it is.
  if (!NON_ASCII_RE.test(text)) return text.toLowerCase();
  const visible = normalizeText(text).replace(/\p{Cf}/gu, "");
  const folded = visible.toLowerCase().normalize("NFKC");
  const bare = NON_ASCII_RE.test(folded)
    ? folded.normalize("NFD").replace(/\p{M}/gu, "").normalize("NFKC")
    : folded;
  return bare.replace(CONFUSABLE, (c) => LOOKALIKES[c] ?? c);
}

/**
 * A principal's name as a person reads it, for telling whether two names are one principal:
 * readAs (NFKC, case-folded, invisible characters and combining marks out, look-alikes read as
 * Latin), blanks collapsed and trimmed, and an e-mail address without its `+tag` and without a
 * trailing dot on its domain (`Alice+ops@Acme.example.` is alice@acme.example). A kind prefix
 * ("user:") and a leading "@" are kept: the policy strips them.
 */
export function principalSkeleton(name: string): string {
  const read = readAs(name).replace(/\s+/g, " ").trim();
  const email = /^([^@\s]+)@([^@\s]+)$/.exec(read);
  if (!email) return read;
  const local = (email[1] as string).replace(/\+.*$/, "");
  const domain = (email[2] as string).replace(/\.+$/, "");
  return `${local}@${domain}`;
}

/**
 * Letters of other scripts (Cyrillic, Greek, Armenian, Latin small capitals) that look like
 * Latin ones after lower-casing and stripping marks, so `рrоd` with Cyrillic р and о and
 * `ᴘʀᴏᴅ` read as prod. Not the whole Unicode confusables table (no package for it is a
 * dependency and the data is not shipped): the letters that spell names and environments.
 */
const LOOKALIKES: Readonly<Record<string, string>> = {
  а: "a",
  в: "b",
  с: "c",
  ԁ: "d",
  е: "e",
  ё: "e",
  һ: "h",
  і: "i",
  ї: "i",
  ј: "j",
  к: "k",
  ӏ: "l",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  ԛ: "q",
  г: "r",
  ѕ: "s",
  т: "t",
  у: "y",
  ѵ: "v",
  ԝ: "w",
  х: "x",
  α: "a",
  β: "b",
  ε: "e",
  η: "n",
  ι: "i",
  κ: "k",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
  // Latin small capitals and other Latin letter forms that read as plain letters.
  ᴀ: "a",
  ʙ: "b",
  ᴄ: "c",
  ᴅ: "d",
  ᴇ: "e",
  ꜰ: "f",
  ɢ: "g",
  ʜ: "h",
  ɪ: "i",
  ᴊ: "j",
  ᴋ: "k",
  ʟ: "l",
  ᴍ: "m",
  ɴ: "n",
  ᴏ: "o",
  ᴘ: "p",
  ʀ: "r",
  ꜱ: "s",
  ᴛ: "t",
  ᴜ: "u",
  ᴠ: "v",
  ᴡ: "w",
  ʏ: "y",
  ᴢ: "z",
  ı: "i",
  ȷ: "j",
  ɑ: "a",
  ɡ: "g",
  ɩ: "i",
  ʋ: "u",
  // Armenian letters that read as Latin ones.
  օ: "o",
  ո: "n",
  ս: "u",
  հ: "h",
  ց: "g",
  ք: "p",
  ա: "w",
  զ: "q",
  // Cyrillic and Greek letters the table above missed.
  ԍ: "g",
  ω: "w",
  ϲ: "c",
  ϳ: "j",
};
const CONFUSABLE = new RegExp(`[${Object.keys(LOOKALIKES).join("")}]`, "gu");
