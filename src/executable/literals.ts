import { LITERAL_KINDS, type SqlParser } from "../sql/parser.ts";
import type { ExecutableLanguage } from "./catalogue.ts";

/** [start, end) in UTF-16 code units. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/**
 * The ranges of one executable text that a mask may cover: each is one complete literal when the
 * text is lexed in its language (a SQL string's content or a number; a shell word's quoted
 * content, a bare word or the value of a bare `name=value` word; a URL's user name, password,
 * path segment, query value or fragment). Or an error when the text does not lex.
 */
export type LiteralsResult =
  | { readonly ok: true; readonly literals: readonly Range[] }
  | { readonly ok: false; readonly error: string };

export function literalRanges(
  text: string,
  language: ExecutableLanguage,
  sql: SqlParser | null,
): LiteralsResult {
  switch (language) {
    case "sql":
      return sqlLiterals(text, sql);
    case "shell-argv":
      return shellLiterals(text);
    case "url":
      return urlLiterals(text);
  }
}

/** One argv element: the whole element, or the value of `--name=value`. */
export function argvElementLiterals(element: string): readonly Range[] {
  const out: Range[] = [{ start: 0, end: element.length }];
  const eq = element.indexOf("=");
  if (eq > 0 && eq < element.length - 1) out.push({ start: eq + 1, end: element.length });
  return out;
}

function sqlLiterals(text: string, sql: SqlParser | null): LiteralsResult {
  if (sql === null) return { ok: false, error: "the SQL parser could not be loaded" };
  const lexed = sql.lex(text);
  if (!lexed.ok) return lexed;
  const literals: Range[] = [];
  for (const t of lexed.tokens) {
    if (LITERAL_KINDS.has(t.kind) && t.content !== undefined) literals.push(t.content);
  }
  return { ok: true, literals };
}

/** Characters of a bare shell word that the shell gives no meaning to. */
const BARE = /[A-Za-z0-9_@%+=:,./-]/;
/** Inside double quotes these still expand or escape. */
const DOUBLE_QUOTE_SPECIAL = /[$`\\!]/;

/**
 * A conservative POSIX-shell word lexer: words are separated by unquoted blanks; a single-quoted
 * string's content, a double-quoted string's content without expansions, and a bare word of
 * plain characters are literals; everything else (operators, expansions, globs, escapes) is
 * syntax. An unclosed quote is an error.
 */
function shellLiterals(text: string): LiteralsResult {
  const literals: Range[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      if (close < 0)
        return { ok: false, error: `an unclosed ${c === "'" ? "single" : "double"} quote` };
      const content = text.slice(i + 1, close);
      if (c === "'" || !DOUBLE_QUOTE_SPECIAL.test(content))
        literals.push({ start: i + 1, end: close });
      i = close + 1;
      continue;
    }
    if (BARE.test(c)) {
      let j = i;
      while (j < text.length && BARE.test(text[j]!)) j++;
      // A bare word glued to a quote or an operator is not a whole literal.
      const next = text[j];
      const prev = text[i - 1];
      const standalone =
        (next === undefined || /\s/.test(next)) && (prev === undefined || /\s/.test(prev));
      if (standalone) {
        for (const r of argvElementLiterals(text.slice(i, j))) {
          literals.push({ start: i + r.start, end: i + r.end });
        }
      }
      i = j;
      continue;
    }
    i++; // an operator, expansion or escape: syntax, never a literal
  }
  return { ok: true, literals };
}

/**
 * A URL's components: scheme://user:password@host:port/seg/seg?name=value&name=value#fragment.
 * User name, password, each path segment, each query value and the fragment are literals.
 */
function urlLiterals(text: string): LiteralsResult {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\s\x00-\x1f\x7f]/.test(text))
    return { ok: false, error: "the URL contains blanks or control characters" };
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(text);
  if (scheme === null) return { ok: false, error: "the text is not an absolute URL" };
  const literals: Range[] = [];
  let i = scheme[0].length;
  const endOf = (from: number, stops: string) => {
    let j = from;
    while (j < text.length && !stops.includes(text[j]!)) j++;
    return j;
  };
  if (text.startsWith("//", i)) {
    const authStart = i + 2;
    const authEnd = endOf(authStart, "/?#");
    const at = text.lastIndexOf("@", authEnd - 1);
    if (at >= authStart) {
      const colon = text.indexOf(":", authStart);
      const userEnd = colon >= 0 && colon < at ? colon : at;
      if (userEnd > authStart) literals.push({ start: authStart, end: userEnd });
      if (userEnd < at && at > userEnd + 1) literals.push({ start: userEnd + 1, end: at });
    }
    i = authEnd;
  }
  const pathEnd = endOf(i, "?#");
  for (let s = i; s < pathEnd;) {
    const e = endOf(s, "/?#");
    if (e > s) literals.push({ start: s, end: e });
    s = e + 1;
  }
  i = pathEnd;
  if (text[i] === "?") {
    const queryEnd = endOf(i + 1, "#");
    for (let s = i + 1; s < queryEnd;) {
      let e = s;
      while (e < queryEnd && text[e] !== "&") e++;
      const eq = text.indexOf("=", s);
      if (eq >= 0 && eq < e) {
        if (e > eq + 1) literals.push({ start: eq + 1, end: e });
      } else if (e > s) {
        literals.push({ start: s, end: e });
      }
      s = e + 1;
    }
    i = queryEnd;
  }
  if (text[i] === "#" && i + 1 < text.length) literals.push({ start: i + 1, end: text.length });
  return { ok: true, literals };
}
