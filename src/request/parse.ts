import { maskPointer } from "../masking/scan.ts";
import {
  isAlias,
  isCollection,
  isScalar,
  LineCounter,
  parseAllDocuments,
  visit,
  type Document,
  type Node as YamlNode,
} from "yaml";
import type { z } from "zod";
import { InterlockError, type Problem } from "../errors.ts";
import { requestSchema, type Request } from "./schema.ts";

/** Requests larger than this are refused before parsing (override with `maxBytes`). */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
/** Nesting deeper than this is refused: no legitimate request needs it. */
export const MAX_DEPTH = 64;
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
 * Parses a request (YAML or JSON; JSON is parsed as YAML 1.2, so both get the same strict
 * checks) into a validated, deeply frozen Request. Every failure is an InterlockError with
 * code `request.invalid` or `request.too_large` naming the field and/or line. Messages never
 * quote the input's values: a malformed request may itself hold a secret.
 */
export function parseRequest(text: string, opts: ParseOptions = {}): Request {
  const source = opts.source ?? "request";
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) {
    throw new InterlockError(
      "request.too_large",
      `${source}: the request is ${bytes} bytes; the limit is ${maxBytes} bytes`,
      {
        hint: "Put large payloads somewhere the executor can fetch them and reference them in params.",
      },
    );
  }
  const value = parseDocument(text, source);
  return validate(value.js, value.doc, value.lines, source);
}

/** Validates an already-parsed JSON value (for the library API and batch input). */
export function validateRequestValue(value: unknown, source = "request"): Request {
  checkPlainJson(value, source, "", 0);
  return validate(value, undefined, undefined, source);
}

interface Parsed {
  readonly js: unknown;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

function parseDocument(text: string, source: string): Parsed {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: false,
  });
  if (!Array.isArray(docs) || docs.length === 0)
    fail(source, [{ message: "the request is empty" }]);
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
  const problems: Problem[] = [];
  visit(doc, {
    Alias(_key, node) {
      problems.push({
        line: lineOf(lines, node.range?.[0]),
        message: "YAML aliases (*name) are not allowed in a request",
      });
      return visit.BREAK;
    },
    Node(_key, node) {
      // Parsed nodes carry `tag` only when the source wrote one (`!!binary`, `!custom`).
      if (node.tag !== undefined) {
        problems.push({
          line: lineOf(lines, node.range?.[0]),
          message: "explicit YAML tags (!tag) are not allowed in a request",
        });
      }
      return undefined;
    },
    Pair(_key, pair) {
      const key = pair.key as YamlNode | null;
      if (key !== null && (isCollection(key) || isAlias(key))) {
        problems.push({
          line: lineOf(lines, key.range?.[0]),
          message: "a mapping key must be a plain string",
        });
      } else if (isScalar(key) && FORBIDDEN_KEYS.has(String(key.value))) {
        problems.push({
          line: lineOf(lines, key.range?.[0]),
          message: `the key "${String(key.value)}" is not allowed (it could alter object prototypes)`,
        });
      }
      return undefined;
    },
  });
  if (problems.length > 0) fail(source, problems);
  const js: unknown = doc.toJS({ maxAliasCount: 0 });
  checkPlainJson(js, source, "", 0, doc, lines);
  return { js, doc, lines };
}

/** The parsed value must be plain JSON: finite numbers, no binary, no dates, bounded depth. */
function checkPlainJson(
  value: unknown,
  source: string,
  pointer: string,
  depth: number,
  doc?: Document.Parsed,
  lines?: LineCounter,
): void {
  const at = (message: string): never =>
    fail(source, [{ field: pointer || "/", line: lineAt(doc, lines, pointer), message }]);
  if (depth > MAX_DEPTH) at(`nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) at("numbers must be finite (no .inf or .nan)");
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkPlainJson(v, source, `${pointer}/${i}`, depth + 1, doc, lines));
    return;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const key of Object.keys(value)) {
      const child = `${pointer}/${escapePointer(key)}`;
      if (FORBIDDEN_KEYS.has(key)) {
        fail(source, [
          {
            field: child,
            message: `the key "${key}" is not allowed (it could alter object prototypes)`,
          },
        ]);
      }
      checkPlainJson((value as Record<string, unknown>)[key], source, child, depth + 1, doc, lines);
    }
    return;
  }
  at("only JSON values are allowed (strings, numbers, booleans, null, lists and mappings)");
}

function validate(
  value: unknown,
  doc: Document.Parsed | undefined,
  lines: LineCounter | undefined,
  source: string,
): Request {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(source, [
      { message: "a request must be a mapping with action, resource, reason and requester" },
    ]);
  }
  const result = requestSchema.safeParse(value);
  if (!result.success) {
    fail(
      source,
      result.error.issues.flatMap((i) => toProblems(i, value, doc, lines)),
    );
  }
  return deepFreeze(result.data);
}

function toProblems(
  issue: z.core.$ZodIssue,
  root: object,
  doc: Document.Parsed | undefined,
  lines: LineCounter | undefined,
): Problem[] {
  const base = issue.path.map((p) => escapePointer(String(p)));
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => {
      const field = "/" + [...base, escapePointer(k)].join("/");
      return {
        field,
        line: lineAt(doc, lines, field),
        message: `unknown key; allowed keys here are ${allowedKeys(base)}`,
      };
    });
  }
  const field = "/" + base.join("/");
  const missing = issue.code === "invalid_type" && valueAt(root, issue.path) === undefined;
  return [
    {
      field,
      line: missing ? undefined : lineAt(doc, lines, field),
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

function fail(source: string, found: Problem[]): never {
  // Fields are built from raw keys: a key holding a secret is redacted before it is shown.
  const problems = found.map((p) =>
    p.field === undefined ? p : { ...p, field: maskPointer(p.field) },
  );
  const where = (p: Problem) =>
    [p.field, p.line === undefined ? undefined : `line ${p.line}`].filter(Boolean).join(", ");
  const first = problems[0];
  const summary =
    problems.length === 1 && first
      ? `${source}: ${where(first) ? where(first) + ": " : ""}${first.message}`
      : `${source}: ${problems.length} problems:\n` +
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
