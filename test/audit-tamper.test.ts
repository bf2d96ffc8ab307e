import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  commitOnRef,
  EXAMPLES,
  git,
  listFiles,
  MALLORY,
  Repo,
  requests,
  show,
  type Filed,
} from "./e2e-helpers.ts";

/**
 * `interlock audit --verify` rebuilds the trail from Git history and must catch history that
 * was edited by hand: each case asserts exit code 1 and the specific problem.
 */

/** A commit on main by Mallory with plain git; the working tree follows. */
function commitOnMain(repo: Repo, changes: Record<string, string | null>, message: string) {
  const commit = commitOnRef(repo.dir, "refs/heads/main", changes, {
    who: MALLORY,
    date: repo.clock.tick(),
    message,
  });
  git(repo.dir, ["reset", "-q", "--hard", "main"]);
  return commit;
}

/** An export request approved by dana and merged by Interlock. */
async function approvedAndMerged(repo: Repo): Promise<Filed> {
  const filed = await repo.request(requests.export());
  await repo.approve(filed.id, "dana");
  const merged = await repo.merge(filed.id);
  expect(merged.code, merged.stderr).toBe(0);
  return filed;
}

describe("audit --verify", () => {
  it("passes on a clean history: executed, auto-approved, denied and pending requests", async () => {
    const repo = await Repo.init();
    const exported = await approvedAndMerged(repo);
    const query = await repo.request(requests.query(7));
    expect((await repo.merge(query.id)).code).toBe(0);
    const denied = await repo.cli(["request", join(EXAMPLES, "self-grant.yaml")]);
    expect(denied.code).toBe(3);
    const pending = await repo.request(requests.export({ reason: "Still waiting" }));
    const executed = await repo.execute();
    expect(executed.reports.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);

    const audit = await repo.audit(true);
    expect(audit.problems).toEqual([]);
    expect(audit.findings).toEqual([]);
    expect(audit.code).toBe(0);
    const byId = new Map(audit.records.map((r) => [r.id, r]));
    expect(byId.get(exported.id)).toMatchObject({ status: "executed", approvers: ["dana"] });
    expect(byId.get(query.id)).toMatchObject({ status: "executed", decision: "auto-approved" });
    expect(byId.get(pending.id)).toMatchObject({ status: "pending" });
    expect(audit.records.filter((r) => r.status === "denied")).toHaveLength(1);

    const text = await repo.cli(["audit", "--verify"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Verified: 4 requests/);
  });

  it("(1) catches a request file changed on main after it was approved", async () => {
    const repo = await Repo.init();
    const filed = await approvedAndMerged(repo);
    expect((await repo.execute()).code).toBe(0);
    const text = show(repo.dir, "main", filed.path)!;
    const edited = text.replace("Weekly churn analysis", "Quarterly churn analysis");
    expect(edited).not.toBe(text);
    const commit = commitOnMain(repo, { [filed.path]: edited }, "Fix a typo");

    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.findings).toContainEqual({
      commit,
      problem: `${filed.path} was modified after it was recorded`,
    });
    expect(audit.problems).toContain(
      `${filed.id}: the request file on the default branch was changed after it was filed`,
    );
    const human = await repo.cli(["audit", "--verify"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/Verification FAILED \(2 problems\)/);
    expect(human.stdout).toContain(
      `commit ${commit.slice(0, 7)}: ${filed.path} was modified after it was recorded`,
    );
  });

  it("(2) catches a merge without approvals (plain git merge of an unapproved proposal)", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "alice"); // the sponsor: does not count
    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${filed.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    expect(listFiles(repo.dir, "main", "requests/")).toEqual([filed.path]);

    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.problems).toHaveLength(1);
    expect(audit.problems[0]).toMatch(
      new RegExp(
        `^${filed.id}: merged without a valid gate: Not satisfied: data-stewards has 0 of 1 required approvals; .*alice is the agent's sponsor`,
      ),
    );
    expect(audit.records).toEqual([
      expect.objectContaining({ id: filed.id, status: "merged", approvers: [] }),
    ]);
  });

  it("(3) catches a deleted result", async () => {
    const repo = await Repo.init();
    const filed = await approvedAndMerged(repo);
    expect((await repo.execute()).reports).toEqual([
      expect.objectContaining({ id: filed.id, status: "succeeded" }),
    ]);
    const resultPath = `results/${filed.id}.yaml`;
    const commit = commitOnMain(repo, { [resultPath]: null }, "Clean up");
    expect(show(repo.dir, "main", resultPath)).toBeUndefined();

    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.findings).toContainEqual({
      commit,
      problem: `${resultPath} (an execution result) was deleted`,
    });
    expect(audit.problems).toContain(
      `${filed.id}: it was claimed for execution but its result is missing (deleted or never written)`,
    );
    // And deleting the result does not make it run again: the executor's journal remembers.
    const again = await repo.execute();
    expect(again.reports).toEqual([expect.objectContaining({ id: filed.id, status: "refused" })]);
    expect(again.reports[0]!.detail).toMatch(/journal records that it ran/);
  });

  it("(4) catches a request file rewritten inside the merge commit (amended merge)", async () => {
    const repo = await Repo.init();
    const filed = await approvedAndMerged(repo);
    const mergeCommit = repo.rev("main");
    const parents = git(repo.dir, ["rev-list", "--parents", "-n", "1", mergeCommit]).split(" ");
    expect(parents).toHaveLength(3);

    // Amend the merge: same parents, a different request file.
    const text = show(repo.dir, "main", filed.path)!;
    const edited = text.replace("s3://analytics-exports/churn/2026-11/", "s3://evil-bucket/x/");
    expect(edited).not.toBe(text);
    writeFileSync(join(repo.dir, filed.path), edited);
    git(repo.dir, ["commit", "-q", "-a", "--amend", "--no-edit"], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    const amended = repo.rev("main");
    expect(amended).not.toBe(mergeCommit);
    expect(
      git(repo.dir, ["rev-list", "--parents", "-n", "1", amended]).split(" ").slice(1),
    ).toEqual(parents.slice(1));

    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.problems).toContain(
      `${filed.id}: the request file merged differs from the one Interlock filed (tampered)`,
    );
  });
});
