/**
 * Property: a mask never hides syntax. Generated SQL and shell parameters carry fake secrets in
 * many positions (closed and unclosed quotes, E'' strings with escaped quotes, dollar quotes,
 * comments, next to `;`, bare words). Each either is denied, or the masked text and the original
 * have the same token stream outside the masked literals, by PostgreSQL's own scanner.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decideAndMask } from "../src/decide.ts";
import { planExecutableMasks, verifyExecutableMasks } from "../src/executable/check.ts";
import type { ExecutableParam } from "../src/executable/catalogue.ts";
import { literalRanges } from "../src/executable/literals.ts";
import { maskDocument } from "../src/masking/mask.ts";
import { scan } from "../src/masking/scan.ts";
import { defaultPoliciesDir } from "../src/policy/bundle.ts";
import { loadPolicyEngine, type PolicyEngine } from "../src/policy/engine.ts";
import { validateRequestValue } from "../src/request/parse.ts";
import { analyseSql } from "../src/sql/classify.ts";
import { LITERAL_KINDS, loadSqlParser, type SqlParser, type SqlToken } from "../src/sql/parser.ts";

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const alnum = (n: number) =>
  fc.string({ unit: fc.constantFrom(...ALNUM), minLength: n, maxLength: n });
const word = fc.string({ unit: fc.constantFrom(..."abcdefghij"), minLength: 3, maxLength: 8 });

/** Fake secrets, assembled at run time: tokens, passwords with syntax characters, e-mails, cards. */
const secret = fc.oneof(
  alnum(36).map((s) => "ghp_" + s),
  alnum(24).map((s) => "sk_live_" + s),
  word.map((w) => `${w}@example.com`),
  fc.constant("4111111111111111"),
);

const sqlPiece = (s: string) =>
  fc.constantFrom(
    `'${s}'`,
    `'${s}`,
    `'x ${s} y'`,
    `'a''${s}''b'`,
    `'p$;''${s}'`,
    `E'${s}\\''`,
    `E'${s}\\'`,
    `$$${s}$$`,
    `$t$${s}$t$`,
    `$$${s}`,
    `/* ${s} */`,
    `/* ${s}`,
    `-- ${s}\n`,
    `${s}`,
    `'${s}';`,
    `'${s}' ; drop table users; --`,
    `U&'${s}'`,
  );

const sqlText = fc
  .tuple(
    fc.constantFrom(
      "select * from t where a = ",
      "select ",
      "select id from users where password = ",
    ),
    fc.array(secret.chain(sqlPiece), { minLength: 1, maxLength: 3 }),
    fc.constantFrom("", " and b = 1", "; drop table users; --", "\nselect 2", " -- done"),
  )
  .map(([head, pieces, tail]) => head + pieces.join(" , ") + tail);

const shellPiece = (s: string) =>
  fc.constantFrom(
    `'${s}'`,
    `"${s}"`,
    `${s}`,
    `--token=${s}`,
    `'${s}`,
    `"${s}`,
    `$(${s})`,
    `"${s}$HOME"`,
    `\`${s}\``,
    `${s};`,
    `'${s}';rm`,
  );

const shellText = fc
  .tuple(
    fc.constantFrom("deploy ", "curl -H ", "psql -c "),
    fc.array(secret.chain(shellPiece), { minLength: 1, maxLength: 3 }),
    fc.constantFrom("", " --env staging", "; rm -rf /", " | sh", " && echo ok"),
  )
  .map(([head, pieces, tail]) => head + pieces.join(" ") + tail);

const urlPiece = (s: string) =>
  fc.constantFrom(
    `https://user:${s}@db.example.com/x`,
    `https://${s}@db.example.com/x`,
    `https://db.example.com/${s}/x`,
    `https://db.example.com/x?token=${s}&a=1`,
    `https://db.example.com/x#${s}`,
    `https://db.example.com/x?token=${s}#${s}`,
    `https://user:${s}/x`,
    `https://db.example.com/x?${s}=1`,
    `https://db.example.com/x ${s}`,
    `db.example.com/${s}`,
  );

let engine: PolicyEngine;
let sql: SqlParser;
const hmacKey = new Uint8Array(32).fill(5);
const QUERY: ExecutableParam = { path: "/params/query", language: "sql" };

beforeAll(async () => {
  engine = await loadPolicyEngine(defaultPoliciesDir());
  sql = await loadSqlParser();
});

/** The placeholders in masked text, given the original and the masked spans in order. */
function placeholderRanges(
  original: string,
  masked: string,
  spans: readonly { start: number; end: number }[],
) {
  const out: { start: number; end: number }[] = [];
  let pos = 0;
  let at = 0;
  for (const s of spans) {
    at += s.start - pos;
    const close = masked.indexOf("]", at);
    out.push({ start: at, end: close + 1 });
    at = close + 1;
    pos = s.end;
  }
  expect(masked.slice(at)).toBe(original.slice(pos));
  return out;
}

/** The text with each range replaced by one NUL: what must not change. */
function outside(text: string, rs: readonly { start: number; end: number }[]): string {
  let r = "";
  let at = 0;
  for (const h of rs) {
    r += text.slice(at, h.start) + "\u0000";
    at = h.end;
  }
  return r + text.slice(at);
}

const overlaps = (
  t: { start: number; end: number },
  rs: readonly { start: number; end: number }[],
) => rs.some((r) => t.start < r.end && r.start < t.end);

function stream(
  text: string,
  tokens: readonly SqlToken[],
  skip: readonly { start: number; end: number }[],
) {
  return tokens
    .filter((t) => !overlaps(t, skip))
    .map((t) => `${t.kind}:${text.slice(t.start, t.end)}`);
}

describe("masks never hide syntax", () => {
  /** Either denied, or the same token stream outside the masked literals. */
  function checkSql(
    q: string,
    allow: boolean,
    masked: string | undefined,
    request: unknown,
  ): boolean {
    if (!allow) return false;
    const spans =
      planExecutableMasks(request, scan(request), [QUERY], sql).spans.get("/params/query") ?? [];
    if (spans.length === 0) {
      expect(masked).toBe(q);
      return true;
    }
    const before = sql.lex(q);
    const after = sql.lex(masked ?? "");
    expect(before.ok && after.ok).toBe(true);
    if (!before.ok || !after.ok) return true;
    // Every token a mask touches is a literal, and nothing outside the literals changed.
    for (const t of before.tokens.filter((t) => overlaps(t, spans))) {
      expect(LITERAL_KINDS.has(t.kind)).toBe(true);
    }
    const holes = placeholderRanges(q, masked ?? "", spans);
    expect(stream(masked ?? "", after.tokens, holes)).toEqual(stream(q, before.tokens, spans));
    return true;
  }

  it("SQL: denied, or the same token stream outside masked literals (4,000 generated queries)", () => {
    let allowed = 0;
    fc.assert(
      fc.property(sqlText, (q) => {
        const request = { params: { query: q } };
        const plan = planExecutableMasks(request, scan(request), [QUERY], sql);
        const masked = maskDocument(request, plan.findings, [], { hmacKey });
        const denials = [
          ...plan.denials,
          ...verifyExecutableMasks(request, masked.value, [QUERY], plan),
        ];
        const out = (masked.value as { params: { query?: string } }).params.query;
        if (checkSql(q, denials.length === 0, out, request)) allowed++;
      }),
      { numRuns: 4000 },
    );
    // The property is not vacuous: many generated queries were allowed and masked.
    expect(allowed).toBeGreaterThan(400);
  });

  it("SQL end to end through decideAndMask and the built policy (400 generated requests)", () => {
    fc.assert(
      fc.property(sqlText, (q) => {
        const request = validateRequestValue({
          action: "db.query",
          resource: "postgres://staging/customers",
          params: { query: q },
          reason: "Property test",
          requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
        });
        const ev = decideAndMask(request, {
          engine,
          now: new Date("2026-11-24T10:00:00Z"),
          repo: null,
          hmacKey,
        });
        if (!ev.decision.allow) expect(ev.decision.auto_approve).toBe(false);
        const out = (ev.request.params as { query?: string }).query;
        checkSql(q, ev.decision.allow, out, request);
      }),
      { numRuns: 400 },
    );
  });

  it("URL: denied, or only whole components masked and the rest unchanged (2,000 generated URLs)", () => {
    const url: ExecutableParam = { path: "/params/url", language: "url" };
    let allowed = 0;
    fc.assert(
      fc.property(secret.chain(urlPiece), (u) => {
        const request = { params: { url: u } };
        const plan = planExecutableMasks(request, scan(request), [url], sql);
        const masked = maskDocument(request, plan.findings, [], { hmacKey });
        const denials = [
          ...plan.denials,
          ...verifyExecutableMasks(request, masked.value, [url], plan),
        ];
        if (denials.length > 0) return;
        allowed++;
        const out = (masked.value as { params: { url: string } }).params.url;
        const lexed = literalRanges(u, "url", sql);
        expect(lexed.ok).toBe(true);
        if (!lexed.ok) return;
        const spans = plan.spans.get("/params/url") ?? [];
        for (const s of spans) expect(lexed.literals).toContainEqual(s);
        const holes = placeholderRanges(u, out, spans);
        expect(outside(out, holes)).toBe(outside(u, spans));
      }),
      { numRuns: 2000 },
    );
    expect(allowed).toBeGreaterThan(200);
  });

  it("shell: denied, or only whole literals masked and the rest unchanged (3,000 generated commands)", () => {
    const cmd: ExecutableParam = { path: "/params/cmd", language: "shell-argv" };
    let allowed = 0;
    fc.assert(
      fc.property(shellText, (c) => {
        const request = { params: { cmd: c } };
        const plan = planExecutableMasks(request, scan(request), [cmd], sql);
        const masked = maskDocument(request, plan.findings, [], { hmacKey });
        const denials = [
          ...plan.denials,
          ...verifyExecutableMasks(request, masked.value, [cmd], plan),
        ];
        if (denials.length > 0) return;
        allowed++;
        const out = (masked.value as { params: { cmd: string } }).params.cmd;
        const spans = plan.spans.get("/params/cmd") ?? [];
        const lexed = literalRanges(c, "shell-argv", sql);
        expect(lexed.ok).toBe(true);
        if (!lexed.ok) return;
        for (const s of spans) {
          expect(lexed.literals).toContainEqual(s);
        }
        const holes = placeholderRanges(c, out, spans);
        expect(outside(out, holes)).toBe(outside(c, spans));
      }),
      { numRuns: 3000 },
    );
    expect(allowed).toBeGreaterThan(300);
  });
});

describe("the literals a parse proves are the scanner's literals", () => {
  /** String forms the scanner reads in more than one way: continuations, escapes, prefixes. */
  const stringPiece = (s: string) =>
    fc.constantFrom(
      `'${s}'`,
      `'${s}'\n'x'`,
      `'${s}' \n -- note\n 'x'`,
      `'${s}'\n''`,
      `'${s}''x'`,
      `'x''${s}'`,
      `E'${s}'`,
      `N'${s}'`,
      `B'0101'`,
      `X'${s.length.toString(16)}'`,
      `U&'${s}'`,
      `$$${s}$$`,
      `'é ${s} ✓'`,
      `'${s}' /* c */ 'x'`,
      `'${s}'::text`,
      `date '${s}'`,
    );
  const query = fc
    .tuple(
      fc.constantFrom("select ", "select * from t where a in (", "select format("),
      fc.array(secret.chain(stringPiece), { minLength: 1, maxLength: 4 }),
    )
    .map(([head, pieces]) => head + pieces.join(", ") + (head.endsWith("(") ? ")" : ""));

  it("as the requester: every string literal proven from the parse is exactly a literal the scanner sees (3,000 generated queries)", () => {
    let proven = 0;
    fc.assert(
      fc.property(query, (q) => {
        const strings = analyseSql(sql, q).strings;
        const lexed = sql.lex(q);
        if (!lexed.ok) {
          expect(strings).toEqual([]);
          return;
        }
        const contents = lexed.tokens.flatMap((t) =>
          LITERAL_KINDS.has(t.kind) && t.content !== undefined ? [t.content] : [],
        );
        for (const s of strings) expect(contents).toContainEqual(s);
        proven += strings.length;
        // And the plan made with them is the plan made by lexing.
        const request = { params: { query: q } };
        const findings = scan(request);
        const viaParse = planExecutableMasks(
          request,
          findings,
          [QUERY],
          sql,
          new Map([["/params/query", strings]]),
        );
        const viaLex = planExecutableMasks(request, findings, [QUERY], sql);
        expect(viaParse).toEqual(viaLex);
      }),
      { numRuns: 3000 },
    );
    expect(proven).toBeGreaterThan(1000);
  });
});
