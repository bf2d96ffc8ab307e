/**
 * A one-pass reader for the plainest block YAML: nested mappings, one `key: value` per line, the
 * shape of a hand-written or generated request. The YAML library builds a syntax tree and a
 * document of nodes first (about 2 µs per byte: 1 MiB of `k: 1` lines took 2 s); this reader
 * builds the value directly.
 *
 * It reads only a subset whose meaning under YAML 1.2's core schema is unambiguous, and answers
 * `undefined` for anything else, so that the YAML library reads it (with its own messages and
 * line numbers). The subset, all of which must hold:
 *
 * - printable ASCII and `\n` only (no tab, no carriage return, no other control character);
 * - every line is empty, or `<spaces>key:` or `<spaces>key: value`;
 * - a key is `[A-Za-z_][A-Za-z0-9_-]*`, not a word YAML reads as null or a boolean, not a key
 *   that could reach a prototype, and not twice in one mapping;
 * - a value is exactly one of: `"text"` without `"` or `\` inside; `'text'` without `'` inside;
 *   an integer `0` or `[1-9][0-9]{0,14}`; `true`; `false`; `null`; or plain text that starts
 *   with a letter, has only letters, digits, spaces and `_ . , / @ + = % ( ) : -`, has no `: `
 *   and does not end with a space or `:`;
 * - `key:` alone is followed by the lines of a mapping indented further than the key (its
 *   value), or by none (its value is null);
 * - siblings have exactly the same indentation, and nesting stays below 32 levels.
 *
 * Everything the YAML path checks after reading (plain JSON, path lengths, the schema) is
 * checked on this value the same way. test/block-yaml.test.ts compares this reader with the
 * YAML library on generated documents inside and around the subset.
 */

/** Words of the core schema that are not strings: null and booleans, in every spelling. */
export const NOT_STRINGS: ReadonlySet<string> = new Set([
  "null",
  "Null",
  "NULL",
  "true",
  "True",
  "TRUE",
  "false",
  "False",
  "FALSE",
]);

/** Deeper than this, the YAML library reads it (and applies the depth limit). */
const MAX_BLOCK_DEPTH = 32;

const KEY_RE = /^([A-Za-z_][A-Za-z0-9_-]*):(?: (.*))?$/;
const INT_RE = /^(?:0|[1-9][0-9]{0,14})$/;
const PLAIN_RE = /^[A-Za-z][A-Za-z0-9 _.,/@+=%():-]*$/;

/** This reader's regexes, for the linear-time check (test/redos.test.ts). */
export const BLOCK_YAML_PATTERNS: readonly RegExp[] = [KEY_RE, INT_RE, PLAIN_RE];

interface Level {
  readonly indent: number;
  readonly value: Record<string, unknown>;
}

/**
 * The value of `text` when it is in the subset described above, else undefined. Never throws
 * on any input; never gives a value the YAML library would read differently.
 */
export function readBlockYaml(text: string, forbiddenKeys: ReadonlySet<string>): unknown {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a) || c > 0x7e) return undefined;
  }
  const root: Record<string, unknown> = {};
  const stack: Level[] = [{ indent: 0, value: root }];
  /** A `key:` with nothing after it: its value is the mapping below, or null. */
  let open: {
    readonly parent: Record<string, unknown>;
    readonly key: string;
    indent: number;
  } | null = null;
  let lines = 0;
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf("\n", at);
    if (end === -1) end = text.length;
    const line = text.slice(at, end);
    at = end + 1;
    if (line.length === 0) continue;
    let indent = 0;
    while (line.charCodeAt(indent) === 0x20) indent++;
    const m = KEY_RE.exec(line.slice(indent));
    if (m === null) return undefined;
    const key = m[1] as string;
    const raw = m[2];
    if (NOT_STRINGS.has(key) || forbiddenKeys.has(key)) return undefined;
    if (open !== null && indent > open.indent) {
      // The first line of the mapping under the open key.
      if (stack.length >= MAX_BLOCK_DEPTH) return undefined;
      const child: Record<string, unknown> = {};
      open.parent[open.key] = child;
      stack.push({ indent, value: child });
    } else {
      open = null;
      while (stack.length > 1 && (stack[stack.length - 1] as Level).indent > indent) stack.pop();
      if ((stack[stack.length - 1] as Level).indent !== indent) return undefined;
    }
    open = null;
    const target = (stack[stack.length - 1] as Level).value;
    if (Object.prototype.hasOwnProperty.call(target, key)) return undefined;
    lines++;
    if (raw === undefined) {
      target[key] = null;
      open = { parent: target, key, indent };
      continue;
    }
    const value = scalar(raw);
    if (value === undefined) return undefined;
    target[key] = value;
  }
  return lines === 0 ? undefined : root;
}

/** A value of the subset, or undefined. */
function scalar(raw: string): unknown {
  const first = raw.charCodeAt(0);
  if (first === 0x22 /* " */) {
    if (raw.length < 2 || raw.charCodeAt(raw.length - 1) !== 0x22) return undefined;
    const inner = raw.slice(1, -1);
    return inner.includes('"') || inner.includes("\\") ? undefined : inner;
  }
  if (first === 0x27 /* ' */) {
    if (raw.length < 2 || raw.charCodeAt(raw.length - 1) !== 0x27) return undefined;
    const inner = raw.slice(1, -1);
    return inner.includes("'") ? undefined : inner;
  }
  if (INT_RE.test(raw)) return Number(raw);
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (raw === "null") return null;
  if (NOT_STRINGS.has(raw)) return undefined;
  if (!PLAIN_RE.test(raw)) return undefined;
  // A plain scalar ends before ": " and trailing spaces; a ":" inside needs a non-space after it.
  const last = raw.charCodeAt(raw.length - 1);
  if (last === 0x20 || last === 0x3a || raw.includes(": ")) return undefined;
  return raw;
}
