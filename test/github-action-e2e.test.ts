import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { githubForgeFactory } from "../src/action/production.ts";
import { run, type RunDeps } from "../src/action/run.ts";
import { parseSettings } from "../src/action/settings.ts";
import { RecordingCore, runnerEnv } from "./github-action-doubles.ts";
import {
  pullRequestEvent,
  pullRequestReviewEvent,
  pushEvent,
  workflowDispatchEvent,
} from "./github-events.ts";
import { BOT, World } from "./github/world.ts";

/**
 * The action end to end: run() with the production forge factory (the real GitHubForge over
 * Octokit) against the GitHub simulator, one workflow run per event, as GitHub would start
 * them: a workflow_dispatch files the request, pull_request and pull_request_review runs
 * publish interlock/gate, a person merges, and the push to main executes it exactly once.
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

afterEach(async () => {
  await world?.close(); // throws if the simulator answered anything GitHub would not
  world = undefined;
});

describe("github: the action over HTTP against the simulator", () => {
  it("request → gate (check run published) → approvals → merge → execute once", async () => {
    const w = (world = await World.create({ protectMain: true }));
    // The workflow's checkout: the approvals repository's config (no policies/: the defaults).
    mkdirSync(join(w.repoDir, ".interlock"), { recursive: true });
    writeFileSync(join(w.repoDir, ".interlock", "config.yaml"), stringify(w.config));
    const token = w.sim.token(BOT); // the Interlock app's token (the ruleset lets it bypass)
    const core = new RecordingCore();
    const step = (event: string, payload: unknown, inputs: Record<string, string> = {}) => {
      const env = {
        ...runnerEnv(event, payload, { token, "masking-key": KEY, ...inputs }, w.repoDir),
        GITHUB_API_URL: w.sim.url,
      };
      const deps: RunDeps = {
        settings: () => parseSettings(env),
        forgeFactory: githubForgeFactory({ pacing: "none", msPerSecond: 1 }),
        core,
        env: { ...env, PATH: process.env.PATH, HOME: w.repoDir, LANG: "C" },
        now: () => w.clock.tick(),
      };
      return run(deps);
    };

    // 1. alice dispatches the agent's request.
    const filed = await step("workflow_dispatch", workflowDispatchEvent({ sender: "alice" }), {
      request: EXPORT,
    });
    expect(core.failures).toEqual([]);
    expect(filed).toMatchObject({ mode: "request", denied: false });
    const id = core.outputs.id!;
    const pr = w.pr(id);
    expect(pr.state).toBe("open");
    expect(w.sim.bodyOf(pr.number)).not.toContain("jane.doe@example.com");
    expect(core.summaries.at(-1)).toContain(`/acme/approvals/pull/${pr.number}`);

    // 2. The pull_request run publishes a failing interlock/gate on the head.
    const opened = pullRequestEvent({
      number: pr.number,
      headRef: `interlock/${id}`,
      headSha: pr.headSha,
    });
    expect(await step("pull_request", opened)).toEqual({ mode: "gate", id, satisfied: false });
    let runs = w.sim.checkRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      name: "interlock/gate",
      headSha: pr.headSha,
      conclusion: "failure",
      externalId: id,
    });
    expect(runs[0]!.summary).toMatch(/❌ \*\*Not satisfied\*\*/);
    expect(core.outputs.satisfied).toBe("false");

    // 3. mallory (not a data steward) approves: it does not count.
    await w.sim.as("mallory").review(pr.number, "APPROVE");
    await step(
      "pull_request_review",
      pullRequestReviewEvent({
        number: pr.number,
        headRef: `interlock/${id}`,
        reviewer: "mallory",
      }),
    );
    runs = w.sim.checkRuns();
    expect(runs.at(-1)!.conclusion).toBe("failure");
    expect(runs.at(-1)!.summary).toMatch(/mallory.*not counted/);

    // 4. dana (data-stewards) approves: the gate holds and the check passes.
    await w.sim.as("dana").review(pr.number, "APPROVE");
    expect(
      await step(
        "pull_request_review",
        pullRequestReviewEvent({ number: pr.number, headRef: `interlock/${id}`, reviewer: "dana" }),
      ),
    ).toEqual({ mode: "gate", id, satisfied: true });
    expect(w.sim.checkRuns().at(-1)).toMatchObject({ conclusion: "success", headSha: pr.headSha });
    expect(core.outputs.satisfied).toBe("true");
    expect(w.runs()).toEqual([]); // nothing ran on any PR event

    // 5. A person merges (branch protection wants two approvals: sam adds his).
    await w.sim.as("sam").review(pr.number, "APPROVE");
    const merged = await w.sim.as("sam").merge(pr.number, { sha: pr.headSha });
    expect(merged.status).toBe(200);
    const mergeSha = String(merged.data.sha);

    // 6. The push to main executes it, records the result, and comments on the PR.
    const push = pushEvent({ after: mergeSha, pusher: "sam" });
    const executed = await step("push", push, { "executor-identity": w.age.identity });
    expect(core.failures).toEqual([]);
    expect(executed.mode).toBe("execute");
    expect(JSON.parse(core.outputs.executed!)).toEqual([
      expect.objectContaining({ id, status: "succeeded" }),
    ]);
    expect(w.runs()).toEqual([id]);
    expect(await w.fileOnMain(`results/${id}.yaml`)).toMatch(/outcome: succeeded/);
    expect(core.warnings).toEqual([]);
    expect(w.sim.comments(pr.number).join("\n")).toMatch(/executed successfully/);

    // 7. A re-run of the same push executes nothing again.
    await step("push", push, { "executor-identity": w.age.identity });
    expect(JSON.parse(core.outputs.executed!)).toEqual([]);
    expect(w.runs()).toEqual([id]);
  });
});
