import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOctokit, type GitHubClient } from "../src/forge/github/octokit.ts";
import { mergeRequest } from "../src/lifecycle/gate-check.ts";
import { GITHUB_ACTIONS_APP, GITHUB_COM, GitHubSimulator } from "./github/simulator.ts";
import { BOT, INTERLOCK_APP_ID, requests, World } from "./github/world.ts";

/**
 * The simulator behaves like github.com where Interlock's safety depends on it: each switch
 * (GitHubBehaviour) defaults to github.com's behaviour, and each is shown here doing what
 * github.com does. These are simulated from GitHub's documentation, not verified live.
 */

const R = { owner: "acme", repo: "approvals" };

describe("github.com behaviours of the simulator (each on by default)", () => {
  let sim: GitHubSimulator;
  let app: GitHubClient;
  let actions: GitHubClient;
  const client = (token: string) =>
    createOctokit({ token, baseUrl: sim.url, pacing: "none", msPerSecond: 1 });

  beforeEach(async () => {
    sim = await GitHubSimulator.start({ owner: "acme", repo: "approvals" });
    app = client(sim.addUser("interlock-app[bot]", { type: "Bot", role: "write" }));
    actions = client(sim.addUser("github-actions[bot]", { type: "Bot", role: "write" }));
    sim.addApp("interlock-app[bot]", { id: 4242, slug: "interlock-app", membersRead: true });
    sim.addUser("dana", { role: "write" });
    sim.addTeam("data-stewards", ["dana"]);
    await sim.seed({ "README.md": "# Approvals\n" });
  });

  afterEach(async () => {
    await sim.close();
  });

  it("defaults are github.com's", () => {
    expect(sim.behaviour).toEqual(GITHUB_COM);
  });

  it("GITHUB_TOKEN cannot open a pull request while Actions may not create pull requests", async () => {
    await sim.push("dana", "feature", { "a.txt": "a\n" });
    const open = () =>
      actions.rest.pulls.create({ ...R, head: "feature", base: "main", title: "x" });
    await expect(open()).rejects.toMatchObject({ status: 403 });
    sim.setWorkflowPermissions({ canApprovePullRequests: true });
    expect((await open()).status).toBe(201);
  });

  it("team members: GITHUB_TOKEN never, an App only with Members: read", async () => {
    const members = (c: GitHubClient) =>
      c.rest.teams.listMembersInOrg({ org: "acme", team_slug: "data-stewards" });
    await expect(members(actions)).rejects.toMatchObject({ status: 404 });
    expect((await members(app)).data.map((u) => u.login)).toEqual(["dana"]);
    sim.addApp("interlock-app[bot]", { id: 4242, slug: "interlock-app", membersRead: false });
    await expect(members(app)).rejects.toMatchObject({ status: 404 });
  });

  it("a check run belongs to the App whose token created it", async () => {
    const head = await sim.push("dana", "feature", { "a.txt": "a\n" });
    const create = (c: GitHubClient) =>
      c.rest.checks.create({ ...R, name: "interlock/gate", head_sha: head, conclusion: "success" });
    expect((await create(actions)).data.app?.id).toBe(GITHUB_ACTIONS_APP.id);
    expect((await create(app)).data.app).toMatchObject({ id: 4242, slug: "interlock-app" });
  });

  it("events caused by GITHUB_TOKEN start no runs, except dispatches; its PRs' runs wait for approval", () => {
    expect(sim.workflowStart("push", "github-actions[bot]")).toBe("none");
    expect(sim.workflowStart("pull_request_review", "github-actions[bot]")).toBe("none");
    expect(sim.workflowStart("pull_request", "github-actions[bot]")).toBe("awaiting-approval");
    expect(sim.workflowStart("repository_dispatch", "github-actions[bot]")).toBe("runs");
    expect(sim.workflowStart("workflow_dispatch", "github-actions[bot]")).toBe("runs");
    expect(sim.workflowStart("pull_request", "interlock-app[bot]")).toBe("runs");
    expect(sim.workflowStart("push", "dana")).toBe("runs");
  });
});

describe("github: the required check and code-owner review at merge", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  async function protectedWorld(): Promise<World> {
    const w = (world = await World.create());
    w.sim.protect("main", {
      requiredApprovals: 1,
      requiredChecks: [{ context: "interlock/gate", appId: INTERLOCK_APP_ID }],
      requireCodeOwnerReviews: true,
      bypass: [BOT],
    });
    return w;
  }

  it("as a repository writer, a branch workflow publishing a passing interlock/gate (GITHUB_TOKEN) does not satisfy the check pinned to the App", async () => {
    const w = await protectedWorld();
    const filed = await w.file(requests.export());
    const { number, headSha } = w.pr(filed.id);
    await w.sim.as("mallory").review(number, "APPROVE"); // a writer, not a code owner
    // Mallory's workflow on her own branch raises its token to checks: write.
    await w.sim.as("github-actions[bot]").request("POST", "/check-runs", {
      name: "interlock/gate",
      head_sha: headSha,
      conclusion: "success",
    });
    const merged = await w.sim.as("mallory").merge(number, { sha: headSha });
    expect(merged.status).toBe(405);
    expect(String(merged.data.message)).toMatch(/Required status check "interlock\/gate"/);
  });

  it("the gate is one check run per head, updated in place: a failure then a success lets a person merge", async () => {
    const w = await protectedWorld();
    const filed = await w.file(requests.export());
    const { number } = w.pr(filed.id);
    const first = await w.gate(filed.id);
    expect(first.verdict.satisfied).toBe(false);
    await w.forge.publishGate(filed.id, first.verdict, "not yet", first.context.headCommit);
    await w.sim.as("dana").review(number, "APPROVE"); // dana: data steward and code owner
    const second = await w.gate(filed.id);
    expect(second.verdict.satisfied).toBe(true);
    const mark = w.counter.total;
    await w.forge.publishGate(filed.id, second.verdict, "ok", second.context.headCommit);
    // The gate run's one write: the App's run on this head was read with the proposal (GraphQL).
    expect(w.counter.since(mark).map((c) => `${c.method} ${c.route}`)).toEqual([
      "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
    ]);
    const runs = w.sim.checkRuns().filter((r) => r.headSha === second.context.headCommit);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ conclusion: "success", app: { id: INTERLOCK_APP_ID } });
    // A person merges in GitHub's UI: required check and code-owner review both hold.
    const merged = await w.sim.as("pat").merge(number, { sha: second.context.headCommit });
    expect(merged.status).toBe(200);
  });

  it("GitHub refuses a merge without a code owner's approval", async () => {
    const w = await protectedWorld();
    const filed = await w.file(requests.export());
    const { number, headSha } = w.pr(filed.id);
    await w.sim.as("mallory").review(number, "APPROVE");
    const gate = await w.gate(filed.id);
    await w.forge.publishGate(filed.id, { ...gate.verdict, satisfied: true }, "x", headSha);
    const merged = await w.sim.as("mallory").merge(number, { sha: headSha });
    expect(merged.status).toBe(405);
    expect(String(merged.data.message)).toMatch(/code owner review/);
    expect((await mergeRequest(w.forge, filed.id, w.clock.tick())).merged).toBe(false);
  });
});
