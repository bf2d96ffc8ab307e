/**
 * A strict JSON reader for requests, linear in the size of the text: one pass, no recursion,
 * duplicate keys found with the object being built (an error, as in the YAML reader), nesting
 * refused the moment it exceeds the limit (before the rest is read), prototype-altering keys
 * refused before they are stored. Strings are decoded by JSON.parse on the exact literal.
 */

export type StrictJsonProblem =
  | "syntax" // not JSON (the caller may try YAML, a superset)
  | "depth"
  | "duplicate"
  | "forbidden"
  | "non-finite"
  | "path";

export class StrictJsonError extends Error {
  constructor(
    readonly problem: StrictJsonProblem,
    /** UTF-16 offset in the text where the problem is. */
    readonly offset: number,
    message: string,
    /** The offending key, for "forbidden" only (one of a fixed set of names, never a value). */
    readonly key?: string,
  ) {
    super(message);
    this.name = "StrictJsonError";
  }
}

export interface StrictJsonLimits {
  /** A value nested deeper than this (the root is at depth 0) is refused. */
  readonly maxDepth: number;
  /** Keys refused wherever they appear. */
  readonly forbiddenKeys: ReadonlySet<string>;
  /** A value whose JSON Pointer would be longer than this (in UTF-16 units) is refused. */
  readonly maxPathLength: number;
  /**
   * Called with each key of the root object and of the objects directly in it (its path, and
   * its offset), so messages about those fields can name a line.
   */
  readonly onTopKey?: (path: readonly string[], offset: number) => void;
}

// Sticky patterns; each is a single pass with no ambiguous alternation (no backtracking blow-up).
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

interface Frame {
  readonly container: Record<string, unknown> | unknown[];
  readonly isArray: boolean;
  /** Entries read so far. */
  count: number;
  /** The key the next value is stored under (objects only). */
  key: string;
  /** Length of the container's JSON Pointer. */
  readonly pathLength: number;
  /** The container's path, for onTopKey (the top two levels only). */
  readonly path: readonly string[] | undefined;
}

/** Parses `text` as one JSON value; throws StrictJsonError. */
export function parseStrictJson(text: string, limits: StrictJsonLimits): unknown {
  let at = 0;
  const skip = () => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.test(text);
    at = WHITESPACE.lastIndex;
  };
  const syntax = (what: string): never => {
    throw new StrictJsonError("syntax", at, `malformed JSON (${what})`);
  };
  const readString = (): string => {
    STRING.lastIndex = at;
    if (!STRING.test(text)) syntax("a string is not closed or has an invalid escape");
    const literal = text.slice(at, STRING.lastIndex);
    at = STRING.lastIndex;
    // Most strings have no escapes: slicing is enough; otherwise JSON.parse decodes exactly.
    return literal.includes("\\") ? (JSON.parse(literal) as string) : literal.slice(1, -1);
  };

  const stack: Frame[] = [];
  let root: unknown;
  let done = false;

  /** Stores a completed value in the current container (or as the root). */
  const store = (value: unknown) => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      root = value;
      done = true;
    } else if (Array.isArray(top.container)) top.container.push(value);
    else top.container[top.key] = value;
  };
  /** Reads one value; containers are opened (pushed) rather than read recursively. */
  const value = () => {
    skip();
    const c = text.charCodeAt(at);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length > limits.maxDepth) {
        throw new StrictJsonError("depth", at, `nested deeper than ${limits.maxDepth} levels`);
      }
      at++;
      const parent = stack[stack.length - 1];
      const path =
        limits.onTopKey === undefined || stack.length > 1
          ? undefined
          : parent === undefined
            ? []
            : parent.isArray
              ? undefined
              : [parent.key];
      const pathLength = parent === undefined ? 0 : childPathLength(parent);
      const frame: Frame =
        c === 0x7b
          ? {
              container: {} as Record<string, unknown>,
              isArray: false,
              count: 0,
              key: "",
              pathLength,
              path,
            }
          : { container: [], isArray: true, count: 0, key: "", pathLength, path };
      stack.push(frame);
      return;
    }
    if (stack.length > limits.maxDepth) {
      throw new StrictJsonError("depth", at, `nested deeper than ${limits.maxDepth} levels`);
    }
    if (c === 0x22 /* " */) return store(readString());
    if (text.startsWith("true", at)) return ((at += 4), store(true));
    if (text.startsWith("false", at)) return ((at += 5), store(false));
    if (text.startsWith("null", at)) return ((at += 4), store(null));
    NUMBER.lastIndex = at;
    if (!NUMBER.test(text)) syntax("expected a value");
    const n = Number(text.slice(at, NUMBER.lastIndex));
    if (!Number.isFinite(n)) {
      throw new StrictJsonError("non-finite", at, "numbers must be finite");
    }
    at = NUMBER.lastIndex;
    store(n);
  };
  /** After `{` or `,` in an object: reads `"key":` and checks the key. */
  const key = (frame: Frame) => {
    skip();
    if (text.charCodeAt(at) !== 0x22) syntax("expected a key in double quotes");
    const start = at;
    const k = readString();
    if (limits.forbiddenKeys.has(k)) {
      throw new StrictJsonError(
        "forbidden",
        start,
        `the key "${k}" is not allowed (it could alter object prototypes)`,
        k,
      );
    }
    const container = frame.container as Record<string, unknown>;
    if (Object.hasOwn(container, k)) {
      throw new StrictJsonError(
        "duplicate",
        start,
        "duplicate key: a key appears twice in the same mapping",
      );
    }
    if (frame.pathLength + 1 + escapedLength(k) > limits.maxPathLength) {
      throw new StrictJsonError(
        "path",
        start,
        `a field's path (JSON Pointer) is longer than ${limits.maxPathLength} characters`,
      );
    }
    container[k] = null; // a placeholder, so that a duplicate is seen before the value is read
    frame.key = k;
    if (frame.path !== undefined) limits.onTopKey?.([...frame.path, k], start);
    skip();
    if (text.charCodeAt(at) !== 0x3a /* : */) syntax("expected ':' after a key");
    at++;
  };

  value();
  while (!done) {
    const frame = stack[stack.length - 1]!;
    const isArray = frame.isArray;
    const close = isArray ? 0x5d /* ] */ : 0x7d; /* } */
    skip();
    const c = text.charCodeAt(at);
    const empty = frame.count === 0;
    if (c === close) {
      at++;
      stack.pop();
      store(frame.container);
      continue;
    }
    if (!empty) {
      if (c !== 0x2c /* , */) syntax(`expected ',' or '${String.fromCharCode(close)}'`);
      at++;
    }
    if (!isArray) key(frame);
    else if (frame.pathLength + 1 + String(frame.count).length > limits.maxPathLength) {
      throw new StrictJsonError(
        "path",
        at,
        `a field's path (JSON Pointer) is longer than ${limits.maxPathLength} characters`,
      );
    }
    frame.count++;
    value();
  }
  skip();
  if (at !== text.length) syntax("text after the value");
  return root;
}

/** Length of a key once escaped for a JSON Pointer (`~` → `~0`, `/` → `~1`). */
function escapedLength(key: string): number {
  let n = key.length;
  for (let i = key.indexOf("~"); i !== -1; i = key.indexOf("~", i + 1)) n++;
  for (let i = key.indexOf("/"); i !== -1; i = key.indexOf("/", i + 1)) n++;
  return n;
}

/** Length of the JSON Pointer of the value being read in `parent`. */
function childPathLength(parent: Frame): number {
  return (
    parent.pathLength +
    1 +
    (parent.isArray ? String(parent.count - 1).length : escapedLength(parent.key))
  );
}
