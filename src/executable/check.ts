import { childPointer, unescapeSegment } from "../masking/pointer.ts";
import { normalizeForMatching } from "../text/unicode.ts";
import type { Finding } from "../masking/types.ts";
import type { SqlParser } from "../sql/parser.ts";
import type { ExecutableParam } from "./catalogue.ts";
import { argvElementLiterals, literalRanges, type Range } from "./literals.ts";

/**
 * Masks never hide syntax. In an executable parameter every masked span must be one complete
 * literal of the parameter's language; a span inside one literal is widened to that whole
 * literal (so no escape sequence or quote can be split), and a span that covers syntax, or text
 * that does not lex at all, denies the request. After masking, `verifyExecutableMasks` checks the
 * masked document itself: each executable parameter must still be there, unchanged except for
 * placeholders exactly where the planned literals were. So a policy mask that would hide a whole
 * parameter (`redact` or `drop` of /params/query) denies the request instead of hiding the
 * statement from the reviewer.
 */
export interface ExecutablePlan {
  /** The findings to mask with: those in executable parameters widened to whole literals. */
  readonly findings: readonly Finding[];
  /** Reasons to deny; they name the parameter and offsets, never its text. */
  readonly denials: readonly string[];
  /** Per string path inside an executable parameter: the spans that will be masked. */
  readonly spans: ReadonlyMap<string, readonly Range[]>;
}

const LANGUAGE_NAMES: Record<ExecutableParam["language"], string> = {
  sql: "SQL",
  "shell-argv": "a shell command",
  url: "a URL",
};

/**
 * `proven` may give, per SQL parameter, literals already proven from the statement's parse
 * (sql/classify.ts, analyseSql): when every finding in that parameter lies inside one of them,
 * the parameter is not lexed again; otherwise it is lexed as usual. Either way a finding is
 * widened to the same literal, since a proven literal is a complete token of its own.
 */
export function planExecutableMasks(
  request: unknown,
  findings: readonly Finding[],
  params: readonly ExecutableParam[],
  sql: SqlParser | null,
  proven: ReadonlyMap<string, readonly Range[]> = new Map(),
): ExecutablePlan {
  const denials: string[] = [];
  const widened = new Map<Finding, Finding>();
  const spans = new Map<string, Range[]>();
  const byPath = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.in !== "value") continue;
    const list = byPath.get(f.path) ?? [];
    list.push(f);
    byPath.set(f.path, list);
  }

  const plan = (
    path: string,
    ranges: () => ReturnType<typeof literalRanges>,
    p: ExecutableParam,
    text = "",
  ) => {
    const here = byPath.get(path);
    if (here === undefined) return;
    const lexed = ranges();
    if (!lexed.ok) {
      denials.push(
        `${path} is executable (${p.language}) and holds a value to mask, but it does not lex as ${LANGUAGE_NAMES[p.language]} (${lexed.error}), so a mask could hide syntax: close every quote and comment, or leave secrets out of it`,
      );
      return;
    }
    for (const f of here) {
      const literal = smallestContaining(lexed.literals, f);
      if (literal === undefined) {
        denials.push(
          `${path} is executable (${p.language}): a ${f.type} found at characters ${f.start}–${f.end} is not inside one complete literal, so masking it would hide syntax; put the value in a closed literal of its own, or leave it out`,
        );
        continue;
      }
      let span: Range = literal;
      const embedded = p.language === "sql" ? embeddedLanguage(text, literal) : undefined;
      if (embedded !== undefined) {
        // The literal is code that may run (a DO body, a statement given to dblink or
        // query_to_xml, the shell command of COPY … PROGRAM, a connection string): masking all
        // of it would hide that code from the reviewer. Mask only the detected value, when
        // that cannot change how the literal reads; else deny.
        if (!safeInsideLiteral(text, f)) {
          denials.push(
            `${path} is executable (${p.language}): a ${f.type} found at characters ${f.start}–${f.end} is inside a literal that reads as ${embedded} (code that may run), and masking it whole would hide that code from the reviewer; leave the value out of the embedded ${embedded === "SQL" ? "statement" : "text"}`,
          );
          continue;
        }
        span = { start: f.start, end: f.end };
      } else {
        widened.set(f, { ...f, start: literal.start, end: literal.end });
      }
      const list = spans.get(path) ?? [];
      list.push(span);
      spans.set(path, list);
    }
  };

  for (const p of params) {
    denials.push(...lookAlikeKeys(request, p));
    const value = valueAt(request, p.path);
    if (value === undefined) continue;
    if (p.language === "shell-argv" && Array.isArray(value)) {
      value.forEach((el, i) => {
        const path = childPointer(p.path, i);
        if (typeof el !== "string") {
          denials.push(`${path} must be a string: an argv element`);
          return;
        }
        plan(path, () => ({ ok: true, literals: argvElementLiterals(el) }), p);
      });
      continue;
    }
    if (typeof value !== "string") {
      denials.push(
        `${p.path} is executable (${p.language}) and must be ${p.language === "shell-argv" ? "a string or an array of strings" : "a string"}`,
      );
      continue;
    }
    const known = p.language === "sql" ? proven.get(p.path) : undefined;
    const inKnown =
      known !== undefined &&
      (byPath.get(p.path) ?? []).every((f) => smallestContaining(known, f) !== undefined);
    plan(
      p.path,
      () => (inKnown ? { ok: true, literals: known } : literalRanges(value, p.language, sql)),
      p,
      value,
    );
  }
  for (const [path, list] of spans) spans.set(path, nonOverlapping(list));
  return { findings: findings.map((f) => widened.get(f) ?? f), denials, spans };
}

/**
 * Checks the masked document against the original: every executable parameter is still there
 * and reads the same outside the planned literals, each of which became one placeholder.
 */
export function verifyExecutableMasks(
  original: unknown,
  masked: unknown,
  params: readonly ExecutableParam[],
  plan: ExecutablePlan,
): string[] {
  const denials: string[] = [];
  const check = (path: string, o: string, m: unknown) => {
    if (!sameOutsideLiterals(o, m, plan.spans.get(path) ?? [])) {
      denials.push(
        `masking would hide the structure of ${path}, an executable parameter: a mask covers more than its literals (a policy mask on the whole parameter, or a dropped parameter); mask only the values inside it`,
      );
    }
  };
  for (const p of params) {
    const o = valueAt(original, p.path);
    if (o === undefined) continue;
    const m = valueAt(masked, p.path);
    if (Array.isArray(o)) {
      if (!Array.isArray(m) || m.length !== o.length) {
        check(p.path, "", null);
        continue;
      }
      o.forEach((el, i) => {
        if (typeof el === "string") check(childPointer(p.path, i), el, m[i]);
      });
    } else if (typeof o === "string") {
      check(p.path, o, m);
    }
  }
  return denials;
}

/** A placeholder written by masking/strategies.ts: brackets around a label, never syntax. */
const PLACEHOLDER = /\[[\p{L}\p{N}_:… -]{1,120}\]/uy;

function sameOutsideLiterals(o: string, m: unknown, spans: readonly Range[]): boolean {
  if (typeof m !== "string") return false;
  let pos = 0;
  let at = 0;
  for (const s of spans) {
    const between = o.slice(pos, s.start);
    if (!m.startsWith(between, at)) return false;
    at += between.length;
    PLACEHOLDER.lastIndex = at;
    if (!PLACEHOLDER.test(m)) return false;
    at = PLACEHOLDER.lastIndex;
    pos = s.end;
  }
  return m.slice(at) === o.slice(pos);
}

/**
 * Whether a SQL literal's text reads as SQL or PL/pgSQL: a statement keyword as a word. Such a
 * literal may be run (DO $$ … $$, dblink(conn, '…'), query_to_xml('…', …), EXECUTE '…' in a
 * body) and must stay readable; a false positive only narrows a mask to the detected value.
 */
const CODE_WORDS =
  /\b(?:select|insert|update|delete|merge|truncate|create|alter|drop|grant|revoke|copy|call|execute|perform|do|begin|declare|with|lock|set|reset|refresh|vacuum|analy[sz]e|notify|listen|prepare|comment|security|reassign|import|cluster|reindex|discard|load|raise|return|into|from|values)\b/i;

/**
 * `PROGRAM` then the literal's opening quote (plain, E'', U&'' or dollar-quoted), with spaces
 * and comments between: the literal is the shell command of COPY … PROGRAM. Matched against
 * the text just before the literal, so bounded.
 */
const PROGRAM_BEFORE =
  /\bprogram(?:\s|\/\*(?:[^*]|\*(?!\/)){0,200}\*\/|--[^\n]{0,200}\n){0,20}(?:[eE]|[uU]&)?(?:'|\$[A-Za-z_0-9]{0,64}\$)$/i;
/** libpq connection parameters as `keyword=value` (dblink, postgres_fdw options). */
const CONNINFO_WORDS =
  /(?:^|\s)(?:host|hostaddr|port|dbname|user|password|passfile|sslmode|service|options)\s*=/i;

/** The language a SQL literal's text is written in when it is code, else undefined. */
function embeddedLanguage(text: string, literal: Range): string | undefined {
  const body = text.slice(literal.start, literal.end);
  if (CODE_WORDS.test(body)) return "SQL";
  if (PROGRAM_BEFORE.test(text.slice(Math.max(0, literal.start - 700), literal.start))) {
    return "a shell command";
  }
  if (CONNINFO_WORDS.test(body)) return "a connection string";
  return undefined;
}

/**
 * A detected value can be replaced on its own inside a literal when it holds none of the
 * characters that delimit or escape in SQL literals (quotes, backslash, dollar) and follows no
 * backslash: the placeholder then cannot end the literal or change an escape.
 */
function safeInsideLiteral(text: string, f: Range): boolean {
  if (f.end <= f.start) return false;
  if (/['"\\$]/.test(text.slice(f.start, f.end))) return false;
  return f.start === 0 || text.charAt(f.start - 1) !== "\\";
}

function smallestContaining(ranges: readonly Range[], f: Range): Range | undefined {
  let best: Range | undefined;
  for (const r of ranges) {
    if (
      r.start <= f.start &&
      f.end <= r.end &&
      (best === undefined || r.end - r.start < best.end - best.start)
    ) {
      best = r;
    }
  }
  return best;
}

/** The spans masking will replace: by start, an overlapped later span dropped (as masking does). */
function nonOverlapping(list: readonly Range[]): Range[] {
  const out: Range[] = [];
  let at = 0;
  for (const r of [...list].sort((a, b) => a.start - b.start || b.end - a.end)) {
    if (r.start < at) continue;
    out.push(r);
    at = r.end;
  }
  return out;
}

/** The value a JSON Pointer names in a document; undefined when absent. */
/**
 * Keys that read like the executable parameter's own keys but are not them: `Query`, `QUERY`,
 * `quеry` with a Cyrillic "е", a full-width or zero-width variant next to `query`. Executors
 * need not read keys as exactly as the policy does (Go's encoding/json matches them to fields
 * case-insensitively and lets the last one win), so such a key could run a statement that the
 * reviewer never saw as the query. Every level of the parameter's path is checked.
 */
function lookAlikeKeys(request: unknown, p: ExecutableParam): string[] {
  const found: string[] = [];
  let at: unknown = request;
  let path = "";
  for (const raw of p.path.split("/").slice(1)) {
    const seg = unescapeSegment(raw);
    if (at === null || typeof at !== "object" || Array.isArray(at)) break;
    const want = normalizeForMatching(seg);
    for (const key of Object.keys(at)) {
      if (key !== seg && normalizeForMatching(key) === want) {
        found.push(
          `${childPointer(path, key)} reads like the executable parameter ${p.path} but is another key: an executor could run it instead of what the reviewer reads; remove or rename it`,
        );
      }
    }
    path = childPointer(path, seg);
    at = Object.hasOwn(at, seg) ? (at as Record<string, unknown>)[seg] : undefined;
  }
  return found;
}

export function valueAt(doc: unknown, pointer: string): unknown {
  let at: unknown = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = unescapeSegment(raw);
    if (at === null || typeof at !== "object" || !Object.hasOwn(at, seg)) return undefined;
    at = (at as Record<string, unknown>)[seg];
  }
  return at;
}
