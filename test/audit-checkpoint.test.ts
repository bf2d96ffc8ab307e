import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { commitOnRef, git, MALLORY, Repo, requests } from "./e2e-helpers.ts";

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

  // After a checkpoint the audit reads only the history after its tip (git rev-list/log over
  // "tip ^checkpoint"). These attack that shortcut: every rewrite of what lies below the
  // checkpoint, and every bypass merged after it, must still be caught.
  it("as a repository writer, rewriting history below a checkpoint is detected, even with the checkpointed commit kept as a merge's second parent or main reset below it", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.query());
    expect((await repo.merge(filed.id)).code).toBe(0);
    expect((await repo.cli(["audit", "--verify", "--checkpoint"])).code).toBe(0);
    const checkpointed = repo.rev("main");
    const root = git(repo.dir, ["rev-list", "--max-parents=0", "main"]);

    // A history without the merge, which then merges the checkpointed commit back in as its
    // second parent: the checkpoint is still reachable, but no longer first-parent history.
    const squash = git(repo.dir, ["commit-tree", `${root}^{tree}`, "-p", root, "-m", "Squash"], {
      who: MALLORY,
    });
    const rejoin = git(
      repo.dir,
      ["commit-tree", `${checkpointed}^{tree}`, "-p", squash, "-p", checkpointed, "-m", "Merge"],
      { who: MALLORY },
    );
    git(repo.dir, ["update-ref", "refs/heads/main", rejoin]);
    const merged = await repo.cli(["audit", "--verify"]);
    expect(merged.code).toBe(1);
    expect(merged.stdout).toMatch(/history was rewritten.*no longer on main/);

    // Main moved back below the checkpoint: nothing after it is left to read.
    git(repo.dir, ["update-ref", "refs/heads/main", root]);
    const reset = await repo.cli(["audit", "--verify"]);
    expect(reset.code).toBe(1);
    expect(reset.stdout).toMatch(/history was rewritten.*no longer on main/);

    // Restored: the checkpoint holds again.
    git(repo.dir, ["update-ref", "refs/heads/main", checkpointed]);
    const restored = await repo.cli(["audit", "--verify"]);
    expect(restored.code, restored.stdout).toBe(0);
  });

  it("as a repository writer, after a checkpoint an unapproved merge of a proposal filed before it, an edited checkpointed request file and a plain config change are all caught by the incremental audit", async () => {
    const repo = await Repo.init();
    const waiting = await repo.request(requests.export()); // needs dana; never approved
    const query = await repo.request(requests.query());
    expect((await repo.merge(query.id)).code).toBe(0);
    expect((await repo.cli(["audit", "--verify", "--checkpoint"])).code).toBe(0);

    // The proposal's base lies below the checkpoint: the audit must walk into it correctly.
    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${waiting.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    let audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.records.map((r) => r.id)).toEqual([waiting.id]);
    expect(audit.problems).toEqual([
      expect.stringMatching(
        new RegExp(`^${waiting.id}: merged without a valid gate: .*data-stewards has 0 of 1`),
      ),
    ]);
    git(repo.dir, ["update-ref", "refs/heads/main", "HEAD~1"]);
    git(repo.dir, ["reset", "-q", "--hard", "main"]);

    // A checkpointed request file edited after the checkpoint.
    const text = git(repo.dir, ["show", `main:${query.path}`]);
    const edited = commitOnRef(
      repo.dir,
      "refs/heads/main",
      { [query.path]: text.replace("staging", "production") + "\n" },
      { who: MALLORY, date: repo.clock.tick(), message: "Fix a typo" },
    );
    audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.findings).toContainEqual({
      commit: edited,
      problem: `${query.path} was modified after it was recorded`,
    });
    git(repo.dir, ["update-ref", "refs/heads/main", "main~1"]);

    // A trust input changed by a plain commit after the checkpoint.
    const config = git(repo.dir, ["show", "main:.interlock/config.yaml"]);
    const plain = commitOnRef(
      repo.dir,
      "refs/heads/main",
      { ".interlock/config.yaml": config.replace("admins:", "admins:\n  - mallory") },
      { who: MALLORY, date: repo.clock.tick(), message: "Add an admin" },
    );
    audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.findings).toContainEqual({
      commit: plain,
      problem: expect.stringMatching(
        /trust chain is broken: it changes \.interlock\/config\.yaml outside a governance change/,
      ),
    });
  });

  // A checkpoint records the withdrawals reachable from its tip, so that the next audit lists
  // only those added since (not a walk of the whole history). One recorded below it must still
  // count for a request merged after it.
  it("as a repository writer, a request its requester withdrew before the checkpoint and I merged after it is caught by the incremental audit", async () => {
    const repo = await Repo.init();
    const withdrawn = await repo.request(requests.export());
    const w = await repo.cli(["withdraw", withdrawn.id, "--as", "agent:etl-bot"]);
    expect(w.code, w.stderr).toBe(0);
    await repo.approve(withdrawn.id, "dana");
    const query = await repo.request(requests.query());
    expect((await repo.merge(query.id)).code).toBe(0);
    expect((await repo.cli(["audit", "--verify", "--checkpoint"])).code).toBe(0);
    const root = git(repo.dir, ["rev-list", "--max-parents=0", "main"]);
    const recorded = JSON.parse(
      readFileSync(join(repo.home, "repos", root, "checkpoints", "main.json"), "utf8"),
    ) as { body: { withdrawals?: Record<string, string[]> } };
    expect(recorded.body.withdrawals?.[withdrawn.id]).toHaveLength(1);

    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${withdrawn.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.records.map((r) => r.id)).toEqual([withdrawn.id]);
    expect(audit.problems).toEqual([
      expect.stringMatching(new RegExp(`^${withdrawn.id}: merged after its requester withdrew it`)),
    ]);
  });

  // The audit now reads a request file by the blob id git reported for the merge's tree (and
  // caches its parse by that id) instead of walking the tree: the id must still be checked.
  it("as a repository writer, a request file forged in the object store under its own id is never read as the request", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.query());
    expect((await repo.merge(filed.id)).code).toBe(0);
    const blob = git(repo.dir, ["rev-parse", `main:${filed.path}`]);
    const file = join(repo.dir, ".git", "objects", blob.slice(0, 2), blob.slice(2));
    expect(existsSync(file)).toBe(true);
    const text = git(repo.dir, ["show", `main:${filed.path}`]);
    const forged = Buffer.from(
      text.replace(/requested_at: .*/, "requested_at: 2099-01-01T00:00:00.000Z"),
    );
    expect(forged.toString()).not.toBe(text);
    chmodSync(file, 0o644);
    writeFileSync(
      file,
      deflateSync(Buffer.concat([Buffer.from(`blob ${forged.length}\0`), forged])),
    );
    const audit = await repo.cli(["audit", "--verify"]);
    expect(audit.code).not.toBe(0);
    expect(audit.stdout).not.toMatch(/Verified:/);
    expect(audit.stderr).toMatch(/does not match its id/);
  });
});
