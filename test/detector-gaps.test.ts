/**
 * Held-out leak probe: secret forms that are not in the bench corpus (bench/corpus/generate.py)
 * and that reached `interlock evaluate --json` in clear. Every value is generated at run time
 * (random bodies in the provider's documented shape), several per form, and planted alone, inside
 * longer text, in JSON inside a string and as an object key. Precision guards follow: ordinary
 * text next to the same names that must stay readable.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectInString } from "../src/masking/detectors.ts";
import { maskDocument } from "../src/masking/mask.ts";
import { scan } from "../src/masking/scan.ts";
import { run } from "./cli-io.ts";
import { tempDir } from "./helpers.ts";

const hmacKey = new Uint8Array(32).fill(5);
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = "0123456789abcdef";

function gen(alphabet: string, n: number): string {
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");
}
/** A password: mixed case and digits, as a person or a generator would pick. */
const pw = (): string => gen(UPPER, 2) + gen(LOWER, 6) + gen(DIGITS, 3) + gen(ALNUM, 3);
const hex = (n: number): string => gen(HEX, n);

interface Plant {
  /** The form, for the test name. */
  readonly form: string;
  /** The text planted. */
  readonly text: string;
  /** The part that must never appear in any output. */
  readonly secret: string;
  /** Only meaningful at the start of a line (a pgpass line). */
  readonly lineOnly?: boolean;
}

// ---- 1. values under key-like names, whatever their entropy ---------------------------------

function keyLikeNames(): Plant[] {
  const out: Plant[] = [];
  for (let i = 0; i < 3; i++) {
    const h32 = hex(32);
    const h40 = hex(40);
    const h64 = hex(64);
    const uuid = randomUUID();
    const sid = gen(LOWER + DIGITS, 32);
    out.push(
      { form: "api_key=<hex32>", text: `api_key=${h32}`, secret: h32 },
      { form: "dd_api_key=<hex32>", text: `dd_api_key=${hex(32)}`, secret: "" },
      { form: 'API_KEY: "<hex40>"', text: `API_KEY: "${h40}"`, secret: h40 },
      { form: "client_secret=<uuid>", text: `client_secret=${uuid}`, secret: uuid },
      { form: "token: <hex64>", text: `token: ${h64}`, secret: h64 },
      { form: "SECRET=<uuid>", text: `SECRET=${uuid.toUpperCase()}`, secret: uuid.toUpperCase() },
      { form: "access_key=<hex32>", text: `access_key=${h32}`, secret: h32 },
      { form: "private_key=<hex64>", text: `private_key=${h64}`, secret: h64 },
      { form: "credentials: <hex40>", text: `credentials: ${h40}`, secret: h40 },
      { form: "auth=<hex32>", text: `auth=${h32}`, secret: h32 },
      {
        form: "GCP service account private_key_id (JSON in a string)",
        text: `{"type":"service_account","project_id":"acme-prod","private_key_id":"${h40}"}`,
        secret: h40,
      },
      {
        form: "X-Postmark-Server-Token: <uuid>",
        text: `X-Postmark-Server-Token: ${uuid}`,
        secret: uuid,
      },
      { form: "Authorization: Bearer <hex40>", text: `Authorization: Bearer ${h40}`, secret: h40 },
      { form: "Authorization: Token <hex40>", text: `Authorization: Token ${h40}`, secret: h40 },
      {
        form: "Authorization: Basic <base64>",
        text: `Authorization: Basic ${Buffer.from(`admin:${h32}`).toString("base64")}`,
        secret: Buffer.from(`admin:${h32}`).toString("base64"),
      },
      { form: "Cookie: session=<uuid>", text: `Cookie: session=${uuid}; theme=dark`, secret: uuid },
      {
        form: "Cookie: sessionid=…; csrftoken=…",
        text: `Cookie: sessionid=${sid}; csrftoken=${h32}`,
        secret: sid,
      },
      { form: "Set-Cookie: token=<hex32>", text: `Set-Cookie: token=${h32}; Path=/`, secret: h32 },
    );
  }
  // The dd_api_key entries carry their own value.
  return out.map((p) => (p.secret === "" ? { ...p, secret: p.text.split("=")[1] ?? "" } : p));
}

// ---- 2. passwords in prose and on command lines ---------------------------------------------

function passwordForms(): Plant[] {
  const out: Plant[] = [];
  for (let i = 0; i < 3; i++) {
    const p = pw();
    const lower = gen(LOWER, 10); // a weak password: still a password in these positions
    out.push(
      { form: "netrc", text: `machine api.internal login bot password ${p}`, secret: p },
      {
        form: "netrc (lower-case)",
        text: `machine h.example login u password ${lower}`,
        secret: lower,
      },
      { form: "prose: password <x>", text: `use password ${p} for the staging box`, secret: p },
      { form: "curl -u user:pass", text: `curl -u admin:${p} https://api.internal/`, secret: p },
      {
        form: "curl --user user:pass",
        text: `curl -s --user "ops:${p}" https://x.internal`,
        secret: p,
      },
      {
        form: "curl -uuser:pass",
        text: `curl -uadmin:${lower} https://api.internal/`,
        secret: lower,
      },
      { form: "mysql -p<pass>", text: `mysql -uroot -p${p} -h db.internal app`, secret: p },
      {
        form: "mysqldump -p<pass> (lower-case)",
        text: `mysqldump -u app -p${lower} app`,
        secret: lower,
      },
      { form: "--password=<x>", text: `pg_dump --password=${p} app`, secret: p },
      { form: "--password <x>", text: `tool login --password ${p} --user ops`, secret: p },
      {
        form: "--password <x> (lower-case)",
        text: `tool login --password ${lower}`,
        secret: lower,
      },
      { form: "PGPASSWORD=", text: `PGPASSWORD=${p} psql -h db.internal -U app`, secret: p },
      { form: "pgpass line", text: `db.internal:5432:app:app:${p}`, secret: p, lineOnly: true },
      {
        form: "pgpass line (wildcards)",
        text: `*:*:*:replicator:${lower}`,
        secret: lower,
        lineOnly: true,
      },
      { form: "sshpass -p <x>", text: `sshpass -p ${p} ssh deploy@10.0.0.5`, secret: p },
      { form: "sshpass -p<x>", text: `sshpass -p${lower} scp a b`, secret: lower },
      { form: "sshpass -p '<x>'", text: `sshpass -p '${p}' ssh deploy@bastion`, secret: p },
    );
  }
  return out;
}

// ---- 3. provider formats whose prefix is the context ----------------------------------------

function providerForms(): Plant[] {
  const out: Plant[] = [];
  for (let i = 0; i < 3; i++) {
    const whsec = "whsec_" + gen(ALNUM, 32);
    const ya29 = "ya29." + gen(ALNUM + "-_", 60 + 40 * i);
    const ya29c = "ya29.c." + gen(ALNUM + "-_", 120);
    const nrak = "NRAK-" + gen(UPPER + DIGITS, 27);
    const mailgun = "key-" + hex(32);
    const mailchimp = hex(32) + "-us" + String(1 + i * 9);
    const openai = ["sk-proj-", "sk-svcacct-", "sk-admin-"].map(
      (prefix, j) => prefix + gen(ALNUM + "-_", [20, 48, 156][(i + j) % 3] as number),
    );
    const doppler = `dp.st.${["prd", "dev", "stg_eu"][i]}.` + gen(ALNUM, 40);
    const telegram = gen(DIGITS, 8 + i).replace(/^0/, "7") + ":AA" + gen(ALNUM + "-_", 33);
    const discordToken = gen(ALNUM + "-_", 68);
    const discordId = "1" + gen(DIGITS, 17);
    const atlassian = "ATATT3" + gen(ALNUM + "-_", 170 + 10 * i) + "=" + hex(8).toUpperCase();
    const vault = ["hvs.", "hvb.", "hvr."][i] + gen(ALNUM + "-_", 24 + 70 * i);
    const hf = "hf_" + gen(ALNUM, 34);
    out.push(
      { form: "Stripe whsec_", text: whsec, secret: whsec },
      { form: "Google ya29.", text: ya29, secret: ya29 },
      { form: "Google ya29.c.", text: ya29c, secret: ya29c },
      { form: "New Relic NRAK-", text: nrak, secret: nrak },
      { form: "Mailgun key-<hex32>", text: mailgun, secret: mailgun },
      { form: "Mailchimp <hex32>-usN", text: mailchimp, secret: mailchimp },
      ...openai.map((o) => ({
        form: `OpenAI ${o.slice(0, o.indexOf("-", 3) + 1)}`,
        text: o,
        secret: o,
      })),
      { form: "Doppler dp.st.<env>.", text: doppler, secret: doppler },
      { form: "Telegram bot token", text: telegram, secret: telegram },
      {
        form: "Discord webhook URL",
        text: `https://discord.com/api/webhooks/${discordId}/${discordToken}`,
        secret: discordToken,
      },
      { form: "Atlassian ATATT3", text: atlassian, secret: atlassian },
      { form: "Vault hvs./hvb.", text: vault, secret: vault },
      { form: "Hugging Face hf_ (letters and digits)", text: hf, secret: hf },
    );
  }
  return out;
}

/**
 * Prefixed tokens of current providers (AI APIs, CI, hosting, databases, design and developer
 * tools), in the shapes their documentation gives; bodies random.
 */
function prefixedTokenForms(): Plant[] {
  const URLSAFE = ALNUM + "-_";
  const uuid = () => randomUUID();
  const forms: [string, () => string][] = [
    ["Groq gsk_", () => "gsk_" + gen(ALNUM, 52)],
    ["xAI xai-", () => "xai-" + gen(ALNUM, 80)],
    ["OpenRouter sk-or-v1-", () => "sk-or-v1-" + hex(64)],
    [
      "LangSmith lsv2_pt_",
      () => `lsv2_${["pt", "sk"][randomBytes(1)[0]! % 2]}_${hex(32)}_${hex(10)}`,
    ],
    ["Pinecone pcsk_", () => "pcsk_" + gen(ALNUM, 6) + "_" + gen(ALNUM, 60)],
    ["Anthropic admin sk-ant-admin01-", () => "sk-ant-admin01-" + gen(URLSAFE, 93) + "AA"],
    ["Google OAuth client secret GOCSPX-", () => "GOCSPX-" + gen(URLSAFE, 28)],
    ["Docker Hub dckr_pat_", () => "dckr_pat_" + gen(URLSAFE, 27)],
    ["CircleCI CCIPAT_", () => "CCIPAT_" + gen(ALNUM, 22) + "_" + hex(40)],
    ["Buildkite bkua_", () => "bkua_" + hex(40)],
    ["Netlify nfp_", () => "nfp_" + gen(ALNUM, 36)],
    ["Render rnd_", () => "rnd_" + gen(ALNUM, 32)],
    ["Neon napi_", () => "napi_" + gen(LOWER + DIGITS, 64)],
    ["Resend re_", () => "re_" + gen(ALNUM, 8) + "_" + gen(ALNUM, 24)],
    ["PostHog phx_", () => "phx_" + gen(ALNUM, 47)],
    ["Replicate r8_", () => "r8_" + gen(ALNUM, 37)],
    ["Supabase sbp_", () => "sbp_" + hex(40)],
    ["Supabase sb_secret_", () => "sb_secret_" + gen(URLSAFE, 31)],
    ["Bitbucket ATBB", () => "ATBB" + gen(ALNUM, 32) + hex(8).toUpperCase()],
    ["Figma figd_", () => "figd_" + gen(URLSAFE, 40)],
    ["Sentry sntrys_", () => "sntrys_" + gen(ALNUM, 120) + "_" + gen(ALNUM, 43)],
    ["Sentry sntryu_", () => "sntryu_" + hex(64)],
    ["Heroku HRKU-", () => "HRKU-" + gen(URLSAFE, 60)],
    ["1Password ops_eyJ", () => "ops_eyJ" + gen(URLSAFE, 300)],
    ["Dropbox sl.", () => "sl." + gen(URLSAFE, 140)],
    ["Infisical st.", () => `st.${hex(24)}.${hex(32)}.${hex(32)}`],
    ["Mapbox sk.eyJ", () => "sk.eyJ1Ijoi" + gen(ALNUM, 40) + "." + gen(URLSAFE, 22)],
    ["Firebase AAAA…:APA91b", () => "AAAA" + gen(URLSAFE, 7) + ":APA91b" + gen(URLSAFE, 134)],
    ["LaunchDarkly api-<uuid>", () => "api-" + uuid()],
    ["Twitch oauth:", () => "oauth:" + gen(LOWER + DIGITS, 30)],
    [
      "Vercel blob vercel_blob_rw_",
      () => "vercel_blob_rw_" + gen(ALNUM, 16) + "_" + gen(ALNUM, 30),
    ],
  ];
  const out: Plant[] = [];
  for (let i = 0; i < 2; i++) {
    for (const [form, make] of forms) {
      const token = make();
      out.push({ form, text: token, secret: token });
      out.push({ form, text: `deploy with ${token} today`, secret: token });
    }
  }
  return out;
}

/** The places a value can sit in a request. */
function placements(p: Plant): { where: string; doc: Record<string, unknown> }[] {
  const request = (params: Record<string, unknown>) => ({
    action: "ops.run",
    resource: "svc://staging/x",
    reason: "probe",
    requester: { id: "user:alice", kind: "human" },
    params,
  });
  const out = [
    { where: "alone", doc: request({ v: p.text }) },
    { where: "in lines of text", doc: request({ v: `run this:\n${p.text}\nthen report back` }) },
    { where: "as an object key", doc: request({ v: { [p.text]: "x" } }) },
  ];
  if (!p.lineOnly) {
    out.push(
      { where: "inside a sentence", doc: request({ v: `note: ${p.text} (rotate later)` }) },
      { where: "after key=", doc: request({ v: `to=${p.text}]` }) },
      { where: "JSON in a string", doc: request({ v: JSON.stringify({ config: p.text }) }) },
    );
  }
  return out;
}

function masked(doc: Record<string, unknown>): string {
  const findings = scan(doc);
  const out = maskDocument(doc, findings, [], { hmacKey });
  return JSON.stringify(out.value) + JSON.stringify(out.applied) + JSON.stringify(findings);
}

const CLASSES: [string, () => Plant[]][] = [
  ["as the requester, a value under a key-like name with an identifier's shape", keyLikeNames],
  ["as the requester, a password in prose or on a command line", passwordForms],
  ["as the requester, a provider token without a context keyword", providerForms],
  ["as the requester, a current provider's prefixed token", prefixedTokenForms],
];

for (const [title, plants] of CLASSES) {
  describe(title, () => {
    const byForm = new Map<string, Plant[]>();
    for (const p of plants()) byForm.set(p.form, [...(byForm.get(p.form) ?? []), p]);
    it.each([...byForm.keys()])("is masked: %s", (form) => {
      for (const p of byForm.get(form) ?? []) {
        expect(p.secret.length).toBeGreaterThan(3);
        for (const { where, doc } of placements(p)) {
          expect(masked(doc), `${form} ${where}: ${JSON.stringify(doc.params)}`).not.toContain(
            p.secret,
          );
        }
      }
    });
  });
}

describe("as the requester, through `interlock evaluate --json`", () => {
  it("no planted value of any class reaches the output", async () => {
    const all = [
      ...keyLikeNames(),
      ...passwordForms(),
      ...providerForms(),
      ...prefixedTokenForms(),
    ];
    const params = Object.fromEntries(all.map((p, i) => [`v${i}`, p.text]));
    const file = join(tempDir(), "req.json");
    writeFileSync(
      file,
      JSON.stringify({
        action: "ops.run",
        resource: "svc://staging/x",
        reason: "probe",
        requester: { id: "user:alice", kind: "human" },
        params,
      }),
    );
    const r = await run(["evaluate", "--json", file]);
    expect(r.stdout.length).toBeGreaterThan(0);
    const leaked = all.filter((p) => r.stdout.includes(p.secret) || r.stderr.includes(p.secret));
    expect(leaked.map((p) => p.form)).toEqual([]);
  });
});

// ---- precision guards --------------------------------------------------------------------------

describe("ordinary text next to the same names is no secret", () => {
  const sha = hex(40);
  const uuid = randomUUID();
  const guards = [
    "password_reset_url=https://accounts.example.com/reset?u=42",
    "token_count=42",
    "max_tokens: 4096",
    `api_key_id=${hex(32)}`,
    `key_id: ${uuid}`,
    `commit: ${sha}`,
    `git checkout ${sha}`,
    `sha256: ${hex(64)}`,
    `request_id: ${uuid}`,
    `X-Request-Id: ${uuid}`,
    `trace_id=${hex(32)}`,
    `next_page_token: ${uuid}`,
    `idempotency_token=${uuid}`,
    "token_type: Bearer",
    "secret_name: prod/db-password",
    "Authorization: Bearer ${TOKEN}",
    "api_key=<redacted>",
    `authorization: "token ${"0".repeat(39)}1"`,
    "api_key=${API_KEY}",
    "token: changeme",
    "docker run -p 8080:80 nginx",
    "ssh -p 2222 deploy@bastion",
    "mkdir -p /var/lib/app",
    "mysql -u root -p app_db",
    "curl -u admin https://api.example.com/",
    'curl -u "$USER:$PASS" https://api.example.com/',
    "sshpass -p $SSHPASS ssh deploy@bastion",
    "echo $PW | docker login --password-stdin registry.example.com",
    "the password reset link expires in 24 hours",
    "this file is password protected",
    "open the Password Manager settings",
    "10:20:30:40:50",
    "c941:9650:96ee:86ef:208a:da00:db9e:49be",
    "37e1:355:8cb2:5244:d05:f983:feeb:b948",
    "a key-value store with key-3 and key-4",
    "use an sk-proj- key",
    "whsec_ secrets sign webhook payloads",
    "at 12:30:45 the job ran",
    // Lines from package documentation and Go sources that an earlier draft flagged:
    'fmt.Println("Password Issues:")',
    "7za a -mhe=off -ppassword test.7z ...",
    "curl --user alice:password localhost:5000/finance/salary/alice",
    't.Fatal("client login with password only must fail")',
    "is there a need to support skipping a password attempt?",
  ];
  it.each(guards)("%s", (text) => {
    expect(detectInString(text).filter((s) => s.kind === "secret")).toEqual([]);
  });
});

describe("as the requester: a value nested under a secret's name is the secret", () => {
  const holders = (secret: string) => [
    { password: { value: secret } },
    { db: { password: { plain_text: secret } } },
    { api_key: [{ value: secret }] },
    { password: { old: secret, new: pw() } },
    { client_secret: { data: { value: secret } } },
    { ssn: { value: ["219", "09", "9999"].join("") } },
  ];
  it.each(holders("x").map((_, i) => i))("form %i", (i) => {
    const secret = pw();
    const doc = holders(secret)[i]!;
    const found = scan(doc);
    const masked = JSON.stringify(maskDocument(doc, found, [], { hmacKey }).value);
    expect(masked).not.toContain(secret);
    expect(masked).not.toContain(["219", "09", "9999"].join(""));
  });

  it("an object under a secret's name keeps its other fields readable", () => {
    const doc = { token: { type: "bearer", expires_in: 3600, value: pw() } };
    const masked = maskDocument(doc, scan(doc), [], { hmacKey }).value as typeof doc;
    expect(masked.token.type).toBe("bearer");
    expect(masked.token.expires_in).toBe(3600);
    expect(masked.token.value).not.toBe(doc.token.value);
  });
});

describe("as the requester: digits of another script read as digits", () => {
  /** The same number in another script's decimal digits (Unicode Nd: zero at `zero`). */
  const inScript = (ascii: string, zero: number): string =>
    [...ascii].map((c) => (c >= "0" && c <= "9" ? String.fromCodePoint(zero + +c) : c)).join("");
  const card = ["4111", "1111", "1111", "1111"].join("");
  const phone = ["+1", "202", "555", "0143"].join(" ");
  const ssn = ["219", "09", "9999"].join("-");
  it.each([
    ["Arabic-Indic", 0x0660],
    ["Extended Arabic-Indic", 0x06f0],
    ["Devanagari", 0x0966],
    ["Bengali", 0x09e6],
    ["Thai", 0x0e50],
  ])("%s", (_, zero) => {
    for (const [plain, type] of [
      [card, "payment_card"],
      [phone, "phone"],
      [ssn, "us_ssn"],
    ] as const) {
      const text = `on file: ${inScript(plain, zero)}.`;
      const spans = detectInString(text);
      expect(
        spans.map((s) => [s.type, text.slice(s.start, s.end)]),
        text,
      ).toEqual([[type, inScript(plain, zero)]]);
    }
  });
});

describe("as the requester: an address written to escape a scraper is still an address", () => {
  const user = () => gen(LOWER, 5) + "." + gen(LOWER, 6);
  const forms: [string, (u: string) => { text: string; address: string }][] = [
    [
      "(at) (dot)",
      (u) => ({
        text: `mail ${u} (at) example (dot) com today`,
        address: `${u} (at) example (dot) com`,
      }),
    ],
    [
      "[at][dot]",
      (u) => ({ text: `mail ${u}[at]example[dot]com.`, address: `${u}[at]example[dot]com` }),
    ],
    [
      "{at} upper case",
      (u) => ({
        text: `${u.toUpperCase()}{AT}EXAMPLE{DOT}CO{DOT}UK`,
        address: `${u.toUpperCase()}{AT}EXAMPLE{DOT}CO{DOT}UK`,
      }),
    ],
    [
      "spelled out",
      (u) => {
        const [a, b] = u.split(".");
        return {
          text: `reach me at ${a} dot ${b} at example dot org`,
          address: `${a} dot ${b} at example dot org`,
        };
      },
    ],
    ["spaced @", (u) => ({ text: `cc ${u} @ example.com please`, address: `${u} @ example.com` })],
    [
      "quoted local part",
      (u) => ({
        text: `to "${u.replace(".", " ")}"@example.com now`,
        address: `"${u.replace(".", " ")}"@example.com`,
      }),
    ],
  ];
  it.each(forms)("%s", (_, make) => {
    const u = user();
    const { text, address } = make(u);
    const spans = detectInString(text).filter((s) => s.type === "email");
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual([address]);
  });

  it.each([
    "the file config.yaml at github.com/acme/x",
    "look at example.com for the docs",
    "meet at noon, then at 3pm",
    "costs 5 @ 10 each",
    "deployed at prod.example.com yesterday",
  ])("prose with ' at ' stays readable: %s", (text) => {
    expect(detectInString(text).filter((s) => s.type === "email")).toEqual([]);
  });
});

describe("as the requester: an IPv4 address zero-padded to three digits is an address", () => {
  it("is masked whole; mixed leading zeros (versions, dates) are not addresses", () => {
    const padded = ["010", "001", "002", "003"].join(".");
    const text = `host ${padded} is down`;
    expect(
      detectInString(text)
        .filter((s) => s.type === "ip_address")
        .map((s) => text.slice(s.start, s.end)),
    ).toEqual([padded]);
    expect(
      detectInString("release 10.01.2.3 notes").filter((s) => s.type === "ip_address"),
    ).toEqual([]);
  });
});

describe("as the requester: a secret other than a password, given in prose", () => {
  it.each([
    (v: string) => `the secret is ${v}`,
    (v: string) => `the token is ${v} until Friday`,
    (v: string) => `my api key is ${v}`,
    (v: string) => `the API key for staging is ${v}.`,
    (v: string) => `the credential for prod was: ${v}`,
  ])("form %#", (make) => {
    const v = gen(LOWER, 4) + gen(DIGITS, 3) + gen(UPPER, 3);
    const text = make(v);
    expect(
      detectInString(text)
        .filter((s) => s.kind === "secret")
        .map((s) => text.slice(s.start, s.end)),
    ).toEqual([v]);
  });

  it.each([
    "the secret is out",
    "the token is expired",
    "the token is abcdefgh",
    "the primary key is customer_id2",
    "token count is 4096",
    "the api key is rotated monthly",
  ])("prose without a secret stays readable: %s", (text) => {
    expect(detectInString(text).filter((s) => s.kind === "secret")).toEqual([]);
  });
});
