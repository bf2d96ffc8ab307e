import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { renderVerdict } from "../src/gate/gate.ts";
import { mergeRequest } from "../src/lifecycle/gate-check.ts";
import { requests, ruleOf, World } from "./github/world.ts";

/**
 * The ways approvals get bypassed on GitHub (ANCHORS), each tried against the GitHub forge,
 * the real lifecycle and the GitHub API simulator: none of them gets a request executed.
 *
 * The request used is a db.export to an allowed destination: the default policy wants one
 * approval from @acme/data-stewards (dana, alice, reader), and CODEOWNERS agrees.
 */

let world: World | undefined;

afterEach(async () => {
  await world?.close(); // throws if the simulator sent a response GitHub would not
  world = undefined;
});

/** Files the export request and returns its id and pull request number. */
async function fileExport(w: World): Promise<{ id: string; number: number; path: string }> {
  const filed = await w.file(requests.export());
  return { id: filed.id, path: filed.path, number: w.pr(filed.id).number };
}

function approval(gate: Awaited<ReturnType<World["gate"]>>, who: string) {
  const a = gate.verdict.approvals.filter((x) => x.who === who).at(-1);
  if (!a) throw new Error(`no review by ${who}: ${JSON.stringify(gate.verdict.approvals)}`);
  return a;
}

describe("github: approvals that must not count", () => {
  it("a bot's approval never counts: a Bot account, and github-actions[bot]", async () => {
    const w = (world = await World.create());
    w.sim.addTeamMember("data-stewards", "deploy-bot");
    const { id, number } = await fileExport(w);

    // GitHub refuses GITHUB_TOKEN approvals unless the repository allows them; here it does.
    await expect(w.sim.as("github-actions[bot]").review(number, "APPROVE")).rejects.toThrow(
      /not permitted to approve/,
    );
    w.sim.setWorkflowPermissions({ canApprovePullRequests: true });
    await w.sim.as("github-actions[bot]").review(number, "APPROVE");
    await w.sim.as("deploy-bot").review(number, "APPROVE");

    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(approval(gate, "github-actions[bot]")).toMatchObject({ counted: false });
    expect(approval(gate, "github-actions[bot]").why).toMatch(/bot or app/);
    expect(approval(gate, "deploy-bot")).toMatchObject({ counted: false });
    expect(approval(gate, "deploy-bot").why).toMatch(/bot or app/);
    expect(ruleOf(gate, "groups").detail).toMatch(/data-stewards: 0 of 1/);
    expect((await mergeRequest(w.forge, id, w.clock.tick())).merged).toBe(false);
  });

  it("an approval from someone with read access only does not count", async () => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    await w.sim.as("reader").review(number, "APPROVE"); // in data-stewards, role "read"
    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(approval(gate, "reader")).toMatchObject({ counted: false });
    expect(approval(gate, "reader").why).toMatch(/no write access/);
  });

  it("a push after approval makes it stale, and the pusher cannot approve", async () => {
    const w = (world = await World.create());
    w.sim.addTeamMember("data-stewards", "mallory");
    const { id, number } = await fileExport(w);
    await w.sim.as("dana").review(number, "APPROVE");
    expect((await w.gate(id)).verdict.satisfied).toBe(true);

    // Mallory pushes a commit that claims to be someone else's; GitHub's activity log knows.
    w.clock.tick();
    const pushed = await w.sim.push(
      "mallory",
      `interlock/${id}`,
      {},
      {
        message: "Tidy up",
        as: { name: "Nobody", email: "nobody@example.test" },
      },
    );
    w.clock.tick();
    await w.sim.as("mallory").review(number, "APPROVE");

    const gate = await w.gate(id);
    expect(gate.context.headCommit).toBe(pushed);
    expect(gate.verdict.satisfied).toBe(false);
    expect(approval(gate, "dana")).toMatchObject({ counted: false });
    expect(approval(gate, "dana").why).toMatch(/given on .*, but the proposal is now at/);
    expect(approval(gate, "mallory")).toMatchObject({ counted: false });
    expect(approval(gate, "mallory").why).toMatch(/pushed a commit to the proposal/);
    expect(await gate.context.committers()).toEqual(expect.arrayContaining(["mallory", "Nobody"]));
    expect(ruleOf(gate, "fresh-approvals").ok).toBe(false);

    // Dana looks again and approves the new head: that counts.
    w.clock.tick();
    await w.sim.as("dana").review(number, "APPROVE");
    const again = await w.gate(id);
    expect(again.verdict.satisfied, renderVerdict(again.verdict)).toBe(true);
  });

  it("the sponsor behind the agent (on_behalf_of) cannot approve its request", async () => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    await w.sim.as("alice").review(number, "APPROVE"); // alice is in data-stewards
    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(approval(gate, "alice")).toMatchObject({ counted: false });
    expect(approval(gate, "alice").why).toMatch(/sponsor/);
  });

  it.each([
    ["CODEOWNERS", "* @mallory\n"],
    ["policies/interlock/override.rego", "package interlock\n"],
    [".github/workflows/interlock.yml", "on: pull_request_target\n"],
  ])("a proposal that also changes %s is not approvable", async (path, content) => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    await w.sim.push("mallory", `interlock/${id}`, { [path]: content });
    w.clock.tick();
    await w.sim.as("dana").review(number, "APPROVE"); // on the new head
    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "single-file")).toMatchObject({ ok: false });
    expect(ruleOf(gate, "single-file").detail).toContain(`it also changes ${path} (`);
    expect((await mergeRequest(w.forge, id, w.clock.tick())).merged).toBe(false);
    expect(w.pr(id).merged).toBe(false);
  });
});

describe("github: merges and executions that must not run the action", () => {
  it("an admin's merge without approvals is refused by the executor, and the refusal recorded", async () => {
    const w = (world = await World.create({ protectMain: true }));
    const { id, number } = await fileExport(w);

    // Branch protection stops a writer; an admin can bypass it (enforce_admins is off).
    const blocked = await w.sim.as("pat").merge(number);
    expect(blocked.status).toBe(405);
    expect(blocked.data.message).toMatch(/approving reviews? (is|are) required/);
    const bypass = await w.sim.as("root").merge(number);
    expect(bypass.status).toBe(200);
    expect(w.pr(id).merged).toBe(true);

    const reports = await w.execute();
    expect(reports).toEqual([expect.objectContaining({ id, status: "refused" })]);
    expect(reports[0]!.detail).toMatch(
      /the gate did not hold at the merge: .*data-stewards has 0 of 1/,
    );
    expect(w.runs()).toEqual([]);
    const result = parseYaml((await w.fileOnMain(`results/${id}.yaml`))!) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({ id, outcome: "refused" });
    expect(String(result.reason)).toMatch(/gate did not hold/);
    expect(await w.execute()).toEqual([]); // refused once, recorded, never retried silently
  });

  it("as a repository writer, removing a crashed executor's claim does not re-arm the request", async () => {
    const w = (world = await World.create({ protectMain: true }));
    const { id, number } = await fileExport(w);
    await w.sim.as("dana").review(number, "APPROVE");
    await w.sim.as("sam").review(number, "APPROVE");
    expect((await mergeRequest(w.forge, id, w.clock.tick())).merged).toBe(true);
    // An executor claims it and dies before recording a result (perhaps after the action ran).
    expect(await w.forge.claim(id, w.clock.tick())).toBe(true);
    const claim = (await w.sim.git.file("refs/heads/main", `claims/${id}.yaml`))!;
    expect(claim.content.toString()).toContain(`id: ${id}`);
    // Mallory tries to remove the claim: it is a file on the protected default branch.
    const removed = await w.sim.as("mallory").request("DELETE", `/contents/claims/${id}.yaml`, {
      message: "retry",
      sha: claim.sha,
    });
    expect(removed.status).toBe(422);
    expect(String(removed.data.message)).toMatch(/Protected branch update failed/);
    expect(await w.fileOnMain(`claims/${id}.yaml`)).toBeDefined();
    // The next run says it was claimed without a result, and does not run it again.
    expect(await w.execute()).toEqual([expect.objectContaining({ id, status: "claimed" })]);
    expect(w.runs()).toEqual([]);
    expect(await w.forge.claim(id, w.clock.tick())).toBe(false); // the contents API's 422
  });

  it("a request file pushed straight to the default branch never runs, and is not refused for good", async () => {
    const w = (world = await World.create());
    const { id, path } = await fileExport(w);
    const content = (await w.sim.git.file(`refs/heads/interlock/${id}`, path))!.content.toString();
    await w.sim.push("root", "main", { [path]: content }, { message: "Just run it" });
    // No merged pull request is found: a direct push, or GitHub's index lagging a merge. Either
    // way it does not run, and nothing is recorded that would kill a real merge for good.
    for (const wait of [0, 600]) {
      w.clock.tick(wait);
      const reports = await w.execute();
      expect(reports).toEqual([expect.objectContaining({ id, status: "pending" })]);
      expect(reports[0]!.detail).toMatch(/no merged pull request from interlock\//);
    }
    expect(w.runs()).toEqual([]);
    expect(await w.fileOnMain(`results/${id}.yaml`)).toBeUndefined();
    expect(await w.forge.isClaimed(id)).toBe(false);
  });

  it("right after a merge GitHub's commit→PR index is empty: the request runs once, no refusal is recorded", async () => {
    const w = (world = await World.create());
    expect(w.sim.behaviour.associationLagSeconds).toBeGreaterThan(0); // github.com's default
    const { id, number } = await fileExport(w);
    await w.sim.as("dana").review(number, "APPROVE");
    expect((await mergeRequest(w.forge, id, w.clock.tick())).merged).toBe(true);
    const associated = await w.sim
      .as("dana")
      .request("GET", `/commits/${(await w.sim.git.resolve("refs/heads/main"))!}/pulls`);
    expect(associated.data).toEqual([]); // the index has not caught up
    expect(await w.execute()).toEqual([expect.objectContaining({ id, status: "succeeded" })]);
    expect(w.runs()).toEqual([id]);
    expect(await w.fileOnMain(`results/${id}.yaml`)).toMatch(/outcome: succeeded/);
  });

  it("re-running the execute workflow runs the action once", async () => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    await w.sim.as("dana").review(number, "APPROVE");
    expect((await mergeRequest(w.forge, id, w.clock.tick())).merged).toBe(true);
    expect(await w.execute()).toEqual([expect.objectContaining({ id, status: "succeeded" })]);
    expect(await w.execute()).toEqual([]);
    expect(await w.execute()).toEqual([]);
    expect(w.runs()).toEqual([id]);
  });

  it("two executors racing run the action once", async () => {
    const w = (world = await World.create());
    const { id, number } = await fileExport(w);
    await w.sim.as("dana").review(number, "APPROVE");
    expect((await mergeRequest(w.forge, id, w.clock.tick())).merged).toBe(true);

    const [a, b] = await Promise.all([w.execute(w.forge), w.execute(w.secondForge())]);
    const statuses = [...a!, ...b!].map((r) => r.status).sort();
    expect(statuses.filter((s) => s === "succeeded")).toHaveLength(1);
    expect(statuses.every((s) => ["succeeded", "busy", "claimed"].includes(s))).toBe(true);
    expect(w.runs()).toEqual([id]);
    const result = parseYaml((await w.fileOnMain(`results/${id}.yaml`))!) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({ id, outcome: "succeeded" });
  });
});

describe("github: the sponsor under another name", () => {
  it("as the sponsor, approving with a GitHub login that the config lists as their alias: does not count", async () => {
    const w = (world = await World.create());
    // alice's GitHub account is alice-gh, a data steward; the request names her as "alice".
    w.sim.addUser("alice-gh", { role: "write" });
    w.sim.addTeamMember("data-stewards", "alice-gh");
    const config = {
      version: 1,
      org: "acme",
      people: {
        alice: { name: "Alice", email: "alice@acme.example", aliases: ["github:alice-gh"] },
      },
      teams: {},
      executors: { recipients: [w.age.recipient], actions: {} },
    };
    await w.sim.push("sam", "main", { ".interlock/config.yaml": stringify(config) });
    const { id, number } = await fileExport(w);
    await w.sim.as("alice-gh").review(number, "APPROVE");
    const gate = await w.gate(id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(approval(gate, "alice-gh")).toMatchObject({ counted: false });
    expect(approval(gate, "alice-gh").why).toMatch(
      /alice-gh is the agent's sponsor \(on_behalf_of\)/,
    );
    expect((await mergeRequest(w.forge, id, w.clock.tick())).merged).toBe(false);
  });
});
