/**
 * Every output about a request is scrubbed of every value masked in it: executor results and
 * errors, --json output, and every git object reachable from any ref. Values are planted that
 * no detector finds (a customer's name, masked only because the policy names its path), and
 * the executor echoes them in the encodings an output would use.
 */
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createScrubber } from "../src/masking/scrub.ts";
import { git, reachableObjects, Repo, show } from "./e2e-helpers.ts";

// Obviously fake, assembled at run time: a name no detector recognises, and an e-mail address.
const NAME = ["Quillon", "Vexmarrow-Example"].join(" ");
const EMAIL = ["quillon.vexmarrow", "example.org"].join("@");

/** Every form of a value that must not appear: as is, upper/lower case, URL, hex, base64. */
function forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const out = [
    value,
    value.toUpperCase(),
    value.toLowerCase(),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, "+"),
    bytes.toString("hex"),
    bytes.toString("hex").toUpperCase(),
    bytes.toString("base64"),
    bytes.toString("base64url"),
  ];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes]);
    const core = padded
      .toString("base64")
      .slice(k === 0 ? 0 : 4, Math.floor(padded.length / 3) * 4);
    out.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return out;
}

function expectClean(text: string, where: string): void {
  for (const v of [NAME, EMAIL]) {
    for (const f of forms(v)) {
      if (text.includes(f))
        throw new Error(`a planted value leaked into ${where} (form ${forms(v).indexOf(f)})`);
    }
  }
}

/** Prints the params it received in many encodings, on stdout and stderr, then fails. */
const ECHO = [
  "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{",
  "const j=JSON.parse(s);const n=j.params.card_holder;const e=j.params.contact;",
  "const all=[s,n.toUpperCase(),n.toLowerCase(),encodeURIComponent(n),",
  "new URLSearchParams({n,e}).toString(),Buffer.from(n).toString('hex'),",
  "Buffer.from(s).toString('base64'),Buffer.from('x'+s).toString('base64url'),",
  "Buffer.from('xy'+n).toString('base64'),JSON.stringify({echo:s})].join('\\n');",
  "process.stdout.write(all);process.stderr.write('failed for '+all);process.exit(3);});",
].join("");

describe("every output is scrubbed of the request's masked values", () => {
  it("as the requester, an executor echoing a policy-masked name and an e-mail (encoded) writes neither anywhere", async () => {
    const repo = await Repo.init();
    await repo.setExecutor("payments.refund", {
      type: "shell",
      command: [process.execPath, "-e", ECHO],
      params_via: "stdin",
    });
    const filed = await repo.json(["request", "-"], {
      stdin: JSON.stringify({
        action: "payments.refund",
        resource: "payments://prod/refunds",
        params: { card_holder: NAME, contact: EMAIL, amount: 12 },
        reason: "Refund a double charge",
        requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
      }),
    });
    expect(filed.code, filed.stderr).toBe(0);
    const id = (filed.body as { id: string }).id;
    expectClean(JSON.stringify(filed.body) + filed.stderr, "the request's --json output");

    await repo.approve(id, "riley");
    const merged = await repo.merge(id);
    expect(merged.code, merged.stderr).toBe(0);
    const executed = await repo.json(["execute"]);
    const out = JSON.stringify(executed.body) + executed.stderr;
    expect(out).toContain("failed");
    expectClean(out, "the execute --json output");

    const result = show(repo.dir, "main", `results/${id}.yaml`) ?? "";
    expect(result).toContain("[redacted]"); // the echo was there, scrubbed
    expect(result).toContain("failed for");
    expectClean(result, "the result file");
    expectClean(git(repo.dir, ["log", "--all", "--format=%B"]), "a commit message");
    expectClean(reachableObjects(repo.dir), "a git object reachable from a ref");
  });
});

describe("createScrubber", () => {
  it("removes each value in its encodings and leaves other text alone", () => {
    const s = createScrubber([{ text: NAME, label: "redacted" }]);
    for (const f of forms(NAME)) expect(s.scrub(`a ${f} b`)).not.toContain(f);
    expect(s.scrub("nothing to see")).toBe("nothing to see");
    expect(s.scrub(JSON.stringify({ n: NAME }))).toBe('{"n":"[redacted]"}');
  });

  it("as the requester, a value echoed reversed, spaced out, split across lines or in pieces is removed", () => {
    const token = "ghp_" + "Ab3".repeat(12);
    const s = createScrubber([{ text: token, label: "github_token" }]);
    const reversed = [...token].reverse().join("");
    const spaced = [...token].join(" ");
    for (const shown of [
      `out: ${reversed} done`,
      `out: ${spaced} done`,
      `out: ${token.slice(0, 20)}\nmore: ${token.slice(20)} done`,
      `tail: ${token.slice(-14)} done`,
      `dashed: ${[...token.slice(4)].join("-")} done`,
    ]) {
      const out = s.scrub(shown);
      expect(out, shown).toMatch(/^\w+: \[github_token\]/);
      expect(out, shown).toMatch(/ done$/);
      for (const piece of [token.slice(4, 16), token.slice(-12), reversed.slice(0, 12)]) {
        expect(out, shown).not.toContain(piece);
      }
    }
    // Ordinary output around a value is kept, and short digit runs are not values.
    const pin = createScrubber([{ text: "4821", label: "pin" }]);
    expect(pin.scrub("rows 4 8 2 1 and 1284")).toBe("rows 4 8 2 1 and 1284");
  });

  it("skips values too short to scrub without erasing ordinary words", () => {
    expect(createScrubber([{ text: "Li", label: "redacted" }]).size).toBe(0);
  });

  it("a masked value never survives in any encoding inside other text (3,000 generated cases)", () => {
    const value = fc.string({
      unit: fc.constantFrom(..."abcxyzQRSTéÉñÑ 0189-'."),
      minLength: 4,
      maxLength: 30,
    });
    const noise = fc.string({
      unit: fc.constantFrom(..."!#$%&()*,:;<=>?@[]^{|}~\n\t "),
      maxLength: 20,
    });
    fc.assert(
      fc.property(value, noise, noise, fc.nat(), (v, before, after, pick) => {
        const all = forms(v);
        const form = all[pick % all.length]!;
        const s = createScrubber([{ text: v, label: "redacted" }]);
        const out = s.scrub(`${before}${form}${after}`);
        // Base64 cores shorter than 8 characters are not looked for (see createScrubber).
        const scrubbable = (f: string) => all.indexOf(f) < 9 || f.length >= 8;
        for (const f of all) if (scrubbable(f)) expect(out).not.toContain(f);
        // Base64 of a longer payload that holds the value, at whatever alignment.
        const payload = Buffer.from(`${before}${v}${after}`).toString("base64");
        const cores = forms(v).slice(9);
        const scrubbed = s.scrub(payload);
        for (const c of cores) if (c.length >= 8) expect(scrubbed).not.toContain(c);
      }),
      { numRuns: 3000 },
    );
  });
});
