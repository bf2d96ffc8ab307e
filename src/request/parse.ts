import { maskPointer } from "../masking/scan.ts";
import {
  Composer,
  isAlias,
  isCollection,
  isScalar,
  Lexer,
  LineCounter,
  Parser,
  visit,
  CST,
  type Document,
  type Node as YamlNode,
} from "yaml";
import type { z } from "zod";
import { InterlockError, type Problem } from "../errors.ts";
import { requestSchema, type Request } from "./schema.ts";
import { readBlockYaml } from "./block-yaml.ts";
import { parseStrictJson, StrictJsonError } from "./strict-json.ts";

/** Requests larger than this (1 MiB) are refused before parsing (override with `maxBytes`). */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
/** At most this many problems are listed (with a count of the rest): the list stays readable. */
export const MAX_PROBLEMS = 20;
/** Nesting deeper than this is refused: no legitimate request needs it. */
export const MAX_DEPTH = 64;
/**
 * A field whose JSON Pointer is longer than this is refused. Paths are looked up, compared and
 * scanned once per field and per finding, so their length multiplies everything: a 500 KB key
 * above 100,000 small fields made masking quadratic.
 */
export const MAX_PATH_LENGTH = 1024;
/** Keys that could reach an object's prototype in some consumer: refused wherever they appear. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
]);

export interface ParseOptions {
  /** Where the text came from, for messages ("request.yaml", "stdin", "line 7"). */
  readonly source?: string;
  readonly maxBytes?: number;
}

/**
 * Parses a request (JSON or YAML) into a validated, deeply frozen Request. Every failure is an
 * InterlockError with code `request.invalid` or `request.too_large` naming the field and/or
 * line. Messages never quote the input's values: a malformed request may itself hold a secret.
 *
 * Time and memory are linear in the size of the text, whatever its shape: the size is checked
 * first, nesting is checked before any value is built, duplicate keys are found with one set
 * per mapping. JSON text (it starts with `{` or `[`) is read by a strict one-pass reader; text
 * that is not JSON is read as YAML 1.2 with the same checks (the plainest block YAML by a
 * one-pass reader of its own, block-yaml.ts).
 */
export function parseRequest(text: string, opts: ParseOptions = {}): Request {
  const source = opts.source ?? "request";
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) throw tooLarge(source, `is ${bytes} bytes`, maxBytes);
  const json = looksLikeJson(text) ? parseJson(text, source) : undefined;
  if (json !== undefined) return validate(json.value, json.locate, source);
  // The plainest block YAML is read in one pass; anything else, and any request that fails a
  // check, goes through the YAML library (its messages carry line numbers).
  const block = readBlockYaml(text, FORBIDDEN_KEYS);
  if (block !== undefined) {
    const request = validIfSo(block, source);
    if (request !== undefined) return request;
  }
  const yaml = parseYaml(text, source);
  return validate(yaml.js, (pointer) => lineAt(yaml.doc, yaml.lines, pointer), source);
}

/** The error for a request over the size limit (also raised while reading one). */
export function tooLarge(source: string, size: string, maxBytes: number): InterlockError {
  return new InterlockError(
    "request.too_large",
    `${source}: the request ${size}; the limit is ${maxBytes} bytes (${formatLimit(maxBytes)})`,
    {
      hint: "Put large payloads somewhere the executor can fetch them and reference them in params.",
    },
  );
}

function formatLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0
    ? `${bytes / (1024 * 1024)} MiB`
    : bytes % 1024 === 0
      ? `${bytes / 1024} KiB`
      : `${bytes} bytes`;
}

/** Validates an already-parsed JSON value (for the library API and batch input). */
export function validateRequestValue(value: unknown, source = "request"): Request {
  checkPlainJson(value, source, "", 0);
  return validate(value, () => undefined, source);
}

/** The request when the value passes every check, else undefined (the caller reads it again). */
function validIfSo(value: unknown, source: string): Request | undefined {
  try {
    return validateRequestValue(value, source);
  } catch (err) {
    if (err instanceof InterlockError) return undefined;
    throw err;
  }
}

/** Finds the line of a field (JSON Pointer) for a message, if it can. */
type Locate = (pointer: string) => number | undefined;

function looksLikeJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x7b /* { */ || c === 0x5b; /* [ */
  }
  return false;
}

/**
 * JSON text through the strict reader. Undefined when the text is not JSON after all (YAML's
 * flow style also starts with `{`): the YAML reader then gives YAML's own messages.
 */
function parseJson(text: string, source: string): { value: unknown; locate: Locate } | undefined {
  const limits = {
    maxDepth: MAX_DEPTH,
    forbiddenKeys: FORBIDDEN_KEYS,
    maxPathLength: MAX_PATH_LENGTH,
  };
  let value: unknown;
  try {
    value = parseStrictJson(text, limits);
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    if (err.problem === "syntax") return undefined;
    fail(source, [{ line: lineOfOffset(text, err.offset), message: err.message }]);
  }
  // Lines are wanted only for a message: the keys' offsets are found then, by reading again.
  let keyOffsets: Map<string, number> | undefined;
  const locate: Locate = (pointer) => {
    if (keyOffsets === undefined) {
      const found = new Map<string, number>();
      parseStrictJson(text, {
        ...limits,
        onTopKey: (path, offset) => found.set("/" + path.map(escapePointer).join("/"), offset),
      });
      keyOffsets = found;
    }
    const offset = keyOffsets.get(pointer);
    return offset === undefined ? undefined : lineOfOffset(text, offset);
  };
  return { value, locate };
}

/** 1-based line of a UTF-16 offset (one pass over the text before it). */
function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

interface ParsedYaml {
  readonly js: unknown;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

function parseYaml(text: string, source: string): ParsedYaml {
  const lines = new LineCounter();
  const tokens = yamlSyntaxTree(text, lines, source);
  // The syntax tree is built without recursion; its exact depth is checked before the
  // composer (which recurses, and gives up on deep input only after exhausting the stack)
  // builds any node.
  checkTokenDepth(tokens, lines, source);
  // uniqueKeys: false because the library's check compares each key with every earlier key
  // of the mapping (quadratic); checkYamlNodes finds duplicates with one set per mapping.
  const docs = Array.from(
    new Composer({ uniqueKeys: false, prettyErrors: false }).compose(tokens, true, text.length),
  );
  if (docs.length === 0) fail(source, [{ message: "the request is empty" }]);
  if (docs.length > 1) {
    const second = docs[1]!;
    fail(source, [
      {
        line: lineOf(lines, second.range[0]),
        message: "more than one YAML document; a request is exactly one document",
      },
    ]);
  }
  const doc = docs[0]!;
  if (doc.errors.length > 0) {
    fail(
      source,
      doc.errors.map((e) => ({
        line: lineOf(lines, e.pos[0]),
        message: describeYamlError(e.code),
      })),
    );
  }
  checkYamlNodes(doc, lines, source);
  const js: unknown = doc.toJS({ maxAliasCount: 0 });
  checkPlainJson(js, source, "", 0, (pointer) => lineAt(doc, lines, pointer));
  return { js, doc, lines };
}

/**
 * The YAML library's concrete syntax tree, built lexeme by lexeme (as Parser.parse does) so
 * that nesting that is certainly too deep is refused while lexing: the parser spends about
 * 10 µs per level of nesting, so a 1 MiB bracket bomb would take seconds before the exact
 * check could run. Flow brackets open since the start and block indicators (`- `, `? `) since
 * the start of the line are lower bounds of the depth (indentation is not counted: n levels
 * of it take n²/2 bytes, so the size limit bounds it to a cheap ~1,450).
 */
function yamlSyntaxTree(text: string, lines: LineCounter, source: string): CST.Token[] {
  const parser = new Parser(lines.addNewLine);
  const tokens: CST.Token[] = [];
  lines.addNewLine(0);
  const tooDeep = (): never =>
    fail(source, [
      {
        line: lines.linePos(parser.offset).line,
        message: `nested deeper than ${MAX_DEPTH} levels`,
      },
    ]);
  let flow = 0;
  let onLine = 0;
  let atScalar = false;
  for (const lexeme of new Lexer().lex(text)) {
    if (atScalar) atScalar = false;
    else if (lexeme === CST.SCALAR) atScalar = true;
    else if (lexeme === "[" || lexeme === "{") {
      if (++flow > MAX_DEPTH + 1) tooDeep();
    } else if (lexeme === "]" || lexeme === "}") flow = Math.max(0, flow - 1);
    else if (lexeme === "-" || lexeme === "?") {
      if (flow === 0 && ++onLine > MAX_DEPTH + 1) tooDeep();
    } else if (lexeme === "\n" || lexeme === "\r\n" || lexeme === "") onLine = 0;
    for (const token of parser.next(lexeme)) tokens.push(token);
  }
  for (const token of parser.end()) tokens.push(token);
  return tokens;
}

/** Refuses a syntax tree nested deeper than MAX_DEPTH, without recursion. */
function checkTokenDepth(tokens: readonly CST.Token[], lines: LineCounter, source: string): void {
  const stack: { token: CST.Token; depth: number }[] = [];
  for (const t of tokens)
    if (t.type === "document" && t.value) stack.push({ token: t.value, depth: 0 });
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { token, depth } = top;
    if (depth > MAX_DEPTH) {
      fail(source, [
        {
          line: lineOf(lines, tokenOffset(token)),
          message: `nested deeper than ${MAX_DEPTH} levels`,
        },
      ]);
    }
    if (
      token.type !== "block-map" &&
      token.type !== "block-seq" &&
      token.type !== "flow-collection"
    )
      continue;
    for (const item of token.items) {
      if ("key" in item && item.key) stack.push({ token: item.key, depth: depth + 1 });
      if (item.value) stack.push({ token: item.value, depth: depth + 1 });
    }
  }
}

function tokenOffset(token: CST.Token): number | undefined {
  return "offset" in token ? token.offset : undefined;
}

/**
 * Aliases, explicit tags, non-string keys, forbidden keys and duplicate keys (one set of the
 * keys' JavaScript names per mapping, so `1` and `"1"`, or `null` and `""`, which would merge
 * into one property, are duplicates too). Stops after MAX_PROBLEMS problems.
 */
function checkYamlNodes(doc: Document.Parsed, lines: LineCounter, source: string): void {
  const problems: Problem[] = [];
  const add = (node: { range?: [number, number, number] | null } | null, message: string) => {
    problems.push({ line: lineOf(lines, node?.range?.[0]), message });
    return problems.length >= MAX_PROBLEMS ? visit.BREAK : undefined;
  };
  visit(doc, {
    Alias(_key, node) {
      add(node, "YAML aliases (*name) are not allowed in a request");
      return visit.BREAK;
    },
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = pair.key as YamlNode | null;
        if (key !== null && !isScalar(key)) continue; // reported by Pair below
        const value = key === null ? null : key.value;
        const name = value === null || value === undefined ? "" : String(value);
        if (seen.has(name)) {
          if (add(key, "duplicate key: a key appears twice in the same mapping") === visit.BREAK)
            return visit.BREAK;
        }
        seen.add(name);
      }
      return undefined;
    },
    Node(_key, node) {
      // Parsed nodes carry `tag` only when the source wrote one (`!!binary`, `!custom`).
      if (node.tag !== undefined)
        return add(node, "explicit YAML tags (!tag) are not allowed in a request");
      return undefined;
    },
    Pair(_key, pair) {
      const key = pair.key as YamlNode | null;
      if (key !== null && (isCollection(key) || isAlias(key))) {
        return add(key, "a mapping key must be a plain string");
      } else if (isScalar(key) && FORBIDDEN_KEYS.has(String(key.value))) {
        return add(
          key,
          `the key "${String(key.value)}" is not allowed (it could alter object prototypes)`,
        );
      }
      return undefined;
    },
  });
  if (problems.length > 0) fail(source, problems);
}

const longPath = `a field's path (JSON Pointer) is longer than ${MAX_PATH_LENGTH} characters`;

/**
 * The parsed value must be plain JSON: finite numbers, no binary, no dates, bounded depth and
 * path length. A problem is reported at the parent's path (a key may itself be sensitive).
 */
function checkPlainJson(
  value: unknown,
  source: string,
  pointer: string,
  depth: number,
  locate: Locate = () => undefined,
): void {
  const at = (message: string): never =>
    fail(source, [{ field: pointer || "/", line: locate(pointer), message }]);
  if (depth > MAX_DEPTH) at(`nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) at("numbers must be finite (no .inf or .nan)");
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child = `${pointer}/${i}`;
      if (child.length > MAX_PATH_LENGTH) at(longPath);
      checkPlainJson(value[i], source, child, depth + 1, locate);
    }
    return;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const key of Object.keys(value)) {
      const child = `${pointer}/${escapePointer(key)}`;
      if (child.length > MAX_PATH_LENGTH) at(longPath);
      if (FORBIDDEN_KEYS.has(key)) {
        fail(source, [
          {
            field: child,
            message: `the key "${key}" is not allowed (it could alter object prototypes)`,
          },
        ]);
      }
      checkPlainJson((value as Record<string, unknown>)[key], source, child, depth + 1, locate);
    }
    return;
  }
  at("only JSON values are allowed (strings, numbers, booleans, null, lists and mappings)");
}

function validate(value: unknown, locate: Locate, source: string): Request {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(source, [
      { message: "a request must be a mapping with action, resource, reason and requester" },
    ]);
  }
  // `params` is any JSON value, and the readers (or checkPlainJson) have already checked that
  // it is one: the schema checks the other fields (checking a large params again doubled the
  // time of a large request).
  const { params, ...fields } = value as Record<string, unknown>;
  const result = requestSchema.safeParse(fields);
  if (!result.success) {
    // Locating a field costs a walk of its parent: only the problems that will be listed are.
    const problems: Problem[] = [];
    let total = 0;
    for (const issue of result.error.issues) {
      for (const p of toProblems(issue, value, locate, problems.length < MAX_PROBLEMS)) {
        total++;
        if (problems.length < MAX_PROBLEMS) problems.push(p);
      }
    }
    fail(source, problems, total);
  }
  if (params === undefined) return deepFreeze(result.data);
  // The fields in the schema's order, as the schema would have returned them.
  const data = result.data as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const k of Object.keys(requestSchema.shape)) {
    if (k === "params") ordered.params = params;
    else if (data[k] !== undefined) ordered[k] = data[k];
  }
  return deepFreeze(ordered as Request);
}

function toProblems(
  issue: z.core.$ZodIssue,
  root: object,
  locate: Locate,
  wanted: boolean,
): Problem[] {
  const base = issue.path.map((p) => escapePointer(String(p)));
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k, i) => {
      const field = "/" + [...base, escapePointer(k)].join("/");
      return {
        field,
        line: wanted && i < MAX_PROBLEMS ? locate(field) : undefined,
        message: `unknown key; allowed keys here are ${allowedKeys(base)}`,
      };
    });
  }
  const field = "/" + base.join("/");
  const missing = issue.code === "invalid_type" && valueAt(root, issue.path) === undefined;
  return [
    {
      field,
      line: missing || !wanted ? undefined : locate(field),
      message: missing ? "is required" : issue.message,
    },
  ];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = root;
  for (const p of path) {
    if (at === null || typeof at !== "object" || !Object.hasOwn(at, p)) return undefined;
    at = (at as Record<PropertyKey, unknown>)[p];
  }
  return at;
}

function allowedKeys(path: readonly string[]): string {
  const keys =
    path.length === 0
      ? Object.keys(requestSchema.shape)
      : path[0] === "requester"
        ? ["id", "kind", "on_behalf_of"]
        : [];
  return keys.join(", ");
}

function lineAt(
  doc: Document.Parsed | undefined,
  lines: LineCounter | undefined,
  pointer: string,
): number | undefined {
  if (doc === undefined || lines === undefined) return undefined;
  const segments = pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  // Prefer the key's position for a field (that is where a person looks), else the value's.
  const parentPath = segments.slice(0, -1);
  const last = segments[segments.length - 1];
  const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
  if (last !== undefined && parent && isCollection(parent)) {
    for (const item of parent.items as unknown[]) {
      const pair = item as { key?: YamlNode };
      if (pair.key && isScalar(pair.key) && String(pair.key.value) === last) {
        return lineOf(lines, pair.key.range?.[0]);
      }
    }
  }
  const node = doc.getIn(segments, true) as YamlNode | undefined;
  return lineOf(lines, node?.range?.[0]);
}

function lineOf(lines: LineCounter, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function describeYamlError(code: string): string {
  switch (code) {
    case "DUPLICATE_KEY":
      return "duplicate key: a key appears twice in the same mapping";
    case "BAD_INDENT":
    case "MISSING_CHAR":
    case "UNEXPECTED_TOKEN":
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY":
    case "TAB_AS_INDENT":
      return `malformed YAML (${code.toLowerCase().replace(/_/g, " ")})`;
    case "ALIAS_PROPS":
    case "BAD_ALIAS":
      return "YAML aliases (*name) are not allowed in a request";
    default:
      return `malformed YAML or JSON (${code.toLowerCase().replace(/_/g, " ")})`;
  }
}

function fail(source: string, all: Problem[], total = all.length): never {
  // Fields are built from raw keys: a key holding a secret is redacted before it is shown.
  const problems = all
    .slice(0, MAX_PROBLEMS)
    .map((p) => (p.field === undefined ? p : { ...p, field: maskPointer(p.field) }));
  const where = (p: Problem) =>
    [p.field, p.line === undefined ? undefined : `line ${p.line}`].filter(Boolean).join(", ");
  const first = problems[0];
  const more = total - problems.length;
  const summary =
    total === 1 && first
      ? `${source}: ${where(first) ? where(first) + ": " : ""}${first.message}`
      : `${source}: ${total} problems${more > 0 ? ` (the first ${problems.length} listed)` : ""}:\n` +
        problems.map((p) => `  - ${where(p) ? where(p) + ": " : ""}${p.message}`).join("\n");
  throw new InterlockError("request.invalid", summary, { problems });
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
