/**
 * Deterministic, realistic inputs for the benchmarks: requests of about 2 KB and 100 KB, and a
 * mixed JSON corpus with about 1% sensitive values. All data is fake (example.com, 555 numbers,
 * test card and IBAN numbers, tokens made of random characters).
 */
import { rng } from "./stats.ts";

type Rand = () => number;

const FIRST = ["jane", "li", "omar", "sofia", "pedro", "amara", "kenji", "ines", "noah", "mia"];
const LAST = [
  "doe",
  "wei",
  "haddad",
  "rossi",
  "alves",
  "okafor",
  "sato",
  "garcia",
  "berg",
  "novak",
];
const PLANS = ["free", "starter", "team", "business", "enterprise"];
const REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1"];
const WORDS = (
  "the customer asked about invoice totals after the migration and the team agreed to review " +
  "usage reports weekly while the export pipeline keeps running with retries and backoff for " +
  "failed batches so that nothing is lost when a region is degraded or a deploy is in progress"
).split(" ");

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const chars = (r: Rand, n: number, alphabet: string) =>
  Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join("");
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
const b64url = (s: string) => Buffer.from(s).toString("base64url");

export const fake = {
  email: (r: Rand) => `${pick(r, FIRST)}.${pick(r, LAST)}${int(r, 1, 99)}@example.com`,
  phone: (r: Rand) =>
    pick(r, [
      () => `+1 202-555-01${int(r, 10, 99)}`,
      () => `+44 20 7946 0${int(r, 100, 999)}`,
      () => `(312) 555-01${int(r, 10, 99)}`,
    ])(),
  githubToken: (r: Rand) => `ghp_${chars(r, 36, ALNUM)}`,
  awsAccessKey: (r: Rand) => `AKIA${chars(r, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`,
  stripeKey: (r: Rand) => `sk_live_${chars(r, 24, ALNUM)}`,
  jwt: (r: Rand) =>
    `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(
      JSON.stringify({ sub: `user-${int(r, 1000, 9999)}`, iat: 1795400000, scope: "read" }),
    )}.${chars(r, 43, ALNUM)}`,
  card: (r: Rand) => luhn(`4${chars(r, 14, "0123456789")}`).replace(/(\d{4})(?=\d)/g, "$1 "),
  iban: (r: Rand) => pick(r, ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32"]),
  ip: (r: Rand) => `203.0.113.${int(r, 1, 254)}`,
  ssn: (r: Rand) => `${int(r, 100, 665)}-${int(r, 10, 99)}-${int(r, 1000, 9999)}`,
  uuid: (r: Rand) =>
    `${chars(r, 8, HEX)}-${chars(r, 4, HEX)}-4${chars(r, 3, HEX)}-a${chars(r, 3, HEX)}-${chars(r, 12, HEX)}`,
  sentence: (r: Rand, n: number) => Array.from({ length: n }, () => pick(r, WORDS)).join(" ") + ".",
};

/** Appends the Luhn check digit. */
function luhn(body: string): string {
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

/**
 * A db.export request: a SQL query naming two customers by e-mail and one by phone, nested
 * connection/options/notification params, a GitHub token and a Slack webhook (so the request is
 * critical: two groups must approve). `records` adds an array of customer rows (the 100 KB case).
 */
function baseRequest(r: Rand): Record<string, unknown> {
  return {
    action: "db.export",
    resource: "postgres://prod/customers",
    params: {
      query:
        "SELECT c.id, c.name, c.plan, c.region, sum(o.total) AS revenue FROM customers c " +
        "JOIN orders o ON o.customer_id = c.id WHERE (c.email IN ('jane.doe@example.com', " +
        "'li.wei@example.org') OR c.phone = '+1 202-555-0143') AND o.created_at >= '2026-10-01' " +
        "GROUP BY c.id, c.name, c.plan, c.region ORDER BY revenue DESC LIMIT 500",
      destination: "s3://analytics-exports/churn/2026-11/",
      format: "parquet",
      options: {
        compression: "snappy",
        partition_by: ["region", "plan"],
        max_rows: 500000,
        include_header: true,
        timeout_seconds: 900,
      },
      connection: {
        host: "db-prod-eu-1.internal.acme.example",
        port: 5432,
        database: "customers",
        user: "etl_reader",
        sslmode: "verify-full",
        application_name: "etl-bot/2.14.1",
      },
      notify: {
        on_success: ["data-team@acme.example"],
        on_failure: "page",
        slack_channel: "#data-exports",
      },
      auth: { github_token: fake.githubToken(r) },
      labels: { team: "analytics", cost_center: "cc-4410", ticket: "DATA-2291" },
    },
    reason:
      "Weekly churn analysis for the retention review: customers who cancelled in the last 30 " +
      "days and their order totals, exported for the analytics team.",
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
    ttl: "24h",
  };
}

function record(r: Rand, i: number): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: 100000 + i,
    name: `${pick(r, FIRST)} ${pick(r, LAST)}`,
    plan: pick(r, PLANS),
    region: pick(r, REGIONS),
    revenue: Math.round(r() * 1_000_000) / 100,
    cancelled_at: `2026-10-${String(int(r, 1, 30)).padStart(2, "0")}T${String(int(r, 0, 23)).padStart(2, "0")}:15:00Z`,
    note: fake.sentence(r, int(r, 4, 12)),
  };
  if (i % 4 === 0) row.email = fake.email(r);
  if (i % 8 === 3) row.phone = fake.phone(r);
  return row;
}

/** A request whose JSON text is close to `targetBytes` (≥ 2 KB), as JSON text. */
export function requestJson(targetBytes: number, seed = 1): string {
  const r = rng(seed);
  const req = baseRequest(r);
  const params = req.params as Record<string, unknown>;
  const size = () => Buffer.byteLength(JSON.stringify(req));
  if (targetBytes > 8192) {
    const records: unknown[] = [];
    params.records = records;
    while (size() < targetBytes - 300) records.push(record(r, records.length));
  }
  // Top up with a plain-text description to land on the target.
  const missing = targetBytes - size() - `,"description":""`.length;
  if (missing > 0) {
    let text = "";
    while (text.length < missing) text += fake.sentence(r, 12) + " ";
    params.description = text.slice(0, missing).trimEnd();
  }
  return JSON.stringify(req);
}

// ---------------------------------------------------------------------------------------------
// The mixed corpus
// ---------------------------------------------------------------------------------------------

export interface CorpusDoc {
  readonly kind: "logs" | "sql" | "prose" | "config";
  readonly value: unknown;
  readonly bytes: number;
}

export interface Corpus {
  readonly docs: readonly CorpusDoc[];
  readonly bytes: number;
  readonly strings: number;
  /** String values replaced by (or made to contain) a sensitive value. */
  readonly planted: number;
}

/**
 * About `targetBytes` of JSON documents (each 8–32 KB): batches of structured log events, SQL
 * statement logs, prose (tickets with comments) and service configs, in equal shares. About 1%
 * of string values carry a sensitive value (an e-mail, phone, card, IBAN, IP, SSN or a secret).
 */
export function corpus(targetBytes: number, seed = 7, sensitiveShare = 0.01): Corpus {
  const r = rng(seed);
  let strings = 0;
  let planted = 0;
  const sensitive = (): string => {
    planted++;
    const kind = int(r, 0, 9);
    switch (kind) {
      case 0:
      case 1:
        return fake.email(r);
      case 2:
        return fake.phone(r);
      case 3:
        return fake.card(r);
      case 4:
        return fake.iban(r);
      case 5:
        return fake.ip(r);
      case 6:
        return fake.ssn(r);
      case 7:
        return fake.githubToken(r);
      case 8:
        return fake.jwt(r);
      default:
        return fake.awsAccessKey(r);
    }
  };
  /** A string value: usually `plain`, sometimes a sensitive value inside or instead of it. */
  const s = (plain: string): string => {
    strings++;
    if (r() >= sensitiveShare) return plain;
    return r() < 0.5 ? sensitive() : `${plain} ${sensitive()}`;
  };

  const logs = () => ({
    source: `${pick(r, ["api", "billing", "auth", "search"])}-${int(r, 1, 9)}`,
    events: Array.from({ length: int(r, 40, 120) }, (_, i) => ({
      ts: `2026-11-${String(int(r, 1, 28)).padStart(2, "0")}T10:${String(i % 60).padStart(2, "0")}:${String(int(r, 0, 59)).padStart(2, "0")}.${int(r, 100, 999)}Z`,
      level: s(pick(r, ["info", "info", "info", "warn", "error", "debug"])),
      msg: s(fake.sentence(r, int(r, 5, 14))),
      trace_id: s(chars(r, 32, HEX)),
      http: {
        method: s(pick(r, ["GET", "POST", "PUT", "DELETE"])),
        path: s(`/v2/${pick(r, ["orders", "customers", "invoices"])}/${int(r, 1000, 99999)}`),
        status: pick(r, [200, 200, 200, 201, 204, 404, 500]),
        duration_ms: int(r, 1, 900),
        user_agent: s(`acme-client/${int(r, 1, 4)}.${int(r, 0, 20)}.${int(r, 0, 9)} (linux; x64)`),
      },
      request_id: s(fake.uuid(r)),
    })),
  });
  const sql = () => ({
    database: s(pick(r, ["orders", "customers", "billing"])),
    statements: Array.from({ length: int(r, 20, 60) }, () => ({
      sql: s(
        `SELECT o.id, o.total, o.currency FROM orders o WHERE o.customer_id = $1 AND o.status = '${pick(r, ["paid", "open", "refunded"])}' AND o.created_at > now() - interval '${int(r, 1, 90)} days' ORDER BY o.created_at DESC LIMIT ${int(r, 10, 500)}`,
      ),
      params: [int(r, 1, 1e6), s(pick(r, PLANS))],
      rows: int(r, 0, 500),
      duration_ms: Math.round(r() * 50000) / 100,
      plan: s(`Index Scan using orders_customer_idx on orders (cost=0.43..${int(r, 10, 900)}.12)`),
    })),
  });
  const prose = () => ({
    ticket: `SUP-${int(r, 1000, 9999)}`,
    title: s(fake.sentence(r, 8)),
    body: s(Array.from({ length: int(r, 6, 20) }, () => fake.sentence(r, 18)).join(" ")),
    comments: Array.from({ length: int(r, 5, 25) }, () => ({
      author: s(`${pick(r, FIRST)} ${pick(r, LAST)}`),
      text: s(Array.from({ length: int(r, 1, 5) }, () => fake.sentence(r, 15)).join(" ")),
    })),
  });
  const config = () => ({
    version: 3,
    services: Object.fromEntries(
      Array.from({ length: int(r, 10, 30) }, (_, i) => [
        `svc-${i}`,
        {
          image: s(
            `registry.acme.example/${pick(r, ["api", "worker", "cron"])}:${int(r, 1, 9)}.${int(r, 0, 30)}.${int(r, 0, 9)}`,
          ),
          replicas: int(r, 1, 12),
          region: s(pick(r, REGIONS)),
          env: {
            LOG_LEVEL: s(pick(r, ["info", "debug", "warn"])),
            FEATURE_FLAGS: s("checkout_v2,fast_search,new_billing"),
            UPSTREAM_URL: s(
              `https://${pick(r, ["orders", "search"])}.internal.acme.example:8443/api`,
            ),
            TIMEOUT_MS: s(String(int(r, 100, 30000))),
          },
          ports: [int(r, 1000, 9999), int(r, 1000, 9999)],
          healthcheck: { path: s("/healthz"), interval: s(`${int(r, 5, 60)}s`) },
          labels: { team: s(pick(r, ["core", "payments", "search"])), tier: s("backend") },
        },
      ]),
    ),
  });
  const makers = { logs, sql, prose, config } as const;
  const kinds = Object.keys(makers) as (keyof typeof makers)[];
  const docs: CorpusDoc[] = [];
  let total = 0;
  while (total < targetBytes) {
    const kind = kinds[docs.length % kinds.length]!;
    const value = makers[kind]();
    const bytes = Buffer.byteLength(JSON.stringify(value));
    docs.push({ kind, value, bytes });
    total += bytes;
  }
  return { docs, bytes: total, strings, planted };
}
