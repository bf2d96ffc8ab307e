import { spawn } from "node:child_process";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import {
  Clock,
  git,
  listFiles,
  logLines,
  Repo,
  requests,
  ROOT,
  show,
  type ExecReport,
} from "./e2e-helpers.ts";

/**
 * "The merge triggers the action, exactly once" — with 20 real `interlock execute` processes
 * racing over the same repository, and after a crash between claim and result.
 */

const REQUESTS = 50;
const PROCESSES = 20;

/** A shell executor that only appends the request id to `log` (outside the repository). */
function countingExecutor(log: string): Record<string, unknown> {
  return {
    type: "shell",
    command: ["sh", "-c", 'printf "%s\\n" "$INTERLOCK_REQUEST_ID" >> "$RUN_LOG"'],
    params_via: "stdin",
    env: { RUN_LOG: log },
  };
}

/**
 * The tests' clock starts a little in the past, so that requests filed in-process and the
 * executor processes (which use the real clock) agree that nothing has expired.
 */
const pastClock = () => new Clock(new Date(Date.now() - 10 * 60_000).toISOString());

/** A repository with `n` merged, auto-approved db.query requests and a counting executor. */
async function mergedQueries(n: number): Promise<{ repo: Repo; log: string; ids: string[] }> {
  const repo = await Repo.init(pastClock());
  const log = join(tempDir("interlock-e2e-log-"), "runs.log");
  await repo.setExecutor("db.query", countingExecutor(log));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const filed = await repo.request(requests.query(i));
    expect(filed.decision.auto_approve).toBe(true);
    const merged = await repo.merge(filed.id);
    expect(merged.code, merged.stderr).toBe(0);
    ids.push(filed.id);
  }
  return { repo, log, ids };
}

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/interlock.js <args>` as a real process. */
function interlockProcess(args: readonly string[], home: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "interlock.js"), ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", INTERLOCK_HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("exactly once", () => {
  it(
    `${PROCESSES} concurrent executors over ${REQUESTS} merged requests run each exactly once`,
    { timeout: 480_000 },
    async () => {
      const { repo, log, ids } = await mergedQueries(REQUESTS);
      expect(new Set(ids).size).toBe(REQUESTS);
      expect(listFiles(repo.dir, "main", "requests/")).toHaveLength(REQUESTS);

      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, () =>
          interlockProcess(["execute", "--repo", repo.dir, "--json"], repo.home),
        ),
      );

      // Every process finished cleanly; between them, each request succeeded exactly once.
      const succeeded: string[] = [];
      for (const r of runs) {
        expect(r.code, r.stderr).toBe(0);
        const { executed } = JSON.parse(r.stdout) as { executed: ExecReport[] };
        for (const rep of executed) {
          expect(["succeeded", "busy", "claimed"], JSON.stringify(rep)).toContain(rep.status);
          if (rep.status === "succeeded") succeeded.push(rep.id);
        }
      }
      expect(succeeded.sort()).toEqual([...ids].sort());

      // The executor ran 50 times, once per request.
      const lines = logLines(log);
      expect(lines).toHaveLength(REQUESTS);
      expect(new Set(lines).size).toBe(REQUESTS);
      expect([...lines].sort()).toEqual([...ids].sort());

      // main has exactly one result per request, each written once, and nothing was lost.
      const results = listFiles(repo.dir, "main", "results/");
      expect(results.sort()).toEqual(ids.map((id) => `results/${id}.yaml`).sort());
      const resultCommits = git(repo.dir, ["log", "--format=%H", "main", "--", "results/"]);
      expect(resultCommits.split("\n")).toHaveLength(REQUESTS);
      for (const id of ids) {
        const result = parseYaml(show(repo.dir, "main", `results/${id}.yaml`)!) as {
          outcome: string;
          exit_code: number;
        };
        expect(result).toMatchObject({ outcome: "succeeded", exit_code: 0 });
      }
      expect(listFiles(repo.dir, "main", "requests/")).toHaveLength(REQUESTS);

      // A second run does nothing.
      const again = await repo.execute([], { now: new Date() });
      expect(again.code).toBe(0);
      expect(again.reports).toEqual([]);
      expect(logLines(log)).toHaveLength(REQUESTS);

      // And the trail verifies.
      const audit = await repo.audit(true, { now: new Date() });
      expect(audit.problems).toEqual([]);
      expect(audit.code).toBe(0);
      expect(audit.records.filter((r) => r.status === "executed")).toHaveLength(REQUESTS);
    },
  );

  it("a crash between claim and result: reported as claimed, never re-run silently; --retry runs it once", async () => {
    const { repo, log, ids } = await mergedQueries(2);
    const [crashed, other] = ids as [string, string];
    // The executor that claimed it died before recording a result.
    git(repo.dir, ["update-ref", `refs/interlock/claims/${crashed}`, repo.rev("main")]);

    const first = await repo.execute([], { now: new Date() });
    expect(first.code).toBe(0);
    expect(first.reports).toEqual([
      expect.objectContaining({ id: crashed, status: "claimed" }),
      expect.objectContaining({ id: other, status: "succeeded" }),
    ]);
    expect(first.reports[0]!.detail).toContain(`interlock execute --retry ${crashed}`);
    expect(logLines(log)).toEqual([other]);
    expect(show(repo.dir, "main", `results/${crashed}.yaml`)).toBeUndefined();

    // Still claimed on the next run: not run.
    const second = await repo.execute([], { now: new Date() });
    expect(second.reports).toEqual([expect.objectContaining({ id: crashed, status: "claimed" })]);
    expect(logLines(log)).toEqual([other]);

    // The audit sees the claim without a result.
    const audit = await repo.audit(true, { now: new Date() });
    expect(audit.code).toBe(1);
    expect(audit.problems).toEqual([
      `${crashed}: it was claimed for execution but its result is missing (deleted or never written)`,
    ]);

    // A person checked, and retries it: it runs once.
    const retry = await repo.execute(["--retry", crashed], { now: new Date() });
    expect(retry.code).toBe(0);
    expect(retry.reports).toEqual([expect.objectContaining({ id: crashed, status: "succeeded" })]);
    expect(logLines(log)).toEqual([other, crashed]);
    expect(show(repo.dir, "main", `results/${crashed}.yaml`)).toBeDefined();

    // Retrying again does nothing: it has its result now.
    const again = await repo.execute(["--retry", crashed], { now: new Date() });
    expect(again.reports).toEqual([]);
    expect(logLines(log)).toEqual([other, crashed]);
    const verified = await repo.audit(true, { now: new Date() });
    expect(verified.problems).toEqual([]);
    expect(verified.code).toBe(0);
  });
});
