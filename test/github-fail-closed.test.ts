import { afterEach, describe, expect, it } from "vitest";
import { GitHubForge } from "../src/forge/github/github-forge.ts";
import { createOctokit } from "../src/forge/github/octokit.ts";
import { checkGate, mergeRequest } from "../src/lifecycle/gate-check.ts";
import { INTERLOCK_IDENTITY } from "../src/forge/refs.ts";
import { BOT, requests, ruleOf, World } from "./github/world.ts";

/**
 * GitHub answers that must never open the gate: a 403 or 404 where the pushers should be, a
 * review whose commit GitHub no longer knows (`commit_id: null`), a team the token may not
 * read. Each is an attack by a repository writer (W) that worked while the answer was read as
 * "nothing there"; each now gives an unmet gate with a reason a person can act on.
 */

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function fileExport(w: World): Promise<{ id: string; number: number }> {
  const filed = await w.file(requests.export());
  return { id: filed.id, number: w.pr(filed.id).number };
}

function approval(gate: Awaited<ReturnType<World["gate"]>>, who: string) {
  const a = gate.verdict.approvals.filter((x) => x.who === who).at(-1);
  if (!a) throw new Error(`no review by ${who}: ${JSON.stringify(gate.verdict.approvals)}`);
  return a;
}

describe("github: answers that are not 'nobody'", () => {
  it.each([403, 404] as const)(
    "as a repository writer whose push the token cannot see (activity API %d): their approval does not count",
    async (status) => {
      const w = (world = await World.create());
      w.sim.addTeamMember("data-stewards", "mallory");
      const { id, number } = await fileExport(w);
      // Mallory pushes under Interlock's own commit identity, so only the activity log knows.
      w.clock.tick();
      await w.sim.push("mallory", `interlock/${id}`, {}, { as: INTERLOCK_IDENTITY });
      w.sim.behave({ activityApi: status });
      w.clock.tick();
      await w.sim.as("mallory").review(number, "APPROVE");

      const gate = await w.gate(id);
      expect(gate.verdict.satisfied).toBe(false);
      expect(approval(gate, "mallory")).toMatchObject({ counted: false });
      expect(approval(gate, "mallory").why).toMatch(
        new RegExp(`who pushed to the proposal is unknown: GitHub answered ${status}`),
      );
      expect(approval(gate, "mallory").why).toMatch(/activity/);
      expect((await mergeRequest(w.forge, id, w.clock.tick())).merged).toBe(false);
    },
  );

  it("as a repository writer, making GitHub forget the commit a rejection was given on (commit_id: null) does not lift it", async () => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    const rejected = w.pr(id).headSha;
    await w.sim.as("sam").review(number, "REQUEST_CHANGES"); // sam has write access
    // A force-push and GitHub's garbage collection make the rejected commit disappear.
    w.clock.tick();
    await w.sim.push("mallory", `interlock/${id}`, {}, { as: INTERLOCK_IDENTITY });
    w.sim.collectGarbage(rejected);
    w.clock.tick();
    await w.sim.as("dana").review(number, "APPROVE");

    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "no-rejection")).toMatchObject({ ok: false });
    expect(ruleOf(gate, "no-rejection").detail).toMatch(/sam/);
    expect(ruleOf(gate, "no-rejection").detail).toMatch(/a commit that no longer exists/);
  });

  it("an approval whose commit GitHub no longer knows is stale, never fresh", async () => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    await w.sim.as("dana").review(number, "APPROVE");
    w.sim.collectGarbage(w.pr(id).headSha);
    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(approval(gate, "dana")).toMatchObject({ counted: false });
  });

  // Teams are read in the gate's GraphQL query; a token that may not read them gets the field
  // null and an error of type FORBIDDEN (REST answered 403 or 404 per team before). Either way
  // the team counts nobody and the gate says what to grant, instead of aborting.
  it("a team the token may not read (FORBIDDEN) is an unmet gate that says what to grant, not an abort", async () => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    await w.sim.as("dana").review(number, "APPROVE");
    w.sim.addApp("interlock-app[bot]", { id: 424242, slug: "interlock-app", membersRead: false });
    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "groups").ok).toBe(false);
    expect(ruleOf(gate, "groups").detail).toMatch(
      /@acme\/data-stewards could not be read: GitHub answered FORBIDDEN.*Members: read/,
    );
  });

  it("a token that cannot see teams at all (GITHUB_TOKEN) is an unmet gate that says so", async () => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    await w.sim.as("dana").review(number, "APPROVE");
    const forge = new GitHubForge({
      octokit: createOctokit({
        token: w.sim.token("github-actions[bot]"),
        baseUrl: w.sim.url,
        pacing: "none",
        msPerSecond: 1,
      }),
      owner: "acme",
      repo: "approvals",
      defaultBranch: "main",
      org: "acme",
      botLogin: BOT,
    });
    const gate = await checkGate(forge, id, w.clock.tick());
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "groups").detail).toMatch(
      /@acme\/data-stewards could not be read: GitHub answered FORBIDDEN.*GITHUB_TOKEN can never read teams/,
    );
  });
});

describe("github: dismissing a rejection", () => {
  async function rejectedThenDismissedBy(dismisser: string) {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    const rejection = await w.sim.as("sam").review(number, "REQUEST_CHANGES");
    w.clock.tick();
    const dismissed = await w.sim
      .as(dismisser)
      .request("PUT", `/pulls/${number}/reviews/${String(rejection.id)}/dismissals`, {
        message: "not needed",
      });
    expect(dismissed.status).toBe(200);
    w.clock.tick();
    await w.sim.as("dana").review(number, "APPROVE");
    return { w, gate: await w.gate(id) };
  }

  it("as the sponsor, dismissing a reviewer's blocking rejection does not lift it", async () => {
    const { gate } = await rejectedThenDismissedBy("alice"); // alice sponsors agent:etl-bot
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "no-rejection")).toMatchObject({ ok: false });
    expect(ruleOf(gate, "no-rejection").detail).toMatch(/sam/);
  });

  it("a dismissal by someone who could approve it lifts the rejection", async () => {
    const { gate } = await rejectedThenDismissedBy("pat");
    expect(ruleOf(gate, "no-rejection").ok).toBe(true);
    expect(gate.verdict.satisfied).toBe(true);
  });
});
