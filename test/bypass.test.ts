import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ulid } from "ulid";
import { parse as parseYaml, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { digestOf } from "../src/request/canonical.ts";
import { tempDir } from "./helpers.ts";
import {
  commitOnRef,
  DANA,
  git,
  listFiles,
  loggingExecutor,
  logLines,
  MALLORY,
  Repo,
  SAM,
  requests,
  rule,
  show,
  type Verdict,
  type Who,
} from "./e2e-helpers.ts";

/**
 * The known ways approvals get bypassed: each is tried against a real approvals
 * repository, and each must fail, with the specific reason in the gate's explanation.
 */

const branchRef = (id: string) => `refs/heads/interlock/${id}`;

/** The rules that do not hold. */
const failing = (v: Verdict) => v.rules.filter((r) => !r.ok).map((r) => r.rule);

/** The (latest) entry for `who` in the verdict's approvals. */
function approvalOf(v: Verdict, who: string) {
  const a = [...v.approvals].reverse().find((x) => x.who === who);
  if (!a) throw new Error(`no approval by ${who} in ${JSON.stringify(v.approvals)}`);
  return a;
}

/** A repository whose db.export executor logs every run to a file outside it. */
async function repoWithLoggingExport(): Promise<{ repo: Repo; log: string }> {
  const repo = await Repo.init();
  const log = join(tempDir("interlock-e2e-log-"), "runs.log");
  await repo.setExecutor("db.export", loggingExecutor(log));
  return { repo, log };
}

/** Signs a review tag by hand with `key`, as `who`, on `target`, saying `commit`. */
function signTag(
  repo: Repo,
  opts: {
    id: string;
    name: string;
    target: string;
    commit: string;
    who: Who;
    key: string;
    request?: string;
  },
): void {
  const message = [
    "interlock review: approved",
    "",
    `request: ${opts.request ?? opts.id}`,
    "state: approved",
    `commit: ${opts.commit}`,
  ].join("\n");
  git(
    repo.dir,
    [
      "-c",
      "gpg.format=ssh",
      "-c",
      `user.signingkey=${opts.key}`,
      "tag",
      "-s",
      "-m",
      message,
      `interlock/reviews/${opts.id}/${opts.name}`,
      opts.target,
    ],
    { who: opts.who, date: repo.clock.tick() },
  );
}

function newSshKey(comment: string): string {
  const file = join(tempDir("interlock-e2e-key-"), "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return file;
}

function result(repo: Repo, id: string): Record<string, unknown> | undefined {
  const text = show(repo.dir, "main", `results/${id}.yaml`);
  return text === undefined ? undefined : (parseYaml(text) as Record<string, unknown>);
}

describe("approvals that must not count", () => {
  it("self-approval: a human requester approving their own request", async () => {
    const repo = await Repo.init();
    const filed = await repo.request({
      action: "secrets.read",
      resource: "vault://prod/payments/stripe",
      params: { path: "payments/stripe/webhook-secret" },
      reason: "Rotate the webhook secret",
      requester: { id: "sam", kind: "human" },
    });
    expect(filed.decision.approvals.groups.map((g) => g.name)).toEqual(["security"]);

    const approved = await repo.approve(filed.id, "sam");
    expect(approved.stdout).toMatch(/does not count: .*sam is the requester/);
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(approvalOf(verdict, "sam")).toMatchObject({ counted: false });
    expect(approvalOf(verdict, "sam").why).toMatch(
      /sam is the requester \(sam\), and nobody approves their own request/,
    );
    expect(failing(verdict)).toEqual(
      expect.arrayContaining(["groups", "codeowners", "distinct-approvers"]),
    );
    expect(rule(verdict, "distinct-approvers").detail).toMatch(/sam is the requester/);
    expect((await repo.merge(filed.id)).code).toBe(4);
  });

  it("sponsor approval: the human behind the agent (on_behalf_of) approving", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "alice");
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(approvalOf(verdict, "alice")).toMatchObject({ counted: false });
    expect(approvalOf(verdict, "alice").why).toMatch(
      /alice is the agent's sponsor \(on_behalf_of\), and the human behind a request cannot approve it/,
    );
    expect(verdict.summary).toMatch(/alice is the agent's sponsor/);
    expect((await repo.merge(filed.id)).code).toBe(4);
  });

  it("an approval by someone who is not a member of the required group", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "pat");
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(approvalOf(verdict, "pat")).toMatchObject({ counted: false });
    expect(approvalOf(verdict, "pat").why).toMatch(
      /not a member of any required group \(data-stewards: @acme\/data-stewards\)/,
    );
    expect(rule(verdict, "groups")).toMatchObject({ ok: false });
    expect(rule(verdict, "groups").detail).toMatch(/data-stewards: 0 of 1/);
    expect(verdict.summary).toMatch(/pat is not in any required group/);
  });

  it("duplicate approvals: one person approving twice counts once (critical needs two groups)", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.criticalExport());
    expect(filed.decision.risk).toBe("critical");
    expect(filed.decision.approvals.groups.map((g) => g.name).sort()).toEqual([
      "data-stewards",
      "security",
    ]);
    await repo.approve(filed.id, "dana");
    await repo.approve(filed.id, "dana");
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(verdict.approvals.filter((a) => a.counted)).toHaveLength(1);
    expect(verdict.approvals[0]).toMatchObject({ who: "dana", counted: false });
    expect(verdict.approvals[0]!.why).toMatch(/superseded by dana's later review/);
    expect(rule(verdict, "groups")).toMatchObject({ ok: false });
    expect(rule(verdict, "groups").detail).toMatch(/security: 0 of 1/);
    expect(verdict.summary).toMatch(/security has 0 of 1 required approvals/);
    expect((await repo.merge(filed.id)).code).toBe(4);

    // The second group's member completes it.
    await repo.approve(filed.id, "sam");
    expect((await repo.gate(filed.id)).code).toBe(0);
  });

  it("a stale approval: a commit pushed after the approval; and the pusher cannot approve", async () => {
    const repo = await Repo.init();
    // Critical: needs data-stewards (dana) and security (sam).
    const filed = await repo.request(requests.criticalExport());
    const approvedHead = repo.rev(branchRef(filed.id));
    await repo.approve(filed.id, "dana");
    await repo.approve(filed.id, "sam");
    expect((await repo.gate(filed.id)).code).toBe(0);

    // sam pushes a commit to the proposal with plain git (it changes no file: only the head).
    const newHead = commitOnRef(
      repo.dir,
      branchRef(filed.id),
      {},
      { who: SAM, date: repo.clock.tick(), message: "Touch" },
    );
    const stale = await repo.gate(filed.id);
    expect(stale.code).toBe(4);
    expect(approvalOf(stale.verdict, "dana")).toMatchObject({ counted: false });
    expect(approvalOf(stale.verdict, "dana").why).toBe(
      `given on ${approvedHead.slice(0, 7)}, but the proposal is now at ${newHead.slice(0, 7)}; approve again on the current head`,
    );
    expect(rule(stale.verdict, "fresh-approvals")).toMatchObject({ ok: false });
    expect(rule(stale.verdict, "fresh-approvals").detail).toMatch(/stale approval/);
    expect(stale.verdict.approvals.filter((a) => a.counted)).toEqual([]);
    expect((await repo.merge(filed.id)).code).toBe(4);

    // Both approve again on the new head: dana counts, sam does not (sam pushed a commit).
    await repo.approve(filed.id, "dana");
    await repo.approve(filed.id, "sam");
    const again = await repo.gate(filed.id);
    expect(again.code).toBe(4);
    expect(approvalOf(again.verdict, "dana")).toMatchObject({ counted: true });
    expect(approvalOf(again.verdict, "sam")).toMatchObject({ counted: false });
    expect(approvalOf(again.verdict, "sam").why).toMatch(
      /sam pushed a commit to the proposal, so the approval would cover their own change/,
    );
    expect(rule(again.verdict, "distinct-approvers")).toMatchObject({ ok: false });
    expect(rule(again.verdict, "groups").detail).toMatch(/security: 0 of 1/);
    expect((await repo.merge(filed.id)).code).toBe(4);
  });

  it("a forged approval: signed as dana with a key that is not dana's", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const head = repo.rev(branchRef(filed.id));
    const key = newSshKey("mallory@example.test");
    signTag(repo, {
      id: filed.id,
      name: "dana-forged",
      target: head,
      commit: head,
      who: DANA,
      key,
    });

    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(approvalOf(verdict, "dana")).toMatchObject({ counted: false });
    expect(approvalOf(verdict, "dana").why).toMatch(
      /^ignored: signed by SHA256:\S+ which is not an allowed key for dana$/,
    );
    expect(rule(verdict, "groups").ok).toBe(false);
    expect((await repo.merge(filed.id)).code).toBe(4);

    // Someone who is not a configured person, with their own key: no write access.
    signTag(repo, {
      id: filed.id,
      name: "mallory-1",
      target: head,
      commit: head,
      who: MALLORY,
      key,
    });
    const second = await repo.gate(filed.id);
    expect(second.code).toBe(4);
    const mallory = second.verdict.approvals.find((a) => a.who === "Mallory");
    expect(mallory).toMatchObject({ counted: false });
    expect(mallory!.why).toMatch(
      /ignored: signer is not a person in \.interlock\/config\.yaml \(mallory@example\.test\)/,
    );
  });

  it("a review tag for a different commit or a different request", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const other = await repo.request(requests.export({ reason: "Another export" }));
    const head = repo.rev(branchRef(filed.id));
    const base = repo.rev("main");
    const danaKey = repo.keyFile("dana");

    // (a) dana's real key; the tag says it approves the head but is attached to another commit.
    signTag(repo, {
      id: filed.id,
      name: "dana-a",
      target: base,
      commit: head,
      who: DANA,
      key: danaKey,
    });
    const a = await repo.gate(filed.id);
    expect(a.code).toBe(4);
    expect(approvalOf(a.verdict, "dana")).toMatchObject({ counted: false });
    expect(approvalOf(a.verdict, "dana").why).toMatch(
      /names a different commit than it is attached to/,
    );

    // (b) a genuine, signed approval of another commit (the base): stale, not counted.
    signTag(repo, {
      id: filed.id,
      name: "dana-b",
      target: base,
      commit: base,
      who: DANA,
      key: danaKey,
    });
    const b = await repo.gate(filed.id);
    expect(b.code).toBe(4);
    expect(approvalOf(b.verdict, "dana")).toMatchObject({ counted: false });
    expect(approvalOf(b.verdict, "dana").why).toContain(
      `given on ${base.slice(0, 7)}, but the proposal is now at ${head.slice(0, 7)}`,
    );

    // (c) dana's genuine approval of the other request, copied under this request's tags.
    await repo.approve(other.id, "dana");
    const otherTag = git(repo.dir, [
      "for-each-ref",
      "--format=%(objectname)",
      `refs/tags/interlock/reviews/${other.id}/`,
    ]);
    git(repo.dir, ["update-ref", `refs/tags/interlock/reviews/${filed.id}/dana-copied`, otherTag]);
    const c = await repo.gate(filed.id);
    expect(c.code).toBe(4);
    expect(c.verdict.approvals.filter((x) => x.counted)).toEqual([]);
    expect(rule(c.verdict, "groups").ok).toBe(false);
    expect((await repo.merge(filed.id)).code).toBe(4);
    // The other request is approved by it.
    expect((await repo.gate(other.id)).code).toBe(0);
  });
});

describe("proposals that must not pass", () => {
  const edits = [
    {
      path: "policies/interlock/catalogue/data.yaml",
      kind: "policy",
      change: (s: string) =>
        s.replace("risk: high\n    owner: data-stewards", "risk: low\n    owner: data-stewards"),
    },
    {
      path: "CODEOWNERS",
      kind: "code owners",
      change: (s: string) => `${s}/requests/db.export/            @acme/platform\n`,
    },
    {
      path: ".interlock/config.yaml",
      kind: "Interlock config",
      change: (s: string) =>
        s.replace(/data-stewards:\n(\s+)- dana/, "data-stewards:\n$1- dana\n$1- pat"),
    },
  ];

  for (const edit of edits) {
    it(`a proposal that also edits ${edit.path}`, async () => {
      const repo = await Repo.init();
      const filed = await repo.request(requests.export());
      const before = show(repo.dir, "main", edit.path)!;
      const after = edit.change(before);
      expect(after).not.toBe(before);
      commitOnRef(
        repo.dir,
        branchRef(filed.id),
        { [edit.path]: after },
        {
          who: MALLORY,
          date: repo.clock.tick(),
          message: "Tweak the rules",
        },
      );
      // Approved on the current head by the right person: only the extra file is wrong.
      await repo.approve(filed.id, "dana");
      const { code, verdict } = await repo.gate(filed.id);
      expect(code).toBe(4);
      expect(failing(verdict)).toEqual(["single-file"]);
      expect(rule(verdict, "single-file").detail).toContain(
        `it also changes ${edit.path} (modified, ${edit.kind})`,
      );
      expect(verdict.summary).toContain(`the proposal also changes ${edit.path}`);
      expect((await repo.merge(filed.id)).code).toBe(4);
      expect(show(repo.dir, "main", edit.path)).toBe(before);
    });
  }

  it("a tampered request file: edited on the branch, with or without a recomputed digest", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const original = show(repo.dir, branchRef(filed.id), filed.path)!;

    // (a) a plain edit: the destination changes, the digest does not.
    const edited = original.replace("s3://analytics-exports/churn/2026-11/", "s3://evil-bucket/x/");
    expect(edited).not.toBe(original);
    commitOnRef(
      repo.dir,
      branchRef(filed.id),
      { [filed.path]: edited },
      {
        who: MALLORY,
        date: repo.clock.tick(),
      },
    );
    await repo.approve(filed.id, "dana");
    const a = await repo.gate(filed.id);
    expect(a.code).toBe(4);
    expect(failing(a.verdict)).toEqual(["untampered"]);
    expect(rule(a.verdict, "untampered").detail).toMatch(
      /the request file was changed after the policy evaluated it: recorded sha256:[0-9a-f]{64}, now sha256:[0-9a-f]{64}/,
    );
    expect((await repo.merge(filed.id)).code).toBe(4);

    // (b) rewrite the decision to auto-approve and recompute the digest so the file is consistent.
    const record = parseYaml(original) as Record<string, unknown> & {
      decision: Record<string, unknown>;
    };
    record.decision.auto_approve = true;
    record.decision.approvals = { groups: [] };
    const { digest: _old, ...body } = record;
    const forged = stringify({ ...body, digest: digestOf(body) }, { lineWidth: 0 });
    commitOnRef(
      repo.dir,
      branchRef(filed.id),
      { [filed.path]: forged },
      {
        who: MALLORY,
        date: repo.clock.tick(),
      },
    );
    await repo.approve(filed.id, "dana");
    const b = await repo.gate(filed.id);
    expect(b.code).toBe(4);
    expect(b.verdict.summary).not.toMatch(/auto-approved/);
    expect(rule(b.verdict, "untampered")).toMatchObject({ ok: false });
    expect(rule(b.verdict, "untampered").detail).toMatch(/changed after the policy evaluated it/);
    // The requirements still come from what Interlock filed, not from the edited file.
    expect(rule(b.verdict, "groups").detail).toMatch(/data-stewards/);
    expect((await repo.merge(filed.id)).code).toBe(4);
    expect(listFiles(repo.dir, "main", "requests/")).toEqual([]);
  });
});

describe("expiry", () => {
  it("an expired request cannot be approved, does not pass the gate, and cannot be merged", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export()); // ttl 24h
    repo.clock.tick(25 * 3600);

    const approve = await repo.cli(["approve", filed.id, "--as", "dana"]);
    expect(approve.code).toBe(2);
    expect(approve.stderr).toMatch(/expired at .*; it can no longer be approved/);
    expect(git(repo.dir, ["tag", "--list", `interlock/reviews/${filed.id}/*`])).toBe("");

    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(rule(verdict, "not-expired")).toMatchObject({ ok: false });
    expect(rule(verdict, "not-expired").detail).toMatch(
      /^expired at \S+ \(1h ago\); file a new request$/,
    );

    const merge = await repo.merge(filed.id);
    expect(merge.code).toBe(4);
    expect(merge.stdout).toMatch(/the request expired at/);
    expect(listFiles(repo.dir, "main", "requests/")).toEqual([]);
  });

  it("an approval given in time does not survive expiry", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "dana");
    expect((await repo.gate(filed.id)).code).toBe(0);
    repo.clock.tick(24 * 3600);
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(failing(verdict)).toEqual(["not-expired"]);
    expect((await repo.merge(filed.id)).code).toBe(4);
  });

  it("a request merged in time but executed after it expired is refused, never run", async () => {
    const { repo, log } = await repoWithLoggingExport();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "dana");
    expect((await repo.merge(filed.id)).code).toBe(0);
    repo.clock.tick(25 * 3600);

    const executed = await repo.execute();
    expect(executed.code).toBe(1);
    expect(executed.reports).toEqual([
      expect.objectContaining({ id: filed.id, status: "refused" }),
    ]);
    expect(executed.reports[0]!.detail).toMatch(/expired at .* before it was executed/);
    expect(logLines(log)).toEqual([]);
    expect(result(repo, filed.id)).toMatchObject({ outcome: "refused" });
    expect(String(result(repo, filed.id)!.reason)).toMatch(/expired/);
    // Refused for good: a later run does not try again.
    expect((await repo.execute()).reports).toEqual([]);
    expect(logLines(log)).toEqual([]);
  });
});

describe("execution", () => {
  it("double execution: executing twice runs the executor once; re-merging does nothing", async () => {
    const { repo, log } = await repoWithLoggingExport();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "dana");
    expect((await repo.merge(filed.id)).code).toBe(0);
    const mainAfterMerge = repo.rev("main");

    // Re-running the merge does not merge again.
    const again = await repo.merge(filed.id);
    expect(again.code).not.toBe(0);
    expect(repo.rev("main")).toBe(mainAfterMerge);

    const first = await repo.execute();
    expect(first.reports).toEqual([expect.objectContaining({ id: filed.id, status: "succeeded" })]);
    const mainAfterRun = repo.rev("main");
    const second = await repo.execute();
    expect(second.code).toBe(0);
    expect(second.reports).toEqual([]);
    const third = await repo.cli(["execute"]);
    expect(third.stdout).toMatch(/Nothing to execute/);

    expect(logLines(log)).toEqual([filed.id]);
    expect(repo.rev("main")).toBe(mainAfterRun);
    const resultCommits = git(repo.dir, [
      "log",
      "--format=%H",
      "main",
      "--",
      `results/${filed.id}.yaml`,
    ]).split("\n");
    expect(resultCommits).toHaveLength(1);
  });

  it("merge without a gate: an admin's plain git merge is refused by execute and flagged by audit", async () => {
    const { repo, log } = await repoWithLoggingExport();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "pat"); // an approval that does not count
    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge it anyway", `interlock/${filed.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    expect(listFiles(repo.dir, "main", "requests/")).toEqual([filed.path]);

    // Before anything runs, the audit already flags the merge.
    const early = await repo.audit(true);
    expect(early.code).toBe(1);
    expect(early.problems.join("\n")).toMatch(
      /merged without a valid gate: Not satisfied: data-stewards has 0 of 1/,
    );

    const executed = await repo.execute();
    expect(executed.code).toBe(1);
    expect(executed.reports).toEqual([
      expect.objectContaining({ id: filed.id, status: "refused" }),
    ]);
    expect(executed.reports[0]!.detail).toMatch(/the gate did not hold at the merge/);
    expect(logLines(log)).toEqual([]);
    expect(result(repo, filed.id)).toMatchObject({ outcome: "refused", approvers: [] });

    // The refusal is recorded, and the unapproved merge stays visible to the audit.
    const audit = await repo.audit(true);
    expect(audit.records).toEqual([expect.objectContaining({ id: filed.id, status: "refused" })]);
    expect(audit.problems.join("\n")).toMatch(/merged without a valid gate/);
    expect(audit.code).toBe(1);
  });

  it("merge without a gate: a request file committed straight to main is refused and flagged", async () => {
    const { repo, log } = await repoWithLoggingExport();
    const filed = await repo.request(requests.export());
    const text = show(repo.dir, branchRef(filed.id), filed.path)!;
    const date = repo.clock.tick();
    const abs = join(repo.dir, filed.path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
    git(repo.dir, ["add", filed.path], { date });
    git(repo.dir, ["commit", "-q", "-m", "Add a request"], { who: MALLORY, date });

    const executed = await repo.execute();
    expect(executed.code).toBe(1);
    expect(executed.reports).toEqual([
      expect.objectContaining({ id: filed.id, status: "refused" }),
    ]);
    expect(executed.reports[0]!.detail).toMatch(
      /the gate did not hold at the merge: Not satisfied: .*data-stewards has 0 of 1/,
    );
    expect(logLines(log)).toEqual([]);
    expect(result(repo, filed.id)).toMatchObject({ outcome: "refused" });

    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.problems.join("\n")).toMatch(/merged without a valid gate/);
  });

  it("a merge that brings in unreviewed content: the request file rewritten inside the merge commit", async () => {
    const { repo, log } = await repoWithLoggingExport();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "dana");
    expect((await repo.merge(filed.id)).code).toBe(0);
    // An admin amends the merge commit: same parents, a different request file on main.
    const text = show(repo.dir, "main", filed.path)!;
    const edited = text.replace("s3://analytics-exports/churn/2026-11/", "s3://evil-bucket/x/");
    expect(edited).not.toBe(text);
    writeFileSync(join(repo.dir, filed.path), edited);
    git(repo.dir, ["commit", "-q", "-a", "--amend", "--no-edit"], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    expect(show(repo.dir, "main", filed.path)).toBe(edited);

    // What is on main is not what was approved: the executor must not treat it as approved.
    const executed = await repo.execute();
    expect(executed.reports).toEqual([
      expect.objectContaining({ id: filed.id, status: "refused" }),
    ]);
    expect(executed.reports[0]!.detail).toMatch(/changed|tampered|differs/);
    expect(logLines(log)).toEqual([]);
  });

  it("merge without a gate: a request forged on main with its own baseline and a self-declared auto-approval", async () => {
    // Someone with push access writes a request file by hand (params sealed to the executor's
    // public age recipient, a digest that matches, auto_approve: true) straight onto main, and
    // points the baseline ref refs/interlock/requests/<id> at it. No policy ever decided this.
    const { repo, log } = await repoWithLoggingExport();
    // A real high-risk request gives the attacker a well-formed file and sealed params to copy.
    const filed = await repo.request(requests.export());
    const record = parseYaml(show(repo.dir, branchRef(filed.id), filed.path)!) as Record<
      string,
      unknown
    > & { decision: Record<string, unknown> };
    const id = ulid(repo.clock.tick().getTime());
    const path = `requests/db.export/${id}.yaml`;
    record.id = id;
    record.decision.auto_approve = true;
    const { digest: _old, ...body } = record;
    const forged = stringify({ ...body, digest: digestOf(body) }, { lineWidth: 0 });
    // Straight onto main, and the "original" ref pointed at it.
    const commit = commitOnRef(
      repo.dir,
      "refs/heads/main",
      { [path]: forged },
      {
        who: MALLORY,
        date: repo.clock.tick(),
        message: "Add a request",
      },
    );
    git(repo.dir, ["update-ref", `refs/interlock/requests/${id}`, commit]);
    git(repo.dir, ["reset", "-q", "--hard", "main"]);

    const executed = await repo.execute();
    expect(logLines(log)).toEqual([]);
    expect(executed.reports).toEqual([expect.objectContaining({ id, status: "refused" })]);
    expect(result(repo, id)).toMatchObject({ outcome: "refused" });
    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
  });
});
