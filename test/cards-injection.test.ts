/* eslint-disable no-control-regex -- the tests look for control characters on purpose */
/**
 * Card injection: request text must not hide, reorder or restyle any text of the card. The
 * Markdown card is rendered with GitHub's own renderer (cmark-gfm, installed by
 * scripts/ensure-tools.mjs) and compared with a card built from harmless text: the same
 * structure, and every character of the hostile text visible in the rendered text.
 */
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { decideAndMask, type Evaluation } from "../src/decide.ts";
import { renderVerdictMarkdown } from "../src/action/render.ts";
import type { GateVerdict } from "../src/gate/snapshot.ts";
import type { Decision } from "../src/policy/decision.ts";
import type { PolicyEngine } from "../src/policy/engine.ts";
import {
  commitText,
  markdownText,
  slackText,
  terminalText,
  visibleBlock,
  visibleText,
} from "../src/presentation/escape.ts";
import { renderCard, renderCardMarkdown } from "../src/proposal/card.ts";
import { validateRequestValue } from "../src/request/parse.ts";
import { git, Repo, requests } from "./e2e-helpers.ts";

const HOSTILE = [
  "a | b || c |",
  "<!-- hidden -->",
  "<details><summary>ok</summary>secret</details>",
  "</td></tr></table><h1>Approved</h1>",
  "``` end of fence ```` and `code`",
  "[click](javascript:alert(1)) ![img](x)",
  "line one\rOVERWRITTEN",
  "evil \u202egnp.exe",
  "zero\u200bwidth\u200c\u200d\ufeff",
  "clear \x1b[2J\x1b[31mred\x1b[0m",
  "# heading\n## another\n---\n> quote",
  "*emph* _em_ ~~strike~~ **bold** <b>b</b> &amp; &lt;",
  "@acme/security please approve",
  "  padded  ",
  "back\\slash \\x1b \\u202E",
  "Interlock-Approved-By: mallory\nInterlock-Request: 01JXXXXXXXXXXXXXXXXXXXXXXX",
];
const ALL = HOSTILE.join(" ");

/** A policy double that allows and repeats the request's reason in its own text. */
function echoingEngine(deny: boolean): PolicyEngine {
  return {
    revision: "test",
    executableParams: () => [],
    sql: null,
    decide: (input): Decision => ({
      allow: !deny,
      deny: deny ? [`denied: ${String(input.request.reason)}`] : [],
      risk: "high",
      classification: [],
      auto_approve: false,
      approvals: { groups: deny ? [] : [{ name: "stewards", owners: ["@acme/data"], min: 1 }] },
      mask: [],
      ttl_seconds: 3600,
      why: [`because ${String(input.request.reason)}`],
      revision: "test",
    }),
  };
}

function evaluation(text: string, deny = false): Evaluation {
  const request = validateRequestValue({
    action: "db.export",
    resource: text,
    params: { note: text, [`k${text}`]: 1, list: [text] },
    reason: text,
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
  });
  return decideAndMask(request, {
    engine: echoingEngine(deny),
    now: new Date("2026-11-24T10:00:00Z"),
    repo: null,
    hmacKey: new Uint8Array(32),
  });
}

function cmark(markdown: string): string {
  return execFileSync(
    "cmark-gfm",
    ["--unsafe", "-e", "table", "-e", "strikethrough", "-e", "autolink", "-e", "tagfilter"],
    { input: markdown, encoding: "utf8" },
  );
}

/** Tags in order, without the ones that only wrap text (links, code spans). */
function structure(html: string): string[] {
  return [...html.replace(/<!--[\s\S]*?-->/g, "").matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)]
    .map((m) => m[0].toLowerCase())
    .filter((t) => !/^<\/?(?:a|code)$/.test(t));
}

/** The text a browser shows: comments and tags removed, entities decoded. */
function textContent(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<[^>]*>/g, "")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

beforeAll(() => {
  try {
    execFileSync("cmark-gfm", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "cmark-gfm is missing: run `node scripts/ensure-tools.mjs` (as root on Debian)",
    );
  }
});

describe("the Markdown card, rendered by cmark-gfm", () => {
  for (const [i, text] of [...HOSTILE, ALL].entries()) {
    for (const deny of [false, true]) {
      it(`as the requester, hostile text #${i} (${deny ? "denied" : "allowed"}) keeps the card's structure and stays visible`, () => {
        const hostile = cmark(renderCardMarkdown(evaluation(text, deny)));
        const harmless = cmark(renderCardMarkdown(evaluation("plain words", deny)));
        expect(structure(hostile)).toEqual(structure(harmless));
        const shown = textContent(hostile);
        // Every one-line field (resource, reason, policy text) shows the whole text, as often as
        // the harmless card shows its text; the params block shows it too.
        const outsidePre = (html: string) => textContent(html.replace(/<pre>[\s\S]*?<\/pre>/g, ""));
        const count = (hay: string, needle: string) => hay.split(needle).length - 1;
        const expected = count(outsidePre(harmless), "plain words");
        expect(expected).toBeGreaterThanOrEqual(3);
        expect(count(outsidePre(hostile), visibleText(text))).toBe(expected);
        expect(shown).toContain(
          visibleBlock(stringify({ params: { note: text } }, { lineWidth: 0 }).split("\n")[1]!),
        );
        // Nothing invisible or controlling reaches the rendered text.
        expect(shown).not.toMatch(
          /[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/,
        );
      });
    }
  }

  it("as the requester, the gate verdict and reports cannot be restyled either", () => {
    const verdict: GateVerdict = {
      satisfied: false,
      autoApproved: false,
      summary: ALL,
      rules: [{ rule: "groups", ok: false, detail: ALL }],
      approvals: [{ who: "@acme/security", counted: false, why: ALL }],
    };
    const plain: GateVerdict = {
      ...verdict,
      summary: "x",
      rules: [{ ...verdict.rules[0]!, detail: "x" }],
      approvals: [{ ...verdict.approvals[0]!, why: "x" }],
    };
    const html = cmark(renderVerdictMarkdown(verdict, { id: "01JDQ0000000000000000000AA" }));
    expect(structure(html)).toEqual(
      structure(cmark(renderVerdictMarkdown(plain, { id: "01JDQ0000000000000000000AA" }))),
    );
    expect(textContent(html)).toContain(visibleText(ALL));
  });
});

describe("the terminal card", () => {
  it("as the requester, escape sequences, CR, bidi and zero-width characters are shown escaped", () => {
    for (const color of [false, true]) {
      const card = renderCard(evaluation(ALL), { color });
      // Only the card's own colour codes remain as real escape sequences.
      const own = card.replace(/\x1b\[[0-9;]*m/g, "");
      expect(own).not.toMatch(
        /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/,
      );
      expect(card).toContain(visibleText(ALL));
      expect(card).toContain("\\x1b[2J");
      expect(card).toContain("\\u202E");
      expect(card).toContain("\\r");
    }
  });
});

/** Reads visibleText's escapes back: the escaping loses nothing and confuses nothing. */
function unescapeVisible(text: string): string {
  return text.replace(
    /\\(?:x([0-9a-f]{2})|u\{([0-9A-F]+)\}|u([0-9A-F]{4})|([nrt\\]))/g,
    (_, x, big, u, named) => {
      if (x) return String.fromCharCode(parseInt(x as string, 16));
      if (big) return String.fromCodePoint(parseInt(big as string, 16));
      if (u) return String.fromCharCode(parseInt(u as string, 16));
      return ({ n: "\n", r: "\r", t: "\t", "\\": "\\" } as Record<string, string>)[
        named as string
      ]!;
    },
  );
}

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/u;
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(
      ..."\x1b\r\n\t\\|<>`[]()!#*_~&@:\u202e\u2066\u200b\ufeff\u0085\u2028aZ 9-",
    ),
    maxLength: 40,
  }),
);

describe("escaping, for arbitrary strings (fast-check)", () => {
  it("terminal text: nothing invisible survives, and the original can be read back", () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const out = terminalText(s);
        expect(INVISIBLE.test(out)).toBe(false);
        expect(unescapeVisible(out)).toBe(s);
      }),
      { numRuns: 3000 },
    );
  });

  it("commit text: one line that never reads as a trailer, whatever the request says", () => {
    fc.assert(
      fc.property(
        anyText,
        fc.constantFrom("", "Interlock-Approved-By: ", "Interlock-Request:", "\nInterlock-X: "),
        (s, prefix) => {
          const line = commitText(prefix + s);
          expect(line).not.toMatch(/[\r\n\u0085\u2028\u2029]/);
          expect(INVISIBLE.test(line)).toBe(false);
          const message = `Denied db.export: ${line}\n\n${line}\n\nInterlock-Denied: 01JDQ0000000000000000000AA`;
          // The audit reads trailers line by line: only Interlock's own line is one.
          expect([...message.matchAll(/^Interlock-[\w-]+: (.+)$/gm)].length).toBe(1);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("Markdown text: never more than one line, no unescaped pipe, no raw tag", () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const out = markdownText(s);
        expect(out).not.toMatch(/[\r\n]/);
        expect(out).not.toMatch(/(?:^|[^\\])(?:\\\\)*\|/);
        expect(out).not.toMatch(/[<>]/);
      }),
      { numRuns: 3000 },
    );
  });

  it("Slack text: no <!channel>, <@user> or <url|label> can form", () => {
    const out = slackText("<!channel> <@U123> <https://evil.test|click> & \u202e");
    expect(out).not.toMatch(/[<>]/);
    expect(out).toContain("&lt;!channel&gt;");
    expect(out).toContain("\\u202E");
  });
});

describe("commit messages", () => {
  it("as the requester, a resource or param key shaped like a trailer forges none in any commit", async () => {
    const repo = await Repo.init();
    const forged = "Interlock-Approved-By: dana";
    const filed = await repo.request({
      ...requests.query(),
      resource: `postgres://staging/products\n${forged}\r${forged}`,
      params: { query: "select 1", "Interlock-Approved-By": "dana", note: `x\n${forged}` },
      reason: `count\n\n${forged}`,
    });
    const messages = git(repo.dir, ["log", "--all", "--format=%B%x00"]);
    expect(messages).toContain("db.query on postgres://staging/products\\n");
    expect(filed.denied).toBe(false);
    for (const m of messages.split("\0")) {
      expect(m).not.toMatch(/^Interlock-Approved-By:/m);
      const parsed = execFileSync("git", ["interpret-trailers", "--parse"], {
        input: m,
        encoding: "utf8",
      });
      expect(parsed).not.toContain("Approved-By");
    }
  });
});
