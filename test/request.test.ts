import { describe, expect, it } from "vitest";
import { InterlockError } from "../src/errors.ts";
import { parseRequest, validateRequestValue } from "../src/request/parse.ts";
import { ttlSeconds } from "../src/request/schema.ts";

const valid = `action: db.export
resource: postgres://prod/customers
params:
  query: select 1
reason: Weekly churn analysis
requester:
  id: agent:etl-bot
  kind: agent
  on_behalf_of: alice
ttl: 24h
`;

function problemOf(text: string, opts = {}): InterlockError {
  try {
    parseRequest(text, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(InterlockError);
    return err as InterlockError;
  }
  throw new Error("expected the request to be rejected");
}

describe("parseRequest", () => {
  it("accepts a valid YAML request and freezes it", () => {
    const r = parseRequest(valid);
    expect(r.action).toBe("db.export");
    expect(r.requester.on_behalf_of).toBe("alice");
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen(r.params)).toBe(true);
  });

  it("accepts the same request as JSON, with tab indentation", () => {
    const json = JSON.stringify(parseRequest(valid), null, "\t");
    expect(parseRequest(json)).toEqual(parseRequest(valid));
  });

  it("rejects malformed YAML with the line and exit code 2", () => {
    const e = problemOf("action: db.export\nparams: [1, 2\nreason: x\n");
    expect(e.code).toBe("request.invalid");
    expect(e.exitCode).toBe(2);
    expect(e.problems[0]?.line).toBeGreaterThan(1);
  });

  it("rejects a YAML alias bomb without expanding it", () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
      "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
    ].join("\n");
    const e = problemOf(bomb);
    expect(e.message).toMatch(/aliases/);
    expect(e.problems[0]?.line).toBe(2);
  });

  it("rejects duplicate keys, naming the line", () => {
    const e = problemOf(valid + "action: iam.grant\n");
    expect(e.message).toMatch(/duplicate key/);
    expect(e.problems[0]?.line).toBe(11);
  });

  it("rejects duplicate keys in JSON too", () => {
    const e = problemOf('{"action": "db.query", "action": "iam.grant"}');
    expect(e.message).toMatch(/duplicate key/);
  });

  it.each(["__proto__", "constructor", "prototype"])("rejects a %s key anywhere", (key) => {
    const e = problemOf(
      valid.replace("  query: select 1", `  nested:\n    ${key}: {polluted: true}`),
    );
    expect(e.message).toContain(key);
    expect(e.problems[0]?.line).toBe(5);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects __proto__ in JSON (where JSON.parse would create it)", () => {
    const e = problemOf('{"params": {"__proto__": {"polluted": true}}}');
    expect(e.message).toContain("__proto__");
  });

  it("rejects unknown top-level keys, listing the allowed ones", () => {
    const e = problemOf(valid + "reasn: typo\n");
    expect(e.problems).toEqual([
      expect.objectContaining({
        field: "/reasn",
        line: 11,
        message: expect.stringContaining("reason"),
      }),
    ]);
  });

  it("rejects unknown keys inside requester", () => {
    const e = problemOf(valid.replace("  kind: agent", "  kind: agent\n  role: admin"));
    expect(e.problems[0]?.field).toBe("/requester/role");
  });

  it("names each field of the wrong type", () => {
    const e = problemOf(
      "action: DB Export\nresource: 42\nreason: ''\nrequester:\n  id: a\n  kind: robot\nttl: tomorrow\n",
    );
    const fields = e.problems.map((p) => p.field).sort();
    expect(fields).toEqual(["/action", "/reason", "/requester/kind", "/resource", "/ttl"]);
    expect(e.problems.find((p) => p.field === "/resource")?.line).toBe(2);
  });

  it("names missing fields as required", () => {
    const e = problemOf("action: db.query\n");
    expect(e.problems).toEqual(
      expect.arrayContaining([
        { field: "/resource", line: undefined, message: "is required" },
        { field: "/reason", line: undefined, message: "is required" },
        { field: "/requester", line: undefined, message: "is required" },
      ]),
    );
  });

  it("rejects an over-size document before parsing it", () => {
    const big = valid + `padding: "${"x".repeat(2000)}"\n`;
    const e = problemOf(big, { maxBytes: 1000 });
    expect(e.code).toBe("request.too_large");
    expect(e.exitCode).toBe(2);
  });

  it("rejects explicit tags, non-finite numbers and over-deep nesting", () => {
    expect(problemOf(valid.replace("select 1", "!!binary aGk=")).message).toMatch(/tags/);
    expect(problemOf(valid.replace("select 1", ".inf")).message).toMatch(/finite/);
    const deep = "[".repeat(100) + "]".repeat(100);
    expect(problemOf(valid.replace("select 1", deep)).message).toMatch(/nested deeper/);
  });

  it("rejects several documents and empty input", () => {
    expect(problemOf(valid + "---\n" + valid).message).toMatch(/more than one/);
    expect(problemOf("").message).toMatch(/a request must be a mapping|empty/);
    expect(problemOf("- a\n- b\n").message).toMatch(/a request must be a mapping/);
  });

  it("never quotes the input's values in errors", () => {
    const secretish = "hunter2-correct-horse-battery";
    const e = problemOf(
      `action: db.query\nresource: [${secretish}]\nreason: x\nrequester: {id: a, kind: ${secretish}}\n`,
    );
    expect(e.message).not.toContain(secretish);
    expect(JSON.stringify(e.toJSON())).not.toContain(secretish);
  });

  it("validates an already-parsed value with the same rules", () => {
    const value = JSON.parse(
      '{"action":"db.query","resource":"r","reason":"r","requester":{"id":"a","kind":"human"},"params":{"__proto__":1}}',
    );
    expect(() => validateRequestValue(value)).toThrow(/__proto__/);
  });
});

describe("ttlSeconds", () => {
  it("adds up units", () => {
    expect(ttlSeconds("24h")).toBe(86400);
    expect(ttlSeconds("1h30m")).toBe(5400);
    expect(ttlSeconds("7d")).toBe(604800);
    expect(ttlSeconds("45s")).toBe(45);
  });
});
