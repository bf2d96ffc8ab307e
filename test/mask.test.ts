import { describe, expect, it } from "vitest";
import { maskDocument, maskText, type MaskRule } from "../src/masking/mask.ts";
import { scan } from "../src/masking/scan.ts";
import { hashToken, partialTail } from "../src/masking/strategies.ts";
import type { Finding } from "../src/masking/types.ts";

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(9);
const email = "jane.doe@example.com";
const query = `select * from customers where email = '${email}' limit 10`;
const doc = {
  action: "db.export",
  resource: "postgres://prod/customers",
  params: {
    query,
    destination: "s3://analytics-exports/churn/",
    card_holder: "Jane Doe",
    list: ["a", email],
  },
  reason: "Weekly churn analysis",
  requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice@example.com" },
};
const findings = (): Finding[] => scan(doc);
const mask = (rules: MaskRule[], d: unknown = doc, f = scan(d)) =>
  maskDocument(d, f, rules, { hmacKey: key });
const json = (v: unknown) => JSON.stringify(v);

describe("maskDocument", () => {
  it("masks only the span inside a longer string, keeping the query's shape", () => {
    const r = mask([{ path: "/params/query", strategy: "redact" }]);
    const out = r.value as typeof doc;
    expect(out.params.query).toBe("select * from customers where email = '[email]' limit 10");
    expect(r.applied).toContainEqual(
      expect.objectContaining({
        path: "/params/query",
        type: "email",
        strategy: "redact",
        reason: "policy",
      }),
    );
  });

  it("masks every finding even when the policy names none (default redact)", () => {
    const r = mask([]);
    expect(json(r.value)).not.toContain(email);
    expect(r.applied.filter((a) => a.reason === "default").length).toBeGreaterThanOrEqual(2);
  });

  it("hash tokens are stable for one key and differ across keys", () => {
    const a = mask([{ path: "/params", strategy: "hash" }]).value as typeof doc;
    const b = mask([{ path: "/params", strategy: "hash" }]).value as typeof doc;
    const token = `[email:${hashToken("email", email, key)}]`;
    expect(a.params.query).toContain(token);
    expect(a.params.list[1]).toBe(token);
    expect(b.params.query).toBe(a.params.query);
    const c = maskDocument(doc, findings(), [{ path: "/params", strategy: "hash" }], {
      hmacKey: otherKey,
    }).value as typeof doc;
    expect(c.params.query).not.toBe(a.params.query);
  });

  it("partial keeps a short tail only", () => {
    expect(partialTail("4242 4242 4242 4242")).toBe("4242");
    expect(partialTail("ab")).toBe("");
    const r = mask([{ path: "/params/list/1", strategy: "partial" }]).value as typeof doc;
    expect(r.params.list[1]).toMatch(/^\[email …[a-z]{1,4}\]$/);
  });

  it("drop removes the field or array element", () => {
    const r = mask([{ path: "/params/list/1", strategy: "drop" }]).value as typeof doc;
    expect(r.params.list).toEqual(["a"]);
    const r2 = mask([{ path: "/params/query", strategy: "drop" }]).value as Record<
      string,
      Record<string, unknown>
    >;
    expect(r2.params).not.toHaveProperty("query");
  });

  it("a rule on a field without findings masks the whole field", () => {
    const r = mask([{ path: "/params/card_holder", strategy: "redact" }]);
    expect((r.value as typeof doc).params.card_holder).toBe("[redacted]");
    expect(r.applied).toContainEqual(
      expect.objectContaining({ path: "/params/card_holder", type: "value", kind: "field" }),
    );
  });

  it("the stronger strategy wins when rules overlap", () => {
    const r = mask([
      { path: "/params", strategy: "partial" },
      { path: "/params/query", strategy: "redact" },
    ]).value as typeof doc;
    expect(r.params.query).toContain("[email]");
  });

  it("never shows a secret partially, whatever the policy says", () => {
    const secretDoc = { params: { note: "use password=Tr0ub4dor&3xyzQ7 for the replica" } };
    const f = scan(secretDoc);
    expect(f.some((x) => x.kind === "secret")).toBe(true);
    const r = maskDocument(secretDoc, f, [{ path: "/params/note", strategy: "partial" }], {
      hmacKey: key,
    });
    expect(json(r.value)).not.toContain("Tr0ub4dor");
    expect(r.applied).toContainEqual(
      expect.objectContaining({ reason: "secret-safety-net", strategy: "redact" }),
    );
  });

  it("masks sensitive object keys, keeping keys distinct", () => {
    const keyed = { params: { [email]: 1, ["john.roe@example.com"]: 2 } };
    const r = maskDocument(keyed, scan(keyed), [], { hmacKey: key });
    const out = json(r.value);
    expect(out).not.toContain("@example.com");
    expect(Object.keys((r.value as { params: object }).params)).toHaveLength(2);
  });

  it("keeps identity fields readable and ignores policy rules on them", () => {
    const r = mask([{ path: "/requester", strategy: "drop" }]);
    expect((r.value as typeof doc).requester.on_behalf_of).toBe("alice@example.com");
    expect(r.ignoredRules[0]?.why).toMatch(/identity/);
  });

  it("ignores rules for absent paths and for the whole document, saying why", () => {
    const r = mask([
      { path: "/params/nope", strategy: "drop" },
      { path: "", strategy: "drop" },
    ]);
    expect(r.ignoredRules.map((x) => x.why)).toEqual([
      "no such field in the request",
      "a rule cannot mask the whole request",
    ]);
  });

  it("does not modify its input", () => {
    const before = json(doc);
    mask([{ path: "/params", strategy: "drop" }]);
    expect(json(doc)).toBe(before);
  });
});

describe("maskDocument on parts with nothing to mask", () => {
  const token = "ghp_" + "x1Y2z3".repeat(6);
  const nested = { a: { b: [{ [`${token} note`]: "plain" }], c: "text" }, d: [1, "two", null] };

  it("as the requester, a secret in a key below any finding is still masked when copied", () => {
    // No findings passed: the whole document is copied without paths, and keys must still
    // take their safe names there (a key that holds a value never reaches the output in clear).
    const r = maskDocument(nested, [], [], { hmacKey: key });
    expect(json(r.value)).not.toContain(token);
    expect(json(r.value)).toContain("[github_token] note");
  });

  it("copies untouched parts with the same values and shapes, and never shares them", () => {
    const f = scan(nested);
    const r = maskDocument(nested, f, [], { hmacKey: key });
    const out = r.value as typeof nested;
    expect(out.d).toStrictEqual([1, "two", null]);
    expect(out.d).not.toBe(nested.d);
    expect(out.a.c).toBe("text");
    expect(json(out)).not.toContain(token);
  });
});

describe("maskText", () => {
  it("redacts detected spans in free text such as error messages", () => {
    expect(maskText(`cannot export ${email} to the bucket`)).toBe(
      "cannot export [email] to the bucket",
    );
    expect(maskText("nothing to hide")).toBe("nothing to hide");
  });
});

describe("typed mask rules", () => {
  it("apply per finding type inside one string", () => {
    const d = { params: { q: "email = 'jane.doe@example.com' or phone = '+1 202-555-0143'" } };
    const r = maskDocument(
      d,
      scan(d),
      [
        { path: "/params/q", strategy: "hash", type: "email" },
        { path: "/params/q", strategy: "partial", type: "phone" },
      ],
      { hmacKey: key },
    );
    const q = (r.value as typeof d).params.q;
    expect(q).toMatch(/email = '\[email:[0-9a-f]{12}\]'/);
    expect(q).toMatch(/phone = '\[phone …\d{1,4}\]'/);
  });

  it("a typed rule never masks a whole field", () => {
    const d = { params: { name: "Jane Doe" } };
    const r = maskDocument(
      d,
      scan(d),
      [{ path: "/params/name", strategy: "redact", type: "email" }],
      { hmacKey: key },
    );
    expect(r.value).toEqual(d);
  });
});
