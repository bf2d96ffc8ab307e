/**
 * Proof that nothing leaks: thousands of generated requests with planted secrets and personal
 * data (in keys, values, nested arrays, and inside longer strings) go through the whole
 * decide-and-mask path; no planted value may appear in the masked request, the approval card,
 * or the serialized request file.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { decideAndMask } from "../src/decide.ts";
import { shannonEntropy } from "../src/masking/entropy.ts";
import { maskDocument } from "../src/masking/mask.ts";
import { scan } from "../src/masking/scan.ts";
import { newAgeIdentity, seal } from "../src/masking/seal.ts";
import { defaultPoliciesDir } from "../src/policy/bundle.ts";
import { loadPolicyEngine, type PolicyEngine } from "../src/policy/engine.ts";
import { renderCard } from "../src/proposal/card.ts";
import { renderRequestFile, requestRecord } from "../src/proposal/request-file.ts";
import { validateRequestValue } from "../src/request/parse.ts";

// ---- generators of realistic (fake) sensitive values ----------------------------------------

const digits = (n: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: n, maxLength: n });
const fromAlphabet = (alphabet: string, min: number, max = min) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const B64URL = ALNUM + "-_";
const word = fromAlphabet("abcdefghijklmnopqrstuvwxyz", 3, 10);

function luhnComplete(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

function ibanGB(bank: string, rest: string): string {
  const bban = bank + rest;
  const numeric = (bban + "GB00").replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let mod = 0;
  for (const ch of numeric) mod = (mod * 10 + Number(ch)) % 97;
  return `GB${String(98 - mod).padStart(2, "0")}${bban}`;
}

const b64url = (s: string) => Buffer.from(s).toString("base64url");

/** A planted value and the key it is realistically found under (for key-context detectors). */
interface Planted {
  readonly value: string;
  readonly key?: string;
  /** How else it may be given: a token cut in two, a key one line per element, a number. */
  readonly form?: "token" | "pem" | "number";
  /** The text the value is given in (a command line, a netrc or pgpass line). */
  readonly around?: (value: string) => string;
}

const email = fc
  .tuple(word, word, fc.constantFrom("example.com", "example.org", "mail.example.net"))
  .map(([a, b, d]) => `${a}.${b}@${d}`);
const phone = fc
  .tuple(digits(3), digits(2))
  .map(([area, n]) => `+1 ${String(200 + (Number(area) % 700))}-555-01${n}`);
const card = fc
  .tuple(fc.constantFrom("4", "51", "37"), digits(14))
  .map(([p, rest]) => luhnComplete((p + rest).slice(0, p === "37" ? 14 : 15)));
const iban = fc
  .tuple(fromAlphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4), digits(14))
  .map(([b, r]) => ibanGB(b, r));
const ssn = fc
  .tuple(
    fc.integer({ min: 1, max: 665 }),
    fc.integer({ min: 1, max: 99 }),
    fc.integer({ min: 1, max: 9999 }),
  )
  .map(
    ([a, g, s]) =>
      `${String(a).padStart(3, "0")}-${String(g).padStart(2, "0")}-${String(s).padStart(4, "0")}`,
  );
const ipv4 = fc
  .tuple(
    fc.integer({ min: 11, max: 223 }),
    fc.nat(255),
    fc.nat(255),
    fc.integer({ min: 1, max: 254 }),
  )
  .map((o) => o.join("."));
const jwt = fc
  .tuple(fromAlphabet(B64URL, 10, 30), fromAlphabet(B64URL, 20, 43))
  .map(
    ([sub, sig]) => `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${sub}"}`)}.${sig}`,
  );
const awsKey = fromAlphabet(UPPER_ALNUM, 16).map((s) => "AKIA" + s);
const githubToken = fromAlphabet(ALNUM, 36).map((s) => "gh" + "p_" + s);
const stripeKey = fromAlphabet(ALNUM, 24).map((s) => "sk_" + "live_" + s);
const googleKey = fromAlphabet(B64URL, 35).map((s) => "AI" + "za" + s);
const slackToken = fc
  .tuple(digits(11), digits(12), fromAlphabet(ALNUM, 24))
  .map(([a, b, c]) => `xo${"xb"}-${a}-${b}-${c}`);
const privateKey = fromAlphabet(ALNUM + "+/", 64).map(
  (body) => `-----BEGIN ${"PRIVATE"} KEY-----\n${body}\n${body}\n-----END ${"PRIVATE"} KEY-----`,
);
// Starts with a letter or digit: "password=&x" would mean an empty value in a query string.
const genericSecret = fc
  .tuple(
    fc.tuple(fromAlphabet(ALNUM, 1), fromAlphabet(ALNUM + "!#%&*", 19, 39)).map(([a, b]) => a + b),
    fc.constantFrom("password", "api_key", "client_secret", "dbPassword", "auth_token"),
  )
  .filter(([v]) => new Set(v).size > 10)
  .map(([value, key]): Planted => ({ value, key }));

// Values under names that say credential, in the shapes providers issue keys in (UUIDs and
// 32/40/64 hex), which elsewhere read as identifiers.
const HEX = "0123456789abcdef";
const uuid = fromAlphabet(HEX, 32).map(
  (h) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
);
const identifierShapedSecret = fc
  .tuple(
    fc.oneof(uuid, fromAlphabet(HEX, 32), fromAlphabet(HEX, 40), fromAlphabet(HEX, 64)),
    fc.constantFrom("api_key", "dd_api_key", "client_secret", "X-Postmark-Server-Token", "token"),
  )
  .filter(([v]) => new Set(v).size > 6)
  .map(([value, key]): Planted => ({ value, key }));
// Provider tokens whose prefix is the context (src/masking/providers/extra-rules.ts).
const prefixedToken = fc
  .oneof(
    fromAlphabet(ALNUM, 32).map((s) => "whsec" + "_" + s),
    fromAlphabet(B64URL, 40, 200).map((s) => "ya" + "29." + s),
    fromAlphabet(UPPER_ALNUM, 27).map((s) => "NR" + "AK-" + s),
    fromAlphabet(HEX, 32).map((s) => "ke" + "y-" + s),
    fc.tuple(fromAlphabet(HEX, 32), fc.integer({ min: 1, max: 21 })).map(([h, n]) => `${h}-us${n}`),
    fc
      .tuple(fc.constantFrom("proj", "svcacct", "admin"), fromAlphabet(B64URL, 20, 160))
      .map(([k, s]) => `sk-${k}-${s}`),
    fromAlphabet(ALNUM, 40).map((s) => "dp" + ".st.prd." + s),
    fc
      .tuple(fc.integer({ min: 10_000_000, max: 9_999_999_999 }), fromAlphabet(B64URL, 33))
      .map(([id, s]) => `${id}:AA${s}`),
    fromAlphabet(B64URL, 186).map((s) => "ATA" + "TT3" + s),
    fromAlphabet(B64URL, 24, 100).map((s) => "hv" + "s." + s),
  )
  .filter((v) => shannonEntropy(v) >= 3.5); // random, not "aaaa…" (the rules' entropy floor)
// Passwords on command lines and in netrc/pgpass lines: the text around the value.
const password = fc
  .tuple(fromAlphabet("ABCDEFGHJKLMNPQRSTUVWXYZ", 2), fromAlphabet(ALNUM, 10, 16))
  .map(([a, b]) => a + b);
const commandLinePassword = fc
  .tuple(
    password,
    fc.constantFrom<(v: string) => string>(
      (v) => `machine api.internal login bot password ${v}`,
      (v) => `curl -u admin:${v} https://api.internal/`,
      (v) => `mysql -uroot -p${v} -h db.internal`,
      (v) => `sshpass -p '${v}' ssh deploy@bastion`,
      (v) => `tool login --password ${v}`,
      (v) => `\ndb.internal:5432:app:app:${v}`, // a pgpass file's line
    ),
  )
  .map(([value, around]): Planted => ({ value, around }));

const plain = (a: fc.Arbitrary<string>, form?: Planted["form"]) =>
  a.map((value): Planted => (form ? { value, form } : { value }));
const planted: fc.Arbitrary<Planted> = fc.oneof(
  plain(email),
  plain(phone),
  plain(card, "number"),
  plain(iban),
  plain(ssn),
  plain(ipv4),
  plain(jwt, "token"),
  plain(awsKey, "token"),
  plain(githubToken, "token"),
  plain(stripeKey, "token"),
  plain(googleKey, "token"),
  plain(slackToken, "token"),
  plain(privateKey, "pem"),
  genericSecret,
  identifierShapedSecret,
  plain(prefixedToken, "token"),
  commandLinePassword,
);

// ---- placing planted values in a request ----------------------------------------------------

const PREFIXES = ["", "contact ", "where x = '", "see (", "value: ", "[", '"', "to=", "note, "];
const SUFFIXES = ["", " please", "' limit 5", ")", ";", "]", '"', " and more", "\n"];

type Placement = "value" | "inside" | "key" | "array" | "other-form";
interface Plan {
  readonly p: Planted;
  readonly where: Placement;
  readonly prefix: string;
  readonly suffix: string;
  readonly depth: number;
  readonly name: string;
}

const plan: fc.Arbitrary<Plan> = fc.record({
  p: planted,
  where: fc.constantFrom<Placement>("value", "inside", "key", "array", "other-form"),
  prefix: fc.constantFrom(...PREFIXES),
  suffix: fc.constantFrom(...SUFFIXES),
  depth: fc.integer({ min: 0, max: 4 }),
  name: word,
});

/** Puts each planted value into params (and sometimes reason/resource); returns the request. */
function buildRequest(
  plans: readonly Plan[],
  action: string,
  inReason: boolean,
): Record<string, unknown> {
  const params: Record<string, unknown> = { query: "select 1" };
  plans.forEach((pl, i) => {
    const { key, around } = pl.p;
    const value = around ? around(pl.p.value) : pl.p.value;
    let leaf: unknown;
    let leafKey = key ?? `${pl.name}_${i}`;
    switch (pl.where) {
      case "value":
        leaf = value;
        break;
      case "inside":
        leaf = key ? `${pl.prefix}${key}=${value}${pl.suffix}` : `${pl.prefix}${value}${pl.suffix}`;
        if (key) leafKey = `${pl.name}_${i}`;
        break;
      case "key":
        if (key)
          leaf = value; // a key-context secret cannot sit in a key: keep it a value
        else {
          leafKey = value;
          leaf = i;
        }
        break;
      case "array":
        leaf = ["harmless", key ? { [key]: value } : value, 3];
        break;
      case "other-form": {
        const form = pl.p.form;
        if (form === "number") leaf = Number(value);
        else if (form === "pem") leaf = ["key follows:", ...value.split("\n"), "done"];
        else if (form === "token") {
          const cut = Math.floor(value.length / 2);
          leaf = ["harmless words", value.slice(0, cut), value.slice(cut), "; end"];
        } else leaf = key ? { [key]: value } : value;
        break;
      }
    }
    let node: Record<string, unknown> = params;
    for (let d = 0; d < pl.depth; d++) {
      const k = `level${d}_${i}`;
      const next: Record<string, unknown> = {};
      node[k] = d % 2 === 0 ? next : [next];
      node = next;
    }
    node[leafKey] = leaf;
  });
  const first = plans[0]!.p;
  return {
    action,
    resource: "postgres://prod/customers",
    params,
    reason:
      inReason && !first.key && !first.around
        ? `Follow-up for ${first.value} before Friday`
        : "Routine maintenance",
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
  };
}

/** What must not appear for one planted value: the value, and each part it was given in. */
function needles(pl: Plan): string[] {
  const { value, form } = pl.p;
  if (pl.where !== "other-form" || form === undefined) return [value];
  if (form === "number") return [value, String(Number(value))];
  if (form === "pem") return [value, ...value.split("\n").filter((l) => !l.startsWith("-----"))];
  const cut = Math.floor(value.length / 2);
  return [value, value.slice(0, cut), value.slice(cut)].filter((n) => n.length >= 8);
}

function assertNoLeak(text: string, plans: readonly Plan[], where: string): void {
  for (const pl of plans) {
    if (needles(pl).some((n) => text.includes(n))) {
      throw new Error(
        `planted value leaked into the ${where} (${pl.where}, key ${pl.p.key ?? "-"})`,
      );
    }
  }
}

// ---- the properties -------------------------------------------------------------------------

const hmacKey = new Uint8Array(32).fill(1);
let engine: PolicyEngine;
let recipient: string;

beforeAll(async () => {
  engine = await loadPolicyEngine(defaultPoliciesDir());
  recipient = (await newAgeIdentity()).recipient;
});

describe("no planted value survives masking", () => {
  it("in the masked document (4,000 generated documents)", () => {
    fc.assert(
      fc.property(
        fc.array(plan, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (plans, inReason) => {
          const req = buildRequest(plans, "db.export", inReason);
          const findings = scan(req);
          const masked = maskDocument(req, findings, [], { hmacKey });
          assertNoLeak(JSON.stringify(masked.value), plans, "masked document");
          // Masking leaves nothing a detector would still recognise.
          expect(scan(masked.value).filter((f) => !f.path.startsWith("/requester"))).toEqual([]);
        },
      ),
      { numRuns: 4000 },
    );
  });

  it("through the policy, into the card and the request file (1,500 generated requests)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(plan, { minLength: 1, maxLength: 5 }),
        fc.constantFrom("db.export", "db.query", "iam.grant", "payments.refund", "unknown.action"),
        fc.boolean(),
        async (plans, action, inReason) => {
          const request = validateRequestValue(buildRequest(plans, action, inReason));
          const ev = decideAndMask(request, {
            engine,
            now: new Date("2026-11-24T10:00:00Z"),
            repo: "approvals",
            hmacKey,
          });
          expect(ev.decision.failed_closed).toBeUndefined();
          const card = renderCard(ev);
          const file = renderRequestFile(
            requestRecord(
              "01JFAKEFAKEFAKEFAKEFAKEFAK",
              new Date(),
              ev,
              await seal(request.params, [recipient]),
            ),
          );
          assertNoLeak(JSON.stringify(ev), plans, "evaluation JSON");
          assertNoLeak(card, plans, "approval card");
          assertNoLeak(file, plans, "request file");
          // And the YAML, parsed back (escapes and folding cannot hide a value).
          assertNoLeak(JSON.stringify(parseYaml(file)), plans, "parsed request file");
        },
      ),
      { numRuns: 1500 },
    );
  }, 120_000);
});
