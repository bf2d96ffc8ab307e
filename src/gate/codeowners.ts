/**
 * CODEOWNERS parsing and matching with GitHub's semantics ("About code owners", docs.github.com).
 *
 * Pure: text in, data out. Nothing here reads files; the caller picks the file from
 * CODEOWNERS_LOCATIONS and passes its text.
 *
 * FAIL CLOSED: a line that GitHub documents as unsupported, or whose meaning on GitHub is not
 * certain, is reported in `errors` and its rule is NOT applied. A caller that gates anything on
 * code ownership must treat a non-empty `errors` as fatal (refuse, do not guess): a skipped line
 * can be an override (`/apps/github` with no owners) or an owner assignment, so ignoring it in
 * either direction changes who must approve.
 */

export interface CodeownersRule {
  readonly line: number;
  readonly pattern: string;
  readonly owners: readonly string[];
}

/** `line` is 1-based; 0 means the whole file (e.g. it is too large). */
export interface CodeownersError {
  readonly line: number;
  readonly message: string;
}

export interface Codeowners {
  readonly rules: readonly CodeownersRule[];
  readonly errors: readonly CodeownersError[];
}

/** Where GitHub looks, in order: .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS — the first that exists wins. */
export const CODEOWNERS_LOCATIONS: readonly string[] = Object.freeze([
  ".github/CODEOWNERS",
  "CODEOWNERS",
  "docs/CODEOWNERS",
]);

/**
 * GitHub: "CODEOWNERS files must be under 3 MB in size", else the file is not loaded at all.
 * Whether MB means 10^6 or 2^20 bytes is not stated; the smaller reading fails closed.
 */
const MAX_BYTES = 3_000_000;

/** Parse a CODEOWNERS file. Never throws; every problem is an entry in `errors`. */
export function parseCodeowners(text: string): Codeowners {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes >= MAX_BYTES) {
    // GitHub does not load the file at all, so no rule applies.
    const message = `CODEOWNERS file is ${bytes} bytes; GitHub ignores files of 3 MB or more`;
    return frozen([], [{ line: 0, message }]);
  }

  const rules: CodeownersRule[] = [];
  const errors: CodeownersError[] = [];
  let body = text;
  if (body.startsWith("\uFEFF")) {
    // GitHub does not document how it treats a byte-order mark, so do not guess.
    errors.push({ line: 1, message: "file starts with a byte-order mark (U+FEFF); remove it" });
    body = body.slice(1);
  }

  body.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const parsed = parseLine(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
    if (parsed === undefined) return;
    if ("problems" in parsed) {
      for (const message of parsed.problems) errors.push({ line, message });
    } else {
      const rule: CodeownersRule = Object.freeze({
        line,
        pattern: parsed.pattern,
        owners: Object.freeze(parsed.owners),
      });
      compiledRules.set(rule, parsed.regex);
      rules.push(rule);
    }
  });
  return frozen(rules, errors);
}

/**
 * The last matching rule for a repository-relative path (no leading slash), or undefined.
 * A rule with no owners matches and means "no owners".
 *
 * Paths are matched case-sensitively, like GitHub. Throws on a path that is not a normalised
 * repository-relative file path (empty, leading or trailing `/`, `//`, `.` or `..` segments):
 * that is a caller bug, and guessing would risk matching the wrong rule.
 */
export function ownersFor(codeowners: Codeowners, path: string): CodeownersRule | undefined {
  assertRepositoryPath(path);
  // The last matching pattern takes precedence, so search from the end.
  for (let i = codeowners.rules.length - 1; i >= 0; i--) {
    const rule = codeowners.rules[i];
    if (rule !== undefined && regexFor(rule).test(path)) return rule;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Lines and owners

type LineResult =
  { pattern: string; owners: string[]; regex: RegExp } | { problems: string[] } | undefined;

/** One line (without its line ending): a rule, its problems, or undefined if blank/comment. */
function parseLine(line: string): LineResult {
  const tokens: string[] = [];
  for (const token of line.split(/[ \t]+/)) {
    if (token === "") continue;
    // A `#` at the start of a token (line start or after whitespace) begins a comment.
    if (token.startsWith("#")) break;
    tokens.push(token);
  }
  const [pattern, ...ownerTokens] = tokens;
  if (pattern === undefined) return undefined;

  const problems: string[] = [];
  const compiled = compilePattern(pattern);
  if (typeof compiled === "string") problems.push(compiled);
  const owners: string[] = [];
  for (const token of ownerTokens) {
    const problem = ownerProblem(token);
    if (problem !== undefined) problems.push(problem);
    else if (!owners.includes(token.toLowerCase())) owners.push(token.toLowerCase());
  }

  if (problems.length > 0 || typeof compiled === "string") return { problems };
  return { pattern, owners, regex: compiled };
}

const USER = /^@[A-Za-z0-9][A-Za-z0-9_-]*$/;
const TEAM = /^@[A-Za-z0-9][A-Za-z0-9_-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const EMAIL_LOCAL = /^[A-Za-z0-9._%+-]+$/;
const DOMAIN_LABEL = /^[A-Za-z0-9-]+$/;
const TOP_LEVEL_DOMAIN = /^[A-Za-z]{2,}$/;

/** Why an owner token is not `@user`, `@org/team` or an e-mail address; undefined if it is. */
function ownerProblem(owner: string): string | undefined {
  if (owner.includes("#")) {
    return `owner '${owner}' contains '#'; put whitespace before a trailing comment`;
  }
  if (owner.startsWith("@")) {
    if (USER.test(owner) || TEAM.test(owner)) return undefined;
    return `owner '${owner}' is not a valid @user or @org/team name`;
  }
  if (owner.includes("@")) {
    return isEmail(owner) ? undefined : `owner '${owner}' is not a valid e-mail address`;
  }
  return `owner '${owner}' must start with @ or be an e-mail address`;
}

/** A deliberately plain e-mail check: local@label.label…tld, no quoting, no IP literals. */
function isEmail(owner: string): boolean {
  const parts = owner.split("@");
  if (parts.length !== 2) return false;
  const [local = "", domain = ""] = parts;
  const labels = domain.split(".");
  const tld = labels.at(-1) ?? "";
  return (
    EMAIL_LOCAL.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    TOP_LEVEL_DOMAIN.test(tld)
  );
}

// ---------------------------------------------------------------------------------------------
// Patterns
//
// A pattern is read as gitignore reads it, with GitHub's documented exceptions:
//   - a leading `/`, or a `/` anywhere but at the end, anchors it to the repository root;
//     otherwise it matches at any depth (as if it began with `**/`);
//   - a trailing `/` (or `/**`) matches everything below a directory, not a file of that name;
//   - otherwise a match also covers everything below it (a matching directory owns its files),
//     EXCEPT when the last segment is a lone `*`: GitHub's `docs/*` matches
//     `docs/getting-started.md` but not `docs/build-app/troubleshooting.md`;
//   - `*` matches within one segment, `?` one character of a segment, and a whole `**`
//     segment zero or more segments.
//
// The pattern is compiled to one RegExp. Backtracking engines go polynomial when several
// unbounded wildcards can each stop in many places (`a/**/b/**/c`, `*a*b*`). Every wildcard but
// the last in its scope is therefore made "atomic and leftmost" with the lookahead idiom
// `(?=(?<g>X))\k<g>`: the engine commits to the first place X matches and never revisits it.
// Taking the leftmost match of a fixed-length piece is always safe for globs (if a later place
// works, the earlier one leaves strictly more for the following wildcard). The last wildcard
// can stay a plain quantifier because what follows it ends at a hard boundary (`/` or the end of
// the path), so at most one of its stopping places can succeed.

/** How the end of the last segment is checked. */
type Tail =
  | "directory" // trailing `/`: something must follow
  | "exact" // last segment is a lone `*`: nothing may follow
  | "file-or-directory"; // a file of that name, or anything below a directory of that name

interface ParsedPattern {
  /** Matches at any depth: an implicit leading `**`. */
  readonly floating: boolean;
  /** Runs of segments separated by `**` segments; each segment a glob without `/`. */
  readonly chunks: readonly (readonly string[])[];
  readonly tail: Tail;
}

const compiledRules = new WeakMap<CodeownersRule, RegExp>();

/** The RegExp for a rule; rules built by hand (not by parseCodeowners) are compiled here. */
function regexFor(rule: CodeownersRule): RegExp {
  let regex = compiledRules.get(rule);
  if (regex === undefined) {
    const compiled = compilePattern(rule.pattern);
    if (typeof compiled === "string") throw new Error(`line ${rule.line}: ${compiled}`);
    regex = compiled;
    compiledRules.set(rule, regex);
  }
  return regex;
}

/** The pattern's RegExp, or why it is not accepted. */
function compilePattern(pattern: string): RegExp | string {
  const parsed = parsePattern(pattern);
  if (typeof parsed === "string") return parsed;
  // `s`: `.` also crosses newlines (legal in Git paths); `u`: `?` and `[^/]` take code points.
  return new RegExp(patternSource(parsed), "su");
}

/** Reject what GitHub does not support or leaves unclear, then split into chunks. */
function parsePattern(pattern: string): ParsedPattern | string {
  const problem = unsupportedSyntax(pattern);
  if (problem !== undefined) return `pattern '${pattern}': ${problem}`;

  const directoryOnly = pattern.endsWith("/");
  const trimmed = pattern.replace(/^\//, "").replace(/\/$/, "");
  const anchored = pattern.startsWith("/") || trimmed.includes("/");
  if (trimmed === "") return `pattern '${pattern}' never matches anything; did you mean '*'?`;

  const segments = trimmed.split("/");
  if (segments.includes("")) return `pattern '${pattern}' contains an empty segment ('//')`;
  if (segments.some((s) => s === "." || s === "..")) {
    return `pattern '${pattern}' contains a '.' or '..' segment, which never matches a repository path`;
  }

  // Consecutive `**` segments mean the same as one.
  const collapsed = segments.filter((s, i) => !(s === "**" && segments[i - 1] === "**"));
  const floating = !anchored || collapsed[0] === "**";
  if (collapsed[0] === "**") collapsed.shift();
  // A trailing `/**` means "everything below", exactly like a trailing `/`.
  const endsInDoubleStar = collapsed.at(-1) === "**";
  if (endsInDoubleStar) collapsed.pop();

  if (collapsed.length === 0 && directoryOnly) {
    // gitignore reads `**/` as "inside any directory"; other CODEOWNERS tools match nothing.
    return `pattern '${pattern}' is ambiguous; use '*' for every file`;
  }

  const chunks: string[][] = [[]];
  for (const segment of collapsed) {
    if (segment === "**") chunks.push([]);
    else chunks.at(-1)?.push(segment);
  }
  const tail: Tail =
    directoryOnly || endsInDoubleStar
      ? "directory"
      : collapsed.at(-1) === "*"
        ? "exact"
        : "file-or-directory";
  return { floating, chunks: collapsed.length === 0 ? [] : chunks, tail };
}

/** Syntax GitHub documents as unsupported, or whose GitHub meaning is unclear. */
function unsupportedSyntax(pattern: string): string | undefined {
  if (pattern.startsWith("!")) return "negation with '!' is not supported in CODEOWNERS";
  if (pattern.startsWith("\\#")) {
    return "escaping a leading '#' with '\\' is not supported in CODEOWNERS";
  }
  if (pattern.includes("\\")) return "escaping with '\\' is not supported in CODEOWNERS";
  if (/[[\]]/.test(pattern)) return "character ranges with '[ ]' are not supported in CODEOWNERS";
  if (pattern.includes("#")) return "'#' inside a pattern is ambiguous (comment or file name?)";
  if (/\p{Cc}/u.test(pattern)) return "control characters are not allowed";
  if (pattern.includes("***")) return "three or more consecutive '*' are ambiguous";
  return undefined;
}

/** The RegExp source for a parsed pattern (see the comment above ParsedPattern). */
function patternSource({ floating, chunks, tail }: ParsedPattern): string {
  const atomic = atomicGroups();
  const end = tail === "directory" ? "/" : tail === "exact" ? "$" : "(?=/|$)";
  if (chunks.length === 0) return "^"; // `**` alone: every path

  let source = "^";
  chunks.forEach((chunk, i) => {
    const isLast = i === chunks.length - 1;
    // A chunk followed by another must end at a segment boundary; the last one ends with `end`.
    const body = chunk.map((s) => segmentSource(s, atomic)).join("/") + (isLast ? end : "(?=/)");
    if (i > 0) source += "/";
    if (i === 0 && !floating)
      source += body; // anchored at the root: no wildcard before it
    else if (isLast)
      source += `(?:.*/)?${body}`; // last `**`: plain, see above
    else source += atomic(`(?:.*?/)??${body}`); // earlier `**`: leftmost, committed
  });
  return source;
}

/** One segment (no `/`): a lone `*` is one whole segment, `?` one character, `*` a run. */
function segmentSource(segment: string, atomic: (source: string) => string): string {
  if (segment === "*") return "[^/]+";
  // `**` inside a segment (e.g. `a**b`) is an ordinary `*`, as in gitignore.
  const pieces = segment.split(/\*+/).map(literalSource);
  const [first = "", ...rest] = pieces;
  const last = rest.pop();
  if (last === undefined) return first; // no `*` at all
  const middle = rest.map((piece) => atomic(`[^/]*?${piece}`)).join("");
  return `${first}${middle}[^/]*${last}`;
}

/** A run of literal characters and `?` wildcards. */
function literalSource(text: string): string {
  return text.replace(/[\^$.+?(){}|/]/g, (c) => (c === "?" ? "[^/]" : `\\${c}`));
}

/** Makes `(?=(?<aN>X))\k<aN>` groups with unique names: X matches once, never backtracked into. */
function atomicGroups(): (source: string) => string {
  let count = 0;
  return (source) => {
    const name = `a${count++}`;
    return `(?=(?<${name}>${source}))\\k<${name}>`;
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function assertRepositoryPath(path: string): void {
  const segments = path.split("/");
  if (path === "" || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new TypeError(
      `ownersFor needs a repository-relative file path like 'src/a.ts', got ${JSON.stringify(path)}`,
    );
  }
}

function frozen(rules: CodeownersRule[], errors: CodeownersError[]): Codeowners {
  return Object.freeze({
    rules: Object.freeze(rules),
    errors: Object.freeze(errors.map((e) => Object.freeze(e))),
  });
}
