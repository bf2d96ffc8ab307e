import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDocument, stringify } from "yaml";
import { readYamlSubset } from "../src/proposal/yaml-subset.ts";
import {
  parseRequestFile,
  renderRequestFile,
  requestRecord,
} from "../src/proposal/request-file.ts";
import type { Evaluation } from "../src/decide.ts";

/**
 * The one-pass reader of Interlock's own YAML must never read a document differently from the
 * YAML library as the request-file parser calls it (a writer who found a difference could have
 * the gate and the audit read a request file differently from every other reader): whenever it
 * gives a value, the library reads the same value, without errors.
 */
function library(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length > 0) return { ok: false };
    return { ok: true, value: doc.toJS({ maxAliasCount: 0 }) };
  } catch {
    return { ok: false };
  }
}

function agrees(text: string): boolean {
  const fast = readYamlSubset(text);
  if (fast === undefined) return true;
  const lib = library(text);
  expect(lib.ok, `the library refuses what the reader read:\n${text}`).toBe(true);
  expect(same(fast, (lib as { value: unknown }).value), text).toBe(true);
  return true;
}

/** Deep equality of plain data, prototypes and key order included (own keys like "constructor" too). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null)
    return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => {
    const da = Object.getOwnPropertyDescriptor(a, k)!;
    const db = Object.getOwnPropertyDescriptor(b, k)!;
    return da.enumerable === db.enumerable && same(da.value, db.value);
  });
}

const tricky = fc.constantFrom(
  "",
  " ",
  "a",
  "1",
  "0",
  "-0",
  "007",
  "-1",
  "+1",
  "1.5",
  "1.",
  ".5",
  "1e3",
  ".inf",
  "-.Inf",
  ".NaN",
  "0x1F",
  "0o17",
  "123456789012345",
  "1234567890123456789",
  "true",
  "True",
  "false",
  "null",
  "NULL",
  "Null",
  "~",
  "yes",
  "off",
  "a: b",
  "a:b",
  "a:",
  "a #b",
  "a#b",
  "#a",
  "...",
  "---",
  "- a",
  "-a",
  "? a",
  "?a",
  ":a",
  "http://x.example/p?q=1",
  "select id from t where e = '[email:7fe5]' or p = '[phone …43]'",
  "text with  two spaces",
  "trailing ",
  " leading",
  'say "hi"',
  "it's",
  "back\\slash",
  "line\nbreak",
  "two\n\nbreaks\n",
  "tab\there",
  "cr\rhere",
  "nel\u0085x",
  "ls\u2028x",
  "nbsp\u00a0x",
  "bom\ufeffx",
  "é accent",
  "emoji 😀",
  "lone \ud800 surrogate",
  "ctrl \u0001",
  "del \u007f",
  "[1, 2]",
  "{a: 1}",
  "&anchor x",
  "*alias",
  "!tag x",
  "|",
  "|-",
  ">",
  "@at",
  "`tick`",
  "%percent",
  "a, b (c) d=e+f@g%h",
  "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\nLS0t\n-----END AGE ENCRYPTED FILE-----\n",
  "  indented\nblock\n",
  "ends with two\n\n",
);

const strings = fc.oneof(
  { weight: 4, arbitrary: tricky },
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }) },
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _.,/@+=%():'"\\#[\]{}-]{0,14}$/) },
);

const keys = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,6}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "null",
      "true",
      "__proto__",
      "constructor",
      "1",
      "a b",
      "a:b",
      "-a",
      "<<",
      "~",
      "",
      "é",
    ),
  },
  { weight: 1, arbitrary: strings },
);

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthSize: "small" },
    { weight: 5, arbitrary: strings },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double({ noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
    { weight: 2, arbitrary: fc.array(tie("value"), { maxLength: 4 }) },
    { weight: 3, arbitrary: fc.dictionary(keys, tie("value"), { maxKeys: 5 }) },
  ),
}));

const documents = fc.dictionary(keys, value, { minKeys: 1, maxKeys: 6 });

/** The near misses around the subset: one edit of one line (or none). */
const mutation = fc.record({
  line: fc.nat(),
  at: fc.nat(),
  kind: fc.constantFrom(
    "none",
    "none",
    "blank",
    "spaces",
    "comment",
    "trailing",
    "tab",
    "seq",
    "shift",
    "unshift",
    "dup",
    "drop",
    "char",
  ),
  char: fc.constantFrom(":", " ", "#", "-", '"', "'", "\\", "|", "[", "&", "\t", "…", "\u00a0"),
});

function mutate(text: string, m: { line: number; at: number; kind: string; char: string }) {
  const ls = text.split("\n");
  const i = m.line % ls.length;
  const l = ls[i]!;
  const body = l.trimStart();
  const pad = l.slice(0, l.length - body.length);
  switch (m.kind) {
    case "blank":
      ls.splice(i, 0, "");
      break;
    case "spaces":
      ls.splice(i, 0, "    ");
      break;
    case "comment":
      ls.splice(i, 0, `${pad}# ${body}`);
      break;
    case "trailing":
      ls[i] = `${l} # c`;
      break;
    case "tab":
      ls[i] = `${pad}\t${body}`;
      break;
    case "seq":
      ls[i] = `${pad}- ${body}`;
      break;
    case "shift":
      ls[i] = ` ${l}`;
      break;
    case "unshift":
      ls[i] = l.slice(1);
      break;
    case "dup":
      ls.splice(i, 0, l);
      break;
    case "drop":
      ls.splice(i, 1);
      break;
    case "char": {
      const at = m.at % (l.length + 1);
      ls[i] = l.slice(0, at) + m.char + l.slice(at);
      break;
    }
  }
  return ls.join("\n");
}

describe("readYamlSubset", () => {
  it("reads rendered documents as the YAML library does, or leaves them to it", () => {
    let read = 0;
    let runs = 0;
    fc.assert(
      fc.property(documents, fc.boolean(), (doc, header) => {
        const text =
          (header ? "# a header\n# two lines\n" : "") +
          stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
        runs++;
        if (readYamlSubset(text) !== undefined) read++;
        return agrees(text);
      }),
      { numRuns: 3000 },
    );
    // Not a vacuous agreement: the reader reads a good share of them itself.
    expect(read / runs).toBeGreaterThan(0.1);
  });

  it("never reads a near miss differently from the YAML library", () => {
    fc.assert(
      fc.property(documents, mutation, mutation, (doc, m1, m2) => {
        const text = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
        return agrees(mutate(mutate(text, m1), m2));
      }),
      { numRuns: 5000 },
    );
  });

  it("never reads hand-written edge cases differently", () => {
    const cases = [
      "a: 1\n",
      "a: 1",
      "a: hello\n  world\n",
      "a:\n- x\n",
      "a:\n  - x\n  -  y\n",
      "a:\n  - - x\n",
      "a:\n  -\n    b: 1\n",
      "a: |\n  x\n\n  y\n",
      "a: |\n  x\n   y\n",
      "a: |\n    x\n  y\n",
      "a: |+\n  x\n",
      "a: |2\n   x\n",
      "a: >\n  x\n",
      "a: |-\n  x\n",
      "a:\n  b: |\n    x\n  c: 1\n",
      "a: 'it''s'\n",
      "a: 'it's'\n",
      'a: "x\\u00e9\\x41\\n"\n',
      'a: "x\\ud800"\n',
      'a: "x\\N"\n',
      'a: "x" \n',
      'a: "x" # c\n',
      "a: x # c\n",
      "a: x#c\n",
      "a: b: c\n",
      "a: []\nb: {}\n",
      "a: [1]\n",
      "a: 1\na: 2\n",
      "__proto__: 1\n",
      "constructor: 1\ntoString: 2\n",
      "---\na: 1\n",
      "a: 1\n...\n",
      "# c\na: 1\n# d\n",
      "  a: 1\n",
      "a:\n  b: 1\n c: 2\n",
      "a:\n   b: 1\n  c: 2\n",
      `${"k".repeat(200)}: 1\n`,
      "a: 2025-01-01T00:05:00.000Z\n",
      "a: 1_000\n",
      "a: -5\nb: -0\nc: 0\n",
      "a: 12345678901234567\n",
    ];
    for (const text of cases) agrees(text);
    // Some of them are in the subset, and read as the library reads them.
    expect(readYamlSubset("a: 1\nb: 'it''s'\nc: |-\n  x\n")).toStrictEqual({
      a: 1,
      b: "it's",
      c: "x",
    });
  });

  it("reads the request files Interlock writes (the audit's fast path), as the library does", () => {
    // The shape of a real evaluation (test/fixtures' db.export request, decided and masked).
    const ev = {
      request: {
        action: "db.export",
        resource: "postgres://prod/customers",
        params: {
          query:
            "select id from customers where email = '[email:7fe57a683741]' or phone = '[phone …43]'",
          destination: "s3://partner-share/churn/2026-11/",
          format: "parquet",
          limit: 10,
          nested: [{ a: 1 }, "x", [1, 2], {}],
        },
        reason: "Quarterly sample for the partner's study",
        requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
        ttl: "4h",
      },
      findings: [{ type: "email", kind: "pii", path: "/params/query", in: "value" }],
      masks: [
        {
          path: "/params/query",
          in: "value",
          type: "email",
          kind: "pii",
          strategy: "hash",
          reason: "policy",
        },
      ],
      decision: {
        allow: true,
        deny: [],
        risk: "critical",
        classification: ["pii"],
        auto_approve: false,
        approvals: {
          groups: [
            { name: "data-stewards", owners: ["@acme/data-stewards"], min: 1 },
            { name: "security", owners: ["@acme/security"], min: 1 },
          ],
        },
        mask: [{ path: "/params/query", strategy: "hash", type: "email" }],
        ttl_seconds: 14400,
        why: [
          "db.export is catalogued as high risk (owner data-stewards)",
          "the resource is production (prod): risk at least medium",
        ],
        revision: "sha256:6360fa02c9609e219aae0f8a1b800387bfd031dfb8e4f2f942fb92e6b0ed5901",
      },
    } as unknown as Evaluation;
    const sealed = {
      format: "age" as const,
      recipients: ["age1xyz"],
      ciphertext: "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n",
      digest: "sha256:00",
    };
    const text = renderRequestFile(
      requestRecord("01JGFJW3Z04YJTDYAYDHMY9NXJ", new Date(0), ev, sealed),
    );
    const fast = readYamlSubset(text);
    expect(fast, "a rendered request file falls outside the fast path").toBeDefined();
    expect(same(fast, (library(text) as { value: unknown }).value)).toBe(true);
    expect("record" in parseRequestFile(text)).toBe(true);
  });
});
