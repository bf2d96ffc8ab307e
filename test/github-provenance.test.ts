import { afterEach, describe, expect, it } from "vitest";
import { GitHubForge } from "../src/forge/github/github-forge.ts";
import { createOctokit } from "../src/forge/github/octokit.ts";
import { fileRequest } from "../src/lifecycle/file-request.ts";
import { mergeRequest } from "../src/lifecycle/gate-check.ts";
import { requestSchema } from "../src/request/schema.ts";
import { BOT, ORG, requests, ruleOf, World } from "./github/world.ts";

/**
 * Only proposals Interlock's App files count: a repository writer (W) can build a proposal that
 * looks exactly like the request workflow's (branch interlock/<id>, baseline ref, pull request,
 * card) with their own token or a branch workflow's GITHUB_TOKEN, naming anyone as requester.
 * The gate checks who opened the pull request, who created the branch and who made the first
 * push to it (GitHub's activity log: the App creates the branch at the default branch's tip,
 * then commits the request file onto it with the contents API), and compares the head with
 * that commit, never with the movable refs/interlock/requests/<id>.
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

  it("as a repository writer pushing a second commit to the App's branch: the baseline stays the App's filing, and the writer cannot approve", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    const { number } = w.pr(filed.id);
    const text = (await w.sim.git.file(filed.head!, filed.path))!.content
      .toString()
      .replace("analytics-exports", "partner-share");
    // Mallory commits under the App's name; the activity log still says who pushed.
    await w.sim.push(
      "mallory",
      `interlock/${filed.id}`,
      { [filed.path]: text },
      {
        as: { name: "Interlock", email: "interlock@localhost" },
      },
    );
    w.clock.tick();
    await w.sim.as("mallory").review(number, "APPROVE");
    await w.sim.as("dana").review(number, "APPROVE");

    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "untampered").ok).toBe(false);
    expect(await gate.context.readOriginal(filed.path)).toContain("analytics-exports");
    expect(await gate.context.committers()).toContain("mallory");
    // The App still filed it: the requester is authenticated, the change is what fails.
    expect(ruleOf(gate, "signed-request").ok).toBe(true);
  });

  it("as a repository writer pushing to the App's new branch before the App files on it: the proposal never counts", async () => {
    const w = (world = await World.create());
    // Mallory watches for new interlock/* branches and pushes the moment one appears, before
    // the App's contents commit: the App's filing then sits on top of her commit.
    let raced = false;
    w.sim.beforeRequest((method, path) => {
      if (method !== "PUT") return undefined;
      const m = /\/contents\/requests\/.+\/([0-9A-Z]{26})\.yaml$/.exec(decodeURIComponent(path));
      if (m === null || raced) return undefined;
      raced = true;
      return w.sim
        .push("mallory", `interlock/${m[1]}`, { "notes.txt": "hello" })
        .then(() => undefined);
    });
    const filed = await w.file(requests.export());
    expect(raced).toBe(true);
    await w.sim.as("dana").review(w.pr(filed.id).number, "APPROVE");

    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "signed-request").ok).toBe(false);
    expect(ruleOf(gate, "signed-request").detail).toMatch(
      /did not file the request on it \(the next change to it was a push by mallory\)/,
    );
    expect(await gate.context.readOriginal(filed.path)).toBeUndefined();
  });

  it("as a repository writer creating a look-alike branch for the App to open a pull request from: the gate fails on who created it", async () => {
    const w = (world = await World.create());
    // Mallory creates interlock/<id> herself and commits a request file onto it with the
    // contents API, exactly as the App would; the App's pull request (a retry, say) is real.
    const filed = await w.file(requests.export());
    const text = (await w.sim.git.file(filed.head!, filed.path))!.content.toString();
    const id = "01J0000000000000000000000Z";
    const path = filed.path.replace(filed.id, id);
    const main = (await w.sim.git.resolve("refs/heads/main"))!;
    const mallory = w.sim.as("mallory");
    expect(
      (await mallory.request("POST", "/git/refs", { ref: `refs/heads/interlock/${id}`, sha: main }))
        .status,
    ).toBe(201);
    const put = await mallory.request("PUT", `/contents/${path}`, {
      message: "request",
      branch: `interlock/${id}`,
      content: Buffer.from(text.split(filed.id).join(id)).toString("base64"),
    });
    expect(put.status).toBe(201);
    const pr = await w.sim.as(BOT).request("POST", "/pulls", {
      title: "request",
      head: `interlock/${id}`,
      base: "main",
    });
    expect(pr.status).toBe(201);
    await w.sim.as("dana").review((pr.data as { number: number }).number, "APPROVE");

    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "signed-request").detail).toMatch(
      new RegExp(`interlock/${id} was created by mallory, not by Interlock's App`),
    );
  });
});
