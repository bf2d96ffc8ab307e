import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { createOctokit } from "../src/forge/github/octokit.ts";
import { BRANCH_PREFIX } from "../src/forge/refs.ts";
import type { SdkClock } from "../src/sdk/approval.ts";
import {
  githubBackend,
  requestApprovalOnGitHub,
  resumeApprovalOnGitHub,
  type GitHubApprovalOptions,
} from "../src/sdk/github.ts";
import { documentedSetup } from "./github/documented.ts";
import { BOT, type World } from "./github/world.ts";
import type { WorkflowRunner } from "./github/workflows.ts";
import { ROOT } from "./e2e-helpers.ts";

/**
 * The agent's SDK over GitHub, end to end against the simulator with the documented workflows:
 * the agent's token dispatches the request (it never writes to the repository), the request
 * workflow files it under the App's identity, and the SDK learns its id from the correlation
 * token the Action echoes; it then follows the gate, the reviews and the executor's result.
 * The SDK's clock "sleeps" by letting the workflow runner deliver what is pending, so every
 * wait is as long as GitHub needs and no longer.
 */

const KEY = "3c".repeat(32);
const EMAIL = ["jane", ".doe", "@example.com"].join("");

const exportRequest = () => ({
  action: "db.export",
  resource: "postgres://prod/customers",
  params: {
    query: `select id, plan from customers where email = '${EMAIL}'`,
    destination: "s3://analytics-exports/churn/2026-11/",
  },
  reason: "Weekly churn analysis",
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

async function setup(
  start?: string,
): Promise<{ w: World; runner: WorkflowRunner; sdk: GitHubApprovalOptions }> {
  const s = await documentedSetup(KEY, start ? { start } : {});
  world = s.w;
  runner = s.runner;
  const r = s.runner;
  // The world's clock: the one the workflows and the simulator run on.
  const clock: SdkClock = { now: () => s.w.clock.now, sleep: () => r.settle() };
  const sdk: GitHubApprovalOptions = {
    // alice sponsors the ETL agent: her token dispatches, and the request is the agent's.
    github: {
      owner: "acme",
      repo: "approvals",
      token: s.w.sim.token("alice"),
      botLogin: BOT,
      apiUrl: s.w.sim.url,
    },
    as: "agent:etl-bot",
    clock,
    pollMs: 50,
    fileTimeoutMs: 30_000,
  };
  return { ...s, sdk };
}

describe("sdk over github: dispatch, correlation, gate, result", () => {
  it("files through the request workflow, follows rejection and approval, and resolves with the executed result", async () => {
    const { w, runner, sdk } = await setup();
    const handle = await requestApprovalOnGitHub(exportRequest(), sdk);
    expect(handle.denied).toBe(false);
    // The App opened the pull request; the dispatch carried the correlation the SDK matched.
    const pr = w.pr(handle.id);
    expect(pr.state).toBe("open");
    const body = w.sim.bodyOf(pr.number) ?? "";
    expect(body).toMatch(/^Interlock-Correlation: [0-9a-f]{32}$/m);
    expect(body).not.toContain(EMAIL);
    expect(runner.runsOf("interlock-request")).toEqual([
      expect.objectContaining({
        event: "repository_dispatch",
        actor: "alice",
        conclusion: "success",
      }),
    ]);

    let s = await handle.status();
    expect(s).toMatchObject({
      id: handle.id,
      state: "pending",
      requester: "agent:etl-bot",
      action: "db.export",
      risk: "high",
    });
    expect(s.url).toContain(`/pull/${pr.number}`);
    expect(JSON.stringify(s)).not.toContain(EMAIL);
    expect(await handle.decision({ timeoutMs: 0 })).toMatchObject({
      status: "waiting",
      state: "pending",
    });

    // dana (data-stewards) asks for changes, with a note that holds an e-mail address.
    await w.sim
      .as("dana")
      .review(pr.number, "REQUEST_CHANGES", { body: `Drop the filter on ${EMAIL}` });
    await runner.settle();
    const rejected = await handle.decision({ timeoutMs: 0 });
    expect(rejected).toMatchObject({ status: "rejected", id: handle.id });
    const reasons = (
      rejected as unknown as { reasons: { reviewer: string; note: string | null }[] }
    ).reasons;
    expect(reasons).toEqual([expect.objectContaining({ reviewer: "dana" })]);
    expect(reasons[0]!.note).toContain("Drop the filter");
    expect(reasons[0]!.note).not.toContain(EMAIL);

    // dana approves; sam merges once the App's check passes; the push executes it once.
    await w.sim.as("dana").review(pr.number, "APPROVE");
    await runner.settle();
    s = await handle.status();
    expect(s.state).toBe("approved");
    expect(s.approvers).toEqual(["dana"]);
    expect((await w.sim.as("sam").merge(pr.number, { sha: pr.headSha })).status).toBe(200);
    const outcome = await handle.decision({ timeoutMs: 10_000 });
    expect(outcome).toMatchObject({
      status: "approved",
      id: handle.id,
      execution: { outcome: "succeeded" },
    });
    expect((outcome as unknown as { approvers: string[] }).approvers).toEqual(["dana"]);
    expect(w.runs()).toEqual([handle.id]);

    // Any process resumes the handle by id; the SDK lists the agent's requests.
    const again = resumeApprovalOnGitHub(handle.id, sdk);
    expect((await again.status()).state).toBe("executed");
    expect((await githubBackend(sdk).list()).map((x) => [x.id, x.state])).toEqual([
      [handle.id, "executed"],
    ]);
  });

  it("a denial is found by its commit and resolves with the policy's reasons", async () => {
    const { sdk } = await setup();
    const handle = await requestApprovalOnGitHub(
      {
        action: "iam.grant",
        resource: "aws://prod/iam",
        params: { principal: "agent:etl-bot", role: "AdministratorAccess" },
        reason: "Need broader permissions",
      },
      sdk,
    );
    expect(handle.denied).toBe(true);
    const d = await handle.decision();
    expect(d).toMatchObject({ status: "denied", id: handle.id });
    expect((d as unknown as { reasons: string[] }).reasons.join(" ")).toMatch(/\S/);
  });

  it("withdraw closes the pull request: the request is withdrawn, by whom, and cannot be merged", async () => {
    const { w, sdk } = await setup();
    const handle = await requestApprovalOnGitHub(exportRequest(), sdk);
    await handle.withdraw();
    const d = await handle.decision();
    expect(d).toEqual({ status: "withdrawn", id: handle.id, by: "alice" });
    const pr = w.pr(handle.id);
    expect(pr.state).toBe("closed");
    expect((await w.sim.as("sam").merge(pr.number, { sha: pr.headSha })).status).not.toBe(200);
    await expect(handle.withdraw()).rejects.toThrow(/withdrawn: there is nothing to withdraw/);
  });

  it("a malformed request fails before anything is dispatched", async () => {
    const { runner, sdk } = await setup();
    await expect(requestApprovalOnGitHub({ action: "db.export" }, sdk)).rejects.toThrow();
    await runner.settle();
    expect(runner.runsOf("interlock-request")).toEqual([]);
  });
});

describe("sdk over github: what the agent is told cannot be forged", () => {
  it("a writer's pull request from interlock/<id> is not a request; another's request is not followed", async () => {
    const { w, sdk } = await setup();
    // mallory (a writer) pushes a branch named like a proposal and opens a pull request from it.
    const fake = "01JD0000000000000000000000";
    const mallory = createOctokit({
      token: w.sim.token("mallory"),
      baseUrl: w.sim.url,
      pacing: "none",
    });
    const { data: main } = await mallory.rest.git.getRef({
      owner: "acme",
      repo: "approvals",
      ref: "heads/main",
    });
    await mallory.rest.git.createRef({
      owner: "acme",
      repo: "approvals",
      ref: `refs/heads/${BRANCH_PREFIX}${fake}`,
      sha: main.object.sha,
    });
    await mallory.rest.repos.createOrUpdateFileContents({
      owner: "acme",
      repo: "approvals",
      path: `requests/db.export/${fake}.yaml`,
      branch: `${BRANCH_PREFIX}${fake}`,
      message: "looks like a request",
      content: Buffer.from("interlock: 1\n").toString("base64"),
    });
    await mallory.rest.pulls.create({
      owner: "acme",
      repo: "approvals",
      head: `${BRANCH_PREFIX}${fake}`,
      base: "main",
      title: "db.export on postgres://prod/customers [high]",
      body: "Interlock-Correlation: 00000000000000000000000000000000",
    });
    await expect(resumeApprovalOnGitHub(fake, sdk).status()).rejects.toThrow(/no request/);
    expect(await githubBackend(sdk).list()).toEqual([]);

    // pat files a request of pat's own; the ETL agent's handle does not follow it.
    w.sim.setRole("pat", "write");
    const pats = await requestApprovalOnGitHub(exportRequest(), {
      ...sdk,
      github: { ...sdk.github, token: w.sim.token("pat") },
      as: "pat",
    });
    await expect(resumeApprovalOnGitHub(pats.id, sdk).status()).rejects.toThrow(
      /was not filed by agent:etl-bot/,
    );
  });
});

describe("interlock mcp --github: the MCP server over GitHub", () => {
  it("an MCP client files through the request workflow and follows the request by its id", async () => {
    // The server is another process, on the real clock: the world's starts now.
    const { w, runner } = await setup(new Date().toISOString());
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        join(ROOT, "bin", "interlock.js"),
        "mcp",
        "--as",
        "agent:etl-bot",
        "--github",
        "acme/approvals",
        "--bot",
        BOT,
      ],
      env: {
        ...(process.env as Record<string, string>),
        INTERLOCK_GITHUB_TOKEN: w.sim.token("alice"),
        GITHUB_API_URL: w.sim.url,
      },
      stderr: "pipe",
    });
    const client = new Client({ name: "interlock-test", version: "0" });
    await client.connect(transport);
    try {
      // The server polls GitHub until the workflow has filed it; the runner delivers meanwhile.
      let done = false;
      const pump = (async () => {
        while (!done) {
          await runner.settle();
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const filed = (await client.callTool({
        name: "request_approval",
        arguments: exportRequest(),
      })) as { structuredContent?: Record<string, unknown>; isError?: boolean };
      done = true;
      await pump;
      expect(filed.isError, JSON.stringify(filed)).toBeFalsy();
      const id = String(filed.structuredContent!.id);
      expect(w.pr(id).state).toBe("open");
      const status = (await client.callTool({ name: "check_status", arguments: { id } })) as {
        structuredContent?: Record<string, unknown>;
      };
      expect(status.structuredContent).toMatchObject({ id, state: "pending" });
      expect(JSON.stringify(status)).not.toContain(EMAIL);
    } finally {
      await client.close();
    }
  }, 60_000);
});
