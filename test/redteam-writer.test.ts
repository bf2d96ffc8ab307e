import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import { git, loggingExecutor, logLines, MALLORY, Repo, requests } from "./e2e-helpers.ts";

/**
 * Red team, attacker W: writes the approvals repository (working tree, refs, .git) but holds no
 * reviewer's key. On the local forge that is any agent that can run `interlock request`.
 * Driven through the real CLI against real git and the real opa. Attacks that still get through
 * are `it.skip` with a `// BYPASS:` note; the ones that fail are regular tests.
 */

function newSshKey(comment: string): { file: string; pub: string } {
  const file = join(tempDir("interlock-redteam-key-"), "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  const pub = readFileSync(`${file}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  return { file, pub };
}

/** Adds W as a person and a data-steward in the working tree's config (not committed). */
function enrolWriterInWorkingTree(repo: Repo, pub: string): void {
  const path = join(repo.dir, ".interlock", "config.yaml");
  let config = readFileSync(path, "utf8");
  config = config.replace(
    "agents:\n",
    [
      "  mallory:",
      "    name: Mallory",
      `    email: ${MALLORY.email}`,
      "    aliases: []",
      `    signing_key: ${pub}`,
      "    bot: false",
      "agents:",
      "",
    ].join("\n"),
  );
  config = config.replace(
    "  data-stewards:\n    - dana\n",
    "  data-stewards:\n    - dana\n    - mallory\n",
  );
  writeFileSync(path, config);
  appendFileSync(
    join(repo.dir, ".interlock", "allowed_signers"),
    `${MALLORY.email} namespaces="git" ${pub}\n`,
  );
}

const grantToBob = () => ({
  action: "iam.grant",
  resource: "gcp://staging/project",
  params: { role: "roles/owner", grantee: "bob" },
  reason: "Access for the migration",
  requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
});

describe("as a repository writer, trust inputs in the working tree", () => {
  // Was a bypass (now an attack test that must fail): the policy is loaded from the working tree's policies/dist, whose manifest only
  // proves it matches policies/ in the same working tree (src/policy/engine.ts, bundle.ts).
  // W edits policies/interlock/catalogue/data.yaml (iam.grant: risk low,
  // auto_approve_non_production: true), runs `interlock policy build`, files an iam.grant:
  // auto-approved, merged, executed without any security approval, and `audit --verify` says
  // "Verified" while the edit stays in the working tree. Fix: load the policy bundle from the
  // committed tree of main (git show), never from the working tree, and have the trust root
  // pin its revision; the audit should re-evaluate with the committed policy.
  it("a policy rebuilt from an uncommitted edit decides nothing", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-redteam-log-"), "runs.log");
    await repo.setExecutor("iam.grant", loggingExecutor(log));

    const data = join(repo.dir, "policies", "interlock", "catalogue", "data.yaml");
    const edited = readFileSync(data, "utf8").replace(
      "  iam.grant:\n    description: Grant a role, permission or group membership to a principal.\n    risk: high",
      "  iam.grant:\n    auto_approve_non_production: true\n    description: Grant a role, permission or group membership to a principal.\n    risk: low",
    );
    expect(edited).not.toBe(readFileSync(data, "utf8"));
    writeFileSync(data, edited);
    const built = await repo.cli(["policy", "build"]);
    expect(built.code, built.stderr).toBe(0);

    const filed = await repo.request(grantToBob());
    await repo.merge(filed.id);
    await repo.execute();
    const audit = await repo.audit(true);
    // Today: auto-approved, run once, and the audit verifies it (exit 0).
    expect({ runs: logLines(log), audit: audit.code }).toEqual({ runs: [], audit: 0 });
  });

  // Was a bypass (now an attack test that must fail): people, keys and teams are read from the working tree's .interlock/config.yaml and
  // allowed_signers (src/config/config.ts as used by src/lifecycle/review.ts and gate-check.ts),
  // so W adds itself as a data-steward with its own key without committing anything: its
  // approval counts, `merge` merges and `execute` runs the export. (The audit only notices once
  // the working tree is restored.) Fix: read config, allowed_signers and CODEOWNERS from the
  // committed base (main) through git, never from files on disk; refuse to run when the working
  // tree of trust inputs differs from main.
  it("an uncommitted config edit that enrols the writer as a reviewer makes no approval count", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-redteam-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(log));
    const mallory = newSshKey("mallory");
    enrolWriterInWorkingTree(repo, mallory.pub);

    const filed = await repo.request(requests.export());
    await repo.cli(["approve", filed.id, "--as", "mallory", "--key", mallory.file]);
    await repo.merge(filed.id);
    await repo.execute();
    expect(logLines(log)).toEqual([]);
  });

  // BYPASS (pending the trust-root branch): a plain commit on main by W that enrols W as a
  // data-steward is trusted as soon as it is on main: W's approval counts and the export runs.
  // Fix: the trust root (config and policy changes only count when signed/approved by the
  // security owners recorded in an earlier trusted state).
  it("a plain commit on main that enrols the writer as a reviewer makes no approval count", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-redteam-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(log));
    const mallory = newSshKey("mallory");
    enrolWriterInWorkingTree(repo, mallory.pub);
    const date = repo.clock.tick();
    git(repo.dir, ["add", ".interlock"], { date });
    git(repo.dir, ["commit", "-q", "-m", "Add a steward"], { date, who: MALLORY });

    const filed = await repo.request(requests.export());
    await repo.cli(["approve", filed.id, "--as", "mallory", "--key", mallory.file]);
    await repo.merge(filed.id);
    await repo.execute();
    expect(logLines(log)).toEqual([]);
  });
});

describe("as a repository writer, changing what runs after the approval", () => {
  // Was a bypass (now an attack test that must fail): `interlock execute` takes the executor of an action from the working tree's
  // .interlock/config.yaml (src/execution/executors.ts through src/lifecycle/execute.ts), so
  // after an approved request is merged W edits the file (no commit) and the approved request
  // runs W's command; the result on main looks like any other success. Fix: read executors
  // from the committed config of the merge commit (or the trust root), never from disk, and
  // record the executor's digest in the result for the audit.
  it("an uncommitted executor edit after the merge does not run", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-redteam-log-"), "runs.log");
    await repo.setExecutor("db.query", loggingExecutor(log));
    const filed = await repo.request(requests.query(3));
    expect(filed.decision.auto_approve).toBe(true);
    const merged = await repo.merge(filed.id);
    expect(merged.code, merged.stderr).toBe(0);

    // W: the executor of db.query now writes a marker, in the working tree only.
    const marker = join(tempDir("interlock-redteam-marker-"), "ran");
    const path = join(repo.dir, ".interlock", "config.yaml");
    const config = parseYaml(readFileSync(path, "utf8")) as {
      executors: { actions: Record<string, unknown> };
    };
    config.executors.actions["db.query"] = {
      type: "shell",
      command: ["sh", "-c", `echo ran > '${marker}'`],
    };
    writeFileSync(path, stringify(config, { lineWidth: 0 }));

    await repo.execute();
    expect(existsSync(marker)).toBe(false);
  });
});

describe("as a repository writer, running an action twice", () => {
  // Was a bypass (now an attack test that must fail): "at most once for the life of the repository" rests on refs W can move: W rewinds
  // main to the merge (dropping the result commit), deletes refs/interlock/claims/<id> and runs
  // `interlock execute` again: the executor runs a second time (src/lifecycle/execute.ts
  // claims through a ref that W can delete). Fix: the executor journal in the Interlock home
  // (outside the repository) recording every claimed id, checked before any run; the audit
  // should flag a result or claim that disappears (pending the executor-journal branch).
  it("rewinding main past the result and deleting the claim ref does not run it again", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-redteam-log-"), "runs.log");
    await repo.setExecutor("db.query", loggingExecutor(log));
    const filed = await repo.request(requests.query(7));
    expect(filed.decision.auto_approve).toBe(true);
    await repo.merge(filed.id);
    await repo.execute();
    expect(logLines(log)).toEqual([filed.id]);

    // W: main back to the merge, the claim gone, the working tree to match.
    const merge = git(repo.dir, ["rev-parse", "main~1"]);
    git(repo.dir, ["update-ref", "refs/heads/main", merge]);
    git(repo.dir, ["update-ref", "-d", `refs/interlock/claims/${filed.id}`]);
    git(repo.dir, ["reset", "-q", "--hard", "main"]);

    await repo.execute();
    expect(logLines(log)).toEqual([filed.id]);
  });
});

describe("as a repository writer, erasing the trail", () => {
  // Was a bypass (now an attack test that must fail): the audit only reads what the refs show now (src/audit/history.ts): W moves main
  // back to before an executed request's merge and deletes its proposal branch, baseline,
  // claim and review refs; `audit --verify` then says "Verified: 0 requests" although an
  // action ran. Fix: audit checkpoints kept outside the writer's reach (the Interlock home,
  // or signed checkpoints the audit requires to be ancestors of main), and the executor
  // journal listing every executed id, each of which the audit must find.
  it("moving main back past an executed request and deleting its refs fails the audit", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-redteam-log-"), "runs.log");
    await repo.setExecutor("db.query", loggingExecutor(log));
    const filed = await repo.request(requests.query(5));
    await repo.merge(filed.id);
    await repo.execute();
    expect(logLines(log)).toEqual([filed.id]);
    const before = await repo.audit(true);
    expect(before.code).toBe(0);
    expect(before.records.map((r) => r.id)).toEqual([filed.id]);

    // W: main back to before the merge, every Interlock ref of the request gone.
    git(repo.dir, ["update-ref", "refs/heads/main", git(repo.dir, ["rev-parse", "main~2"])]);
    git(repo.dir, ["reset", "-q", "--hard", "main"]);
    const refs = git(repo.dir, [
      "for-each-ref",
      "--format=%(refname)",
      "refs/interlock",
      "refs/heads/interlock",
      "refs/tags",
    ]);
    for (const ref of refs.split("\n").filter(Boolean)) git(repo.dir, ["update-ref", "-d", ref]);

    const after = await repo.audit(true);
    expect(after.code).not.toBe(0);
  });
});
