/**
 * National identification numbers beyond the US SSN: the UK National Insurance number (format
 * and prefix rules), and numbers with a checksum: Canadian SIN (Luhn), Dutch BSN (the
 * "elfproef"), Indian Aadhaar (Verhoeff). A nine- or twelve-digit number passes a checksum one
 * time in ten or so, so SIN, BSN and bare Aadhaar need their name in the text or the key;
 * grouped Aadhaar (4-4-4) is distinctive enough on its own. The US ITIN (a 9xx area and a
 * group from the IRS's ranges) and the UK NHS number (modulus 11) are found grouped as they
 * are written (3-2-4, 3-3-4), and bare only next to their name.
 */

// UK NINO: two prefix letters (not D F I Q U V; second not O), six digits, suffix A–D,
// optionally spaced "QQ 12 34 56 C". Lower case is accepted and checked upper-cased.
const NINO_RE =
  /(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z] ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d](?![A-Za-z0-9])/g;
/** Prefixes never allocated. */
const NINO_BAD_PREFIXES: ReadonlySet<string> = new Set(["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"]);

// Nine digits, bare or grouped 3-3-3 (SIN) / 4-2-3 or 3-3-3 (BSN) with one separator kind.
const NINE_DIGITS_RE =
  /(?<![\w.-])\d{3}(?:[ -]?\d{3}[ -]?\d{3}|\d[ .-]?\d{2}[ .-]?\d{3})(?![\w-]|\.\d)/g;
// Twelve digits, bare or 4-4-4 (Aadhaar; never starts with 0 or 1).
const TWELVE_DIGITS_RE = /(?<![\w.-])[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}(?![\w-]|\.\d)/g;

// US ITIN: 9xx, group 50–65, 70–88, 90–92 or 94–99, then four digits; 3-2-4 with "-" or " ",
// or bare.
const ITIN_RE =
  /(?<![\w.-])9\d{2}(?:-(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])-| (?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9]) |(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9]))\d{4}(?![\w-]|\.\d)/g;
// UK NHS number: ten digits, 3-3-4 with "-" or " ", or bare.
const NHS_RE = /(?<![\w.-])\d{3}(?: \d{3} |-\d{3}-|\d{3})\d{4}(?![\w-]|\.\d)/g;

const WHOLE_ID_RE = /^[\d .-]{9,14}$/;
const SPACES_RE = / /g;

const SIN_CONTEXT_RE = /\bsin\b|social insurance/i;
const BSN_CONTEXT_RE = /\bbsn\b|burgerservicenummer|sofinummer/i;
const AADHAAR_CONTEXT_RE = /aadhaa?r|\buidai\b|\buid\b/i;
const ITIN_CONTEXT_RE = /\bitin\b|individual taxpayer/i;
const NHS_CONTEXT_RE = /\bnhs\b/i;

/** The ITIN detector's regexes (the candidate first) and the NHS detector's. */
export const ITIN_PATTERNS: readonly [RegExp, RegExp] = [ITIN_RE, ITIN_CONTEXT_RE];
export const NHS_PATTERNS: readonly [RegExp, RegExp] = [NHS_RE, NHS_CONTEXT_RE];

/** Every regex of this module, for the linear-time check. */
export const NATIONAL_ID_PATTERNS: readonly RegExp[] = [
  NINO_RE,
  NINE_DIGITS_RE,
  TWELVE_DIGITS_RE,
  WHOLE_ID_RE,
  SPACES_RE,
  SIN_CONTEXT_RE,
  BSN_CONTEXT_RE,
  AADHAAR_CONTEXT_RE,
  ITIN_RE,
  NHS_RE,
  ITIN_CONTEXT_RE,
  NHS_CONTEXT_RE,
];

function digitsOf(s: string): string {
  let d = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) d += s.charAt(i);
  }
  return d;
}

/** Separators in a candidate: at most one kind (no "123-456 789"). */
function oneSeparatorKind(s: string): boolean {
  let sep = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c >= "0" && c <= "9") continue;
    if (sep === "") sep = c;
    else if (c !== sep) return false;
  }
  return true;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Canadian SIN: Luhn, first digit not 0 or 8 (8 is not used, 0 is for tests). */
export function validSin(digits: string): boolean {
  return digits.length === 9 && digits[0] !== "0" && digits[0] !== "8" && luhn(digits);
}

/** Dutch BSN: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a non-zero multiple of 11. */
export function validBsn(digits: string): boolean {
  if (digits.length !== 9) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * (digits.charCodeAt(i) - 48);
  sum -= digits.charCodeAt(8) - 48;
  return sum !== 0 && sum % 11 === 0;
}

const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** The Verhoeff checksum (Aadhaar's last digit). */
export function verhoeffValid(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    c = (VERHOEFF_D[c] as number[])[(VERHOEFF_P[i % 8] as number[])[d] as number] as number;
  }
  return c === 0;
}

/** Indian Aadhaar: 12 digits, first 2–9, not a palindrome of one digit, Verhoeff. */
export function validAadhaar(digits: string): boolean {
  return digits.length === 12 && digits[0] !== "0" && digits[0] !== "1" && verhoeffValid(digits);
}

/** UK NHS number: 10 digits, weights 10…2 over the first nine, check 11 − sum mod 11 (11 → 0; 10 never issued). */
export function validNhs(digits: string): boolean {
  if (digits.length !== 10) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (10 - i) * (digits.charCodeAt(i) - 48);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === digits.charCodeAt(9) - 48;
}

/** US ITIN: nine digits, 9xx, a group from the IRS's ranges. */
export function validItin(digits: string): boolean {
  if (digits.length !== 9 || digits[0] !== "9") return false;
  const g = Number(digits.slice(3, 5));
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94;
}

function forEach(re: RegExp, text: string, f: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) f(m);
}

export function scanNino(text: string, out: number[]): void {
  forEach(NINO_RE, text, (m) => {
    const compact = m[0].replace(SPACES_RE, "").toUpperCase();
    // Spaces only as "QQ 12 34 56 C" (all or none).
    const spaces = m[0].length - compact.length;
    if (spaces !== 0 && spaces !== 4) return;
    if (NINO_BAD_PREFIXES.has(compact.slice(0, 2))) return;
    // All lower case is a word more often than an identifier: "ab123456c" needs upper case.
    if (m[0] === m[0].toLowerCase() && spaces === 0) return;
    out.push(m.index, m.index + m[0].length);
  });
}

/** Whether the text or the key names this kind of number. */
function named(re: RegExp, text: string, keyWords: readonly string[] | undefined): boolean {
  return re.test(text) || (keyWords !== undefined && keyWords.some((w) => re.test(w)));
}

export function scanSin(text: string, out: number[]): void {
  if (!SIN_CONTEXT_RE.test(text)) return;
  forEach(NINE_DIGITS_RE, text, (m) => {
    if (oneSeparatorKind(m[0]) && validSin(digitsOf(m[0])))
      out.push(m.index, m.index + m[0].length);
  });
}

export function scanBsn(text: string, out: number[]): void {
  if (!BSN_CONTEXT_RE.test(text)) return;
  forEach(NINE_DIGITS_RE, text, (m) => {
    if (oneSeparatorKind(m[0]) && validBsn(digitsOf(m[0])))
      out.push(m.index, m.index + m[0].length);
  });
}

export function scanAadhaar(text: string, out: number[]): void {
  const context = AADHAAR_CONTEXT_RE.test(text);
  forEach(TWELVE_DIGITS_RE, text, (m) => {
    const grouped = m[0].length === 14 && oneSeparatorKind(m[0]);
    if ((grouped || context) && validAadhaar(digitsOf(m[0]))) {
      out.push(m.index, m.index + m[0].length);
    }
  });
}

export function scanItin(text: string, out: number[]): void {
  let context: boolean | undefined;
  forEach(ITIN_RE, text, (m) => {
    // Grouped (11 characters) stands alone; bare needs "ITIN" in the text.
    if (m[0].length === 9 && !(context ??= ITIN_CONTEXT_RE.test(text))) return;
    out.push(m.index, m.index + m[0].length);
  });
}

export function scanNhs(text: string, out: number[]): void {
  let context: boolean | undefined;
  forEach(NHS_RE, text, (m) => {
    if (m[0].length === 10 && !(context ??= NHS_CONTEXT_RE.test(text))) return;
    if (validNhs(digitsOf(m[0]))) out.push(m.index, m.index + m[0].length);
  });
}

/** A national ID a key's words can name (empty: none). */
export type NamedNationalId = "ca_sin" | "nl_bsn" | "in_aadhaar" | "us_itin" | "uk_nhs" | "";

/** Which checksummed national ID a key's words name, if any. */
export function nationalIdNamedBy(keyWords: readonly string[]): NamedNationalId {
  if (keyWords.includes("itin")) return "us_itin";
  if (keyWords.includes("nhs")) return "uk_nhs";
  if (keyWords.includes("sin")) return "ca_sin";
  if (named(BSN_CONTEXT_RE, "", keyWords)) return "nl_bsn";
  if (named(AADHAAR_CONTEXT_RE, "", keyWords)) return "in_aadhaar";
  return "";
}

/** Whether the whole value (under a key that names `kind`) is a valid number of that kind. */
export function wholeNationalId(kind: Exclude<NamedNationalId, "">, text: string): boolean {
  const value = text.trim();
  if (!WHOLE_ID_RE.test(value) || !oneSeparatorKind(value)) return false;
  const digits = digitsOf(value);
  switch (kind) {
    case "ca_sin":
      return validSin(digits);
    case "nl_bsn":
      return validBsn(digits);
    case "in_aadhaar":
      return validAadhaar(digits);
    case "us_itin":
      return validItin(digits);
    case "uk_nhs":
      return validNhs(digits);
  }
}
