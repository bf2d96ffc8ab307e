/**
 * The detectors skip a regex when one pass over the text shows it cannot match (no credential
 * word, no "eyJ", no two letters then two digits, fewer than four colons…). Skipping is safe
 * only if each condition holds for EVERY text the regex matches: otherwise a secret is missed.
 * Thousands of generated texts, built from the regexes' own words in random case, separators
 * and random runs, check that whenever a gated regex matches, its gate lets it run. The
 * checker is itself shown to catch a wrong gate, and each regex must match often enough for
 * the check to mean something.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { featureGates, textFeatures, type TextFeatures } from "../src/masking/detectors.ts";
import { KW_SLACK } from "../src/masking/keywords.ts";

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const run = (alphabet: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });

/** A word in random ASCII case: the gates fold case, case-insensitive regexes too. */
const anyCase = (word: string) =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((up) => [...word].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(""));

/** The literal words of the gated regexes, written from the regexes (not from keywords.ts). */
const WORDS = [
  ..."pass pwd secret token key cred auth bearer cookie password Passwd".split(" "),
  ..."eyJ AKIA ASIA gh github_pat_ ghp_ gho_ ghu_ ghs_ ghr_ xox hooks.slack.com".split(" "),
  ..."mysql mysqladmin mysqlimport mysqlcheck mysqlsh mysqlslap mariadb".split(" "),
  ..."mariadb-admin mariadb-import mariadb-check sshpass curl sig".split(" "),
  ..."sin bsn burgerservicenummer sofinummer social".split(" "),
  "social insurance",
  "k_live_",
  "k_test_",
  "signature",
  "x-amz-signature",
  "x-goog-signature",
  "secret_access_key",
  "SecretAccessKey",
  "aws_secret_key",
  "mysqldump",
  "mariadb-dump",
  "https://hooks.slack.com/services/",
  "hooks.slack.com/workflows/",
  "-----BEGIN ",
  "RSA ",
  "PRIVATE KEY-----",
  "PRIVATE KEY BLOCK-----",
  "ghp_",
  "xoxb-",
  "sk_live_",
  "rk_test_",
  "AIza",
  "AKIA",
  "eyJ",
  "DE89",
  "QQ 12",
  "localhost",
  "*",
  // OBFUSCATED_AT_RE: an address's "@" written out.
  "(at)",
  "[at]",
  "{at}",
  "<at>",
  "at",
  "@",
];
const SEPARATORS = [" ", "=", ":", "?", "&", "-", "_", ".", "/", "\n", "'", '"', " = ", ": "];

const piece = fc.oneof(
  { arbitrary: fc.constantFrom(...WORDS).chain(anyCase), weight: 4 },
  { arbitrary: fc.constantFrom(...WORDS), weight: 2 },
  { arbitrary: fc.constantFrom(...SEPARATORS), weight: 4 },
  { arbitrary: run(ALNUM, 1, 48), weight: 3 },
  { arbitrary: run("0123456789", 1, 12), weight: 2 },
  { arbitrary: run("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16, 16), weight: 1 },
  { arbitrary: run(ALNUM + "/+", 40, 40), weight: 1 },
);
/** Shapes of whole matches, so every regex matches often; their words in random case too. */
const shaped = fc.oneof(
  fc
    .tuple(anyCase("eyJ"), run(ALNUM, 4, 20), run(ALNUM, 2, 20), run(ALNUM, 0, 20))
    .map(([h, a, b, c]) => `${h}${a}.${b}.${c}`),
  fc
    .tuple(
      fc.constantFrom("secret_access_key", "SECRET_KEY", "secretkey", "Secret-Access-Key"),
      fc.constantFrom("=", ": ", " => ", ":="),
      run(ALNUM + "/+", 40, 40),
    )
    .map(([k, sep, v]) => `${k}${sep}${v}`),
  fc.tuple(fc.constantFrom("xoxb-", "xoxp-", "XOXA-"), run(ALNUM, 10, 30)).map(([p, v]) => p + v),
  fc
    .tuple(fc.constantFrom("sk_live_", "rk_test_", "SK_LIVE_"), run(ALNUM, 16, 30))
    .map(([p, v]) => p + v),
  fc
    .tuple(fc.constantFrom("ghp_", "GHO_", "github_pat_"), run(ALNUM, 36, 40))
    .map(([p, v]) => p + v),
  run(ALNUM + "-_", 35, 35).map((v) => `AIza${v}`),
  fc
    .tuple(fc.constantFrom("AKIA", "ASIA"), run("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16))
    .map(([p, v]) => ` ${p}${v} `),
  fc
    .tuple(
      fc.constantFrom("?", "&"),
      fc.constantFrom("sig", "signature", "x-amz-signature", "x-goog-signature").chain(anyCase),
    )
    .map(([q, name]) => `${q}${name}=`),
  fc
    .constantFrom("RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", "", "PGP ")
    .map((kind) => `-----BEGIN ${kind}PRIVATE KEY-----`),
  fc
    .tuple(run("abcdefghijklmnop", 3, 12), run("0123456789", 1, 5), run(ALNUM, 1, 8))
    .map(([h, port, v]) => `${h}:${port}:${v}:${v}:${v}`),
  fc
    .tuple(run("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 2, 2), run("0123456789", 6, 6))
    .map(([l, d]) => `${l}${d}C`),
  fc
    .tuple(run("abcdefghijklmnopqrstuvwxyz", 2, 2), run("0123456789", 2, 2), run(ALNUM, 11, 30))
    .map(([l, d, rest]) => l + d + rest),
);
const text = fc
  .array(fc.oneof({ arbitrary: piece, weight: 5 }, { arbitrary: shaped, weight: 1 }), {
    minLength: 1,
    maxLength: 14,
  })
  .map((parts) => parts.join(""));

interface Gate {
  readonly name: string;
  readonly re: RegExp;
  readonly passes: (f: TextFeatures) => boolean;
}

/** Texts a gate's regex matches, and those of them the gate would skip (counterexamples). */
function check(gates: readonly Gate[], texts: readonly string[]) {
  return gates.map((gate) => {
    const re = new RegExp(gate.re.source, gate.re.flags.replace(/[gy]/g, ""));
    let matched = 0;
    const missed: string[] = [];
    for (const t of texts) {
      if (!re.test(t)) continue;
      matched++;
      if (!gate.passes(textFeatures(t))) missed.push(t);
    }
    return { name: gate.name, matched, missed };
  });
}

const texts = fc.sample(text, { numRuns: 20_000, seed: 20261202 });

describe("the character pass's gates", () => {
  it("let every gated regex run on every text it matches", () => {
    const problems: string[] = [];
    for (const r of check(featureGates(), texts)) {
      if (r.missed.length > 0) problems.push(`${r.name} skipped: ${JSON.stringify(r.missed[0])}`);
      // The check means something only if the regex matched some of the texts.
      if (r.matched < 20) problems.push(`${r.name} matched ${r.matched} texts`);
    }
    expect(problems).toEqual([]);
  });

  it("catch a gate that does not stand for its regex (the check can fail)", () => {
    const jwt = featureGates().find((g) => g.name === "JWT")!;
    const wrong = { ...jwt, passes: (f: TextFeatures) => (f.keywords & KW_SLACK) !== 0 };
    const [result] = check([wrong], texts);
    expect(result!.missed.length).toBeGreaterThan(0);
  });

  it("skip the regexes on ordinary text", () => {
    const f = textFeatures("the export pipeline keeps running with retries and backoff");
    for (const gate of featureGates()) expect(gate.passes(f), gate.name).toBe(false);
  });
});
