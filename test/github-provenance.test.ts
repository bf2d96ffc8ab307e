import { afterEach, describe, expect, it } from "vitest";
import { GitHubForge } from "../src/forge/github/github-forge.ts";
import { createOctokit } from "../src/forge/github/octokit.ts";
import { fileRequest } from "../src/lifecycle/file-request.ts";
import { mergeRequest } from "../src/lifecycle/gate-check.ts";
import { requestSchema } from "../src/request/schema.ts";
import { ORG, requests, ruleOf, World } from "./github/world.ts";

/**
 * Only proposals Interlock's App files count: a repository writer (W) can build a proposal that
 * looks exactly like the request workflow's (branch interlock/<id>, baseline ref, pull request,
 * card) with their own token or a branch workflow's GITHUB_TOKEN, naming anyone as requester.
 * The gate checks who opened the pull request and who created the branch (GitHub's activity
 * log), and compares the head with the commit the App created the branch at, never with the
 * movable refs/interlock/requests/<id>.
 */

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** A writer's own forge: the same code the request workflow runs, with the writer's token. */
function forgeOf(w: World, login: string): GitHubForge {
  return new GitHubForge({
    octokit: createOctokit({
      token: w.sim.token(login),
      baseUrl: w.sim.url,
      pacing: "none",
      msPerSecond: 1,
    }),
    owner: ORG,
    repo: "approvals",
    defaultBranch: "main",
    org: ORG,
    botLogin: login,
  });
}

/** The export request, filed for someone other than the writer. */
const forged = () =>
  requestSchema.parse({
    ...requests.export(),
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "pat" },
  });

describe("github: proposals the App did not file never count", () => {
  it.each(["mallory", "github-actions[bot]"])(
    "as a repository writer filing a look-alike proposal as %s: the gate fails on who filed it",
    async (filer) => {
      const w = (world = await World.create());
      // A branch workflow may create pull requests only where the setting allows it.
      w.sim.setWorkflowPermissions({ canApprovePullRequests: true });
      const filed = await fileRequest(forged(), {
        forge: forgeOf(w, filer),
        decide: w.decide(),
        recipients: [w.age.recipient],
      });
      const { number } = w.pr(filed.id);
      await w.sim.as("dana").review(number, "APPROVE");

      const gate = await w.gate(filed.id);
      expect(gate.verdict.satisfied).toBe(false);
      expect(ruleOf(gate, "signed-request").ok).toBe(false);
      expect(ruleOf(gate, "signed-request").detail).toMatch(
        new RegExp(`opened by ${filer.replace(/[[\]]/g, "\\$&")}, not by Interlock's App`),
      );
      expect((await mergeRequest(w.forge, filed.id, w.clock.tick())).merged).toBe(false);
    },
  );

  it("as a repository writer planting a baseline ref for a forged request: the gate compares with the App's commit", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    const { number } = w.pr(filed.id);
    // Mallory rewrites the request on the branch (e.g. a different destination) and points a
    // baseline ref refs/interlock/requests/<id> at her commit, so "baseline" and head agree.
    const text = (await w.sim.git.file(`refs/heads/interlock/${filed.id}`, filed.path))!.content
      .toString()
      .replace("analytics-exports", "partner-share");
    const pushed = await w.sim.push("mallory", `interlock/${filed.id}`, { [filed.path]: text });
    const planted = await w.sim.as("mallory").request("POST", "/git/refs", {
      ref: `refs/interlock/requests/${filed.id}`,
      sha: pushed,
    });
    expect(planted.status).toBe(201);
    w.clock.tick();
    await w.sim.as("dana").review(number, "APPROVE");

    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "untampered").ok).toBe(false);
    // The baseline is what the App filed, whatever the ref says now.
    const original = await gate.context.readOriginal(filed.path);
    expect(original).toContain("analytics-exports");
    expect(original).not.toContain("partner-share");
  });

  it("the App's own proposal is verified, and says why", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    await w.sim.as("dana").review(w.pr(filed.id).number, "APPROVE");
    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(true);
    expect(ruleOf(gate, "signed-request").detail).toMatch(/filed by Interlock's App/);
  });
});
