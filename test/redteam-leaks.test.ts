import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { git, reachableObjects, Repo } from "./e2e-helpers.ts";

/**
 * Red team, attacker R (with an executor that echoes what it was given): a secret in the params
 * must never reach Git, whatever shape the executor's output gives it. Driven through the real
 * CLI, a real shell executor and real git. Attacks that still get through are `it.skip` with a
 * `// BYPASS:` note; the ones that fail are regular tests.
 */

function tokenBody(n: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");
}

/**
 * Files a db.query with a GitHub token in its params, has it approved (critical: dana and sam),
 * merged and executed by a shell executor running `script` (the params JSON on stdin, in $IN),
 * and returns every reachable object of the repository as text plus the CLI's output.
 */
async function runEchoing(script: string): Promise<{ body: string; text: string }> {
  const repo = await Repo.init();
  await repo.setExecutor("db.query", {
    type: "shell",
    command: ["sh", "-c", `IN=$(cat); ${script}`],
    params_via: "stdin",
  });
  const body = tokenBody(36);
  const filed = await repo.request({
    action: "db.query",
    resource: "postgres://staging/products",
    params: { query: "select 1", token: "ghp_" + body },
    reason: "Count products",
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
  });
  await repo.approve(filed.id, "dana");
  await repo.approve(filed.id, "sam");
  const merged = await repo.merge(filed.id);
  expect(merged.code, merged.stderr).toBe(0);
  const executed = await repo.execute();
  expect(executed.reports.map((r) => r.status)).toEqual(["succeeded"]);
  const text = reachableObjects(repo.dir) + JSON.stringify(executed);
  return { body, text };
}

describe("as the requester, a secret echoed by the executor", () => {
  it("is scrubbed from the result when echoed as is, in base64 or in hex", async () => {
    const { body, text } = await runEchoing(
      'printf "%s\\n" "$IN"; printf "%s" "$IN" | base64 | tr -d "\\n"; echo; printf "%s" "$IN" | od -An -tx1 | tr -d " \\n"',
    );
    expect(text).not.toContain(body);
    expect(text).not.toContain(Buffer.from(body).toString("hex"));
  });

  // Was a bypass (now an attack test that must fail): the output scrubber (src/masking/scrub.ts) looks for the sealed values as they
  // are and in a few encodings, not for the value reversed, with a character between each
  // letter, or cut in two across lines: `rev`, `sed 's/./& /g'` and `cut` put the whole token
  // body into results/<id>.yaml on main. Fix: refuse to record output (record only its digest
  // and length) when it contains any long run of a sealed value's characters in any order
  // (e.g. scrub on n-grams of every sealed value after removing separators), or never write
  // executor output to Git by default.
  it("is scrubbed when echoed reversed, spaced out or cut in two", async () => {
    const { body, text } = await runEchoing(
      [
        'printf "%s\\n" "$IN" | rev',
        'printf "%s\\n" "$IN" | sed "s/./& /g"',
        'printf "%s\\n" "$IN" | grep -o "ghp_[A-Za-z0-9]*" | cut -c1-20',
        'printf "%s\\n" "$IN" | grep -o "ghp_[A-Za-z0-9]*" | cut -c21-',
      ].join("; "),
    );
    const reversed = [...body].reverse().join("");
    const spaced = [...body].join(" ");
    const leaked = {
      reversed: text.includes(reversed),
      spaced: text.includes(spaced),
      secondHalf: text.includes(body.slice(16)),
    };
    expect(leaked).toEqual({ reversed: false, spaced: false, secondHalf: false });
  });
});

describe("as the requester, secrets in every field of a filed request", () => {
  it("reach no object, ref or output: resource, reason, destination, a key, a SQL literal", async () => {
    const repo = await Repo.init();
    const gh = "ghp_" + tokenBody(36);
    const npm = "npm_" + tokenBody(36);
    const pw = tokenBody(20);
    const filed = await repo.json<Record<string, unknown>>(
      ["request", "-", "--as", "agent:etl-bot"],
      {
        stdin: JSON.stringify({
          action: "db.export",
          resource: `postgres://admin:${pw}@staging/customers`,
          params: {
            query: `select id from customers where api = '${npm}'`,
            destination: `s3://partner-share/${gh}/`,
            [gh]: 1,
          },
          reason: `Weekly export, token ${gh}`,
          requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
        }),
      },
    );
    const refs = git(repo.dir, ["for-each-ref", "--format=%(refname)"]);
    // It was filed (a proposal exists), so there was something to leak into.
    expect(filed.code, filed.stderr).toBe(0);
    expect(refs).toContain("refs/heads/interlock/");
    const text = reachableObjects(repo.dir) + refs + JSON.stringify(filed);
    for (const secret of [gh.slice(4), npm.slice(4), pw]) expect(text).not.toContain(secret);
  });
});
