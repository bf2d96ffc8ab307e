/**
 * Attacks on what masking writes down besides the masked document: paths (findings, masks,
 * the decision), the policy's own text, numbers, and secrets split into parts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { decideAndMask, type DecideContext } from "../src/decide.ts";
import type { InterlockError } from "../src/errors.ts";
import { maskDocument } from "../src/masking/mask.ts";
import { scan } from "../src/masking/scan.ts";
import { defaultPoliciesDir } from "../src/policy/bundle.ts";
import type { Decision } from "../src/policy/decision.ts";
import { loadPolicyEngine, type PolicyEngine, type PolicyInput } from "../src/policy/engine.ts";
import { renderCard, renderCardMarkdown } from "../src/proposal/card.ts";
import { renderRequestFile, requestRecord } from "../src/proposal/request-file.ts";
import { validateRequestValue } from "../src/request/parse.ts";

const hmacKey = new Uint8Array(32).fill(3);
const now = new Date("2026-11-24T10:00:00Z");

// Obviously fake, assembled at run time.
const urlPassword = "Zq" + "7".repeat(3) + "Pa~ssw0rd~Qx";
const urlKey = `https://admin:${urlPassword}@db.example.com/x`;
const awsSecret = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY" + "EXAMPLEKEY";
const awsKeyName = `aws_secret_access_key=${awsSecret}`;
const githubToken = "gh" + "p_" + "Ab3".repeat(12);
const pemBody = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + "k+Ab/Cd".repeat(6);
const begin = `-----BEGIN ${"PRIVATE"} KEY-----`;
const end = `-----END ${"PRIVATE"} KEY-----`;

function raw(params: Record<string, unknown>, reason = "routine maintenance") {
  return {
    action: "db.export",
    resource: "postgres://prod/customers",
    params,
    reason,
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
  };
}
const request = (params: Record<string, unknown>, reason?: string) =>
  validateRequestValue(raw(params, reason));

/** Everything a filed request writes or prints: --json, both cards, the request file. */
function everything(ev: ReturnType<typeof decideAndMask>): string {
  const file = renderRequestFile(requestRecord("01JDQ0000000000000000000AA", now, ev, null));
  return [JSON.stringify(ev), renderCard(ev), renderCardMarkdown(ev), file].join("\n");
}

/** Neither the value, nor its pointer-escaped or JSON-escaped form, nor any 8-character piece of it. */
function expectAbsent(text: string, values: readonly string[]): void {
  for (const v of values) {
    const forms = [v, v.replace(/~/g, "~0").replace(/\//g, "~1"), JSON.stringify(v).slice(1, -1)];
    for (const f of forms) {
      for (let i = 0; i + 8 <= f.length; i++) {
        const piece = f.slice(i, i + 8);
        expect(text.includes(piece), `leaked: ${piece.slice(0, 3)}…`).toBe(false);
      }
    }
  }
}

/** A policy double: allows, and answers with what the test gives it. */
function engineSaying(extra: (input: PolicyInput) => Partial<Decision>): PolicyEngine {
  return {
    revision: "test",
    executableParams: () => [],
    sql: null,
    decide: (input) => ({
      allow: true,
      deny: [],
      risk: "high",
      classification: [],
      auto_approve: false,
      approvals: { groups: [{ name: "stewards", owners: ["dana"], min: 1 }] },
      mask: [],
      ttl_seconds: 3600,
      why: [],
      revision: "test",
      ...extra(input),
    }),
  };
}

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine(defaultPoliciesDir());
});
const ctx = (e: PolicyEngine = engine): DecideContext => ({ engine: e, now, repo: null, hmacKey });

describe("keys and paths", () => {
  it("as the requester, a password in a URL used as an object key appears in no path", () => {
    const ev = decideAndMask(request({ targets: { [urlKey]: { rows: 1 } } }), ctx());
    expect(ev.findings.length).toBeGreaterThan(0);
    expectAbsent(everything(ev), [urlPassword]);
  });

  it("as the requester, a cloud secret with slashes in a key appears in no path", () => {
    const ev = decideAndMask(request({ [awsKeyName]: true }), ctx());
    expect(ev.masks.some((m) => m.in === "key")).toBe(true);
    expectAbsent(everything(ev), [awsSecret]);
  });

  it("as the requester, keys that mask alike stay distinct, with distinct paths", () => {
    const keys = { [githubToken]: 1, ["gh" + "p_" + "Zz9".repeat(12)]: 2, "[github_token]": 3 };
    const ev = decideAndMask(request({ keys }), ctx());
    const masked = (ev.request.params as { keys: Record<string, number> }).keys;
    expect(Object.keys(masked).sort()).toEqual([
      "[github_token]",
      "[github_token] #2",
      "[github_token] #3",
    ]);
    // The key a requester wrote as text keeps its value; the masked ones are told apart.
    expect(masked["[github_token]"]).toBe(3);
    const paths = ev.masks.filter((m) => m.in === "key").map((m) => m.path);
    expect(new Set(paths).size).toBe(2);
    expectAbsent(everything(ev), [githubToken]);
  });

  it("as the requester, a policy that quotes keys in its reasons and mask paths cannot write them", () => {
    const e = engineSaying((input) => {
      const keys = Object.keys(input.request.params as object);
      return {
        why: keys.map((k) => `saw key ${k}`),
        mask: keys.map((k) => ({
          path: `/params/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`,
          strategy: "drop" as const,
        })),
      };
    });
    const ev = decideAndMask(request({ [urlKey]: "x", [awsKeyName]: "y", plain: "z" }), ctx(e));
    expectAbsent(everything(ev), [urlPassword, awsSecret]);
    // The rules still applied, through the safe names: the fields are gone.
    expect(Object.keys(ev.request.params as object)).toEqual([]);
    expect(ev.decision.mask.map((m) => m.path)).toContain("/params/plain");
  });

  it("as the requester, a customer name masked by policy path and quoted in a reason is not stored", () => {
    const name = "Jane " + "Quixote-Example";
    const e = engineSaying((input) => ({
      mask: [{ path: "/params/customer", strategy: "redact" as const }],
      why: [`export for ${(input.request.params as { customer: string }).customer}`],
      approvals: {
        groups: [
          {
            name: `owner of ${(input.request.params as { customer: string }).customer}`,
            owners: ["dana"],
            min: 1,
          },
        ],
      },
    }));
    const ev = decideAndMask(request({ customer: name }), ctx(e));
    expect((ev.request.params as { customer: string }).customer).toBe("[redacted]");
    expectAbsent(everything(ev), [name]);
    expect(ev.decision.why[0]).toBe("export for [redacted]");
  });
});

describe("errors", () => {
  it("as the requester, a secret in an unknown or malformed key appears in no parse error", () => {
    const bad = [
      { ...raw({}), [urlKey]: 1 }, // unknown top-level key
      { ...raw({}), requester: { id: "a", kind: "agent", [awsKeyName]: 1 } },
      raw({ [urlKey]: { [awsKeyName]: Number.NaN } }),
    ];
    for (const value of bad) {
      let text = "";
      try {
        validateRequestValue(value);
      } catch (err) {
        text = JSON.stringify((err as InterlockError).toJSON()) + (err as Error).message;
      }
      expect(text).not.toBe("");
      expectAbsent(text, [urlPassword, awsSecret]);
    }
  });
});

describe("numbers and split secrets", () => {
  const cardNumber = Number("4111" + "1111" + "1111" + "1111");
  const phoneNumber = Number("1202" + "555" + "0147");

  it("as the requester, a card number given as a JSON number is found and masked", () => {
    const doc = { params: { amount: 12, card: cardNumber, phone: phoneNumber } };
    const f = scan(doc);
    expect(f.map((x) => x.type)).toEqual(expect.arrayContaining(["payment_card", "phone"]));
    const out = maskDocument(doc, f, [], { hmacKey }).value as { params: Record<string, unknown> };
    expect(out.params.card).toBe("[payment_card]");
    expect(typeof out.params.phone).toBe("string");
    expect(out.params.amount).toBe(12);
    expect(JSON.stringify(out)).not.toContain(String(cardNumber));
  });

  it("as the requester, a private key split into one array element per line is masked in every part", () => {
    const lines = [begin, ...pemBody.match(/.{1,16}/g)!, end];
    const ev = decideAndMask(request({ note: "key follows", key: lines }), ctx());
    const out = (ev.request.params as { key: string[] }).key;
    expect(out.every((l) => /^\[private_key\]$/.test(l))).toBe(true);
    for (const part of lines.slice(1, -1)) expect(everything(ev)).not.toContain(part);
  });

  it("as the requester, a private key cut off before its END line is masked to the end (fail closed)", () => {
    const lines = ["harmless", begin, pemBody.slice(0, 30), pemBody.slice(30)];
    const out = maskDocument({ k: lines }, scan({ k: lines }), [], { hmacKey }).value as {
      k: string[];
    };
    expect(out.k[0]).toBe("harmless");
    expect(out.k.slice(1)).toEqual(["[private_key]", "[private_key]", "[private_key]"]);
    const one = `text ${begin}\n${pemBody}`;
    const single = maskDocument({ k: one }, scan({ k: one }), [], { hmacKey }).value as {
      k: string;
    };
    expect(single.k).toBe("text [private_key]");
  });

  it("as the requester, a token cut in two array elements is masked in both", () => {
    const parts = ["harmless words", githubToken.slice(0, 14), githubToken.slice(14), "; more"];
    const out = maskDocument({ p: parts }, scan({ p: parts }), [], { hmacKey }).value as {
      p: string[];
    };
    expect(out.p[0]).toBe("harmless words");
    expect(out.p[3]).toBe("; more");
    expect(out.p[1]).toContain("[github_token]");
    expect(out.p[2]).toContain("[github_token]");
  });

  it("words next to an e-mail address in an array stay readable", () => {
    const parts = ["a", "jane.doe@example.com"];
    const out = maskDocument({ p: parts }, scan({ p: parts }), [], { hmacKey }).value as {
      p: string[];
    };
    expect(out.p).toEqual(["a", "[email]"]);
  });
});
