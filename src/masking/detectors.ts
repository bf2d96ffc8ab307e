/**
 * Built-in, schema-less detectors for personal data and secrets.
 *
 * Every detector scans one string and reports exact [start, end) ranges, so that masking can
 * replace only the sensitive part and keep the shape of the rest (a SQL query stays readable).
 *
 * Design rules:
 * - Regexes only find candidates; small functions then confirm them (Luhn, mod-97, octet ranges,
 *   decoded JWT header, …) and narrow the range. This keeps every regex simple.
 * - Every regex is linear-time: no nested ambiguous quantifiers, bounded repetition, and a
 *   negative lookbehind at the start of any unbounded run so that a run is tried once, not at
 *   each of its characters. test/redos.test.ts checks each one with recheck.
 * - One cheap pass over the string computes a few features (which characters occur, how many
 *   digits); detectors that cannot match are skipped, so short strings cost almost nothing.
 */
import { Buffer } from "node:buffer";
import { getCountrySpecifications, validateIBAN, ValidationErrorsIBAN } from "ibantools";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import { normalizedView, normalizeText, type NormalizedView } from "../text/unicode.ts";
import { isIssuedCardNumber } from "./card-issuers.ts";
import { CRYPTO_WALLET_PATTERNS, scanCryptoWallets } from "./crypto-wallets.ts";
import { shannonEntropy } from "./entropy.ts";
import {
  NATIONAL_ID_PATTERNS,
  ITIN_PATTERNS,
  NHS_PATTERNS,
  nationalIdNamedBy,
  scanAadhaar,
  scanItin,
  scanNhs,
  type NamedNationalId,
  scanBsn,
  scanNino,
  scanSin,
  wholeNationalId,
} from "./national-ids.ts";
import {
  ENCODED_PATTERNS,
  MIN_ENCODED_RUN,
  scanEncodedRuns,
  scanPercentEncoded,
} from "./encoded.ts";
import {
  addOutputs,
  clearSeen,
  keywordMatcher,
  keywordsIn,
  providerRegexes,
  scanProviderTokens,
  symbolOf,
  SYMBOLS,
} from "./providers/match.ts";
import {
  KW_AWS_ACCESS_KEY,
  KW_AWS_SECRET,
  KW_BSN,
  KW_CLI,
  KW_CREDENTIAL,
  KW_GITHUB,
  KW_GITHUB_SPLIT,
  KW_GOOGLE,
  KW_JWT,
  KW_OBFUSCATED_AT,
  KW_PRIVATE_KEY,
  KW_SIGNED_URL,
  KW_SIN,
  KW_SLACK,
  KW_STRIPE,
} from "./keywords.ts";
import { FINDING_TYPES, type FindingKind, type FindingType, type Span } from "./types.ts";

/**
 * Node's IPv6 parser. node:net loads its networking stack with it (streams, sockets: about
 * 10 ms of a short command's start-up), so it is loaded at the first IPv6 candidate, not at import.
 */
function isIPv6(text: string): boolean {
  return process.getBuiltinModule("node:net").isIPv6(text);
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Cheap facts about a string, computed in one pass, that let detectors skip work early. */
export interface TextFeatures {
  readonly length: number;
  /** Number of ASCII letters. */
  readonly letters: number;
  /**
   * Most digits in one run where digits may be separated by at most two of ` -.()/` in a row:
   * "(202) 555-0147" → 10, "4242 4242 4242 4242" → 16, "2024-01-15T10:30" → 8.
   */
  readonly digitRun: number;
  /** Number of "." and of ":". */
  readonly dots: number;
  readonly colons: number;
  /** Bit set of FEATURE_* flags for the ASCII characters that occur. */
  readonly flags: number;
  /** Whether every character is ASCII (then Unicode normalisation has nothing to do). */
  readonly ascii: boolean;
  /**
   * Longest run of base64/hex alphabet characters (A–Z a–z 0–9 + / _ -): below the shortest
   * encoded run worth decoding, the encoded-payload pass has nothing to do.
   */
  readonly encodedRun: number;
  /** Whether a "%" occurs (URL encoding). */
  readonly percent: boolean;
  /** The provider rules whose keywords occur (providers/match.ts); undefined: none. */
  readonly rules: readonly number[] | undefined;
  /** KEYWORD_GROUPS bits (keywords.ts) of the built-in keywords that occur. */
  readonly keywords: number;
}

/**
 * Necessary conditions for a detector to find anything, checked against TextFeatures before its
 * regexes run. Plain data, so that checking all detectors is one tight loop.
 */
export interface Prefilter {
  /** Shortest string that can contain a match. */
  readonly minLength: number;
  /** Fewest digits in one grouped run (see TextFeatures.digitRun). */
  readonly minDigitRun: number;
  readonly minLetters: number;
  /** All of these FEATURE_* bits must be present. */
  readonly all: number;
  /** At least one of these bits must be present (0: no condition). */
  readonly any: number;
  /** At least one of these KEYWORD_GROUPS bits must be present (0: no condition). */
  readonly keywords: number;
  /** A last, more specific check (usually a substring test) once the numbers pass. */
  readonly test?: (text: string, features: TextFeatures) => boolean;
}

/** What we know about the object key a string sits under (for key-name context). */
export interface KeyContext {
  /** Lower-case word parts: "dbPassword" → ["db", "password"], "X-Api-Key" → ["x", "api", "key"]. */
  readonly words: readonly string[];
  /** Names a credential: password, token, api_key, client_secret, Authorization, … */
  readonly secretLike: boolean;
  /** Names a password specifically (shorter values still count). */
  readonly passwordLike: boolean;
  /** Names an AWS secret access key. */
  readonly awsSecret: boolean;
  /** Names a phone number. */
  readonly phone: boolean;
  /** Names a US social security number. */
  readonly ssn: boolean;
  /** Names a national ID with a checksum: "sin", "bsn", "aadhaar" (none: empty). */
  readonly nationalId: NamedNationalId;
}

export interface Detector {
  readonly type: FindingType;
  readonly kind: FindingKind;
  /** The main candidate regex (global). */
  readonly pattern: RegExp;
  /** Every regex the detector runs, `pattern` included; all are checked for ReDoS. */
  readonly patterns: readonly RegExp[];
  /** Skip the detector when the string cannot contain a match (see mayMatch). */
  readonly prefilter: Prefilter;
  /** Appends confirmed ranges as flat pairs: out.push(start, end). `features`: of `text`. */
  scan(text: string, out: number[], features: TextFeatures): void;
  /** True when, given the key it sits under, the whole string is this kind of data. */
  matchesWhole?(text: string, key: KeyContext): boolean;
}

// ---------------------------------------------------------------------------------------------
// Character helpers and text features
// ---------------------------------------------------------------------------------------------

// Character codes used by the hand-written scanners.
const DOT = 46;
const DASH = 45;
const COLON = 58;
const SPACE = 32;
const BACKSLASH = 92;
const QUOTE = 34;

export const FEATURE_DIGIT = 1;
export const FEATURE_UPPER = 2;
export const FEATURE_LOWER = 4;
export const FEATURE_AT = 8;
export const FEATURE_DOT = 16;
export const FEATURE_COLON = 32;
export const FEATURE_DASH = 64;
export const FEATURE_UNDERSCORE = 128;
export const FEATURE_EQUALS = 256;
export const FEATURE_SLASH = 512;
export const FEATURE_PLUS = 1024;
export const FEATURE_SPACE = 2048;
export const FEATURE_PERCENT = 4096;
/**
 * Not a character: two ASCII letters followed by two digits, with at most one space between
 * them ("DE89", "QQ 12"), which is how an IBAN and a UK NINO start.
 */
export const FEATURE_LETTERS_THEN_DIGITS = 8192;

/** FEATURE_* bits for each ASCII code. */
const FEATURE_OF: Uint16Array = buildFeatureTable();

function buildFeatureTable(): Uint16Array {
  const table = new Uint16Array(128);
  for (let c = 48; c <= 57; c++) table[c] = FEATURE_DIGIT;
  for (let c = 65; c <= 90; c++) table[c] = FEATURE_UPPER;
  for (let c = 97; c <= 122; c++) table[c] = FEATURE_LOWER;
  const single: [string, number][] = [
    ["@", FEATURE_AT],
    [".", FEATURE_DOT],
    [":", FEATURE_COLON],
    ["-", FEATURE_DASH],
    ["_", FEATURE_UNDERSCORE],
    ["=", FEATURE_EQUALS],
    ["/", FEATURE_SLASH],
    ["+", FEATURE_PLUS],
    [" ", FEATURE_SPACE],
    ["\t", FEATURE_SPACE],
    ["\n", FEATURE_SPACE],
    ["\r", FEATURE_SPACE],
    ["%", FEATURE_PERCENT],
  ];
  for (const [ch, flag] of single) table[ch.charCodeAt(0)] = flag;
  return table;
}

/** The characters of either base64 alphabet (hex included): what an encoded run is made of. */
const ENCODED_FEATURES =
  FEATURE_DIGIT |
  FEATURE_UPPER |
  FEATURE_LOWER |
  FEATURE_PLUS |
  FEATURE_SLASH |
  FEATURE_UNDERSCORE |
  FEATURE_DASH;

/**
 * Classes of the letters-then-digits automaton (TextFeatures' FEATURE_LETTERS_THEN_DIGITS):
 * 0 any other character, 1 an ASCII letter, 2 a digit, 3 a space.
 */
const LD_LETTER = 1;
const LD_DIGIT = 2;
const LD_SPACE = 3;
/**
 * Its transitions, LD_NEXT[state * 4 + class]: two letters that start a word (after a character
 * that is not an ASCII letter or digit, as the IBAN and NINO regexes' lookbehind requires),
 * at most one space, two digits. States: 0 at a word start, 1 one letter, 2 two letters, 3 two
 * letters and a space, 4 and a digit, 5 found (final), 6 inside a word that cannot start one.
 */
const LD_FOUND = 5;
// prettier-ignore
const LD_NEXT = Uint8Array.from([
  /* 0 */ 0, 1, 6, 0,
  /* 1 */ 0, 2, 6, 0,
  /* 2 */ 0, 6, 4, 3,
  /* 3 */ 0, 1, 4, 0,
  /* 4 */ 0, 6, 5, 0,
  /* 5 */ 5, 5, 5, 5,
  /* 6 */ 0, 6, 6, 0,
]);

/** FEATURE_* bits of the characters (bits 0–12 of CHAR_INFO). */
const CHAR_FEATURES = 0x1fff;
// Bits of CHAR_INFO above the features: counted or tested by the pass without branching on f.
const CHAR_LETTER_SHIFT = 13;
const CHAR_DIGIT = 1 << 14;
const CHAR_DOT_SHIFT = 15;
const CHAR_COLON_SHIFT = 16;
const CHAR_ENCODED = 1 << 17;
const CHAR_GROUP_SEPARATOR = 1 << 18;
const CHAR_LD_SHIFT = 19;
const CHAR_SYMBOL_SHIFT = 21;

/**
 * Everything the character pass needs about an ASCII code, in one load: its FEATURE_* bits,
 * whether it is a letter, digit, dot or colon (counted), of a base64/hex alphabet, a digit
 * group separator, its letters-then-digits class, and the keyword automaton's symbol.
 */
const CHAR_INFO: Int32Array = Int32Array.from({ length: 128 }, (_, c) => {
  const f = FEATURE_OF[c] as number;
  const letter = f === FEATURE_UPPER || f === FEATURE_LOWER;
  const ld = letter ? LD_LETTER : f === FEATURE_DIGIT ? LD_DIGIT : c === SPACE ? LD_SPACE : 0;
  return (
    f |
    ((letter ? 1 : 0) << CHAR_LETTER_SHIFT) |
    (f === FEATURE_DIGIT ? CHAR_DIGIT : 0) |
    ((f === FEATURE_DOT ? 1 : 0) << CHAR_DOT_SHIFT) |
    ((f === FEATURE_COLON ? 1 : 0) << CHAR_COLON_SHIFT) |
    ((f & ENCODED_FEATURES) !== 0 ? CHAR_ENCODED : 0) |
    (isGroupSeparator(c) ? CHAR_GROUP_SEPARATOR : 0) |
    (ld << CHAR_LD_SHIFT) |
    (symbolOf(c) << CHAR_SYMBOL_SHIFT)
  );
});

/** Above this length, features are not worth computing: assume everything may occur. */
const FEATURE_SCAN_LIMIT = 8192;
const ALL_FEATURES = 0xffff;

/**
 * One pass over the string; the only per-character work done for strings that match nothing.
 * It also runs the keyword automaton of the provider rules and of the built-in detectors
 * (providers/match.ts, keywords.ts), so a string is read once for both.
 */
export function textFeatures(text: string): TextFeatures {
  const length = text.length;
  if (length > FEATURE_SCAN_LIMIT) {
    const found = keywordsIn(text);
    return {
      length,
      letters: length,
      digitRun: length,
      dots: length,
      colons: length,
      flags: ALL_FEATURES,
      ascii: false,
      encodedRun: length,
      percent: true,
      rules: found.rules,
      keywords: found.groups,
    };
  }
  const m = keywordMatcher();
  const delta = m.delta;
  const groupBits = m.groupBits;
  let row = 0; // the keyword automaton's state (its row in delta)
  let groups = 0;
  let rules: number[] | undefined;
  let ld = 0; // the letters-then-digits automaton's state
  let flags = 0;
  let letters = 0;
  let run = 0; // digits in the current run
  let seps = 0; // separators in a row since the last digit
  let digitRun = 0;
  let dots = 0;
  let colons = 0;
  let nonAscii = 0;
  let encoded = 0; // base64/hex characters in the current run
  let encodedRun = 0;
  // Counts are added from the table's bits rather than branched on (prose mispredicts those).
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    let info = 0;
    if (c < 128) info = CHAR_INFO[c] as number;
    else nonAscii = 1;
    const entry = delta[row + (info >>> CHAR_SYMBOL_SHIFT)] as number;
    row = entry & -2;
    if ((entry & 1) !== 0) {
      groups |= groupBits[row / SYMBOLS] as number;
      rules = addOutputs(m, row, rules);
    }
    ld = LD_NEXT[ld * 4 + ((info >>> CHAR_LD_SHIFT) & 3)] as number;
    flags |= info;
    letters += (info >>> CHAR_LETTER_SHIFT) & 1;
    dots += (info >>> CHAR_DOT_SHIFT) & 1;
    colons += (info >>> CHAR_COLON_SHIFT) & 1;
    encoded = (info & CHAR_ENCODED) !== 0 ? encoded + 1 : 0;
    if (encoded > encodedRun) encodedRun = encoded;
    if ((info & CHAR_DIGIT) !== 0) {
      run++;
      seps = 0;
      if (run > digitRun) digitRun = run;
    } else if ((info & CHAR_GROUP_SEPARATOR) !== 0 && run > 0 && seps < 2) {
      seps++;
    } else {
      run = 0;
      seps = 0;
    }
  }
  clearSeen(m, rules);
  flags &= CHAR_FEATURES;
  if (ld === LD_FOUND) flags |= FEATURE_LETTERS_THEN_DIGITS;
  return {
    length,
    letters,
    digitRun,
    dots,
    colons,
    flags,
    ascii: nonAscii === 0,
    encodedRun,
    percent: (flags & FEATURE_PERCENT) !== 0,
    rules,
    keywords: groups,
  };
}

/** Separators that may sit between the digit groups of a phone or card number. */
function isGroupSeparator(c: number): boolean {
  return c === SPACE || c === DASH || c === DOT || c === 40 || c === 41 || c === 47;
}

/** Whether `detector` may find something in a string with these features (never a false "no"). */
export function mayMatch(detector: Detector, features: TextFeatures, text: string): boolean {
  const p = detector.prefilter;
  return (
    features.length >= p.minLength &&
    features.digitRun >= p.minDigitRun &&
    features.letters >= p.minLetters &&
    (features.flags & p.all) === p.all &&
    (p.any === 0 || (features.flags & p.any) !== 0) &&
    (p.keywords === 0 || (features.keywords & p.keywords) !== 0) &&
    (p.test === undefined || p.test(text, features))
  );
}

/** Prefilter with defaults for the conditions not given. */
function needs(p: Partial<Prefilter>): Prefilter {
  return { minLength: 0, minDigitRun: 0, minLetters: 0, all: 0, any: 0, keywords: 0, ...p };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** Characters of a config-style identifier: spring.datasource.password, X-Api-Key, DB_PASS. */
function isIdentChar(c: number): boolean {
  return isAlnum(c) || c === 95 || c === DOT || c === DASH;
}

function isWhitespace(c: number): boolean {
  return c === SPACE || c === 9 || c === 10 || c === 13;
}

/**
 * Runs a global regex over the whole text. The callback returns where to resume; anything at or
 * before the match start resumes one character later, so the loop always terminates.
 */
function forEachMatch(re: RegExp, text: string, onMatch: (m: RegExpExecArray) => number): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const resume = onMatch(m);
    re.lastIndex = resume > m.index ? resume : m.index + 1;
  }
}

/** Luhn checksum over the digits in text[start, end), ignoring separators. */
export function luhnValid(text: string, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) continue;
    let d = c - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function allSameChar(value: string): boolean {
  for (let i = 1; i < value.length; i++) {
    if (value.charCodeAt(i) !== value.charCodeAt(0)) return false;
  }
  return true;
}

/** The ASCII digits of text[start, end). */
function digitsOf(text: string, start = 0, end = text.length): string {
  let digits = "";
  for (let i = start; i < end; i++) if (isDigit(text.charCodeAt(i))) digits += text.charAt(i);
  return digits;
}

function countDigits(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (isDigit(text.charCodeAt(i))) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// E-mail
// ---------------------------------------------------------------------------------------------

// Anchored on "@" (a fast literal scan); the local part before it is read back in code.
// Internationalised addresses (RFC 6531/6532) have letters of any script in both parts.
const EMAIL_RE = /@[\p{L}\p{N}\p{M}.-]{1,253}/gu;
const TLD_RE = /^(?:[A-Za-z]{2,63}|\p{L}[\p{L}\p{M}]{1,62})$/u;
const NON_ASCII_LETTER_RE = /[\p{L}\p{N}\p{M}]/u;
// "icon@2x.png" is an asset name, not an address.
const ASSET_SCALE_RE = /^\d{1,2}x$/i;

/**
 * End of a plausible domain inside text[from, to), or -1: at least two labels of 1–63 letters,
 * digits or inner hyphens, and an alphabetic top-level label (or an IDN "xn--" label).
 * Trailing dots and hyphens (end of sentence) are not part of the domain.
 */
function domainEnd(text: string, from: number, to: number): number {
  let end = to;
  while (end > from && (text.charCodeAt(end - 1) === DOT || text.charCodeAt(end - 1) === DASH)) {
    end--;
  }
  const labels = text.slice(from, end).split(".");
  if (labels.length < 2) return -1;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) return -1;
    if (label.startsWith("-") || label.endsWith("-")) return -1;
  }
  const tld = labels[labels.length - 1] ?? "";
  if (!TLD_RE.test(tld) && !tld.toLowerCase().startsWith("xn--")) return -1;
  if (ASSET_SCALE_RE.test(labels[0] ?? "")) return -1;
  return end;
}

/** Characters of an unquoted local part: letters and digits of any script, and . _ % + - */
function isLocalPartChar(c: number): boolean {
  if (c >= 0x80) return NON_ASCII_LETTER_RE.test(String.fromCharCode(c));
  return isAlnum(c) || c === DOT || c === 95 || c === 37 || c === 43 || c === DASH;
}

/** Start of the local part that ends at `at`, or -1 if there is none or it is over 64 long. */
function localPartStart(text: string, at: number): number {
  let start = at;
  while (start > 0 && at - start <= 64 && isLocalPartChar(text.charCodeAt(start - 1))) start--;
  if (at - start > 64) return -1;
  while (start < at && text.charCodeAt(start) === DOT) start++; // cannot start with "."
  return start < at ? start : -1;
}

/**
 * Start of a quoted local part ("jane doe"@example.com, RFC 5321) that ends at `at`, or -1:
 * at most 64 characters between the quotes, on one line, no unescaped quote inside.
 */
function quotedLocalStart(text: string, at: number): number {
  if (at < 2 || text.charCodeAt(at - 1) !== QUOTE) return -1;
  for (let i = at - 2; i >= 0 && at - 1 - i <= 65; i--) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return -1;
    if (c === QUOTE && text.charCodeAt(i - 1) !== BACKSLASH) return i < at - 2 ? i : -1;
  }
  return -1;
}

function scanEmail(text: string, out: number[], f: TextFeatures): void {
  if ((f.keywords & KW_OBFUSCATED_AT) !== 0) scanObfuscatedEmail(text, out);
  if ((f.flags & (FEATURE_AT | FEATURE_DOT)) !== (FEATURE_AT | FEATURE_DOT)) return;
  forEachMatch(EMAIL_RE, text, (m) => {
    const at = m.index;
    const matchEnd = at + m[0].length;
    const quoted = quotedLocalStart(text, at);
    const start = quoted >= 0 ? quoted : localPartStart(text, at);
    const end = start < 0 ? -1 : domainEnd(text, at + 1, matchEnd);
    // "git@github.com:org/repo" is an SSH remote, not a person's address.
    if (end > 0 && text.slice(start, at) !== "git") out.push(start, end);
    return matchEnd;
  });
}

// Addresses written to escape a scraper: "jane.doe (at) example (dot) com", "jane[at]example[dot]com",
// "jane dot doe at example dot com", "jane.doe @ example.com". The anchor is the written-out
// "@"; the local part is read back and the domain forward, in code.
const OBFUSCATED_AT_RE = /\s?(?:\(at\)|\[at\]|\{at\}|<at>)\s?| at | @ /gi;
// A written-out dot between labels, or a plain one (sticky: tried at one position).
const OBFUSCATED_DOT_RE = /\s?(?:\(dot\)|\[dot\]|\{dot\}|<dot>)\s?| dot |\./iy;
// One label of an obfuscated address's domain (sticky).
const OBFUSCATED_LABEL_RE = /[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?/y;
// A written-out dot that ends the text before a local-part label (anchored at the end of a
// short slice).
const OBFUSCATED_DOT_BEFORE_RE = /(?:\s?(?:\(dot\)|\[dot\]|\{dot\}|<dot>)\s?| dot )$/i;

/**
 * The domain written after an obfuscated "@" at `from`: its end, and whether a dot was written
 * out; null unless it has two labels or more and an alphabetic top-level label.
 */
function obfuscatedDomain(text: string, from: number): { end: number; spelled: boolean } | null {
  let pos = from;
  let labels = 0;
  let spelled = false;
  let last = "";
  for (;;) {
    OBFUSCATED_LABEL_RE.lastIndex = pos;
    const label = OBFUSCATED_LABEL_RE.exec(text);
    if (label === null) break;
    labels++;
    last = label[0];
    pos = OBFUSCATED_LABEL_RE.lastIndex;
    if (labels >= 127) break;
    OBFUSCATED_DOT_RE.lastIndex = pos;
    const dot = OBFUSCATED_DOT_RE.exec(text);
    if (dot === null) break;
    OBFUSCATED_LABEL_RE.lastIndex = OBFUSCATED_DOT_RE.lastIndex;
    if (!OBFUSCATED_LABEL_RE.test(text)) break; // a dot that ends the sentence
    if (dot[0] !== ".") spelled = true;
    pos = OBFUSCATED_DOT_RE.lastIndex;
  }
  if (labels < 2 || !TLD_RE.test(last)) return null;
  return { end: pos, spelled };
}

/** The local part written before an obfuscated "@" ending at `end`: its start, and whether a dot was written out. */
function obfuscatedLocal(text: string, end: number): { start: number; spelled: boolean } | null {
  let start = end;
  let spelled = false;
  for (let labels = 0; labels < 16; labels++) {
    const labelEnd = start;
    while (start > 0 && labelEnd - start < 64 && isLocalPartChar(text.charCodeAt(start - 1))) {
      start--;
    }
    if (start === labelEnd) return null;
    const before = OBFUSCATED_DOT_BEFORE_RE.exec(text.slice(Math.max(0, start - 8), start));
    if (before === null) break;
    spelled = true;
    start -= before[0].length;
  }
  while (start < end && text.charCodeAt(start) === DOT) start++;
  return start < end ? { start, spelled } : null;
}

function scanObfuscatedEmail(text: string, out: number[]): void {
  forEachMatch(OBFUSCATED_AT_RE, text, (m) => {
    const anchorEnd = m.index + m[0].length;
    const bracketed = m[0].trim() !== "at" && m[0].trim() !== "@";
    const local = obfuscatedLocal(text, m.index);
    const domain = local === null ? null : obfuscatedDomain(text, anchorEnd);
    if (local === null || domain === null) return anchorEnd;
    // " at " in prose ("the file foo.txt at example.com") is an address only when a dot is
    // written out too; a bracketed "(at)" or a spaced " @ " is one by itself.
    const plainAt = m[0].trim().toLowerCase() === "at";
    if (!bracketed && plainAt && !local.spelled && !domain.spelled) return anchorEnd;
    out.push(local.start, domain.end);
    return domain.end;
  });
}

// ---------------------------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------------------------

// International: "+" then 8–15 digits with single spaces, dots, dashes or parentheses between.
const PHONE_INTL_RE = /(?<![\w+])\+[1-9][\d .()-]{6,22}\d(?: ?(?:x|ext\.?) ?\d{1,6}(?!\w))?/g;
// North American without "+": (202) 555-0147, 202-555-0147, 202.555.0147, 1-202-555-0147.
// Optionally dialled from abroad ("001-"), optionally with an extension ("x704", " ext. 12").
const PHONE_NANP_RE =
  /(?<![\w.+-])(?:(?:00)?1[-. ]?)?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?: ?(?:x|ext\.?) ?\d{1,6})?(?![\w-]|\.\d)/g;
// National format with a trunk prefix 0 and no "+": 020 7946 0958, 01 23 45 67 89, (030) 1234567.
// Candidates only: each is validated against libphonenumber's metadata for the countries below.
const PHONE_NATIONAL_RE = /(?<![\w+.-])\(?0[\d .()-]{7,16}\d(?![\w-]|\.\d)/g;
// A whole value under a phone-like key: 7–15 digits with the usual punctuation, and an
// optional extension.
const PHONE_VALUE_RE = /^\+?[\d .()/-]{7,24}(?: ?(?:x|ext\.?) ?\d{1,6})?$/;
// Doubled separators or empty/nested parentheses: a list of numbers, not one phone number.
const PHONE_BAD_SEPARATORS_RE = /[ .-]{2}|\(\(|\)\)|\(\)/;

// Brazil's national format without the trunk 0: area code, then 4+4 or 5+4 digits with a dash.
const PHONE_BR_RE = /(?<![\w+.-])(?:\([1-9]\d\)|[1-9]\d) 9?\d{4}-\d{4}(?![\w-]|\.\d)/g;

function validIntlPhone(match: string, next: number): boolean {
  if (isAlnum(next)) return false; // ran into more digits or a word: not a phone number
  const ext = PHONE_EXTENSION_RE.exec(match);
  const candidate = ext === null ? match : match.slice(0, ext.index);
  const digits = countDigits(candidate, 0, candidate.length);
  if (digits < 8 || digits > 15) return false;
  if (PHONE_BAD_SEPARATORS_RE.test(candidate)) return false;
  const open = candidate.split("(").length - 1;
  const close = candidate.split(")").length - 1;
  return open === close && open <= 1;
}

// An extension after the number: not part of the 10 digits checked below.
const PHONE_EXTENSION_RE = / ?(?:x|ext\.?) ?\d{1,6}$/;

function validNanpPhone(match: string): boolean {
  const ext = PHONE_EXTENSION_RE.exec(match);
  const candidate = ext === null ? match : match.slice(0, ext.index);
  let digits = digitsOf(candidate);
  if (digits.length === 13 && digits.startsWith("001")) digits = digits.slice(3);
  if (digits.length === 11) digits = digits.slice(1);
  if (digits.length !== 10) return false;
  // Area code and exchange never start with 0 or 1.
  if (digits.charCodeAt(0) < 50 || digits.charCodeAt(3) < 50) return false;
  // Without parentheses both separators must agree: 202-555-0147, not 202-555.0147.
  if (!candidate.includes("(")) {
    // The last two separators sit before the exchange (3 digits) and the line number (4).
    const lineSep = candidate.charAt(candidate.length - 5);
    const exchangeSep = candidate.charAt(candidate.length - 9);
    if (lineSep !== exchangeSep) return false;
  }
  return true;
}

/**
 * Countries whose national numbers start with the trunk prefix 0, tried in turn; a candidate is
 * a phone number when libphonenumber (full metadata: number types and lengths per country)
 * finds it valid for one of them.
 */
const NATIONAL_PHONE_COUNTRIES: readonly CountryCode[] =
  "GB DE FR IT ES NL BE AT CH SE NO DK FI IE PT PL CZ HU RO GR TR IL AU NZ IN JP KR BR AR ZA NG EG".split(
    " ",
  ) as CountryCode[];

function validNationalPhone(candidate: string): boolean {
  // "00" is the international prefix in most of the world: 0033 6 12 34 56 78 is +33 6 12 34 56 78.
  if (candidate.startsWith("00")) return validIddPhone(candidate);
  const digits = countDigits(candidate, 0, candidate.length);
  if (digits < 9 || digits > 12) return false;
  // A bare run of digits is an id or an amount more often than a phone number, unless it
  // starts with the trunk 0 and has a national number's length (no amount or id does that).
  if (digits === candidate.length && (digits < 10 || digits > 11)) return false;
  // 123-45-6789 is the SSN's shape (the SSN detector decides), not a national phone grouping.
  if (SSN_SHAPE_RE.test(candidate)) return false;
  if (candidate.charCodeAt(1) === DOT) return false; // 0.12345678 is a fraction
  if (PHONE_BAD_SEPARATORS_RE.test(candidate)) return false;
  const open = candidate.split("(").length - 1;
  if (open !== candidate.split(")").length - 1 || open > 1) return false;
  let valid = NATIONAL_PHONE_CACHE.get(candidate);
  if (valid === undefined) {
    // ~35 µs per country: up to about 1 ms for a candidate no country accepts, so remember.
    valid = NATIONAL_PHONE_COUNTRIES.some(
      (country) => parsePhoneNumberFromString(candidate, country)?.isValid() === true,
    );
    if (NATIONAL_PHONE_CACHE.size >= 1024) NATIONAL_PHONE_CACHE.clear();
    NATIONAL_PHONE_CACHE.set(candidate, valid);
  }
  return valid;
}

const NATIONAL_PHONE_CACHE = new Map<string, boolean>();

/** A number dialled as 00 + country code: valid when libphonenumber accepts it with "+". */
function validIddPhone(candidate: string): boolean {
  const digits = countDigits(candidate, 0, candidate.length);
  if (digits < 10 || digits > 17 || candidate.charCodeAt(2) === 48) return false;
  if (PHONE_BAD_SEPARATORS_RE.test(candidate) || candidate.includes("(")) return false;
  return parsePhoneNumberFromString("+" + candidate.slice(2))?.isValid() === true;
}
const SSN_SHAPE_RE = /^\d{3}(?:-\d{2}-|\.\d{2}\.| \d{2} )\d{4}$/;

function scanPhone(text: string, out: number[]): void {
  forEachMatch(PHONE_INTL_RE, text, (m) => {
    const end = m.index + m[0].length;
    if (validIntlPhone(m[0], text.charCodeAt(end))) out.push(m.index, end);
    return end;
  });
  forEachMatch(PHONE_NANP_RE, text, (m) => {
    const end = m.index + m[0].length;
    if (validNanpPhone(m[0])) out.push(m.index, end);
    return end;
  });
  forEachMatch(PHONE_BR_RE, text, (m) => {
    const end = m.index + m[0].length;
    if (parsePhoneNumberFromString(m[0], "BR")?.isValid() === true) out.push(m.index, end);
    return end;
  });
  if (text.includes("0")) {
    forEachMatch(PHONE_NATIONAL_RE, text, (m) => {
      const end = m.index + m[0].length;
      if (validNationalPhone(m[0])) out.push(m.index, end);
      return end;
    });
  }
}

function wholePhone(text: string, key: KeyContext): boolean {
  if (!key.phone) return false;
  const value = text.trim();
  if (!PHONE_VALUE_RE.test(value)) return false;
  const ext = PHONE_EXTENSION_RE.exec(value);
  const digits = countDigits(value, 0, ext === null ? value.length : ext.index);
  return digits >= 7 && digits <= 15;
}

// ---------------------------------------------------------------------------------------------
// Payment cards
// ---------------------------------------------------------------------------------------------

// A run of 13+ digits with single spaces, dots or dashes between them, starting with four digits
// (every card format does); windows of whole groups inside the run are then checked.
const CARD_RUN_RE = /(?<![\w.,])\d{4}[ .-]?\d(?:[ .-]?\d){8,}/g;

/**
 * Group shape of a plausible card: one block of 13–19 digits, or groups separated by one
 * consistent separator where the first group has 4 digits and the rest 3–6
 * (4-4-4-4, 4-6-5 for Amex, 4-6-4 for Diners, 4-4-4-4-3), or any length printed in fours with
 * a shorter last group (a 14-digit Diners number as 4-4-4-2, a 19-digit one as 4-4-4-4-3).
 */
function cardShapeOk(lengths: number[], from: number, to: number): boolean {
  if (from === to) return true;
  if (lengths[from] !== 4) return false;
  let fours = true;
  let national = true;
  for (let g = from + 1; g <= to; g++) {
    const n = lengths[g] ?? 0;
    if (n < 3 || n > 6) national = false;
    if (g < to ? n !== 4 : n < 1 || n > 4) fours = false;
  }
  return national || fours;
}

function cardDigitsOk(text: string, start: number, end: number): boolean {
  const digits = digitsOf(text, start, end);
  // A real issuer range with a length that brand issues (see card-issuers.ts), then Luhn.
  return isIssuedCardNumber(digits) && !allSameChar(digits) && luhnValid(text, start, end);
}

function scanCards(text: string, out: number[]): void {
  forEachMatch(CARD_RUN_RE, text, (m) => {
    const runEnd = m.index + m[0].length;
    const after = text.charCodeAt(runEnd);
    // A run that continues into a word or a decimal fraction is some other number.
    const tailOk =
      !isAlnum(after) && after !== 95 && !(after === DOT && isDigit(text.charCodeAt(runEnd + 1)));
    // Split the run into digit groups and the separator before each group.
    const starts: number[] = [];
    const ends: number[] = [];
    const seps: number[] = [];
    let i = m.index;
    while (i < runEnd) {
      const sep = isDigit(text.charCodeAt(i)) ? 0 : text.charCodeAt(i++);
      const s = i;
      while (i < runEnd && isDigit(text.charCodeAt(i))) i++;
      starts.push(s);
      ends.push(i);
      seps.push(sep);
    }
    const lengths = starts.map((s, g) => (ends[g] ?? s) - s);
    // Longest valid window of whole groups from each group on.
    for (let g = 0; g < starts.length;) {
      let best = -1;
      let digits = 0;
      for (let h = g; h < starts.length; h++) {
        digits += lengths[h] ?? 0;
        if (digits > 19) break;
        if (h > g + 1 && seps[h] !== seps[g + 1]) break;
        const isTail = h === starts.length - 1;
        const s = starts[g] ?? 0;
        const e = ends[h] ?? 0;
        if (
          digits >= 13 &&
          (!isTail || tailOk) &&
          cardShapeOk(lengths, g, h) &&
          cardDigitsOk(text, s, e)
        ) {
          best = h;
        }
      }
      if (best >= 0) {
        out.push(starts[g] ?? 0, ends[best] ?? 0);
        g = best + 1;
      } else {
        g++;
      }
    }
    return runEnd;
  });
}

// ---------------------------------------------------------------------------------------------
// IBAN
// ---------------------------------------------------------------------------------------------

// Country, check digits, then up to 30 letters/digits, optionally in space-separated groups.
// Either case ("de89 3704 …" is still an IBAN), with single spaces or dashes between groups.
const IBAN_RE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}/g;

/** IBAN length per country, from the IBAN registry data in ibantools. */
const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  Object.entries(getCountrySpecifications()).flatMap(([country, spec]) =>
    spec.chars ? [[country, spec.chars] as const] : [],
  ),
);

/**
 * End of the IBAN starting at `start`, or -1. Takes exactly the country's length in
 * characters (so a following word is not swallowed), allows spaces only at the standard
 * 4-character group boundaries, and verifies the mod-97 checksum and BBAN format.
 */
function ibanEnd(text: string, start: number, limit: number): number {
  const length = IBAN_LENGTHS.get(text.slice(start, start + 2).toUpperCase());
  if (length === undefined) return -1;
  let compact = "";
  let i = start;
  let separator = 0;
  while (i < limit && compact.length < length) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === DASH) {
      // One separator kind; groups of 4 as printed, or national groupings (3 or more).
      if (separator !== 0 && c !== separator) return -1;
      separator = c;
      i++;
      continue;
    }
    compact += text.charAt(i);
    i++;
  }
  if (compact.length !== length || isAlnum(text.charCodeAt(i))) return -1;
  // Mixed case is a word or an identifier; an IBAN is written in one case.
  if (compact !== compact.toUpperCase() && compact !== compact.toLowerCase()) return -1;
  // The mod-97 digits first, without allocating: 96 candidates in 97 stop here.
  if (!mod97Ok(compact)) return -1;
  return ibanChecksOk(compact.toUpperCase()) ? i : -1;
}

/**
 * ISO 13616's check: the IBAN with its first four characters moved to the end, letters as
 * 10–35, is 1 modulo 97 (computed digit by digit; either case).
 */
function mod97Ok(iban: string): boolean {
  let r = 0;
  for (let k = 0; k < iban.length; k++) {
    const c = iban.charCodeAt((k + 4) % iban.length);
    if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97;
    else {
      const v = c >= 97 ? c - 87 : c - 55; // a/A → 10 … z/Z → 35
      if (v < 10 || v > 35) return false;
      r = (r * 100 + v) % 97;
    }
  }
  return r === 1;
}

/**
 * The IBAN checks that define the format: country, length, BBAN structure and the mod-97 check
 * digits. A failing national check inside the BBAN (the French RIB key, the Spanish control
 * digits) still leaves a value in IBAN shape whose mod-97 digits hold: a mistyped or
 * test-generated account number is still an account number, so it is masked (no leak first).
 */
function ibanChecksOk(iban: string): boolean {
  const { valid, errorCodes } = validateIBAN(iban);
  return (
    valid ||
    (errorCodes.length > 0 &&
      errorCodes.every((e) => e === ValidationErrorsIBAN.WrongAccountBankBranchChecksum))
  );
}

function scanIban(text: string, out: number[]): void {
  forEachMatch(IBAN_RE, text, (m) => {
    const end = ibanEnd(text, m.index, m.index + m[0].length);
    if (end < 0) return -1;
    out.push(m.index, end);
    return end;
  });
}

// ---------------------------------------------------------------------------------------------
// US social security numbers
// ---------------------------------------------------------------------------------------------

// 123-45-6789, 123 45 6789, 123.45.6789 (one separator kind).
const SSN_RE = /(?<![\w.-])\d{3}(?:-\d{2}-|\.\d{2}\.| \d{2} )\d{4}(?![\w-]|\.\d)/g;
const SSN_VALUE_RE = /^\d{3}[- ]?\d{2}[- ]?\d{4}$/;
// Nine digits without separators are an SSN only where the text names one just before them
// ("SSN 123456789", "my ssn is …", "Social Security number: …"): bounded, so linear.
const SSN_NAMED_RE =
  /(?<![a-z])(?:ssn|social[ _-]?security)(?![a-z])[^\d\r\n]{0,24}(?<![\w])\d{9}(?![\w])/gi;

/** Rejects numbers never issued: area 000, 666 or 9xx, group 00, serial 0000. */
function ssnRangesOk(digits: string): boolean {
  const area = digits.slice(0, 3);
  if (area === "000" || area === "666" || area.startsWith("9")) return false;
  return digits.slice(3, 5) !== "00" && digits.slice(5, 9) !== "0000";
}

function scanSsn(text: string, out: number[]): void {
  forEachMatch(SSN_RE, text, (m) => {
    const end = m.index + m[0].length;
    if (ssnRangesOk(digitsOf(m[0]))) out.push(m.index, end);
    return end;
  });
  forEachMatch(SSN_NAMED_RE, text, (m) => {
    const end = m.index + m[0].length;
    if (ssnRangesOk(text.slice(end - 9, end))) out.push(end - 9, end);
    return end;
  });
}

function wholeSsn(text: string, key: KeyContext): boolean {
  if (!key.ssn) return false;
  const value = text.trim();
  return SSN_VALUE_RE.test(value) && ssnRangesOk(digitsOf(value));
}

// ---------------------------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------------------------

// Dotted quads are treated as IPv4 addresses, including version-like "1.2.3.4".
const IPV4_RE = /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)/g;
// Every textual IPv6 address has two colons at most 4 hex digits apart ("::" or ":db8:"); the
// leftmost such pair anchors a candidate, which is then widened in code.
const IPV6_RE = /:[0-9A-Fa-f]{0,4}:/g;

function validIpv4(candidate: string): boolean {
  const octets = candidate.split(".");
  // Zero-padded to three digits throughout ("010.001.002.003"): an address written in fixed
  // width. A mix ("10.01.2.3") is a version or a date more often than an address.
  const padded = octets.every((o) => o.length === 3);
  for (const octet of octets) {
    if (!padded && octet.length > 1 && octet.startsWith("0")) return false; // "01": not an address
    if (Number(octet) > 255) return false;
  }
  return true;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isIpv6Char(c: number): boolean {
  return isHex(c) || c === COLON || c === DOT;
}

/**
 * The IPv6 address in the run text[start, end) of hex digits, colons and dots, or null. The run
 * is at most 45 characters (the longest textual form) and must stand alone: no letters or word
 * characters glued to it.
 */
function ipv6Range(text: string, start: number, end: number): [number, number] | null {
  if (end - start > 45) return null;
  const before = text.charCodeAt(start - 1);
  const after = text.charCodeAt(end);
  if (isAlnum(before) || before === 95 || isAlnum(after) || after === 95) return null;
  const e = ipv6End(text, start, end);
  return e > 0 ? [start, e] : null;
}

/** Trimmed end of a real IPv6 address in text[start, end), or -1. */
function ipv6End(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && text.charCodeAt(e - 1) === DOT) e--; // sentence full stop
  if (text.charCodeAt(e - 1) === COLON && text.charCodeAt(e - 2) !== COLON) e--;
  const candidate = text.slice(start, e);
  if (!isIPv6(candidate) || countDigits(candidate, 0, candidate.length) === 0) return -1;
  // "::1" and "a::b" say nothing about anyone; require two non-empty groups.
  let groups = 0;
  for (const g of candidate.split(":")) if (g.length > 0) groups++;
  return groups >= 2 ? e : -1;
}

/** Words after which a dotted quad is a version or an object identifier, not an address. */
const VERSION_WORDS: ReadonlySet<string> = new Set(
  (
    "version versions ver v build release rel firmware fw os ios android macos windows nt rv " +
    "kernel patch rev revision chrome chromium safari firefox edge edg opera msie trident " +
    "webkit applewebkit gecko mobile oid oids sdk api app client agent driver engine"
  ).split(" "),
);

/**
 * Whether the dotted quad at `start` is a version or an OID by its context: a product token
 * ("Chrome/120.0.6099.109", "Version/17.1.2.3") or a version word before it ("version
 * 1.2.3.4", "OID 2.5.4.3", "build: 10.0.19045.3").
 */
function versionContext(text: string, start: number): boolean {
  let i = start - 1;
  if (text.charCodeAt(i) === 47) {
    // "Chrome/1.2.3.4" is a product token: a capitalised word (or a version word) standing
    // alone before the slash. "//10.0.0.1" (a URL) and "/params/10.0.0.1" (a path) are not.
    let w = i;
    while (
      w > 0 &&
      i - w < 24 &&
      (isAlnum(text.charCodeAt(w - 1)) || text.charCodeAt(w - 1) === 95)
    )
      w--;
    if (w === i) return false;
    const before = text.charCodeAt(w - 1);
    if (!(Number.isNaN(before) || isWhitespace(before) || before === 40 || before === 59))
      return false;
    return isUpper(text.charCodeAt(w)) || VERSION_WORDS.has(text.slice(w, i).toLowerCase());
  }
  while (
    i >= 0 &&
    i >= start - 3 &&
    (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === COLON)
  ) {
    i--;
  }
  const wordEnd = i + 1;
  while (
    i >= 0 &&
    wordEnd - i <= 12 &&
    (isLower(text.charCodeAt(i)) || isUpper(text.charCodeAt(i)))
  )
    i--;
  if (wordEnd - i > 12 || wordEnd === i + 1) return false;
  return VERSION_WORDS.has(text.slice(i + 1, wordEnd).toLowerCase());
}

/** "%eth0", "%25en0" after an IPv6 address: its zone id, part of the address. */
function zoneEnd(text: string, end: number): number {
  if (text.charCodeAt(end) !== 37) return end;
  let i = end + 1;
  while (i - end <= 16 && (isIdentChar(text.charCodeAt(i)) || text.charCodeAt(i) === 37)) i++;
  return i > end + 1 ? i : end;
}

function scanIp(text: string, out: number[]): void {
  if (text.includes(".")) {
    forEachMatch(IPV4_RE, text, (m) => {
      const end = m.index + m[0].length;
      if (validIpv4(m[0]) && !versionContext(text, m.index)) out.push(m.index, end);
      return end;
    });
  }
  if (text.includes(":")) {
    forEachMatch(IPV6_RE, text, (m) => {
      // Widen the anchor to its whole run (left: just past the longest form) and decide the
      // run as a whole, so no character is looked at twice.
      let start = m.index;
      while (start > 0 && m.index - start <= 45 && isIpv6Char(text.charCodeAt(start - 1))) start--;
      let end = m.index + 1;
      while (isIpv6Char(text.charCodeAt(end))) end++;
      const range = ipv6Range(text, start, end);
      if (range !== null) out.push(range[0], zoneEnd(text, range[1]));
      return end;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// JWT
// ---------------------------------------------------------------------------------------------

// header.payload.signature in base64url; the header is JSON, so it starts with "eyJ" ('{"').
// The signature may be empty (alg "none").
const JWT_RE = /(?<![\w-])eyJ[\w-]{4,}\.[\w-]{2,}\.[\w-]*/g;
// The two extra parts of a JWE (ciphertext and tag) after header.key.iv.
const JWE_TAIL_RE = /\.[\w-]*\.[\w-]*/y;

/** The decoded JOSE header, or null if the first part is not a JSON object with "alg". */
function joseHeader(part: string): Record<string, unknown> | null {
  if (part.length > 4096) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    const header = parsed as Record<string, unknown>;
    return typeof header.alg === "string" ? header : null;
  } catch {
    return null;
  }
}

function scanJwt(text: string, out: number[]): void {
  forEachMatch(JWT_RE, text, (m) => {
    let end = m.index + m[0].length;
    const header = joseHeader(m[0].slice(0, m[0].indexOf(".")));
    if (header === null) return end;
    if (typeof header.enc === "string") {
      JWE_TAIL_RE.lastIndex = end;
      if (JWE_TAIL_RE.test(text)) end = JWE_TAIL_RE.lastIndex;
    }
    out.push(m.index, end);
    return end;
  });
}

// ---------------------------------------------------------------------------------------------
// Private keys (PEM and OpenSSH)
// ---------------------------------------------------------------------------------------------

const PEM_BEGIN_RE = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END_RE = /-----END (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----/y;
// Body of a key whose END line is missing: base64, whitespace, escaped newlines, PEM headers.
const PEM_BODY_RE = /[A-Za-z0-9+/=\s\\:,-]*/y;

function scanPrivateKey(text: string, out: number[]): void {
  let noEndFrom = text.length + 1; // no END marker at or after this index
  forEachMatch(PEM_BEGIN_RE, text, (m) => {
    const headerEnd = m.index + m[0].length;
    let end = -1;
    let idx = headerEnd < noEndFrom ? text.indexOf("-----END ", headerEnd) : -1;
    while (idx >= 0) {
      PEM_END_RE.lastIndex = idx;
      if (PEM_END_RE.test(text)) {
        end = PEM_END_RE.lastIndex;
        break;
      }
      idx = text.indexOf("-----END ", idx + 1);
    }
    if (end < 0) {
      // Truncated key: still secret. Mask the header and whatever body follows it.
      noEndFrom = Math.min(noEndFrom, headerEnd);
      PEM_BODY_RE.lastIndex = headerEnd;
      PEM_BODY_RE.test(text);
      end = PEM_BODY_RE.lastIndex;
      while (end > headerEnd && isWhitespace(text.charCodeAt(end - 1))) end--;
    }
    out.push(m.index, end);
    return end;
  });
}

// ---------------------------------------------------------------------------------------------
// Provider tokens with a recognisable shape
// ---------------------------------------------------------------------------------------------

const AWS_ACCESS_KEY_RE = /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;
const GITHUB_TOKEN_RE =
  /(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})(?!\w)/g;
const SLACK_TOKEN_RE =
  /(?<![\w-])xox[abeoprs]-[A-Za-z0-9-]{10,250}|https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[\w/-]{16,250}/g;
const STRIPE_KEY_RE = /(?<!\w)[rs]k_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9])/g;
const GOOGLE_API_KEY_RE = /(?<![\w-])AIza[\w-]{35}(?![\w-])/g;

/** Scanner for detectors whose regex match is exactly the sensitive span. */
function scanWhole(re: RegExp): (text: string, out: number[]) => void {
  return (text, out) => {
    forEachMatch(re, text, (m) => {
      const end = m.index + m[0].length;
      out.push(m.index, end);
      return end;
    });
  };
}

// ---------------------------------------------------------------------------------------------
// A GitHub token split at its prefix
// ---------------------------------------------------------------------------------------------

/**
 * "ghp_" and its body apart: `'ghp_' || '<body>'` in SQL, `"ghp_" + body`, "prefix ghp_ then
 * <body>" in prose. A prefix that ends its word, then at most 12 characters, then a word of
 * exactly the body's 36 letters and digits with a token's entropy: the body is the secret (the
 * contiguous token is the provider rule's). Bounded gap and fixed body: linear.
 */
const SPLIT_GITHUB_TOKEN_RE =
  /(?:^|[^A-Za-z0-9])gh[pousr]_[^A-Za-z0-9\n](?:[^\n]{0,10}[^A-Za-z0-9\n])?([A-Za-z0-9]{36})(?:[^A-Za-z0-9]|$)/g;

/** The bodies of split GitHub tokens in `text`, as provider hits (next to the whole tokens'). */
function splitGithubTokens(text: string): { type: string; start: number; end: number }[] {
  const hits: { type: string; start: number; end: number }[] = [];
  if (text.length < 42 || !SPLIT_GITHUB_PREFIX_RE.test(text)) return hits;
  forEachMatch(SPLIT_GITHUB_TOKEN_RE, text, (m) => {
    const body = m[1] ?? "";
    const start = m.index + m[0].lastIndexOf(body);
    const end = start + body.length;
    if (body.length > 0 && shannonEntropy(body) >= 3) {
      hits.push({ type: "github_token", start, end });
    }
    return end;
  });
  return hits;
}
const SPLIT_GITHUB_PREFIX_RE = /gh[pousr]_/;

// ---------------------------------------------------------------------------------------------
// AWS secret access key (needs a key name next to it)
// ---------------------------------------------------------------------------------------------

const AWS_SECRET_RE =
  /secret[_.-]?(?:access[_.-]?)?key["']?[ \t]{0,8}(?:=>|:=|[:=])[ \t]{0,8}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/gi;
const AWS_SECRET_VALUE_RE = /^[A-Za-z0-9/+]{40}$/;

function scanAwsSecret(text: string, out: number[]): void {
  forEachMatch(AWS_SECRET_RE, text, (m) => {
    const end = m.index + m[0].length;
    // The name must say AWS: "aws_secret_access_key", "SecretAccessKey", "AWS_SECRET_KEY".
    let idStart = m.index;
    while (idStart > 0 && m.index - idStart < 64 && isIdentChar(text.charCodeAt(idStart - 1))) {
      idStart--;
    }
    const name = text.slice(idStart, end - 40).toLowerCase();
    if (name.includes("aws") || name.includes("access")) out.push(end - 40, end);
    return end;
  });
}

function wholeAwsSecret(text: string, key: KeyContext): boolean {
  return key.awsSecret && text.length >= 40 && AWS_SECRET_VALUE_RE.test(text.trim());
}

// ---------------------------------------------------------------------------------------------
// Key names
// ---------------------------------------------------------------------------------------------

/** Word parts that make a key name a credential on their own. */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  "password",
  "passwd",
  "passphrase",
  "passcode",
  "pass",
  "pwd",
  "secret",
  "secrets",
  "token",
  "auth",
  "authorization",
  "bearer",
  "credential",
  "credentials",
  "creds",
  "cookie",
  "apikey",
  "privatekey",
  "accesskey",
  "secretkey",
  "signingkey",
  "encryptionkey",
  "masterkey",
  "sessionkey",
  "authkey",
]);

/**
 * Word parts that make a key name a password (short values still count). Not "pass" alone: it
 * is also a render pass or a test result ("STENCIL_PASS"), so "db_pass" counts as an ordinary
 * secret name.
 */
const PASSWORD_WORDS: ReadonlySet<string> = new Set([
  "password",
  "passwd",
  "passphrase",
  "passcode",
  "pwd",
]);

/** Endings of run-together names: "dbpassword", "accesstoken", "apikey". */
const SECRET_SUFFIXES: readonly string[] = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "apikey",
  "accesskey",
  "privatekey",
  "secretkey",
  "credential",
  "credentials",
];

/** "<qualifier>_key" is a credential: api_key, access_key, private_key, signing_key, … */
const KEY_QUALIFIERS: ReadonlySet<string> = new Set([
  "api",
  "access",
  "private",
  "secret",
  "signing",
  "encryption",
  "master",
  "session",
  "auth",
  "client",
  "ssh",
  "app",
  "hmac",
  // Azure storage's AccountKey, a service account's account_key.
  "account",
]);

/**
 * Last word parts that make a name *about* a credential rather than the credential itself:
 * token_type, secret_name, password_policy, private_key_id, token_uri, max_tokens_count, …
 */
const NOT_SECRET_LAST_WORDS: ReadonlySet<string> = new Set(
  (
    "id ids name names ref reference arn path file filename dir url uri link endpoint host " +
    "hostname domain port type method kind mode format scheme algorithm alg provider issuer " +
    "audience scope scopes count length len size limit min max ttl expires expiry expiration " +
    "exp expire age lifetime timeout hint question policy rule rules version enabled disabled " +
    "enable disable required optional rotation rotated created updated changed reset at date " +
    "time timestamp user username userid email login prefix suffix param field label title " +
    "description desc note notes comment reason message msg strength store vault manager source " +
    "env location status state valid present set exists used usage sha hash digest checksum " +
    "etag commit revision uuid guid fingerprint"
  ).split(" "),
);

/**
 * "private_key_id" of a Google service-account key file: the id of the private key it sits next
 * to, in the file that is the credential; masked like the key rather than read as a reference.
 */
const CREDENTIAL_ID_NAME = "privatekeyid";

const PHONE_WORDS: ReadonlySet<string> = new Set(
  "phone phonenumber mobile tel telephone fax cell cellphone msisdn whatsapp".split(" "),
);
const SSN_WORDS: ReadonlySet<string> = new Set(["ssn", "socialsecurity", "socialsecuritynumber"]);

/**
 * Splits a key name into lower-case word parts at separators and camelCase boundaries, and drops
 * trailing digits: "dbPassword2" → db, password; "APIKey" → api, key; "x-api-key" → x, api, key.
 */
export function keyWords(name: string): string[] {
  const words: string[] = [];
  let start = 0; // where the current word starts
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isAlnum(c)) {
      pushWord(words, name, start, i);
      start = i + 1;
      continue;
    }
    // fooBar → foo|Bar ; APIKey → API|Key
    if (isUpper(c) && i > start) {
      const prev = name.charCodeAt(i - 1);
      const next = name.charCodeAt(i + 1);
      if (isLower(prev) || isDigit(prev) || (isUpper(prev) && isLower(next))) {
        pushWord(words, name, start, i);
        start = i;
      }
    }
  }
  pushWord(words, name, start, name.length);
  return words;
}

/** name[start, end) without its trailing digits, lower-cased, when anything is left. */
function pushWord(words: string[], name: string, start: number, end: number): void {
  let n = end;
  while (n > start && isDigit(name.charCodeAt(n - 1))) n--;
  if (n > start) words.push(name.slice(start, n).toLowerCase());
}

/** A key's context and its class (keyClassOf), computed once per key name. */
export interface AnalyzedKey extends KeyContext {
  readonly keyClass: number;
}

function analyzeKey(name: string): AnalyzedKey {
  const words = name.length <= 256 ? keyWords(name) : [];
  const last = words[words.length - 1] ?? "";
  let secretLike = false;
  let passwordLike = false;
  let phone = false;
  let ssn = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (!secretLike) {
      if (SECRET_WORDS.has(w) || endsWithAny(w, SECRET_SUFFIXES)) secretLike = true;
      else if (words[i + 1] === "key" && KEY_QUALIFIERS.has(w)) secretLike = true;
    }
    if (PASSWORD_WORDS.has(w) || w.endsWith("password") || w.endsWith("passwd"))
      passwordLike = true;
    if (PHONE_WORDS.has(w)) phone = true;
    if (SSN_WORDS.has(w)) ssn = true;
  }
  const joined = words.join("");
  if (NOT_SECRET_LAST_WORDS.has(last) && !joined.endsWith(CREDENTIAL_ID_NAME)) {
    secretLike = false;
    passwordLike = false;
  }
  const key = {
    words,
    secretLike,
    passwordLike: secretLike && passwordLike,
    awsSecret:
      secretLike &&
      (joined.includes("secretaccesskey") || (words.includes("aws") && joined.includes("secret"))),
    phone: phone || joined.endsWith("phonenumber"),
    ssn: ssn || joined.includes("socialsecuritynumber"),
    nationalId: nationalIdNamedBy(words),
    keyClass: 0,
  };
  key.keyClass = keyClassOf(key);
  return key;
}

function endsWithAny(word: string, suffixes: readonly string[]): boolean {
  for (const s of suffixes) if (word.endsWith(s)) return true;
  return false;
}

// Key names repeat across the records of a request; remember the analysis of recent ones.
const KEY_CACHE = new Map<string, AnalyzedKey>();
const KEY_CACHE_LIMIT = 2048;

/**
 * Names of fields that only hold their parent's value: `{"password": {"value": …}}`,
 * `{"api_key": [{"data": …}]}`, `{"password": {"old": …, "new": …}}`. Words joined, lower case.
 */
const VALUE_HOLDER_NAMES: ReadonlySet<string> = new Set(
  (
    "value val values plain plaintext text data raw content contents string stringvalue " +
    "current new old previous confirm confirmation encoded literal"
  ).split(" "),
);

/**
 * The context a child field is scanned with: its own, unless it has none and its name only
 * holds a value (VALUE_HOLDER_NAMES), in which case it is what its parent's name says — a
 * password's `value` is the password. Other fields of the object (`type`, `expires_in`) keep
 * their own context.
 */
export function childKeyContext(parent: AnalyzedKey | undefined, child: AnalyzedKey): AnalyzedKey {
  if (parent === undefined || parent.keyClass === KEY_CLASS_PLAIN) return child;
  if (child.keyClass !== KEY_CLASS_PLAIN) return child;
  return VALUE_HOLDER_NAMES.has(child.words.join("")) ? parent : child;
}

/** Key-name context for `name`, cached. */
export function keyContext(name: string): AnalyzedKey {
  let ctx = KEY_CACHE.get(name);
  if (ctx === undefined) {
    ctx = analyzeKey(name);
    if (KEY_CACHE.size >= KEY_CACHE_LIMIT) KEY_CACHE.clear();
    KEY_CACHE.set(name, ctx);
  }
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// Generic secrets: values next to key-like names
// ---------------------------------------------------------------------------------------------

/** Values that are evidently not a real credential. */
const PLACEHOLDER_VALUES: ReadonlySet<string> = new Set(
  (
    "true false yes no on off null nil none undefined empty n/a na tbd todo redacted masked " +
    "hidden removed placeholder example changeme password secret token required optional " +
    "string value default dummy test"
  ).split(" "),
);

/** Secret-store references and template variables: not the secret itself. */
const REFERENCE_PREFIXES: readonly string[] = [
  "${",
  "{{",
  "$(",
  "%(",
  "#{",
  "<%",
  "env:",
  "arn:",
  "vault:",
  "op://",
  "ref+",
  "secretsmanager:",
];
const ENV_REFERENCE_RE = /^(?:\$[A-Za-z_][A-Za-z0-9_]{0,127}|%[A-Za-z_][A-Za-z0-9_]{0,127}%)$/;

/** How many characters of `value` are one of `chars`. */
function countOf(value: string, chars: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) if (chars.includes(value.charAt(i))) n++;
  return n;
}

/**
 * Values that are evidently not a real credential: booleans and filler words, masks such as
 * "********", "xxxx-xxxx" or "****1234", "<your token>", "[generic_secret]" (Interlock's own
 * placeholders, so masked output is not flagged again), "your-api-key", template variables
 * and secret-store references.
 */
export function isPlaceholder(value: string): boolean {
  const lower = value.toLowerCase();
  if (PLACEHOLDER_VALUES.has(lower) || allSameChar(value)) return true;
  if (countOf(value, "*•") * 2 >= value.length || countOf(lower, "x") * 2 >= value.length)
    return true;
  if (lower.includes("redacted") || lower.includes("placeholder") || lower.includes("example"))
    return true;
  if (lower.startsWith("your") && "-_ ".includes(lower.charAt(4) || "?")) return true;
  if (lower.startsWith("<") && lower.endsWith(">")) return true;
  if (lower.startsWith("[") && lower.endsWith("]")) return true;
  if (REFERENCE_PREFIXES.some((p) => lower.startsWith(p))) return true;
  return ENV_REFERENCE_RE.test(value);
}

const NUMBER_ONLY_RE = /^[+-]?[\d.,_ ]+$/;

function isNumberOnly(value: string): boolean {
  return NUMBER_ONLY_RE.test(value);
}

/** Lower, upper (not counting a capital first letter), digits, symbols other than _ and -. */
function characterClassCount(value: string): number {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let symbol = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isLower(c)) lower = 1;
    else if (isUpper(c)) upper = i > 0 ? 1 : upper;
    else if (isDigit(c)) digit = 1;
    else if (c !== 95 && c !== DASH && !isWhitespace(c)) symbol = 1;
  }
  return lower + upper + digit + symbol;
}

/**
 * Whether a value found next to a key-like name in free text looks like a real secret.
 * Password-like names need 6+ characters. Other names need 8+ characters, and then:
 * - with a digit or a symbol: ≥ 3 bits/char of entropy and two character classes, or three
 *   classes (a short, repetitive but mixed value such as "aaaa9Zx*");
 * - letters only: mixed case that is not a name made of words, so "disabled_by_admin",
 *   "CryptoKey" or "URLPatternResult" do not count but "siOunHFvZKxq" does.
 */
export function looksSecret(value: string, passwordLike: boolean): boolean {
  if (value.length === 0 || isPlaceholder(value)) return false;
  if (passwordLike) return value.length >= 6;
  if (value.length < 8 || isIdentifierValue(value)) return false;
  const classes = characterClassCount(value);
  if (!hasDigitOrSymbol(value)) return classes >= 2 && !isWordsName(value);
  return classes >= 3 || (classes >= 2 && shannonEntropy(value) >= 3);
}

// Values that identify rather than authenticate: UUIDs, git/SHA hashes, dates and timestamps.
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HASH_RE = /^(?:[0-9a-f]{7,12}|[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/;
const TIMESTAMP_RE =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A UUID, a lower-case hex hash (git SHA, digest) or an ISO date/timestamp: in free text after
 * a key-like name these are identifiers, not secrets ("token_id=…" cut short, "commit: …").
 * Under a secret-like JSON key the whole value still counts (wholeGenericSecret).
 */
function isIdentifierValue(value: string): boolean {
  return UUID_RE.test(value) || HASH_RE.test(value) || TIMESTAMP_RE.test(value);
}

/**
 * Qualifiers that make a "token" a position in a sequence or a retry key, not a credential:
 * next_page_token, continuation_token, idempotency_token, sync_token.
 */
const NOT_CREDENTIAL_QUALIFIERS: ReadonlySet<string> = new Set(
  "page next continuation pagination cursor idempotency sync resume".split(" "),
);

/**
 * A UUID or a 32/40/64-hex value under a name that says credential (api_key, client_secret,
 * X-Postmark-Server-Token, Authorization: Bearer, private_key_id): many providers issue keys in
 * exactly these shapes (Postmark and Heroku UUIDs, Datadog and Algolia 32 hex), so the name
 * decides, not the shape. Elsewhere such values stay readable as identifiers ("commit: …",
 * "request_id: …", "api_key_id: …" are not credential names).
 */
function identifierShapedSecret(value: string, key: KeyContext): boolean {
  if (!key.secretLike || !(UUID_RE.test(value) || LONG_HASH_RE.test(value))) return false;
  // "0000…0001" in documentation is a placeholder: random hex has ~3.7 bits per character.
  return namesCredential(key) && !isPlaceholder(value) && shannonEntropy(value) >= 2.5;
}

/**
 * The name ends in the credential itself (api_key, dd_api_key, client_secret, auth_token,
 * PGPASSWORD, Authorization, private_key_id), not in something about it ("auth_request") or a
 * position in a sequence ("next_page_token").
 */
function namesCredential(key: KeyContext): boolean {
  const w = key.words;
  const last = w[w.length - 1] ?? "";
  if (w.some((word) => NOT_CREDENTIAL_QUALIFIERS.has(word))) return false;
  return (
    SECRET_WORDS.has(last) ||
    SECRET_SUFFIXES.some((s) => last.endsWith(s)) ||
    (last === "key" && KEY_QUALIFIERS.has(w[w.length - 2] ?? "")) ||
    w.join("").endsWith(CREDENTIAL_ID_NAME)
  );
}
const LONG_HASH_RE = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A snake_case, kebab-case or CamelCase name whose parts are all real-looking words (3+). */
function isWordsName(value: string): boolean {
  return keyWords(value).every((w) => w.length >= 3);
}

/** A digit or a symbol other than the joiners of names ( _ - . ), as in "text.substring". */
function hasDigitOrSymbol(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isLower(c) || isUpper(c) || isWhitespace(c)) continue;
    if (c !== 95 && c !== DASH && c !== DOT) return true;
  }
  return false;
}

/** Names of short numeric secrets: a card's CVV, a PIN, a one-time code. */
const CODE_WORDS: ReadonlySet<string> = new Set(
  "pin pincode cvv cvc cvn csc otp totp hotp mfa 2fa tfa passcode securitycode".split(" "),
);
const DIGITS_RE = /^\d+$/;
const CODE_RE = /^\d{3,12}$/;

/** "pin", "card_cvv", "otpCode", "pin_code": the last word (or the one before "code") is a code. */
function namesCode(key: KeyContext): boolean {
  const w = key.words;
  const last = w[w.length - 1] ?? "";
  return CODE_WORDS.has(last) || (last === "code" && CODE_WORDS.has(w[w.length - 2] ?? ""));
}

/**
 * Whole-string rule under a key-like object key (the key names the secret, so be generous): a
 * value made only of digits (a string or a JSON number) counts too, under a credential's name
 * from 8 digits, under a code's name (PIN, CVV, OTP) from 3.
 */
function wholeGenericSecret(text: string, key: KeyContext): boolean {
  const value = text.trim();
  if (namesCode(key) && CODE_RE.test(value)) return true;
  if (!key.secretLike) return false;
  if (value.length < (key.passwordLike ? 6 : 8) || isPlaceholder(value)) return false;
  return (
    key.passwordLike || (DIGITS_RE.test(value) && !isDigitPattern(value)) || !isNumberOnly(value)
  );
}

/** "123456789", "98765432", "00000000": a placeholder made of digits, not a secret. */
function isDigitPattern(value: string): boolean {
  let up = true;
  let down = true;
  let same = true;
  for (let i = 1; i < value.length; i++) {
    const d = value.charCodeAt(i) - value.charCodeAt(i - 1);
    up &&= d === 1 || d === -9;
    down &&= d === -1 || d === 9;
    same &&= d === 0;
  }
  return up || down || same;
}

// Stems of key-like names; the identifier around a hit is then analysed as a whole.
const SECRET_KEYWORD_RE = /pass|pwd|secret|token|key|cred|auth|bearer|cookie/gi;
// Between a key and its value: optional closing quote (possibly escaped), then one of
// = : := => ::= ?= (assignments in most languages, YAML, env files, XML/HTML attributes).
const KEY_VALUE_SEPARATOR_RE = /\\?["'`]?[ \t]{0,8}(?:=>|::=|:=|\?=|[:=])[ \t]{0,8}/y;
// Prose: "the password is …", "password for the db was: …".
const PROSE_SEPARATOR_RE =
  /(?:[ \t]{1,4}(?:for|of|on|to)[ \t]{1,4}[\w.-]{1,40}(?:[ \t]{1,4}[\w.-]{1,40}){0,2})?[ \t]{1,4}(?:is|was|are|=|:)[ \t:]{1,4}/iy;
// SQL and shells: PASSWORD 'value', --password "value", IDENTIFIED BY 'value'.
const SPACE_THEN_QUOTE_RE = /[ \t]{1,4}(?:by[ \t]{1,4})?(?=["'])/iy;
// "password X", "--password X": a space, then a value that is not a quote (above) or a flag.
const SPACE_THEN_WORD_RE = /[ \t]{1,4}(?=[^\s"'`-])/y;
// XML/HTML element: <password>…</password>
const ELEMENT_VALUE_RE = /[ \t]{0,8}>/y;
// A name given as an attribute, the value in the next one: <add key="Password" value="…"/>
const XML_VALUE_ATTR_RE = /["'][ \t]{1,8}value[ \t]{0,4}=[ \t]{0,4}/iy;
// scheme://user:password@host — the password is the secret.
const URL_USERINFO_RE = /:\/\/[^\s:/?#@"'<>\\]{0,256}:[^\s/?#@"'<>\\]{1,256}@/g;
const BEARER_WORD_RE = /bearer /i;
// HTTP authentication schemes that precede the credential in an Authorization value.
const AUTH_SCHEMES: ReadonlySet<string> = new Set([
  "bearer",
  "basic",
  "token",
  "digest",
  "bot",
  "apikey",
]);

/** Labels of Interlock's placeholders: "[email]", "[generic_secret:…]", "[value]". */
const PLACEHOLDER_LABELS: ReadonlySet<string> = new Set<string>([...FINDING_TYPES, "value"]);

const MAX_IDENT = 128;
const MAX_VALUE = 4096;

/** Characters that always end an unquoted value. */
function endsUnquoted(c: number): boolean {
  return (
    Number.isNaN(c) ||
    isWhitespace(c) ||
    c === 34 || // "
    c === 39 || // '
    c === 96 || // `
    c === 60 || // <
    c === 62 || // >
    c === 40 || // (
    c === 41 || // )
    c === 91 || // [
    c === 93 || // ]
    c === 123 || // {
    c === 125 || // }
    c === 124 || // |
    c === BACKSLASH
  );
}

/** `&`, `;` and `,`: separators of parameter lists, statements and values. */
function isListSeparator(c: number): boolean {
  return c === 38 || c === 59 || c === 44;
}

/**
 * Whether the character at i ends a bare value. `;` always does (connection strings, statement
 * separators: a mask never runs over one). `&` and `,` (or `&&`) do when a space, the end or a
 * next `name=` parameter follows ("a=1&b=2", "x&& make"); otherwise they are characters of
 * the value ("P&&ssw0rd"), which is masked whole rather than leaking its tail. (In executable
 * parameters a mask must also be exactly one literal of the language, or the request is denied.)
 */
function endsBareValue(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (endsUnquoted(c) || c === 59) return true;
  if (c !== 44 && c !== 38) return false;
  let j = i + 1;
  while (j - i < 4 && text.charCodeAt(j) === c) j++; // "&&", ",,"
  const next = text.charCodeAt(j);
  return Number.isNaN(next) || isWhitespace(next) || next === 59 || startsParameter(text, j);
}

/** Whether text at `i` is an optional space, a parameter name and "=". */
function startsParameter(text: string, i: number): boolean {
  let j = text.charCodeAt(i) === SPACE ? i + 1 : i;
  const first = text.charCodeAt(j);
  if (!isAlnum(first) && first !== 95) return false;
  const limit = j + 64;
  while (j < limit && isIdentChar(text.charCodeAt(j))) j++;
  return text.charCodeAt(j) === 61; // =
}

/**
 * End of a bare value: whitespace, a quote, a bracket, a pipe, `;`, `&` or a list `,` (see
 * endsBareValue), and never more than MAX_VALUE characters. A final `.` is punctuation of the
 * surrounding prose ("… abc123."), not part of the value.
 */
function unquotedEnd(text: string, start: number): number {
  let i = start;
  for (; i - start < MAX_VALUE; i++) {
    if (endsBareValue(text, i)) break;
  }
  while (i > start && (isListSeparator(text.charCodeAt(i - 1)) || text.charCodeAt(i - 1) === DOT)) {
    i--;
  }
  return i;
}

/**
 * The value after a key at `start`: [valueStart, valueEnd), or null. Handles "quoted",
 * 'quoted', `quoted`, \"escaped-quoted\", {braced} (ODBC) and bare values, and skips an HTTP
 * auth scheme ("Bearer ", "Basic ", "token ") so that only the credential is covered.
 *
 * The span is bounded to the value itself. A quote that is not closed on its line is not a
 * quoted value: it is read as a bare value (up to whitespace, `;`, `&`, `,`), so a mask never
 * runs to the end of the line and never hides what follows (a second SQL statement, say).
 */
function valueRange(text: string, start: number): [number, number] | null {
  let i = start;
  const escaped = text.charCodeAt(i) === BACKSLASH;
  if (escaped) i++;
  const quote = text.charCodeAt(i);
  let vs: number;
  let ve: number;
  if (quote === 34 || quote === 39 || quote === 96 || (quote === 123 && !escaped)) {
    const close = quote === 123 ? 125 : quote;
    vs = i + 1;
    ve = vs;
    let closed = false;
    for (; ve - vs < MAX_VALUE && ve < text.length; ve++) {
      const c = text.charCodeAt(ve);
      if (c === 10 || c === 13) break;
      if (escaped ? c === BACKSLASH && text.charCodeAt(ve + 1) === close : c === close) {
        closed = true;
        break;
      }
      if (!escaped && c === BACKSLASH && ve + 1 < text.length) ve++; // skip an escaped character
    }
    if (!closed) ve = unquotedEnd(text, vs);
    // "{{ template }}" and "{…}" objects are not ODBC values.
    if (quote === 123 && (!closed || text.charCodeAt(vs) === 123)) return null;
  } else if (escaped) {
    return null;
  } else {
    vs = i;
    ve = unquotedEnd(text, vs);
  }
  // "Bearer abc…", "Basic abc…": the credential is the next token.
  let sp = vs;
  while (sp - vs < 8 && (isLower(text.charCodeAt(sp)) || isUpper(text.charCodeAt(sp)))) sp++;
  if (
    sp > vs &&
    text.charCodeAt(sp) === SPACE &&
    AUTH_SCHEMES.has(text.slice(vs, sp).toLowerCase())
  ) {
    let t = sp;
    while (text.charCodeAt(t) === SPACE) t++;
    const te = unquotedEnd(text, t);
    return te > t
      ? [t, quote === 34 || quote === 39 || quote === 96 ? Math.min(te, ve) : te]
      : null;
  }
  return ve > vs ? [vs, ve] : null;
}

function scanKeyValueSecrets(text: string, out: number[]): void {
  forEachMatch(SECRET_KEYWORD_RE, text, (m) => {
    // Expand the hit to the whole identifier around it: "dbPassword", "x-api-key", "PGPASSWORD".
    let idStart = m.index;
    while (
      idStart > 0 &&
      m.index - idStart < MAX_IDENT &&
      isIdentChar(text.charCodeAt(idStart - 1))
    )
      idStart--;
    let idEnd = m.index + m[0].length;
    while (idEnd - idStart < MAX_IDENT && isIdentChar(text.charCodeAt(idEnd))) idEnd++;
    if (isIdentChar(text.charCodeAt(idEnd)) || isIdentChar(text.charCodeAt(idStart - 1))) {
      // Too long for a key name: skip the rest of this run of identifier characters.
      while (isIdentChar(text.charCodeAt(idEnd))) idEnd++;
      return idEnd;
    }
    while (
      idEnd > idStart &&
      (text.charCodeAt(idEnd - 1) === DOT || text.charCodeAt(idEnd - 1) === DASH)
    )
      idEnd--;
    const name = text.slice(idStart, idEnd);
    // "[generic_secret:5d41402abc4b]" is Interlock's own placeholder, not a key and value.
    if (text.charCodeAt(idStart - 1) === 91 && PLACEHOLDER_LABELS.has(name)) return idEnd;
    let key = keyContext(name);
    if (!key.secretLike && name.toLowerCase() === "key" && text.charCodeAt(idStart - 1) === SPACE) {
      // "my API key is …": the qualifier is the word before, written apart.
      let ws = idStart - 1;
      while (ws > 0 && idStart - 1 - ws < 12 && isAlnum(text.charCodeAt(ws - 1))) ws--;
      const qualifier = text.slice(ws, idStart - 1).toLowerCase();
      if (KEY_QUALIFIERS.has(qualifier)) key = keyContext(`${qualifier}_key`);
    }
    if (!key.secretLike) return idEnd;

    let range: [number, number] | null = null;
    let prose = false;
    let proseStrict = false;
    let spaced: SpacedPasswordForm | undefined;
    const before = text.charCodeAt(idStart - 1);
    if (key.words.length === 1 && key.words[0] === "bearer" && text.charCodeAt(idEnd) === SPACE) {
      // A bare "Bearer <token>".
      let t = idEnd;
      while (text.charCodeAt(t) === SPACE) t++;
      const te = unquotedEnd(text, t);
      range = te > t ? [t, te] : null;
    } else if (before === 60 && sticky(ELEMENT_VALUE_RE, text, idEnd)) {
      // <password>value</password>
      const vs = ELEMENT_VALUE_RE.lastIndex;
      const ve = unquotedEnd(text, vs);
      range = ve > vs ? [vs, ve] : null;
    } else if ((before === 34 || before === 39) && sticky(XML_VALUE_ATTR_RE, text, idEnd)) {
      // <add key="Password" value="…"/>
      range = valueRange(text, XML_VALUE_ATTR_RE.lastIndex);
    } else if (sticky(KEY_VALUE_SEPARATOR_RE, text, idEnd)) {
      if (key.words.includes("cookie")) {
        const end = scanCookieValues(text, KEY_VALUE_SEPARATOR_RE.lastIndex, out);
        return Math.max(end, idEnd);
      }
      range = valueRange(text, KEY_VALUE_SEPARATOR_RE.lastIndex);
    } else if (key.passwordLike && sticky(SPACE_THEN_QUOTE_RE, text, idEnd)) {
      range = valueRange(text, SPACE_THEN_QUOTE_RE.lastIndex);
    } else if (key.secretLike && sticky(PROSE_SEPARATOR_RE, text, idEnd)) {
      // "the password is …", "the secret is …": prose, so the value must look like a password,
      // not a word; after a name other than a password's ("the token is expired"), like a
      // generated one too (letters and digits).
      range = valueRange(text, PROSE_SEPARATOR_RE.lastIndex);
      prose = true;
      proseStrict = !key.passwordLike;
    } else if (key.passwordLike && sticky(SPACE_THEN_WORD_RE, text, idEnd)) {
      // "password <value>": a flag ("--password X"), netrc ("login u password X") or a word.
      spaced = spacedPasswordForm(text, idStart, name, key);
      if (spaced === undefined) return idEnd;
      range = valueRange(text, SPACE_THEN_WORD_RE.lastIndex);
      if (range !== null && spaced === "word") range = withoutTrailingPunctuation(text, range);
    } else {
      return idEnd;
    }
    if (range === null) return idEnd;
    const [vs, ve] = range;
    const value = text.slice(vs, ve);
    if (
      spaced === "flag" || spaced === "netrc"
        ? !isPlaceholder(value)
        : spaced === "word"
          ? looksLikeSpacedPassword(value)
          : prose
            ? looksLikeProsePassword(value) && (!proseStrict || looksGenerated(value))
            : looksSecret(value, key.passwordLike) || identifierShapedSecret(value, key)
    ) {
      out.push(vs, ve);
    }
    return Math.max(ve, idEnd);
  });
}

/** Runs a sticky regex at `at`; its lastIndex is then the end of the match. */
function sticky(re: RegExp, text: string, at: number): boolean {
  re.lastIndex = at;
  return re.test(text);
}

/** Cookie attributes: not secrets. */
const COOKIE_ATTRIBUTES: ReadonlySet<string> = new Set(
  "path domain expires max-age samesite secure httponly version comment priority partitioned".split(
    " ",
  ),
);

/**
 * `Cookie: a=…; b=…` and `Set-Cookie: sid=…; Path=/`: each cookie's value (not its name, not
 * the attributes). Returns where the header value ends.
 */
function scanCookieValues(text: string, start: number, out: number[]): number {
  let i = start;
  const quoted = text.charCodeAt(i) === 34 || text.charCodeAt(i) === 39;
  if (quoted) i++;
  for (let pairs = 0; pairs < 64; pairs++) {
    while (text.charCodeAt(i) === SPACE) i++;
    const ns = i;
    while (i - ns < 64 && isIdentChar(text.charCodeAt(i))) i++;
    if (i === ns || text.charCodeAt(i) !== 61) return i;
    const name = text.slice(ns, i).toLowerCase();
    const vs = ++i;
    const ve = unquotedEnd(text, vs);
    const value = text.slice(vs, ve);
    if (!COOKIE_ATTRIBUTES.has(name) && value.length >= 6 && !isPlaceholder(value)) {
      out.push(vs, ve);
    }
    i = ve;
    if (text.charCodeAt(i) !== 59) return i; // ;
    i++;
  }
  return i;
}

/** A value after "password is": six or more characters that are not just a lower-case word. */
/** Eight characters or more with both letters and digits: generated, not a word of prose. */
function looksGenerated(value: string): boolean {
  return value.length >= 8 && /\d/.test(value) && /[A-Za-z]/.test(value);
}

function looksLikeProsePassword(value: string): boolean {
  if (value.length < 6 || isPlaceholder(value)) return false;
  return hasDigitOrSymbol(value) || characterClassCount(value) >= 2;
}

function scanUrlPasswords(text: string, out: number[]): void {
  forEachMatch(URL_USERINFO_RE, text, (m) => {
    const end = m.index + m[0].length; // just after "@"
    const ps = m.index + m[0].indexOf(":", 3) + 1;
    const pe = end - 1;
    if (isAlnum(text.charCodeAt(end)) || text.charCodeAt(end) === 91) {
      if (!isPlaceholder(text.slice(ps, pe))) out.push(ps, pe);
    }
    return end;
  });
}

/**
 * The signature of a signed URL, as the providers name its query parameter: `sig` (Azure
 * shared access signatures), `X-Amz-Signature` (AWS SigV4 presigned URLs), `X-Goog-Signature`
 * (Google Cloud Storage V4), `Signature` (CloudFront, SigV2). Whoever holds the URL holds the
 * access it grants until it expires, so the signature is the secret (still percent-encoded).
 */
const SIGNED_URL_PARAM_RE = /[?&](?:sig|signature|x-amz-signature|x-goog-signature)=/gi;
const URL_PARAM_VALUE_RE = /[^&\s#"'<>]{16,1024}/y;

function scanSignedUrlSignatures(text: string, out: number[]): void {
  forEachMatch(SIGNED_URL_PARAM_RE, text, (m) => {
    const vs = m.index + m[0].length;
    if (!sticky(URL_PARAM_VALUE_RE, text, vs)) return vs;
    const ve = URL_PARAM_VALUE_RE.lastIndex;
    if (!isPlaceholder(text.slice(vs, ve))) out.push(vs, ve);
    return ve;
  });
}

/** How a password follows its name after a space: a flag's value, netrc's, or a bare word. */
type SpacedPasswordForm = "flag" | "netrc" | "word";

/**
 * "--password X" / "--db-password X" (a flag: any value), "machine h login u password X" or
 * "default login u password X" (netrc: any value), "use password X for …" (a bare word: the
 * value must look like a password). Not "-ppassword X" (a password attached to -p, then an
 * argument), not "user:password host" (the word is the value), not "--password-stdin X".
 */
function spacedPasswordForm(
  text: string,
  idStart: number,
  name: string,
  key: KeyContext,
): SpacedPasswordForm | undefined {
  const last = key.words[key.words.length - 1] ?? "";
  if (!SPACED_PASSWORD_WORDS.has(last)) return undefined;
  if (text.charCodeAt(idStart) === DASH) return "flag";
  if (!SPACED_PASSWORD_WORDS.has(name.toLowerCase())) return undefined;
  const before = text.charCodeAt(idStart - 1);
  if (idStart > 0 && before !== SPACE && before !== 9 && before !== 10 && before !== 40)
    return undefined;
  return isNetrcPassword(text, idStart) ? "netrc" : "word";
}
const SPACED_PASSWORD_WORDS: ReadonlySet<string> = new Set(["password", "passwd", "passphrase"]);

/** [start, end) of the word that ends before `end` on its line (blanks skipped), or null. */
function wordBefore(text: string, end: number): [number, number] | null {
  let i = end;
  while (i > 0 && (text.charCodeAt(i - 1) === SPACE || text.charCodeAt(i - 1) === 9)) i--;
  const we = i;
  while (i > 0 && we - i < 256 && !isWhitespace(text.charCodeAt(i - 1))) i--;
  return i < we ? [i, we] : null;
}

/** Whether the word ends in `keyword` (case-insensitively), after no other letter: `"machine`. */
function wordIs(text: string, word: [number, number] | null, keyword: string): boolean {
  if (word === null || word[1] - word[0] < keyword.length) return false;
  const start = word[1] - keyword.length;
  return (
    text.slice(start, word[1]).toLowerCase() === keyword &&
    (start === word[0] || !isIdentChar(text.charCodeAt(start - 1)))
  );
}

/** netrc: "machine <host> login <user> password" or "default login <user> password". */
function isNetrcPassword(text: string, at: number): boolean {
  const user = wordBefore(text, at);
  const login = user && wordBefore(text, user[0]);
  if (!login || !wordIs(text, login, "login")) return false;
  const third = wordBefore(text, login[0]);
  if (third === null) return false;
  return wordIs(text, third, "default") || wordIs(text, wordBefore(text, third[0]), "machine");
}

/** A bare word's range without the sentence's punctuation after it ("… password X."). */
function withoutTrailingPunctuation(text: string, [vs, ve]: [number, number]): [number, number] {
  let end = ve;
  while (end > vs && ".,;:!?)".includes(text.charAt(end - 1))) end--;
  return [vs, end];
}

/**
 * A bare word after "password" that is one: 6+ characters with a letter and a digit, or three
 * character classes; not a path or an address ("/etc/…", "host:5000/…", "https://…").
 */
function looksLikeSpacedPassword(value: string): boolean {
  if (value.length < 6 || isPlaceholder(value)) return false;
  if (value.startsWith("/") || value.startsWith("~") || value.includes(":")) return false;
  let letter = false;
  let digit = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isDigit(c)) digit = true;
    else if (isLower(c) || isUpper(c)) letter = true;
  }
  return (letter && digit) || characterClassCount(value) >= 3;
}

// ---- Passwords on command lines ------------------------------------------------------------

/**
 * Clients that take a password as an argument: the MySQL/MariaDB family (-pSECRET, attached),
 * sshpass (-p SECRET), curl (-u user:SECRET, --user user:SECRET, --proxy-user).
 */
const CLI_PASSWORD_COMMAND_RE =
  /(?<![\w.-])(?:mysql(?:dump|admin|import|check|sh|slap)?|mariadb(?:-dump|-admin|-import|-check)?|sshpass|curl)(?![\w.-])/g;

/** One shell word: [start, end) of its text (inside quotes if quoted), and where it ends. */
interface Arg {
  readonly start: number;
  readonly end: number;
  readonly next: number;
}

/** Characters that end a command: newline, `;`, `|`, `&`. */
function endsCommand(c: number): boolean {
  return c === 10 || c === 13 || c === 59 || c === 124 || c === 38;
}

/** A quote at `i`, plain or JSON-escaped (\"): its length (1 or 2), or 0. */
function quoteAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 34 || c === 39) return 1;
  const q = text.charCodeAt(i + 1);
  return c === BACKSLASH && (q === 34 || q === 39) ? 2 : 0;
}

/** A word from `i` to a blank or the end of the command; quoted (maybe escaped) if it opens so. */
function wordAt(text: string, i: number, limit: number): Arg {
  const quote = quoteAt(text, i);
  if (quote > 0) {
    const q = text.charCodeAt(i + quote - 1);
    let j = i + quote;
    while (j < limit && text.charCodeAt(j) !== 10) {
      if (text.charCodeAt(j + quote - 1) === q && quoteAt(text, j) === quote) break;
      j++;
    }
    return { start: i + quote, end: j, next: j + quote };
  }
  let j = i;
  while (j < limit && !isWhitespace(text.charCodeAt(j)) && !endsCommand(text.charCodeAt(j))) {
    if (quoteAt(text, j) > 0) break; // -p"…": the option, then a quoted value
    j++;
  }
  return { start: i, end: j, next: j };
}

/** The shell word at `i` (after blanks), or null at the end of the command. */
function nextArg(text: string, i: number, limit: number): Arg | null {
  while (i < limit && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === 9)) i++;
  if (i >= limit || endsCommand(text.charCodeAt(i))) return null;
  return wordAt(text, i, limit);
}

function pushPassword(text: string, start: number, end: number, out: number[]): void {
  if (end > start && !isPlaceholder(text.slice(start, end))) out.push(start, end);
}

/** "user:password" in [start, end): the part after the first colon. */
function pushUserPassword(text: string, start: number, end: number, out: number[]): void {
  const colon = text.indexOf(":", start);
  if (colon >= 0 && colon < end) pushPassword(text, colon + 1, end, out);
}

function scanCommandLinePasswords(text: string, out: number[]): void {
  forEachMatch(CLI_PASSWORD_COMMAND_RE, text, (m) => {
    const command = m[0];
    const limit = Math.min(text.length, m.index + MAX_VALUE);
    let i = m.index + command.length;
    for (let args = 0; args < 256; args++) {
      const arg = nextArg(text, i, limit);
      if (arg === null) return i;
      i = arg.next;
      const word = text.slice(arg.start, Math.min(arg.end, arg.start + 16));
      if (command === "curl") {
        if (word === "-u" || word === "--user" || word === "-U" || word === "--proxy-user") {
          const value = nextArg(text, i, limit);
          if (value === null) return i;
          pushUserPassword(text, value.start, value.end, out);
          i = value.next;
        } else if (word.startsWith("--user=") || word.startsWith("--proxy-user=")) {
          const v = wordAt(text, text.indexOf("=", arg.start) + 1, limit);
          pushUserPassword(text, v.start, v.end, out);
          i = v.next;
        } else if (/^-[uU][^-]/.test(word)) {
          const v = wordAt(text, arg.start + 2, limit);
          pushUserPassword(text, v.start, v.end, out);
          i = v.next;
        }
      } else if (command === "sshpass") {
        if (word === "-p") {
          const value = nextArg(text, i, limit);
          if (value === null) return i;
          pushPassword(text, value.start, value.end, out);
          i = value.next;
        } else if (word.startsWith("-p")) {
          const v = wordAt(text, arg.start + 2, limit);
          pushPassword(text, v.start, v.end, out);
          i = v.next;
        } else if (!word.startsWith("-")) {
          return i; // the command sshpass runs: its options are its own (ssh -p 22)
        }
      } else if (word.startsWith("-p") && word.length > 2) {
        // MySQL and MariaDB clients: the password is attached (-pSECRET); "-p" alone prompts.
        const v = wordAt(text, arg.start + 2, limit);
        pushPassword(text, v.start, v.end, out);
        i = v.next;
      }
    }
    return i;
  });
}

// ---- pgpass lines ----------------------------------------------------------------------------

/**
 * A line of a PostgreSQL password file, hostname:port:database:username:password (`*` matches
 * any; the password is the rest of the line). Anchored at the start of a line or a quoted string.
 */
const PGPASS_LINE_RE =
  /(?<![^\n"'])(?:\*|[A-Za-z0-9_.-]{3,253}):(?:[0-9]{1,5}|\*):[^\s:"']{1,63}:[^\s:"']{1,63}:/g;

const PGPASS_HOST_RE = /[G-Zg-z._]/;

function scanPgpassLines(text: string, out: number[]): void {
  forEachMatch(PGPASS_LINE_RE, text, (m) => {
    const start = m.index + m[0].length;
    let end = start;
    while (end - start < MAX_VALUE && end < text.length) {
      const c = text.charCodeAt(end);
      if (isWhitespace(c) || c === 34 || c === 39) break;
      end++;
    }
    // A host name (a letter beyond hex, a dot) or "*": not numbers ("10:20:30:40:50") and not
    // the groups of an IPv6 address ("c941:9650:96ee:…").
    const host = m[0].slice(0, m[0].indexOf(":"));
    if (host !== "*" && !PGPASS_HOST_RE.test(host)) return start;
    if (isIPv6(text.slice(m.index, end))) return end;
    // A JSON-escaped closing quote (\") is not part of the password.
    if (end > start && text.charCodeAt(end - 1) === BACKSLASH && end < text.length) end--;
    pushPassword(text, start, end, out);
    return end;
  });
}

/**
 * Each pass runs only when its regex can match: a credential word, a client command, the four
 * colons of a pgpass line, a URL's "://" and "@", a signature parameter (keywords.ts).
 */
function scanGenericSecrets(text: string, out: number[], f: TextFeatures): void {
  if ((f.keywords & KW_CREDENTIAL) !== 0) scanKeyValueSecrets(text, out);
  if ((f.keywords & KW_CLI) !== 0 && text.includes(" -")) scanCommandLinePasswords(text, out);
  if (f.colons >= 4) scanPgpassLines(text, out);
  if ((f.flags & FEATURE_AT) !== 0 && text.includes("://")) scanUrlPasswords(text, out);
  if ((f.keywords & KW_SIGNED_URL) !== 0 && text.includes("?") && text.includes("="))
    scanSignedUrlSignatures(text, out);
}

// ---------------------------------------------------------------------------------------------
// The detector table
// ---------------------------------------------------------------------------------------------

export const DETECTORS: readonly Detector[] = [
  {
    type: "email",
    kind: "pii",
    pattern: EMAIL_RE,
    patterns: [
      EMAIL_RE,
      TLD_RE,
      ASSET_SCALE_RE,
      OBFUSCATED_AT_RE,
      OBFUSCATED_DOT_RE,
      OBFUSCATED_LABEL_RE,
      OBFUSCATED_DOT_BEFORE_RE,
    ],
    prefilter: needs({
      minLength: 6,
      test: (_, f) =>
        (f.flags & (FEATURE_AT | FEATURE_DOT)) === (FEATURE_AT | FEATURE_DOT) ||
        (f.keywords & KW_OBFUSCATED_AT) !== 0,
    }),
    scan: scanEmail,
  },
  {
    type: "phone",
    kind: "pii",
    pattern: PHONE_INTL_RE,
    patterns: [
      PHONE_INTL_RE,
      PHONE_NANP_RE,
      PHONE_NATIONAL_RE,
      PHONE_VALUE_RE,
      PHONE_BAD_SEPARATORS_RE,
      PHONE_EXTENSION_RE,
      SSN_SHAPE_RE,
      PHONE_BR_RE,
    ],
    prefilter: needs({
      minLength: 8,
      minDigitRun: 8,
      test: (_, f) => f.digitRun >= 9 || (f.flags & FEATURE_PLUS) !== 0,
    }),
    scan: scanPhone,
    matchesWhole: wholePhone,
  },
  {
    type: "payment_card",
    kind: "pii",
    pattern: CARD_RUN_RE,
    patterns: [CARD_RUN_RE],
    prefilter: needs({ minLength: 13, minDigitRun: 13 }),
    scan: scanCards,
  },
  {
    type: "iban",
    kind: "pii",
    pattern: IBAN_RE,
    patterns: [IBAN_RE],
    prefilter: needs({
      minLength: 15,
      minDigitRun: 2,
      minLetters: 2,
      all: FEATURE_LETTERS_THEN_DIGITS,
    }),
    scan: scanIban,
  },
  {
    type: "us_ssn",
    kind: "pii",
    pattern: SSN_RE,
    patterns: [SSN_RE, SSN_VALUE_RE, SSN_NAMED_RE],
    prefilter: needs({ minLength: 11, minDigitRun: 9 }),
    scan: scanSsn,
    matchesWhole: wholeSsn,
  },
  {
    type: "uk_nino",
    kind: "pii",
    pattern: NATIONAL_ID_PATTERNS[0] as RegExp,
    patterns: NATIONAL_ID_PATTERNS,
    prefilter: needs({
      minLength: 9,
      minDigitRun: 6,
      minLetters: 3,
      all: FEATURE_LETTERS_THEN_DIGITS,
    }),
    scan: scanNino,
  },
  {
    type: "ca_sin",
    kind: "pii",
    pattern: NATIONAL_ID_PATTERNS[1] as RegExp,
    patterns: [NATIONAL_ID_PATTERNS[1] as RegExp],
    prefilter: needs({ minLength: 9, minDigitRun: 9, keywords: KW_SIN }),
    scan: scanSin,
    matchesWhole: (text, key) => key.nationalId === "ca_sin" && wholeNationalId("ca_sin", text),
  },
  {
    type: "nl_bsn",
    kind: "pii",
    pattern: NATIONAL_ID_PATTERNS[1] as RegExp,
    patterns: [NATIONAL_ID_PATTERNS[1] as RegExp],
    prefilter: needs({ minLength: 9, minDigitRun: 9, keywords: KW_BSN }),
    scan: scanBsn,
    matchesWhole: (text, key) => key.nationalId === "nl_bsn" && wholeNationalId("nl_bsn", text),
  },
  {
    type: "in_aadhaar",
    kind: "pii",
    pattern: NATIONAL_ID_PATTERNS[2] as RegExp,
    patterns: [NATIONAL_ID_PATTERNS[2] as RegExp],
    prefilter: needs({ minLength: 12, minDigitRun: 12 }),
    scan: scanAadhaar,
    matchesWhole: (text, key) =>
      key.nationalId === "in_aadhaar" && wholeNationalId("in_aadhaar", text),
  },
  {
    type: "us_itin",
    kind: "pii",
    pattern: ITIN_PATTERNS[0],
    patterns: ITIN_PATTERNS,
    prefilter: needs({ minLength: 9, minDigitRun: 9 }),
    scan: scanItin,
    matchesWhole: (text, key) => key.nationalId === "us_itin" && wholeNationalId("us_itin", text),
  },
  {
    type: "uk_nhs",
    kind: "pii",
    pattern: NHS_PATTERNS[0],
    patterns: NHS_PATTERNS,
    prefilter: needs({ minLength: 10, minDigitRun: 10 }),
    scan: scanNhs,
    matchesWhole: (text, key) => key.nationalId === "uk_nhs" && wholeNationalId("uk_nhs", text),
  },
  {
    type: "crypto_wallet",
    kind: "pii",
    pattern: CRYPTO_WALLET_PATTERNS[0],
    patterns: CRYPTO_WALLET_PATTERNS,
    // Every address is one run of 25 or more base58 or bech32 characters.
    prefilter: needs({ minLength: 25, minDigitRun: 1, test: (_, f) => f.encodedRun >= 25 }),
    scan: scanCryptoWallets,
  },
  {
    type: "ip_address",
    kind: "pii",
    pattern: IPV4_RE,
    patterns: [IPV4_RE, IPV6_RE],
    prefilter: needs({
      minLength: 7,
      minDigitRun: 1,
      any: FEATURE_DOT | FEATURE_COLON,
      // IPv4: three dots and a 4-digit dotted run; IPv6: "::" or all eight groups.
      test: (text, f) =>
        (f.dots >= 3 && f.digitRun >= 4) ||
        (f.colons >= 2 && (f.colons >= 7 || text.includes("::"))),
    }),
    scan: scanIp,
  },
  {
    type: "jwt",
    kind: "secret",
    pattern: JWT_RE,
    patterns: [JWT_RE, JWE_TAIL_RE],
    prefilter: needs({
      minLength: 16,
      all: FEATURE_DOT,
      keywords: KW_JWT,
      test: (text) => text.includes("eyJ"),
    }),
    scan: scanJwt,
  },
  {
    type: "private_key",
    kind: "secret",
    pattern: PEM_BEGIN_RE,
    patterns: [PEM_BEGIN_RE, PEM_END_RE, PEM_BODY_RE],
    prefilter: needs({
      minLength: 27,
      all: FEATURE_DASH | FEATURE_UPPER,
      keywords: KW_PRIVATE_KEY,
      test: (text) => text.includes("PRIVATE KEY"),
    }),
    scan: scanPrivateKey,
  },
  {
    type: "aws_access_key",
    kind: "secret",
    pattern: AWS_ACCESS_KEY_RE,
    patterns: [AWS_ACCESS_KEY_RE],
    prefilter: needs({
      minLength: 20,
      all: FEATURE_UPPER,
      keywords: KW_AWS_ACCESS_KEY,
      test: (text) => text.includes("AKIA") || text.includes("ASIA"),
    }),
    scan: scanWhole(AWS_ACCESS_KEY_RE),
  },
  {
    type: "aws_secret_key",
    kind: "secret",
    pattern: AWS_SECRET_RE,
    patterns: [AWS_SECRET_RE, AWS_SECRET_VALUE_RE],
    prefilter: needs({
      minLength: 50,
      minLetters: 12,
      any: FEATURE_COLON | FEATURE_EQUALS,
      keywords: KW_AWS_SECRET,
    }),
    scan: scanAwsSecret,
    matchesWhole: wholeAwsSecret,
  },
  {
    type: "github_token",
    kind: "secret",
    pattern: GITHUB_TOKEN_RE,
    patterns: [GITHUB_TOKEN_RE],
    prefilter: needs({
      minLength: 33,
      all: FEATURE_UNDERSCORE,
      keywords: KW_GITHUB,
      test: (text) => text.includes("gh") || text.includes("github_pat_"),
    }),
    scan: scanWhole(GITHUB_TOKEN_RE),
  },
  {
    type: "slack_token",
    kind: "secret",
    pattern: SLACK_TOKEN_RE,
    patterns: [SLACK_TOKEN_RE],
    prefilter: needs({
      minLength: 15,
      keywords: KW_SLACK,
      test: (text) => text.includes("xox") || text.includes("hooks.slack.com"),
    }),
    scan: scanWhole(SLACK_TOKEN_RE),
  },
  {
    type: "stripe_key",
    kind: "secret",
    pattern: STRIPE_KEY_RE,
    patterns: [STRIPE_KEY_RE],
    prefilter: needs({
      minLength: 24,
      all: FEATURE_UNDERSCORE,
      keywords: KW_STRIPE,
      test: (text) => text.includes("k_live_") || text.includes("k_test_"),
    }),
    scan: scanWhole(STRIPE_KEY_RE),
  },
  {
    type: "google_api_key",
    kind: "secret",
    pattern: GOOGLE_API_KEY_RE,
    patterns: [GOOGLE_API_KEY_RE],
    prefilter: needs({ minLength: 39, keywords: KW_GOOGLE, test: (text) => text.includes("AIza") }),
    scan: scanWhole(GOOGLE_API_KEY_RE),
  },
  {
    type: "generic_secret",
    kind: "secret",
    pattern: SECRET_KEYWORD_RE,
    patterns: [
      SECRET_KEYWORD_RE,
      KEY_VALUE_SEPARATOR_RE,
      PROSE_SEPARATOR_RE,
      SPACE_THEN_QUOTE_RE,
      SPACE_THEN_WORD_RE,
      CLI_PASSWORD_COMMAND_RE,
      PGPASS_LINE_RE,
      PGPASS_HOST_RE,
      ELEMENT_VALUE_RE,
      XML_VALUE_ATTR_RE,
      URL_USERINFO_RE,
      SIGNED_URL_PARAM_RE,
      URL_PARAM_VALUE_RE,
      ENV_REFERENCE_RE,
      NUMBER_ONLY_RE,
      DIGITS_RE,
      CODE_RE,
      BEARER_WORD_RE,
      UUID_RE,
      HASH_RE,
      LONG_HASH_RE,
      TIMESTAMP_RE,
    ],
    prefilter: needs({
      minLength: 6,
      minLetters: 3,
      // key=value and key: value need a separator; "password is …" a space, <password> a ">".
      test: (text, f) =>
        (f.flags & (FEATURE_COLON | FEATURE_EQUALS | FEATURE_SPACE)) !== 0 || text.includes(">"),
    }),
    scan: scanGenericSecrets,
    matchesWhole: wholeGenericSecret,
  },
];

/**
 * What each gate of the character pass stands for: a regex, and the condition on a text's
 * features without which it skips that regex. Each condition must hold for every text the
 * regex matches (test/keyword-gates.test.ts); then skipping changes no result.
 */
export function featureGates(): {
  name: string;
  re: RegExp;
  passes: (f: TextFeatures) => boolean;
}[] {
  const keyword = (bit: number) => (f: TextFeatures) => (f.keywords & bit) !== 0;
  const flag = (bit: number) => (f: TextFeatures) => (f.flags & bit) !== 0;
  return [
    { name: "credential names", re: SECRET_KEYWORD_RE, passes: keyword(KW_CREDENTIAL) },
    { name: "AWS secret key", re: AWS_SECRET_RE, passes: keyword(KW_AWS_SECRET) },
    { name: "JWT", re: JWT_RE, passes: keyword(KW_JWT) },
    { name: "private key", re: PEM_BEGIN_RE, passes: keyword(KW_PRIVATE_KEY) },
    { name: "AWS access key", re: AWS_ACCESS_KEY_RE, passes: keyword(KW_AWS_ACCESS_KEY) },
    { name: "GitHub token", re: GITHUB_TOKEN_RE, passes: keyword(KW_GITHUB) },
    { name: "split GitHub token", re: SPLIT_GITHUB_PREFIX_RE, passes: keyword(KW_GITHUB_SPLIT) },
    { name: "Slack token", re: SLACK_TOKEN_RE, passes: keyword(KW_SLACK) },
    { name: "Stripe key", re: STRIPE_KEY_RE, passes: keyword(KW_STRIPE) },
    { name: "Google API key", re: GOOGLE_API_KEY_RE, passes: keyword(KW_GOOGLE) },
    { name: "client commands", re: CLI_PASSWORD_COMMAND_RE, passes: keyword(KW_CLI) },
    { name: "signed URL", re: SIGNED_URL_PARAM_RE, passes: keyword(KW_SIGNED_URL) },
    { name: "SIN context", re: NATIONAL_ID_PATTERNS[5] as RegExp, passes: keyword(KW_SIN) },
    { name: "BSN context", re: NATIONAL_ID_PATTERNS[6] as RegExp, passes: keyword(KW_BSN) },
    { name: "obfuscated e-mail", re: OBFUSCATED_AT_RE, passes: keyword(KW_OBFUSCATED_AT) },
    { name: "IBAN", re: IBAN_RE, passes: flag(FEATURE_LETTERS_THEN_DIGITS) },
    {
      name: "UK NINO",
      re: NATIONAL_ID_PATTERNS[0] as RegExp,
      passes: flag(FEATURE_LETTERS_THEN_DIGITS),
    },
    { name: "pgpass line", re: PGPASS_LINE_RE, passes: (f) => f.colons >= 4 },
  ];
}

/**
 * Every regex detection runs, named, for the linear-time check: the built-in detectors', the
 * generated provider rules' (and their allowlists') and the encoded-payload scanner's.
 */
export function detectionRegexes(): { name: string; re: RegExp }[] {
  return [
    ...DETECTORS.flatMap((d) =>
      d.patterns.map((re, i) => ({ name: `${d.type}[${i}] /${re.source}/${re.flags}`, re })),
    ),
    ...ENCODED_PATTERNS.map((re, i) => ({ name: `encoded[${i}] /${re.source}/`, re })),
    { name: `split github_token /${SPLIT_GITHUB_TOKEN_RE.source}/`, re: SPLIT_GITHUB_TOKEN_RE },
    ...providerRegexes(),
  ];
}

// ---------------------------------------------------------------------------------------------
// Combining results
// ---------------------------------------------------------------------------------------------

interface Candidate {
  readonly type: FindingType;
  readonly kind: FindingKind;
  /** Table order; provider rules come after the built-in detectors. */
  readonly order: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Priority on overlap: a secret beats personal data, then the longer span wins; on a tie a
 * specific detector beats generic_secret, then the earlier span, then table order.
 */
function higherPriority(a: Candidate, b: Candidate): number {
  const kind = (a.kind === "secret" ? 0 : 1) - (b.kind === "secret" ? 0 : 1);
  if (kind !== 0) return kind;
  const length = b.end - b.start - (a.end - a.start);
  if (length !== 0) return length;
  const generic = (a.type === "generic_secret" ? 1 : 0) - (b.type === "generic_secret" ? 1 : 0);
  if (generic !== 0) return generic;
  // A phone number is only a shape; a number of the same length that passed a checksum or an
  // issuing rule (an NHS number in 3-3-4, say) is named for what it is.
  const phone = (a.type === "phone" ? 1 : 0) - (b.type === "phone" ? 1 : 0);
  if (phone !== 0) return phone;
  return a.start - b.start || a.order - b.order;
}

function toSpan(c: Candidate): Span {
  return { type: c.type, kind: c.kind, start: c.start, end: c.end };
}

/** Sorted, non-overlapping spans; each cluster of overlapping candidates is resolved alone. */
function resolveOverlaps(candidates: Candidate[]): Span[] {
  candidates.sort((a, b) => a.start - b.start || b.end - a.end);
  const spans: Span[] = [];
  let i = 0;
  while (i < candidates.length) {
    const first = candidates[i] as Candidate;
    let clusterEnd = first.end;
    let j = i + 1;
    for (; j < candidates.length; j++) {
      const c = candidates[j] as Candidate;
      if (c.start >= clusterEnd) break;
      clusterEnd = Math.max(clusterEnd, c.end);
    }
    if (j === i + 1) {
      spans.push(toSpan(first));
    } else {
      const kept: Candidate[] = [];
      for (const c of candidates.slice(i, j).sort(higherPriority)) {
        if (kept.every((k) => c.end <= k.start || c.start >= k.end)) kept.push(c);
      }
      kept.sort((a, b) => a.start - b.start);
      for (const k of kept) spans.push(toSpan(k));
    }
    i = j;
  }
  return spans;
}

/**
 * All spans in one string, sorted by start, non-overlapping (on overlap: secret beats pii, then
 * the longer span wins). keyName: the object key under which the string sits, if any (for
 * key-name context: a password field's whole value is a secret, a phone field's digits a phone).
 *
 * Detection runs on a normalised view of the text (NFKC, invisible characters removed, Unicode
 * spaces as spaces; see src/text/unicode.ts) and on decoded payloads (base64, hex, URL
 * encoding; see encoded.ts); every span is reported in UTF-16 units of the ORIGINAL string.
 */
export function detectInString(text: string, keyName?: string): Span[] {
  return detectUnderKey(text, keyName === undefined ? undefined : analyzeKeyName(keyName));
}

/**
 * What the detectors read from the name of the key a value sits under (its words, the
 * whole-value rules it triggers), computed once per name: callers that scan many values under
 * one key (scan.ts) pass it to detectUnderKey and detectNumberUnderKey.
 */
export function analyzeKeyName(keyName: string): AnalyzedKey {
  return keyContext(keyText(keyName));
}

/** detectInString with the key name already analysed (analyzeKeyName; undefined: no key). */
export function detectUnderKey(text: string, key: AnalyzedKey | undefined): Span[] {
  if (text.length > SHORT_TEXT) return detectAtDepth(text, key, 0);
  // Short strings repeat across the records of a request (keys, levels, methods, states):
  // detection is a pure function of the text and of what the key name says, so remember the
  // short texts in which it found nothing. Only those: a text with a finding (a short
  // password, a phone number) is never kept in memory beyond the call.
  const keyClass = key === undefined ? 0 : key.keyClass;
  const clean = (CLEAN_SHORT_TEXTS[keyClass] ??= new Set<string>());
  if (clean.has(text)) return [];
  const spans = detectAtDepth(text, key, 0);
  if (spans.length === 0) {
    if (cleanShortTexts >= CLEAN_SHORT_LIMIT) {
      CLEAN_SHORT_TEXTS.forEach((set) => set.clear());
      cleanShortTexts = 0;
    }
    clean.add(text);
    cleanShortTexts++;
  }
  return spans;
}

/**
 * detectInString on a finite JSON number, as JSON writes it. Numbers that were found clean are
 * remembered by value per key class, like short strings (no string is made to look them up).
 */
export function detectInNumber(value: number, keyName?: string): Span[] {
  return detectNumberUnderKey(value, keyName === undefined ? undefined : analyzeKeyName(keyName));
}

/** detectInNumber with the key name already analysed (analyzeKeyName; undefined: no key). */
export function detectNumberUnderKey(value: number, key: AnalyzedKey | undefined): Span[] {
  const keyClass = key === undefined ? 0 : key.keyClass;
  const clean = (CLEAN_NUMBERS[keyClass] ??= new Set<number>());
  if (clean.has(value)) return [];
  const spans = detectAtDepth(String(value), key, 0);
  if (spans.length === 0) {
    if (cleanNumbers >= CLEAN_SHORT_LIMIT) {
      CLEAN_NUMBERS.forEach((set) => set.clear());
      cleanNumbers = 0;
    }
    clean.add(value);
    cleanNumbers++;
  }
  return spans;
}

const CLEAN_NUMBERS: Set<number>[] = [];
let cleanNumbers = 0;

/** Strings up to this length are remembered when clean. */
const SHORT_TEXT = 32;
const CLEAN_SHORT_LIMIT = 16_384;
/** One set per key class (keyClassOf): "hunter22" is clean under "note", not under "password". */
const CLEAN_SHORT_TEXTS: Set<string>[] = [];
let cleanShortTexts = 0;

/**
 * Everything detection reads from a key name (the matchesWhole rules), as a small number;
 * 0 stands for no key name, 1 (KEY_CLASS_PLAIN) for a name that none of those rules reads.
 */
function keyClassOf(key: KeyContext): number {
  return (
    1 +
    (key.secretLike ? 1 : 0) +
    (key.passwordLike ? 2 : 0) +
    (key.awsSecret ? 4 : 0) +
    (key.phone ? 8 : 0) +
    (key.ssn ? 16 : 0) +
    32 * NATIONAL_ID_CLASS.indexOf(key.nationalId) +
    (namesCode(key) ? 1024 : 0)
  );
}
const KEY_CLASS_PLAIN = 1;
const NATIONAL_ID_CLASS: readonly KeyContext["nationalId"][] = [
  "",
  "ca_sin",
  "nl_bsn",
  "in_aadhaar",
  "us_itin",
  "uk_nhs",
];

/** Detection in a decoded payload (no key name: the key named the encoded value). */
function decode(decoded: string, depth: number): Span[] {
  return detectAtDepth(decoded, undefined, depth);
}

function detectAtDepth(text: string, key: AnalyzedKey | undefined, depth: number): Span[] {
  if (text.length < 2) return [];
  // One pass of character facts decides which of the passes below can find anything: ASCII
  // text needs no normalisation, no long base64/hex run means no encoded payload, no "%" means
  // no URL encoding. The common short ASCII string pays for that one pass and the detectors.
  let features = textFeatures(text);
  let view: NormalizedView | undefined;
  if (!features.ascii) {
    view = normalizedView(text);
    if (view.changed) features = textFeatures(view.text);
  }
  const viewText = view === undefined ? text : view.text;
  let spans = detectInView(viewText, features, key);
  const runs =
    features.encodedRun >= MIN_ENCODED_RUN
      ? scanEncodedRuns(viewText, spans, depth, decode)
      : NO_SPANS;
  const percent = features.percent ? scanPercentEncoded(viewText, spans, depth, decode) : NO_SPANS;
  if (runs.length + percent.length > 0) spans = mergeSpans(spans, [...runs, ...percent]);
  if (view === undefined || !view.changed) return spans;
  return mapToOriginal(spans, view);
}

const NO_SPANS: readonly Span[] = [];

/** A key name as the detectors read it: normalised only when it is not plain ASCII. */
function keyText(keyName: string): string {
  for (let i = 0; i < keyName.length; i++) {
    if (keyName.charCodeAt(i) >= 128) return normalizeText(keyName);
  }
  return keyName;
}

/** Spans of the view mapped to the original; spans that now touch one original unit merge. */
function mapToOriginal(spans: readonly Span[], view: NormalizedView): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    const [start, end] = view.toOriginal(s.start, s.end);
    const prev = out[out.length - 1];
    if (prev !== undefined && start < prev.end) {
      out[out.length - 1] = { ...prev, end: Math.max(prev.end, end) };
    } else {
      out.push({ ...s, start, end });
    }
  }
  return out;
}

/** Sorted, non-overlapping union of two span lists (overlaps resolved as in detectInView). */
function mergeSpans(a: readonly Span[], b: readonly Span[]): Span[] {
  const candidates: Candidate[] = [...a, ...b].map((s, order) => ({ ...s, order }));
  return resolveOverlaps(candidates);
}

/** detectInString on one (already normalised) text, without decoding payloads. */
function detectInView(
  text: string,
  features: TextFeatures,
  named: AnalyzedKey | undefined,
): Span[] {
  if (text.length < 2) return [];
  // A key name that no whole-value rule reads (most of them) needs no rule asked.
  const key = named === undefined || named.keyClass === KEY_CLASS_PLAIN ? undefined : named;
  // Allocated on first use: most strings pass no detector's prefilter and find nothing.
  let candidates: Candidate[] | undefined;
  let ranges: number[] | undefined;
  for (let order = 0; order < DETECTORS.length; order++) {
    const detector = DETECTORS[order] as Detector;
    const { type, kind } = detector;
    if (key !== undefined && detector.matchesWhole?.(text, key) === true) {
      (candidates ??= []).push({ type, kind, order, start: 0, end: text.length });
    }
    if (!mayMatch(detector, features, text)) continue;
    ranges ??= [];
    detector.scan(text, ranges, features);
    for (let r = 0; r + 1 < ranges.length; r += 2) {
      const start = ranges[r] as number;
      const end = ranges[r + 1] as number;
      if (end > start) (candidates ??= []).push({ type, kind, order, start, end });
    }
    ranges.length = 0;
  }
  const providers = scanProviderTokens(text, features.rules);
  // A split GitHub token starts with "gh?_".
  const split = (features.keywords & KW_GITHUB_SPLIT) === 0 ? [] : splitGithubTokens(text);
  for (const hits of [providers, split]) {
    for (const hit of hits) {
      (candidates ??= []).push({
        type: hit.type as FindingType,
        kind: "secret",
        order: DETECTORS.length,
        start: hit.start,
        end: hit.end,
      });
    }
  }
  return candidates === undefined ? [] : resolveOverlaps(candidates);
}

export { shannonEntropy };
