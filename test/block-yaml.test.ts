import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse as parseYamlLibrary } from "yaml";
import { readBlockYaml } from "../src/request/block-yaml.ts";
import { FORBIDDEN_KEYS, parseRequest } from "../src/request/parse.ts";
import { InterlockError } from "../src/errors.ts";

/**
 * The one-pass block-YAML reader must never read a document differently from the YAML library
 * (a requester who found a difference could show the policy and the reviewer one request and
 * have another stored or run): whenever it gives a value, that value is the library's.
 */
function library(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseYamlLibrary(text, { prettyErrors: false }) };
  } catch {
    return { ok: false };
  }
}

const keys = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "a",
      "b",
      "name",
      "on",
      "yes",
      "no",
      "y",
      "null",
      "Null",
      "TRUE",
      "false",
      "_x",
      "k-1",
      "__proto__",
      "constructor",
      "1",
      "0x1F",
      "a b",
      "a:b",
      "-a",
      "? a",
      "<<",
      "~",
    ),
  },
  { weight: 12, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,6}$/) },
);

const values = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "1",
      "0",
      "007",
      "-1",
      "+1",
      "1.5",
      "1e3",
      ".inf",
      ".NaN",
      "0x1F",
      "0o17",
      "123456789012345",
      "1234567890123456789",
      "true",
      "True",
      "TRUE",
      "false",
      "null",
      "NULL",
      "~",
      "yes",
      "off",
      "a: b",
      "a:b",
      "a #b",
      "a#b",
      "http://x.example/p?q=1",
      "postgres://staging/customers",
      "text with  two spaces",
      "trailing ",
      "ends:",
      '"quoted"',
      '"with \\" escape"',
      '"a\\nb"',
      "'single'",
      "'it''s'",
      "'a\\b'",
      "[1, 2]",
      "{a: 1}",
      "&anchor x",
      "*alias",
      "!tag x",
      "|",
      ">",
      "- item",
      "@at",
      "`tick`",
      "%percent",
      "a, b (c) d=e+f@g%h",
    ),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9 _.,/@+=%():#'"\\-]{0,12}$/) },
  // Inside the subset, or nearly: plain text, integers, quoted text.
  { weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _.,/@+=%():-]{0,12}$/) },
  { weight: 2, arbitrary: fc.stringMatching(/^[0-9]{1,17}$/) },
  { weight: 2, arbitrary: fc.stringMatching(/^"[ -~]{0,8}"$|^'[ -~]{0,8}'$/) },
);

type Tree = { readonly [key: string]: Tree | string | undefined };

/** Mappings nested up to three levels, keys and values from the pools above. */
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.dictionary(
    keys,
    fc.oneof(
      { maxDepth: 3, depthSize: "small" },
      { weight: 4, arbitrary: values },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: tie("tree") },
    ),
    { minKeys: 1, maxKeys: 5 },
  ),
}));

/** Block YAML for a tree, `step` spaces per level (a nested empty mapping renders as `key:`). */
function render(t: Tree, step: number, indent = 0): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(t)) {
    const pad = " ".repeat(indent);
    if (value === undefined) out.push(`${pad}${key}:`);
    else if (typeof value === "string") out.push(`${pad}${key}: ${value}`);
    else out.push(`${pad}${key}:`, ...render(value, step, indent + step));
  }
  return out;
}

/** One line changed (or none): the near misses around the subset. */
const mutation = fc.record({
  line: fc.nat(),
  kind: fc.constantFrom(
    "none",
    "none",
    "none",
    "blank",
    "comment",
    "tab",
    "cr",
    "seq",
    "shift",
    "unshift",
    "dup",
  ),
});

function mutate(ls: string[], m: { line: number; kind: string }): string[] {
  const out = [...ls];
  const i = m.line % out.length;
  const l = out[i] as string;
  const body = l.trimStart();
  const pad = l.slice(0, l.length - body.length);
  switch (m.kind) {
    case "blank":
      out.splice(i, 0, "");
      break;
    case "comment":
      out.splice(i, 0, `${pad}# ${body}`);
      break;
    case "tab":
      out[i] = `${pad}\t${body}`;
      break;
    case "cr":
      out[i] = `${l}\r`;
      break;
    case "seq":
      out[i] = `${pad}- ${body}`;
      break;
    case "shift":
      out[i] = ` ${l}`;
      break;
    case "unshift":
      out[i] = l.slice(1);
      break;
    case "dup":
      out.splice(i, 0, l);
      break;
  }
  return out;
}

const documents = fc
  .tuple(tree, fc.integer({ min: 1, max: 4 }), mutation, fc.boolean())
  .map(([t, step, m, newline]) => mutate(render(t, step), m).join("\n") + (newline ? "\n" : ""));

describe("block YAML reader", () => {
  it("as the requester, no generated document is read differently from the YAML library", () => {
    let read = 0;
    fc.assert(
      fc.property(documents, (text) => {
        const fast = readBlockYaml(text, FORBIDDEN_KEYS);
        if (fast === undefined) return;
        read++;
        const lib = library(text);
        expect(lib.ok).toBe(true);
        if (lib.ok) expect(fast).toStrictEqual(lib.value);
      }),
      { numRuns: 4000, seed: 7 },
    );
    // The generator reaches the subset often enough for the comparison to mean something.
    expect(read).toBeGreaterThan(400);
  });

  it("as the requester, forms outside the subset are left to the YAML library", () => {
    const outside = [
      "a: True",
      "a: 0x1F",
      "a: 1e3",
      "a: ~",
      "a: 007",
      "a: -1",
      "a: x # comment",
      "a: x\n  continued",
      "a: 'it''s'",
      '"a": 1',
      "a:\n- x",
      "a: 1\na: 2",
      "__proto__: 1",
      "a: 1\r\nb: 2",
      "a:\tb",
      "  a: 1",
      "a:\n    b: 1\n  c: 2",
      "a: é",
      "true: 1",
      "a: trailing ",
      "a: b: c",
      "--- \na: 1",
    ];
    for (const text of outside) expect(readBlockYaml(text, FORBIDDEN_KEYS), text).toBeUndefined();
  });

  it("reads nested mappings, null values and every scalar form of the subset", () => {
    const text = [
      "action: db.export",
      "resource: postgres://staging/customers",
      "reason: weekly report, (see TICKET-1) for ops@example",
      "requester:",
      '  id: "agent:etl # bot"',
      "  kind: agent",
      "params:",
      "  empty:",
      "  nested:",
      "      deep: 'single \\ quoted'",
      "      n: 123456789012345",
      "  flags:",
      "    a: true",
      "    b: false",
      "    c: null",
      "",
    ].join("\n");
    const fast = readBlockYaml(text, FORBIDDEN_KEYS);
    expect(fast).toStrictEqual(parseYamlLibrary(text));
  });

  it("a request the reader takes is the same request the YAML path gives, failures included", () => {
    const ok =
      "action: db.query\nresource: db/x\nreason: r\nrequester:\n  id: a\n  kind: agent\n  on_behalf_of: alice\nparams:\n  q: 1\n";
    const viaLibrary = ok + "# a comment sends it through the YAML library\n";
    expect(parseRequest(ok)).toStrictEqual(parseRequest(viaLibrary));
    // A request that fails a check is read again by the YAML library, for its line numbers.
    const bad = ok.replace("kind: agent", "kind: robot");
    let message = "";
    try {
      parseRequest(bad);
    } catch (err) {
      expect(err).toBeInstanceOf(InterlockError);
      message = String(err);
    }
    expect(message).toMatch(/line 6/);
  });
});
