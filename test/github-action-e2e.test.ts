import { stringify } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { documentedSetup } from "./github/documented.ts";
import { BOT, INTERLOCK_APP_ID, type World } from "./github/world.ts";
import type { WorkflowRunner } from "./github/workflows.ts";

/**
 * The action end to end, driven only by events: the workflows docs/github.md documents are
 * committed to the simulated repository, and the test workflow runner (test/github/workflows.ts)
 * runs them on what the simulator delivers, as GitHub would, with every github.com behaviour at
 * its default. A person dispatches the request workflow; the App's pull request starts the gate;
 * reviews start the relay, whose dispatch starts the gate again; a person merges once the
 * required check (pinned to the App) passes; the push starts execution, which runs the request
 * exactly once. Nothing here calls a step by hand.
 */

const KEY = "5a".repeat(32);
const EXPORT = stringify({
  action: "db.export",
  resource: "postgres://prod/customers",
  params: {
    query: "select id, plan from customers where email = 'jane.doe@example.com'",
    destination: "s3://analytics-exports/churn/2026-11/",
  },
  reason: "Weekly churn analysis",
  requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
  ttl: "24h",
});

let world: World | undefined;
let runner: WorkflowRunner | undefined;

afterEach(async () => {
  runner?.close();
  runner = undefined;
  await world?.close(); // throws if the simulator answered anything GitHub would not
  world = undefined;
});

async function setup(): Promise<{ w: World; runner: WorkflowRunner }> {
  const s = await documentedSetup(KEY);
  world = s.w;
  runner = s.runner;
  return s;
}

/** alice files the agent's request through the request workflow; returns its id. */
async function file(w: World, runner: WorkflowRunner): Promise<string> {
  await runner.workflowDispatch("alice", "interlock-request.yml", { request: EXPORT });
  const [request] = runner.runsOf("interlock-request");
  expect(request).toMatchObject({ event: "workflow_dispatch", conclusion: "success" });
  expect(request!.outcomes).toEqual([expect.objectContaining({ mode: "request", denied: false })]);
  return request!.cores[0]!.outputs.id!;
}

describe("github: the documented workflows, driven by events, against the simulator", () => {
  it("dispatch → gate on the App's PR → reviews relayed → merge → execute once", async () => {
    const { w, runner } = await setup();

    // 1. alice dispatches the request workflow; the App's pull request starts the gate.
    const id = await file(w, runner);
    const pr = w.pr(id);
    expect(pr.state).toBe("open");
    expect(w.sim.bodyOf(pr.number)).not.toContain("jane.doe@example.com");
    expect(runner.runsOf("interlock-request")[0]!.cores[0]!.summaries.at(-1)).toContain(
      `/acme/approvals/pull/${pr.number}`,
    );
    const gates = () => runner.runsOf("interlock-gate");
    expect(gates()).toEqual([
      expect.objectContaining({
        event: "pull_request_target",
        action: "opened",
        actor: BOT,
        conclusion: "success",
        outcomes: [{ mode: "gate", id, satisfied: false }],
      }),
    ]);
    let runs = w.sim.checkRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      name: "interlock/gate",
      headSha: pr.headSha,
      conclusion: "failure",
      externalId: id,
      app: { id: INTERLOCK_APP_ID },
    });
    expect(runs[0]!.summary).toMatch(/❌ \*\*Not satisfied\*\*/);
    // Pushes of the proposal branch start no execution (execute listens to main only).
    expect(runner.runsOf("interlock-execute")).toEqual([]);

    // 2. mallory (not a data steward) approves: the relay asks the gate again; it still fails.
    await w.sim.as("mallory").review(pr.number, "APPROVE");
    await runner.settle();
    expect(runner.runsOf("interlock-review-relay")).toEqual([
      expect.objectContaining({
        event: "pull_request_review",
        actor: "mallory",
        conclusion: "success",
      }),
    ]);
    expect(gates().at(-1)).toMatchObject({
      event: "repository_dispatch",
      action: "interlock-gate",
      actor: "github-actions[bot]", // GITHUB_TOKEN's dispatches do start runs
      outcomes: [{ mode: "gate", id, satisfied: false }],
    });
    runs = w.sim.checkRuns();
    expect(runs.at(-1)!.conclusion).toBe("failure");
    expect(runs.at(-1)!.summary).toMatch(/mallory.*not counted/);
    // The ruleset holds the merge: the App's check has not passed.
    expect((await w.sim.as("sam").merge(pr.number, { sha: pr.headSha })).status).toBe(405);

    // 3. dana (data-stewards) approves: relayed, the gate holds and the check passes.
    const approval = await w.sim.as("dana").review(pr.number, "APPROVE");
    await runner.settle();
    expect(gates().at(-1)!.outcomes).toEqual([{ mode: "gate", id, satisfied: true }]);
    expect(w.sim.checkRuns().at(-1)).toMatchObject({ conclusion: "success", headSha: pr.headSha });

    // 4. A writer dismisses dana's approval: relayed, the check fails again; dana approves again.
    const dismissal = await w.sim
      .as("mallory")
      .request("PUT", `/pulls/${pr.number}/reviews/${String(approval.id)}/dismissals`, {
        message: "not convinced",
        event: "DISMISS",
      });
    expect(dismissal.status).toBe(200);
    await runner.settle();
    expect(runner.runsOf("interlock-review-relay").at(-1)).toMatchObject({
      action: "dismissed",
      actor: "mallory",
      conclusion: "success",
    });
    expect(gates().at(-1)!.outcomes).toEqual([{ mode: "gate", id, satisfied: false }]);
    expect(w.sim.checkRuns().at(-1)!.conclusion).toBe("failure");
    expect((await w.sim.as("sam").merge(pr.number, { sha: pr.headSha })).status).toBe(405);
    await w.sim.as("dana").review(pr.number, "APPROVE");
    await runner.settle();
    expect(gates().at(-1)!.outcomes).toEqual([{ mode: "gate", id, satisfied: true }]);
    expect(w.sim.checkRuns().at(-1)).toMatchObject({ conclusion: "success", headSha: pr.headSha });
    expect(w.runs()).toEqual([]); // nothing ran on any pull request event
    // One concurrency group per proposal, whichever event started the gate: a newer evaluation
    // cancels an older one, so a stale verdict cannot land after a newer one.
    expect(gates()).toHaveLength(5);
    expect(new Set(gates().map((j) => j.concurrency))).toEqual(
      new Set([`interlock-gate-interlock/${id}`]),
    );

    // 5. A person merges; the push to main starts execution, which runs the request once.
    const merged = await w.sim.as("sam").merge(pr.number, { sha: pr.headSha });
    expect(merged.status).toBe(200);
    await runner.settle();
    const executions = runner.runsOf("interlock-execute");
    // The merge's push runs it; the App's own pushes to main (its result commit) start runs too
    // (an App's push does, unlike GITHUB_TOKEN's), and they execute nothing again.
    expect(executions[0]).toMatchObject({ actor: "sam", conclusion: "success" });
    const [first, ...later] = executions.map((j) => j.cores[0]!);
    expect(JSON.parse(first!.outputs.executed!)).toEqual([
      expect.objectContaining({ id, status: "succeeded" }),
    ]);
    expect(first!.warnings).toEqual([]);
    expect(later.length).toBeGreaterThan(0);
    expect(executions.slice(1).map((j) => [j.actor, j.conclusion])).toEqual(
      later.map(() => [BOT, "success"]),
    );
    for (const c of later) expect(JSON.parse(c.outputs.executed!)).toEqual([]);
    // Re-running the merge's execute run (same push, same commit) executes nothing again.
    await runner.rerun(executions[0]!);
    const rerun = runner.runsOf("interlock-execute").at(-1)!;
    expect(rerun).toMatchObject({ actor: "sam", conclusion: "success" });
    expect(JSON.parse(rerun.cores[0]!.outputs.executed!)).toEqual([]);
    expect(w.runs()).toEqual([id]);
    expect(await w.fileOnMain(`results/${id}.yaml`)).toMatch(/outcome: succeeded/);
    expect(w.sim.comments(pr.number).join("\n")).toMatch(/executed successfully/);
    // No job failed anywhere in the story.
    expect(runner.jobs.filter((j) => j.conclusion === "failure")).toEqual([]);
  });

  it("a writer's forged relay only makes the gate evaluate again, correctly", async () => {
    const { w, runner } = await setup();
    // This time the agent files with its own account, through repository_dispatch.
    w.sim.addUser("etl-bot[bot]", { type: "Bot", role: "write" });
    await runner.repositoryDispatch("etl-bot[bot]", "interlock-request", { request: EXPORT });
    const [request] = runner.runsOf("interlock-request");
    expect(request).toMatchObject({ event: "repository_dispatch", conclusion: "success" });
    const id = request!.cores[0]!.outputs.id!;
    const pr = w.pr(id);
    const before = runner.runsOf("interlock-gate").length;

    // mallory dispatches the relay's event herself, as often as she likes.
    await runner.repositoryDispatch("mallory", "interlock-gate", { id });
    await runner.repositoryDispatch("mallory", "interlock-gate", { id: "../../main" });
    const forged = runner.runsOf("interlock-gate").slice(before);
    expect(forged.map((j) => [j.actor, j.conclusion])).toEqual([
      ["mallory", "success"],
      ["mallory", "success"],
    ]);
    expect(forged[0]!.outcomes).toEqual([{ mode: "gate", id, satisfied: false }]);
    expect(forged[1]!.outcomes).toEqual([expect.objectContaining({ mode: "skip" })]);
    // The check stays failed, on the App's one check run; the merge stays refused.
    const runs = w.sim.checkRuns();
    expect(runs.every((r) => r.conclusion === "failure" && r.app.id === INTERLOCK_APP_ID)).toBe(
      true,
    );
    expect((await w.sim.as("mallory").merge(pr.number, { sha: pr.headSha })).status).toBe(405);
    expect(w.runs()).toEqual([]);
  });

  it("a writer's branch workflow cannot reach the App's key, so cannot publish interlock/gate", async () => {
    const { w, runner } = await setup();
    const id = await file(w, runner);
    const pr = w.pr(id);
    const checks = w.sim.checkRuns().length;
    const steal = (withEnvironment: boolean) => ({
      "runs-on": "ubuntu-latest",
      ...(withEnvironment ? { environment: "interlock" } : {}),
      steps: [
        {
          id: "app",
          uses: "actions/create-github-app-token@v2",
          with: {
            "app-id": String(INTERLOCK_APP_ID),
            "private-key": "${{ secrets.INTERLOCK_APP_KEY }}",
          },
        },
        {
          uses: "acme/interlock@v1",
          with: {
            token: "${{ steps.app.outputs.token }}",
            "app-slug": "${{ steps.app.outputs.app-slug }}",
            mode: "gate",
          },
        },
      ],
    });
    // mallory pushes a branch with her own workflow, asking for the environment or not.
    await w.sim.push("mallory", "mallory/ci", {
      ".github/workflows/steal.yml": stringify({
        name: "steal",
        on: "push",
        jobs: { "with-environment": steal(true), "without-environment": steal(false) },
      }),
    });
    await runner.settle();
    const jobs = runner.runsOf("steal");
    expect(jobs.map((j) => [j.job, j.conclusion])).toEqual([
      ["with-environment", "failure"],
      ["without-environment", "failure"],
    ]);
    expect(jobs[0]!.reason).toMatch(/not allowed to deploy to interlock/);
    expect(jobs[1]!.reason).toMatch(/step 1: .*private-key/);
    expect(jobs.flatMap((j) => j.outcomes)).toEqual([]); // the action never ran
    expect(w.sim.checkRuns()).toHaveLength(checks);
    expect((await w.sim.as("mallory").merge(pr.number, { sha: pr.headSha })).status).toBe(405);
  });
});
