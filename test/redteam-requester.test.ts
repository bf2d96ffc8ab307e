import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { run } from "./cli-io.ts";
import { Repo } from "./e2e-helpers.ts";

/**
 * Red team, attacker R (the requester): every byte of the request, nothing else. Driven through
 * the real CLI (`interlock evaluate --batch -`, the default policies compiled to Wasm, the
 * host's analysis) so that what is asserted is what `interlock request` would decide and write.
 * Attacks that still get through are `it.skip` with a `// BYPASS:` note; attacks that fail are
 * kept as regular tests.
 */

interface Evaluated {
  readonly line: number;
  readonly decision: {
    readonly allow: boolean;
    readonly auto_approve: boolean;
    readonly risk: string;
    readonly deny: string[];
    readonly why: string[];
  };
  readonly request: Record<string, unknown>;
}

/** Evaluates each request (one JSON line each) with the default policies. */
async function evaluate(requests: readonly object[]): Promise<Evaluated[]> {
  const stdin = requests.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const r = await run(["evaluate", "--batch", "-", "--json"], { stdin });
  const out = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Evaluated);
  if (out.length !== requests.length) throw new Error(`evaluate: ${r.stdout}\n${r.stderr}`);
  return out;
}

const agent = { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" };

const query = (resource: string, sql = "select 1") => ({
  action: "db.query",
  resource,
  params: { query: sql },
  reason: "Count rows",
  requester: agent,
});

const grant = (params: Record<string, unknown>) => ({
  action: "iam.grant",
  resource: "gcp://staging/project",
  params: { role: "roles/viewer", ...params },
  reason: "Needs access",
  requester: agent,
});

/** Random letters and digits, like the body of a provider token. */
function tokenBody(n: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");
}

describe("as the requester, production spelled otherwise", () => {
  it("is caught for the spellings the host normalises (case, full width, Cyrillic, zero width, percent)", async () => {
    const resources = [
      "postgres://PROD/customers",
      "postgres://db-prod/customers",
      "postgres://" + "\uff50\uff52\uff4f\uff44" + "/customers", // full-width
      "postgres://" + "\u0440r\u043ed" + "/customers", // Cyrillic р and о
      "postgres://p\u200brod/customers", // zero width space
      "postgres://p%72od/customers",
      "postgres://LIVE/customers",
      "postgres://prd1/customers",
    ];
    for (const [i, e] of (await evaluate(resources.map((r) => query(r)))).entries()) {
      expect(e.decision.auto_approve, resources[i]).toBe(false);
    }
  });

  // Was a bypass (now an attack test that must fail): a production name joined to another word without a separator is not production:
  // `proddb`, `prodcluster.internal`, `productiondb`, `eu1prod`, `prodeu`, `pr0d`, `prod01a` are
  // all auto-approved for db.query (policies/interlock/production.rego names_production only
  // accepts the name alone or followed by digits). Fix: match names as prefixes/suffixes of a
  // segment (prod*, *prod), or fail towards production for any segment containing a name, and
  // map digit look-alikes (0→o) before matching.
  it("a production name glued to another word (proddb, eu1prod, pr0d) is production", async () => {
    const resources = [
      "postgres://proddb/customers",
      "postgres://prodcluster.internal/customers",
      "postgres://productiondb/customers",
      "postgres://eu1prod/customers",
      "postgres://pr0d/customers",
    ];
    for (const [i, e] of (await evaluate(resources.map((r) => query(r)))).entries()) {
      expect(e.decision.auto_approve, resources[i]).toBe(false);
    }
  });

  // Was a bypass (now an attack test that must fail): look-alikes outside the small Cyrillic/Greek table of src/text/unicode.ts
  // (normalizeForMatching, LOOKALIKES): Latin small capitals `ᴘʀᴏᴅ` (U+1D18 U+0280 U+1D0F U+1D05),
  // a combining dot on the p (`p\u0307rod`, NFKC composes it to `ṗ`), Armenian `օ` (U+0585), a
  // diaeresis (`pröd`). All are auto-approved; a person reads each as prod. Fix: use the
  // Unicode confusables skeleton (UTS #39) and strip combining marks (NFD, drop \p{M}) before
  // matching, or treat any non-ASCII letter in a resource as "maybe production".
  it("production written with small capitals, combining marks or Armenian letters is production", async () => {
    const resources = [
      "postgres://" + "\u1d18\u0280\u1d0f\u1d05" + "/customers",
      "postgres://p\u0307rod/customers",
      "postgres://pr\u0585d/customers",
      "postgres://pr\u00f6d/customers",
    ];
    for (const [i, e] of (await evaluate(resources.map((r) => query(r)))).entries()) {
      expect(e.decision.auto_approve, resources[i]).toBe(false);
    }
  });
});

describe("as the requester, production named inside the SQL", () => {
  // Was a bypass (now an attack test that must fail): production is only looked for in `resource` (production.rego resource_segments):
  // a db.query on `postgres://staging/x` whose SQL reads `prod.customers`,
  // `production_fdw.users` or `live_db.public.accounts` (a foreign schema or a cross-database
  // name that reaches production) is auto-approved. Fix: also run the production names over
  // the schema and catalogue names of every relation in the parsed SQL (the SQL analysis
  // already walks RangeVar nodes), and fail towards production when one matches.
  it("a query on a staging resource that reads a prod schema is not auto-approved", async () => {
    const sql = [
      "select email from prod.customers",
      "select * from production_fdw.users",
      "select * from live_db.public.accounts",
    ];
    const out = await evaluate(sql.map((q) => query("postgres://staging/products", q)));
    for (const [i, e] of out.entries()) expect(e.decision.auto_approve, sql[i]).toBe(false);
  });
});

describe("as the requester, SQL that writes but looks read-only", () => {
  it("is never auto-approved (functions, CTEs, EXPLAIN ANALYZE, COPY, locks, several statements)", async () => {
    const writes = [
      "select pg_terminate_backend(1)",
      'select "PG_TERMINATE_BACKEND"(1)',
      "select pg_catalog . nextval('s')",
      "select setval('s', 1)",
      "select * from t order by pg_advisory_lock(1)",
      "select count(*) filter (where pg_terminate_backend(1)) from t",
      "select query_to_xml('delete from t returning 1', true, true, '')",
      "select * from dblink('x', 'delete from t') as t(a int)",
      "explain (format json, analyse) delete from t",
      "explain (analyze true) select 1",
      "with x as (delete from t returning *) select * from x",
      "select 1; delete from t",
      "copy t to program 'true'",
      "select * into t2 from t",
      "select * from t for no key update",
      "do $$ begin delete from t; end $$",
      "select lo_import('/etc/hostname')",
      "select pg_notify('c', 'x')",
      "select * from xmltable('/a' passing '<a/>' columns x int path pg_terminate_backend(1)::text)",
    ];
    const out = await evaluate(writes.map((q) => query("postgres://staging/products", q)));
    for (const [i, e] of out.entries()) expect(e.decision.auto_approve, writes[i]).toBe(false);
  });

  it("keeps read-only SQL with statements hidden in comments and literals auto-approved (they do not run)", async () => {
    const reads = [
      "select 1 /* ; delete from t */",
      "select 1 -- ; delete from t",
      "select $a$ ; delete from t $a$",
    ];
    const out = await evaluate(reads.map((q) => query("postgres://staging/products", q)));
    for (const [i, e] of out.entries()) expect(e.decision.auto_approve, reads[i]).toBe(true);
  });

  // Was a bypass (now an attack test that must fail): user-defined operators and casts call functions that the function allow-list never
  // sees: `select 1 operator(public.===) 1`, `select '1'::public.t` run whatever function the
  // operator or cast is bound to (CREATE OPERATOR … PROCEDURE = f that writes), yet the request
  // is auto-approved (src/sql/* only checks FuncCall names; A_Expr with a schema-qualified or
  // non-builtin operator and TypeCast to a non-builtin type pass). Fix: allow only built-in
  // operators in pg_catalog and casts to built-in types; anything else is "not proven read-only".
  it("a schema-qualified operator or a cast to a user type is not proven read-only", async () => {
    const sneaky = [
      "select 1 operator(public.===) 1",
      "select 1 === 1",
      "select '1'::public.mytype",
    ];
    const out = await evaluate(sneaky.map((q) => query("postgres://staging/products", q)));
    for (const [i, e] of out.entries()) expect(e.decision.auto_approve, sneaky[i]).toBe(false);
  });
});

describe("as the requester, masking that hides what runs", () => {
  // Was a bypass (now an attack test that must fail): a mask widened to the whole SQL literal (src/executable/literals.ts, masks bounded
  // to literals) hides SQL that the statement itself runs: the body of a DO block, the
  // statement given to dblink() or query_to_xml(). Putting one fake e-mail address or SSN
  // inside makes the reviewer see `do $$[email:…]$$` or `dblink('host=db', '[email:…]')`
  // while `delete from users …` runs; the request is allowed and goes to review. Fix: deny
  // (fail closed) when a mask would cover a literal that is itself code (DO bodies, function
  // bodies, arguments of dblink/dblink_exec/query_to_xml/EXECUTE-like functions), or mask only
  // the detected span inside such a literal so the statement stays readable.
  it("a masked literal never hides a statement that runs", async () => {
    const who = ["jane.doe", "example.com"].join("@");
    const queries = [
      `do $$ begin delete from users where email = '${who}'; end $$`,
      `select * from dblink('host=db', 'delete from users where email = ''${who}'' returning 1') as t(a int)`,
      `select query_to_xml('delete from users where email = ''${who}'' returning 1', true, true, '')`,
    ];
    const out = await evaluate(queries.map((q) => query("postgres://prod/customers", q)));
    for (const [i, e] of out.entries()) {
      const shown = JSON.stringify(e.request);
      const hidden = e.decision.allow && !shown.includes("delete from users");
      expect(hidden, queries[i]).toBe(false);
    }
  });
});

describe("as the requester, masking the grantee", () => {
  // Was a bypass (now an attack test that must fail): the grantee of iam.grant is personal data when it is an e-mail address, so the
  // card, the request file and --json show `grantee: "[email:<hmac>]"`: the security reviewer
  // approves a grant of roles/owner without being able to tell who receives it (an outside
  // address looks like any colleague's). Fix: never mask the fields that name the principal of
  // a grants action (grants.rego grantee_params), or resolve the address to a configured
  // principal and show that id; deny a grant to an address that resolves to no principal.
  it("the reviewer can see who is granted access", async () => {
    const outsider = ["mallory", "evil.example"].join("@");
    const [e] = await evaluate([grant({ role: "roles/owner", grantee: outsider })]);
    expect(e!.decision.allow).toBe(true);
    expect(JSON.stringify(e!.request)).toContain(outsider);
  });
});

describe("as the requester, self-grant through other names", () => {
  it("is denied for the names the policy folds (case, @login, kind prefix, e-mail, agent alias)", async () => {
    const grantees = [
      "Alice",
      "@alice",
      "user:alice",
      "ALICE@ACME.EXAMPLE",
      "etl-bot",
      "serviceAccount:etl-bot@acme-data.iam.example",
    ];
    // Evaluated against an initialised repository's config, where alice and the agent's
    // aliases are known; the default policies alone know only the request's own fields.
    const repo = await Repo.init();
    for (const g of grantees) {
      const r = await repo.json<Evaluated>(["evaluate", "-"], {
        stdin: JSON.stringify(grant({ grantee: g })),
      });
      expect(r.body.decision.allow, g).toBe(false);
    }
  });

  // Was a bypass (now an attack test that must fail): the grantee is compared after lower-casing and trimming only
  // (policies/interlock/grants.rego normalise_principal): Cyrillic `аlice`, full-width
  // `ａｌｉｃｅ`, `alice\u200b`, the display name `Alice Example`, plus-addressing
  // `alice+ops@acme.example` and a trailing-dot domain are all allowed to be granted a role by
  // alice's own agent. Fix: normalise grantees with the host's normalizeForMatching (NFKC,
  // invisible characters out, confusables), drop `+tag` and a trailing dot from e-mail
  // addresses, and compare with the person's name too; or require the grantee to resolve to a
  // known principal and compare identities rather than strings.
  it("granting the sponsor under a look-alike, invisible or display name is denied", async () => {
    const repo = await Repo.init();
    const grantees = [
      "\u0430lice",
      "\uff41\uff4c\uff49\uff43\uff45",
      "alice\u200b",
      "Alice Example",
      "alice+ops@acme.example",
    ];
    for (const g of grantees) {
      const r = await repo.json<Evaluated>(["evaluate", "-"], {
        stdin: JSON.stringify(grant({ grantee: g })),
      });
      expect(r.body.decision.allow, JSON.stringify(g)).toBe(false);
    }
  });

  // Was a bypass (now an attack test that must fail): only params.principal/grantee/member/user are read as grantees
  // (grants.rego grantee_params); `grantee: bob` plus `members: [alice]` (or `email`,
  // `principals`, or a differently-cased `Grantee`) is allowed, and the executor receives the
  // whole params object. Fix: deny a grants action whose params hold any key other than the
  // catalogued ones, or treat every string in params that resolves to a principal as a grantee.
  it("a second grantee in a field the policy does not read is denied", async () => {
    const repo = await Repo.init();
    for (const extra of [{ members: ["alice"] }, { principals: ["alice"] }, { Grantee: "alice" }]) {
      const r = await repo.json<Evaluated>(["evaluate", "-"], {
        stdin: JSON.stringify(grant({ grantee: "bob", ...extra })),
      });
      expect(r.body.decision.allow, JSON.stringify(extra)).toBe(false);
    }
  });
});

describe("as the requester, secrets the detectors must mask", () => {
  it("masks provider tokens, keys in headers, URLs and keyed fields wherever they are", async () => {
    const gh = "ghp_" + tokenBody(36);
    const npm = "npm_" + tokenBody(36);
    const opaque = tokenBody(32);
    const requests = [
      { ...query("postgres://staging/products"), reason: "use " + gh },
      { ...query("postgres://staging/products"), reason: "token " + npm },
      {
        ...query("postgres://staging/products"),
        params: { query: "select 1", headers: { Authorization: "Bearer " + opaque } },
      },
      {
        ...query("postgres://staging/products"),
        params: { query: "select 1", url: "https://api.example.test/v1?access_token=" + opaque },
      },
      { ...query("postgres://staging/products"), params: { query: "select 1", apiKey: opaque } },
      { ...query("postgres://staging/products", `select * from t where k = '${gh}'`) },
      { ...query("postgres://staging/products"), requester: { ...agent, on_behalf_of: gh } },
    ];
    const out = await evaluate(requests);
    const text = JSON.stringify(out);
    for (const secret of [gh.slice(4), npm.slice(4), opaque]) expect(text).not.toContain(secret);
  });

  // Was a bypass (now an attack test that must fail): a token split at its prefix is not a token any more: reason "prefix ghp_ then
  // <36 chars>" or SQL `select 'ghp_' || '<36 chars>'` keeps the whole token body in the
  // request file, the card and the --json output (src/masking/detectors.ts matches the
  // provider pattern on one contiguous span; the body alone has no keyword and is not flagged
  // by entropy). Fix: an entropy detector for long random-looking words in free text (reason,
  // SQL literals), or match a provider prefix followed within a few characters by a body.
  it("a provider token split at its prefix is still masked", async () => {
    const gh = "ghp_" + tokenBody(36);
    const out = await evaluate([
      { ...query("postgres://staging/products"), reason: "prefix ghp_ then " + gh.slice(4) },
      query("postgres://staging/products", `select 'ghp_' || '${gh.slice(4)}'`),
    ]);
    expect(JSON.stringify(out)).not.toContain(gh.slice(4));
  });
});

describe("as the requester, digits under a secret's name", () => {
  it("a numeric password (a JSON number) is masked", async () => {
    const digits = String(10_000_000 + (randomBytes(3).readUIntBE(0, 3) % 80_000_000));
    const out = await evaluate([
      {
        ...query("postgres://staging/products"),
        params: { query: "select 1", password: Number(digits) },
      },
    ]);
    expect(JSON.stringify(out)).not.toContain(digits);
  });

  // Was a bypass (now an attack test that must fail): under `secret`, `api_key`, `apiKey`, `client_secret`, `pin`, `cvv` or `otp`, a value
  // made only of digits (a JSON number or a string) is neither detected nor masked, while the
  // same value under `password` is: it goes into the request file on the proposal branch, the
  // card and the --json output, and the request is even auto-approved (src/masking/detectors.ts,
  // the keyed generic-secret rule wants letters or entropy; numbers under key names are only
  // masked for a few names). Fix: one list of secret-bearing key names (password, secret, token,
  // *_key, apikey, pin, cvv, cvc, otp, …) whose values are masked whatever their characters or
  // JSON type.
  it("a numeric secret, API key, PIN or CVV under its name is masked", async () => {
    const digits = (n: number) =>
      [...randomBytes(n)].map((b, i) => String(i === 0 ? 1 + (b % 9) : b % 10)).join("");
    const values = {
      secret: digits(8),
      api_key: digits(16),
      apiKey: digits(15),
      pin: digits(4),
      cvv: digits(3),
      otp: digits(6),
    };
    const out = await evaluate(
      Object.entries(values).map(([k, v]) => ({
        ...query("postgres://staging/products"),
        params: { query: "select 1", [k]: k === "apiKey" ? Number(v) : v },
      })),
    );
    for (const [i, [k, v]] of Object.entries(values).entries()) {
      expect(JSON.stringify(out[i]!.request.params), k).not.toContain(v);
    }
  });
});
