import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import { git, logLines, loggingExecutor, MALLORY, Repo, requests, show } from "./e2e-helpers.ts";

/**
 * At most once, whatever a writer of the approvals repository deletes: the executor keeps its
 * own journal outside the repository, in the Interlock home.
 */

async function executedQuery(): Promise<{ repo: Repo; log: string; id: string; merge: string }> {
  const repo = await Repo.init();
  const log = join(tempDir("interlock-e2e-log-"), "runs.log");
  await repo.setExecutor("db.query", loggingExecutor(log));
  const filed = await repo.request(requests.query());
  expect((await repo.merge(filed.id)).code).toBe(0);
  const merge = repo.rev("main");
  const first = await repo.execute();
  expect(first.reports).toEqual([expect.objectContaining({ id: filed.id, status: "succeeded" })]);
  expect(logLines(log)).toEqual([filed.id]);
  return { repo, log, id: filed.id, merge };
}

function journalFile(repo: Repo): string {
  const root = git(repo.dir, ["rev-list", "--max-parents=0", "main"]);
  return join(repo.home, "repos", root, "journal", "executions.jsonl");
}

describe("at most once", () => {
  it("as a repository writer, deleting the claim, the result and every unreachable object does not make a request run again", async () => {
    const { repo, log, id, merge } = await executedQuery();
    git(repo.dir, ["update-ref", "-d", `refs/interlock/claims/${id}`]);
    git(repo.dir, ["reset", "-q", "--hard", merge], { who: MALLORY });
    git(repo.dir, ["reflog", "expire", "--expire=now", "--all"]);
    git(repo.dir, ["gc", "-q", "--prune=now"]);
    expect(show(repo.dir, "main", `results/${id}.yaml`)).toBeUndefined();

    const again = await repo.execute();
    expect(again.reports).toEqual([expect.objectContaining({ id, status: "refused" })]);
    expect(again.reports[0]!.detail).toMatch(/journal/);
    expect(logLines(log)).toEqual([id]);
    // Not even --retry re-runs something that finished.
    const retried = await repo.execute(["--retry", id]);
    expect(retried.reports).toEqual([expect.objectContaining({ id, status: "refused" })]);
    expect(logLines(log)).toEqual([id]);
  });

  it("as a repository writer, deleting the result file in a later commit does not make a request run again", async () => {
    const { repo, log, id } = await executedQuery();
    git(repo.dir, ["update-ref", "-d", `refs/interlock/claims/${id}`]);
    git(repo.dir, ["rm", "-q", `results/${id}.yaml`]);
    git(repo.dir, ["commit", "-q", "-m", "Tidy up"], { who: MALLORY, date: repo.clock.tick() });
    const again = await repo.execute();
    expect(again.reports).toEqual([expect.objectContaining({ id, status: "refused" })]);
    expect(logLines(log)).toEqual([id]);
  });

  it("after a crash (a journalled claim, no result) only --retry runs it again, and that is recorded", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-e2e-log-"), "runs.log");
    await repo.setExecutor("db.query", loggingExecutor(log));
    const filed = await repo.request(requests.query());
    expect((await repo.merge(filed.id)).code).toBe(0);
    // The crash: the claim is in the repository and in the journal, the action never reported.
    git(repo.dir, ["update-ref", `refs/interlock/claims/${filed.id}`, "main"]);
    const journal = journalFile(repo);
    const first = await repo.execute();
    expect(first.reports).toEqual([expect.objectContaining({ id: filed.id, status: "claimed" })]);
    appendFileSync(
      journal,
      JSON.stringify({ at: repo.clock.now.toISOString(), id: filed.id, event: "claim" }) + "\n",
    );
    // A writer deletes the claim ref: the journal still holds it.
    git(repo.dir, ["update-ref", "-d", `refs/interlock/claims/${filed.id}`]);
    const second = await repo.execute();
    expect(second.reports).toEqual([expect.objectContaining({ id: filed.id, status: "claimed" })]);
    expect(logLines(log)).toEqual([]);

    const retried = await repo.execute(["--retry", filed.id]);
    expect(retried.reports).toEqual([
      expect.objectContaining({ id: filed.id, status: "succeeded" }),
    ]);
    expect(logLines(log)).toEqual([filed.id]);
    const result = parseYaml(show(repo.dir, "main", `results/${filed.id}.yaml`)!) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({ retried: true });
    const events = readFileSync(journal, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; event: string });
    expect(events.filter((e) => e.id === filed.id).map((e) => e.event)).toEqual([
      "claim",
      "retry",
      "claim",
      "result",
    ]);
  });

  it("as a repository writer, a history rebuilt from a new root is not executed", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-e2e-log-"), "runs.log");
    await repo.setExecutor("db.query", loggingExecutor(log));
    const filed = await repo.request(requests.query());
    expect((await repo.merge(filed.id)).code).toBe(0);
    // Squash everything on main into a new initial commit.
    const tree = git(repo.dir, ["rev-parse", "main^{tree}"]);
    const root = git(repo.dir, ["commit-tree", tree, "-m", "A fresh start"], { who: MALLORY });
    git(repo.dir, ["update-ref", "refs/heads/main", root]);
    const executed = await repo.cli(["execute"]);
    expect(executed.code).not.toBe(0);
    expect(executed.stderr).toMatch(/trust root this machine has not pinned/);
    expect(logLines(log)).toEqual([]);
  });
});
