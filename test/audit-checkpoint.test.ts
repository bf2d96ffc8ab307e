import { describe, expect, it } from "vitest";
import { git, MALLORY, Repo, requests } from "./e2e-helpers.ts";

/** A tamper-evident audit: signed checkpoints in the auditor's home, and no unverified facts. */

describe("audit", () => {
  it("as a repository writer, a forged approver trailer is never printed as an approval by plain audit", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    git(
      repo.dir,
      [
        "merge",
        "--no-ff",
        "-q",
        "-m",
        `Merge\n\nInterlock-Request: ${filed.id}\nInterlock-Approved-By: dana`,
        `interlock/${filed.id}`,
      ],
      { who: MALLORY, date: repo.clock.tick() },
    );
    const plain = await repo.cli(["audit"]);
    expect(plain.stdout).not.toMatch(/approved by dana/);
    expect(plain.stdout).toMatch(/unverified/);
    const json = await repo.audit(false);
    expect(json.records[0]!.approvers).toEqual([]);
    expect(json.records[0]!.unverified_approvers).toEqual(["dana"]);
  });

  it("as a repository writer, rewriting checkpointed history is detected", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.query());
    expect((await repo.merge(filed.id)).code).toBe(0);
    const checkpointed = await repo.cli(["audit", "--verify", "--checkpoint"]);
    expect(checkpointed.code, checkpointed.stderr).toBe(0);
    expect(checkpointed.stdout).toMatch(/checkpoint/i);

    // Something new: verified incrementally, and the checkpoint still holds.
    const next = await repo.request(requests.query(1));
    expect((await repo.merge(next.id)).code).toBe(0);
    const incremental = await repo.cli(["audit", "--verify"]);
    expect(incremental.code, incremental.stdout + incremental.stderr).toBe(0);
    expect(incremental.stdout).toMatch(/since the checkpoint/);

    // Rewrite: drop the first merge from main's history and replay the second.
    const tree = git(repo.dir, ["rev-parse", "main^{tree}"]);
    const root = git(repo.dir, ["rev-list", "--max-parents=0", "main"]);
    const rewritten = git(repo.dir, ["commit-tree", tree, "-p", root, "-m", "Squash"], {
      who: MALLORY,
    });
    git(repo.dir, ["update-ref", "refs/heads/main", rewritten]);
    const audit = await repo.cli(["audit", "--verify"]);
    expect(audit.code).toBe(1);
    expect(audit.stdout + audit.stderr).toMatch(/checkpoint.*no longer on main|rewritten/);
  });
});
