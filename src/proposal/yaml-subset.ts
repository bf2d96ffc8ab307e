/**
 * A one-pass reader for the block YAML that Interlock itself writes (request and result files,
 * rendered by the YAML library's `stringify`): the audit reads one or two such files per request
 * over histories of 100,000 requests, and the YAML library, which builds a syntax tree and a
 * document of nodes first, took about 1 ms of CPU per 3.5 KB request file (most of the audit).
 *
 * It reads only a subset whose meaning under YAML 1.2's core schema is unambiguous, and answers
 * `undefined` for anything else, so that the caller reads it with the YAML library (with its
 * own errors and messages). It never gives a value the YAML library would read differently
 * (test/yaml-subset.test.ts compares the two on rendered, hand-written and mutated documents).
 * The subset, all of which must hold:
 *
 * - the text ends with `\n`; no tab, carriage return or other control character, no Unicode
 *   space or line separator other than the ASCII space, no byte-order mark, nothing outside
 *   YAML's printable set;
 * - `#` comment lines only before the first entry, empty lines anywhere outside block scalars,
 *   no line ending with a space (outside block scalars);
 * - the document is a block mapping at indentation 0; a mapping's entries are
 *   `key: value` or `key:` lines at exactly one indentation, keys `[A-Za-z_][A-Za-z0-9_.-]*`
 *   (at most 128 characters; not a word the core schema reads as null or a boolean, not
 *   `__proto__`, not twice in one mapping);
 * - `key:` alone is followed by a mapping or a sequence indented further (its value), or by
 *   nothing indented further (its value is null);
 * - a sequence's items are `- value`, `- key: value` (a mapping whose further entries are
 *   indented two more) or `- - value` (a sequence whose further items are indented two more),
 *   at exactly one indentation;
 * - a value is one of: `[]`; `{}`; a double-quoted string on one line with only the escapes
 *   `\\ \" \/ \b \f \n \r \t \0 \a \e \v \xXX \uXXXX` (no surrogate); a single-quoted string
 *   on one line; a plain scalar (not starting with an indicator, without `: `, ` #`, not ending
 *   with `:`) that is `null`, `true`, `false`, an integer `0` or `-?[1-9][0-9]{0,14}`, or text
 *   that no other core-schema rule (null, boolean, integer, float) reads; or, as a mapping's
 *   value, a literal block scalar `|` or `|-` whose lines are all non-empty and indented at
 *   least as far as its first, which is indented further than its key;
 * - nesting stays below 64 levels.
 */

import { NOT_STRINGS } from "../request/block-yaml.ts";

/** Words and numbers the core schema reads as something other than a string. */
const CORE_NOT_STRING: readonly RegExp[] = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];

const KEY_LINE = /^([A-Za-z_][A-Za-z0-9_.-]{0,127}):(?: (.*))?$/;
const INT = /^(?:0|-?[1-9][0-9]{0,14})$/;
/**
 * Characters the reader refuses anywhere: controls but \n, DEL, C1, Unicode spaces and line
 * separators, the byte-order mark, non-characters.
 */
const REFUSED =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\ufffe\uffff]/;
/** Characters that cannot start a plain scalar (YAML's indicators, and space). */
const INDICATOR_START = /^[-?:,[\]{}#&*!|>'"%@` ]/;
/** Not a string key: the core schema's null and booleans (block-yaml's list), and __proto__. */
const NOT_A_KEY: ReadonlySet<string> = new Set([...NOT_STRINGS, "__proto__"]);
const MAX_DEPTH = 64;
const HEX = /^[0-9a-fA-F]+$/;

/** This reader's regexes, for the linear-time check. */
export const YAML_SUBSET_PATTERNS: readonly RegExp[] = [
  ...CORE_NOT_STRING,
  KEY_LINE,
  INT,
  REFUSED,
  INDICATOR_START,
  HEX,
];

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
class OutsideSubset extends Error {}
const out = (): never => {
  throw new OutsideSubset();
};

interface Line {
  indent: number;
  /** The line without its indentation. */
  text: string;
}

/**
 * The value of `text` (a mapping) when it is in the subset described above, else undefined.
 * Never throws; never gives a value the YAML library would read differently.
 */
export function readYamlSubset(text: string): Record<string, unknown> | undefined {
  if (!text.endsWith("\n") || REFUSED.test(text) || hasLoneSurrogate(text)) return undefined;
  try {
    return new Reader(text).document();
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++;
  }
  return false;
}

class Reader {
  readonly #raw: string[];
  /** Lines parsed lazily: indentation and text (a sequence item's entry is rewritten in place). */
  readonly #lines: (Line | undefined)[];
  #at = 0;

  constructor(text: string) {
    this.#raw = text.split("\n");
    this.#raw.pop(); // the empty string after the final \n
    this.#lines = new Array<Line | undefined>(this.#raw.length);
  }

  document(): Record<string, unknown> {
    while (this.#at < this.#raw.length) {
      const raw = this.#raw[this.#at]!;
      if (raw === "" || raw.startsWith("#")) this.#at++;
      else break;
    }
    const first = this.#peek();
    if (first === undefined || first.indent !== 0) out();
    const value = this.#mapping(0, 0);
    if (this.#peek() !== undefined) out();
    return value;
  }

  /** The next non-empty line (empty lines are skipped), or undefined at the end. */
  #peek(): Line | undefined {
    for (;;) {
      if (this.#at >= this.#raw.length) return undefined;
      let line = this.#lines[this.#at];
      if (line === undefined) {
        const raw = this.#raw[this.#at]!;
        if (raw === "") {
          this.#at++;
          continue;
        }
        let indent = 0;
        while (raw.charCodeAt(indent) === 0x20) indent++;
        if (indent === raw.length || raw.charCodeAt(raw.length - 1) === 0x20) out();
        line = { indent, text: raw.slice(indent) };
        this.#lines[this.#at] = line;
      }
      return line;
    }
  }

  #mapping(indent: number, depth: number): Record<string, unknown> {
    if (depth >= MAX_DEPTH) out();
    const map: Record<string, unknown> = {};
    for (;;) {
      const line = this.#peek();
      if (line === undefined || line.indent < indent) return map;
      if (line.indent > indent) out();
      const m = KEY_LINE.exec(line.text);
      if (m === null) out();
      const key = m![1]!;
      if (NOT_A_KEY.has(key) || Object.prototype.hasOwnProperty.call(map, key)) out();
      const rest = m![2];
      this.#at++;
      if (rest === undefined) {
        const next = this.#peek();
        if (next === undefined || next.indent < indent) map[key] = null;
        else if (next.indent === indent) {
          // An indentless sequence is YAML too; outside the subset.
          if (next.text.startsWith("-")) out();
          map[key] = null;
        } else if (next.text === "-" || next.text.startsWith("- ")) {
          map[key] = this.#sequence(next.indent, depth + 1);
        } else map[key] = this.#mapping(next.indent, depth + 1);
      } else if (rest === "|" || rest === "|-") {
        map[key] = this.#literal(indent, rest === "|");
      } else map[key] = scalar(rest);
    }
  }

  #sequence(indent: number, depth: number): unknown[] {
    if (depth >= MAX_DEPTH) out();
    const list: unknown[] = [];
    for (;;) {
      const line = this.#peek();
      if (line === undefined || line.indent < indent) return list;
      if (line.indent > indent || !line.text.startsWith("- ")) out();
      const rest = line.text.slice(2);
      if (KEY_LINE.test(rest)) {
        // `- key: value`: a mapping whose first entry sits after the dash.
        this.#lines[this.#at] = { indent: indent + 2, text: rest };
        list.push(this.#mapping(indent + 2, depth + 1));
      } else if (rest.startsWith("- ")) {
        // `- - value`: a sequence whose first item sits after the dash.
        this.#lines[this.#at] = { indent: indent + 2, text: rest };
        list.push(this.#sequence(indent + 2, depth + 1));
      } else {
        if (rest === "|" || rest === "|-") out();
        this.#at++;
        list.push(scalar(rest));
      }
    }
  }

  /** A literal block scalar after `key: |` (clip) or `key: |-` (strip). */
  #literal(keyIndent: number, clip: boolean): string {
    const lines: string[] = [];
    let base = -1;
    while (this.#at < this.#raw.length) {
      const raw = this.#raw[this.#at]!;
      let indent = 0;
      while (raw.charCodeAt(indent) === 0x20) indent++;
      if (base < 0) {
        if (indent <= keyIndent || indent === raw.length) out();
        base = indent;
      } else if (indent === raw.length) {
        // An empty or blank line: kept or chomped by rules the subset leaves out.
        out();
      } else if (indent < base) break;
      lines.push(raw.slice(base));
      this.#at++;
    }
    if (lines.length === 0) out();
    return lines.join("\n") + (clip ? "\n" : "");
  }
}

/** A value on one line: flow-empty collections, quoted or plain scalars. */
function scalar(raw: string): unknown {
  if (raw === "[]") return [];
  if (raw === "{}") return {};
  const first = raw.charCodeAt(0);
  if (first === 0x22 /* " */) return doubleQuoted(raw);
  if (first === 0x27 /* ' */) {
    if (raw.length < 2 || raw.charCodeAt(raw.length - 1) !== 0x27) out();
    const inner = raw.slice(1, -1);
    if (inner.replaceAll("''", "").includes("'")) out();
    return inner.replaceAll("''", "'");
  }
  if (raw === "null") return null;
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (INT.test(raw)) return Number(raw);
  if (raw.length === 0 || INDICATOR_START.test(raw)) out();
  if (raw.includes(": ") || raw.includes(" #") || raw.endsWith(":")) out();
  for (const re of CORE_NOT_STRING) if (re.test(raw)) out();
  return raw;
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\",
  '"': '"',
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  "0": "\0",
  a: "\x07",
  e: "\x1b",
  v: "\v",
};

function doubleQuoted(raw: string): string {
  if (raw.length < 2 || raw.charCodeAt(raw.length - 1) !== 0x22) out();
  const inner = raw.slice(1, -1);
  if (!inner.includes("\\")) {
    if (inner.includes('"')) out();
    return inner;
  }
  let value = "";
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '"') out();
    if (c !== "\\") {
      value += c;
      continue;
    }
    const e = inner[++i];
    if (e === undefined) out();
    const simple = ESCAPES[e!];
    if (simple !== undefined) {
      value += simple;
      continue;
    }
    const width = e === "x" ? 2 : e === "u" ? 4 : 0;
    const hex = inner.slice(i + 1, i + 1 + width);
    if (width === 0 || !HEX.test(hex) || hex.length !== width) out();
    const code = parseInt(hex, 16);
    if (code >= 0xd800 && code <= 0xdfff) out();
    value += String.fromCharCode(code);
    i += width;
  }
  return value;
}
