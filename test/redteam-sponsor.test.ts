import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import { git, loggingExecutor, logLines, Repo, requests } from "./e2e-helpers.ts";

/**
 * Red team, attacker H: the human behind the agent (alice, sponsor of agent:etl-bot), under any
 * of their names, and who can also write the approvals repository on the local forge. Driven
 * through the real CLI against real git. Attacks that still get through are `it.skip` with a
 * `// BYPASS:` note; the ones that fail are regular tests.
 */

function newSshKey(comment: string): { file: string; pub: string } {
  const file = join(tempDir("interlock-redteam-key-"), "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  const pub = readFileSync(`${file}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  return { file, pub };
}

/**
 * An admin's edit of .interlock/config.yaml, made the valid way (a plain commit breaks the trust
 * chain): a governance change that sam and pat approve and merge. `edit` rewrites its text.
 */
async function adminEditsConfig(
  repo: Repo,
  edit: (text: string) => string,
  signer?: string,
): Promise<void> {
  const path = join(repo.dir, ".interlock", "config.yaml");
  const before = readFileSync(path, "utf8");
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
  const paths = [".interlock/config.yaml"];
  if (signer) {
    appendFileSync(join(repo.dir, ".interlock", "allowed_signers"), signer);
    paths.push(".interlock/allowed_signers");
  }
  await repo.governance(paths);
}

/** Adds a person entry before `agents:` and makes them a data-steward. */
async function addSteward(
  repo: Repo,
  login: string,
  email: string,
  pub: string,
  name = "Ally Example",
): Promise<void> {
  await adminEditsConfig(
    repo,
    (t) =>
      t
        .replace(
          "agents:\n",
          [
            `  ${login}:`,
            `    name: ${name}`,
            `    email: ${email}`,
            "    aliases: []",
            `    signing_key: ${pub}`,
            "    bot: false",
            "agents:",
            "",
          ].join("\n"),
        )
        .replace(
          "  data-stewards:\n    - dana\n",
          `  data-stewards:\n    - dana\n    - ${login}\n`,
        ),
    `${email} namespaces="git" ${pub}\n`,
  );
}

describe("as the sponsor, approving the agent's request under another name", () => {
  it("the sponsor's own approval never counts, even as a member of the required team", async () => {
    const repo = await Repo.init();
    await adminEditsConfig(repo, (t) =>
      t.replace("  data-stewards:\n    - dana\n", "  data-stewards:\n    - dana\n    - alice\n"),
    );
    const filed = await repo.request(requests.export());
    for (const as of ["alice", "ALICE", "alice@acme.example", "@alice"]) {
      await repo.approve(filed.id, as);
    }
    const { verdict } = await repo.gate(filed.id);
    expect(verdict.satisfied).toBe(false);
  });

  it("a second person entry with the sponsor's e-mail in another case is refused by the config", async () => {
    const repo = await Repo.init();
    const key = newSshKey("ally");
    // The governance change that adds the entry is refused; were it in force, filing is refused.
    const refused = await addSteward(repo, "ally", "Alice@ACME.example", key.pub).then(
      () => "",
      (e: unknown) => String(e),
    );
    const r = await repo.json(["request", "-", "--as", "agent:etl-bot"], {
      stdin: JSON.stringify(requests.export()),
    });
    expect(refused || (r.code !== 0 ? JSON.stringify(r.body) : "accepted")).toMatch(
      /exactly one principal/,
    );
  });

  // Was a bypass (now an attack test that must fail): a second person entry for the sponsor with a plus-addressed e-mail
  // (`alice+ops@acme.example`, same display name "Alice Example") is a different principal to
  // the identity directory (src/identity/directory.ts compares e-mail addresses case-folded but
  // whole), so alice, the agent's sponsor, approves her agent's export under that entry and it
  // counts, merges and runs. Fix: canonicalise e-mail addresses (drop a `+tag` from the local
  // part, and the same for configured aliases) before checking that every identity names one
  // principal, and refuse two people with the same display name; or bind a sponsor to all
  // entries sharing a mailbox.
  it("a second person entry with a plus-addressed e-mail of the sponsor is the sponsor", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-redteam-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(log));
    const key = newSshKey("ally");
    // The same mailbox with a +tag is the sponsor: the entry is refused as a second principal.
    const refused = await addSteward(
      repo,
      "ally",
      "alice+ops@acme.example",
      key.pub,
      "Alice Example",
    ).then(
      () => "",
      (e: unknown) => String(e),
    );
    expect(refused).toMatch(/exactly one principal/);
    if (!refused) {
      const filed = await repo.request(requests.export());
      await repo.approve(filed.id, "ally", { key: key.file });
      await repo.merge(filed.id);
      await repo.execute();
    }
    expect(logLines(log)).toEqual([]);
  });
});

describe("as the sponsor or a repository writer, dismissing a rejection", () => {
  // Was a bypass (now an attack test that must fail): a rejection is a tag (refs/tags/interlock/reviews/<id>/<who>-<ulid>) that anyone
  // who can write the repository deletes with `git tag -d`; the gate then only sees the other
  // steward's approval, merge and execute go ahead, and `audit --verify` reports "Verified"
  // (src/gate/collect.ts reads the reviews that exist now; nothing records that one existed).
  // Fix: record every review in an append-only place the writer cannot rewrite (e.g. the
  // proposal branch's commits, or a review log carried into the merge commit and checked by
  // the audit), and fail the gate/audit when a review seen earlier is missing.
  it("deleting a steward's rejection tag does not let the request through", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-redteam-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(log));
    await adminEditsConfig(repo, (t) =>
      t.replace("  data-stewards:\n    - dana\n", "  data-stewards:\n    - dana\n    - riley\n"),
    );
    const filed = await repo.request(requests.export());
    const rejected = await repo.cli(["reject", filed.id, "--as", "riley"]);
    expect(rejected.code, rejected.stderr).toBe(0);
    await repo.approve(filed.id, "dana");
    expect((await repo.gate(filed.id)).verdict.satisfied).toBe(false);

    const tags = git(repo.dir, ["tag", "-l", `interlock/reviews/${filed.id}/riley-*`]);
    for (const tag of tags.split("\n").filter(Boolean)) git(repo.dir, ["tag", "-d", tag]);

    await repo.merge(filed.id);
    await repo.execute();
    const audit = await repo.audit(true);
    expect({ runs: logLines(log), auditPassed: audit.code === 0 }).toEqual({
      runs: [],
      auditPassed: true,
    });
  });
});
