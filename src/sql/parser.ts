/**
 * PostgreSQL's own scanner and parser (libpg-query, compiled to Wasm), behind a small
 * interface. This module is the host's one place that reads SQL: the executable-parameter check
 * (src/executable/) lexes with it, and the read-only classification (classify.ts) parses with it;
 * the parse also proves plain string literals, so a mask inside one needs no second pass.
 *
 * Offsets are UTF-16 code units of the original string (the C scanner reports UTF-8 bytes; they
 * are converted here), so they index the same string the detectors and the masks index.
 */

/** What kind of token the PostgreSQL scanner saw. `literal` kinds can be masked; nothing else. */
export type SqlTokenKind =
  | "string" // '...', E'...', N'...', $tag$...$tag$
  | "unicode-string" // U&'...'
  | "bit-string" // B'...'
  | "hex-string" // X'...'
  | "integer"
  | "float"
  | "param" // $1
  | "identifier"
  | "keyword"
  | "comment"
  | "other"; // operators and punctuation

export interface SqlToken {
  readonly kind: SqlTokenKind;
  /** [start, end) in UTF-16 code units of the lexed string. */
  readonly start: number;
  readonly end: number;
  /** For literals: the span a mask may cover (a string's content between its quotes, a number whole). */
  readonly content?: { readonly start: number; readonly end: number };
}

export type LexResult =
  | { readonly ok: true; readonly tokens: readonly SqlToken[] }
  | { readonly ok: false; readonly error: string };

export type ParseResult =
  | { readonly ok: true; readonly tree: { readonly stmts?: readonly unknown[] } }
  | { readonly ok: false; readonly error: string };

export interface SqlParser {
  lex(sql: string): LexResult;
  parse(sql: string): ParseResult;
}

export const LITERAL_KINDS: ReadonlySet<SqlTokenKind> = new Set([
  "string",
  "unicode-string",
  "bit-string",
  "hex-string",
  "integer",
  "float",
]);

interface RawToken {
  start: number;
  end: number;
  tokenType: number;
  tokenName: string;
  keywordKind: number;
}

interface PgQuery {
  loadModule(): Promise<void>;
  scanSync(sql: string): { tokens: RawToken[] };
  parseSync(sql: string): { stmts?: unknown[] };
}

/**
 * Loads the parser. The Wasm is compiled here, not at import time. The scanner's token numbers
 * differ between PostgreSQL versions, so they are learnt from a probe rather than written down;
 * a probe that does not come out as expected means the parser cannot be trusted (throws).
 */
export async function loadSqlParser(): Promise<SqlParser> {
  const pg = (await import("libpg-query")) as unknown as PgQuery;
  await pg.loadModule();
  const kinds = learnTokenKinds(pg);
  return {
    lex: (sql) => lex(pg, kinds, sql),
    parse: (sql) => parse(pg, sql),
  };
}

const PROBE = `select 'a', 1, 1.5, b'1', x'f', U&'a', $1, "i", a`;
const PROBE_KINDS: readonly (SqlTokenKind | null)[] = [
  "keyword",
  "string",
  null,
  "integer",
  null,
  "float",
  null,
  "bit-string",
  null,
  "hex-string",
  null,
  "unicode-string",
  null,
  "param",
  null,
  "identifier",
  null,
  "identifier",
];

function learnTokenKinds(pg: PgQuery): ReadonlyMap<number, SqlTokenKind> {
  const tokens = pg.scanSync(PROBE).tokens;
  if (tokens.length !== PROBE_KINDS.length) {
    throw new Error(
      `the SQL scanner's probe gave ${tokens.length} tokens, not ${PROBE_KINDS.length}`,
    );
  }
  const map = new Map<number, SqlTokenKind>();
  tokens.forEach((t, i) => {
    const kind = PROBE_KINDS[i];
    if (kind === null || kind === undefined || kind === "keyword") return;
    const known = map.get(t.tokenType);
    if (known !== undefined && known !== kind) {
      throw new Error(`the SQL scanner gives ${known} and ${kind} the same token number`);
    }
    map.set(t.tokenType, kind);
  });
  if (map.size !== 8)
    throw new Error("the SQL scanner's probe did not tell every literal kind apart");
  return map;
}

/**
 * Text the C parser would read differently from JavaScript: after a NUL it reads nothing (a
 * server might), and a lone surrogate is encoded by merging it with the next character, which
 * would shift every offset after it.
 */
function unreadable(sql: string): string | undefined {
  if (sql.includes("\0")) return "the text contains a NUL character";
  if (/\p{Cs}/u.test(sql)) return "the text contains a lone UTF-16 surrogate";
  return undefined;
}

function lex(pg: PgQuery, kinds: ReadonlyMap<number, SqlTokenKind>, sql: string): LexResult {
  const refused = unreadable(sql);
  if (refused !== undefined) return { ok: false, error: refused };
  let raw: RawToken[];
  try {
    raw = pg.scanSync(sql).tokens;
  } catch (err) {
    return { ok: false, error: scannerError(err) };
  }
  const toUtf16 = utf8ToUtf16(sql);
  const tokens: SqlToken[] = [];
  for (const t of raw) {
    const start = toUtf16(t.start);
    const end = toUtf16(t.end);
    const kind = tokenKind(t, kinds);
    const content = literalContent(kind, sql, start, end);
    tokens.push(content === undefined ? { kind, start, end } : { kind, start, end, content });
  }
  return { ok: true, tokens };
}

function tokenKind(t: RawToken, kinds: ReadonlyMap<number, SqlTokenKind>): SqlTokenKind {
  const known = kinds.get(t.tokenType);
  if (known !== undefined) return known;
  if (t.tokenName === "SQL_COMMENT" || t.tokenName === "C_COMMENT") return "comment";
  if (t.keywordKind !== 0) return "keyword";
  return "other";
}

/** Where a literal's maskable content lies: inside the quotes (or dollar tags); a number whole. */
function literalContent(
  kind: SqlTokenKind,
  sql: string,
  start: number,
  end: number,
): { start: number; end: number } | undefined {
  if (kind === "integer" || kind === "float") return { start, end };
  if (!LITERAL_KINDS.has(kind)) return undefined;
  const text = sql.slice(start, end);
  if (text.startsWith("$")) {
    const tag = text.slice(0, text.indexOf("$", 1) + 1);
    if (tag.length < 2 || !text.endsWith(tag) || text.length < 2 * tag.length) return undefined;
    return { start: start + tag.length, end: end - tag.length };
  }
  const open = text.indexOf("'");
  if (open < 0 || !text.endsWith("'") || text.length < open + 2) return undefined;
  return { start: start + open + 1, end: end - 1 };
}

/** A string constant as the parser reports it: its value and the UTF-8 byte offset of its token. */
export interface StringConstant {
  readonly sval: string;
  readonly location: number;
}

/** After a closing quote: blanks and `--` comments up to another quote (`''` or a continuation). */
const CONTINUES = /[ \t\n\r\f\v]*(?:--[^\n\r]*[\n\r][ \t\n\r\f\v]*)*'/y;

/**
 * The content ranges (UTF-16) of the string constants that are plain `'…'` tokens, proven from
 * the text itself: at the token's start the text reads a quote, exactly the constant's value
 * (which holds no quote), a closing quote, and no quote after it that could continue it (an
 * escaped quote, or PostgreSQL's continuation across a newline and `--` comments). Such a token is one
 * complete literal with exactly that content, the same range the scanner gives (lex), so the
 * parse a classification needs anyway can stand in for a second pass of the scanner. Anything
 * else (E'…', U&'…', dollar quotes, escaped quotes, continuations, numbers) is left out, and
 * the caller lexes.
 */
export function plainStringContents(
  sql: string,
  constants: readonly StringConstant[],
): { readonly start: number; readonly end: number }[] {
  const toUtf16 = utf8ToUtf16(sql);
  const out: { start: number; end: number }[] = [];
  for (const c of [...constants].sort((a, b) => a.location - b.location)) {
    if (c.location < 0 || c.sval.includes("'")) continue;
    const at = toUtf16(c.location);
    const end = at + 1 + c.sval.length;
    if (sql[at] !== "'" || sql[end] !== "'" || !sql.startsWith(c.sval, at + 1)) continue;
    CONTINUES.lastIndex = end + 1;
    if (CONTINUES.test(sql)) continue;
    out.push({ start: at + 1, end });
  }
  return out;
}

/** A converter from UTF-8 byte offsets (ascending calls) to UTF-16 offsets of the same string. */
function utf8ToUtf16(s: string): (byte: number) => number {
  let byte = 0;
  let unit = 0;
  return (target: number) => {
    if (target < byte) {
      byte = 0;
      unit = 0;
    }
    while (byte < target && unit < s.length) {
      const cp = s.codePointAt(unit)!;
      byte += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      unit += cp > 0xffff ? 2 : 1;
    }
    return unit;
  };
}

function parse(pg: PgQuery, sql: string): ParseResult {
  const refused = unreadable(sql);
  if (refused !== undefined) return { ok: false, error: refused };
  if (sql.trim() === "") return { ok: false, error: "the statement is empty" };
  try {
    return { ok: true, tree: pg.parseSync(sql) };
  } catch (err) {
    return { ok: false, error: scannerError(err) };
  }
}

function scannerError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // The package reports a scanner error as a failed JSON parse of the error text.
  if (msg.includes("unterminat")) return "an unterminated quoted string, identifier or comment";
  return msg.split("\n")[0]!.slice(0, 200);
}
