import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ApiCallCounter, type ApiCall } from "../src/forge/github/api-call-counter.ts";
import { renderVerdict } from "../src/gate/gate.ts";
import { mergeRequest } from "../src/lifecycle/gate-check.ts";
import { BOT, requests, ruleOf, World } from "./github/world.ts";

/**
 * The GitHub forge end to end: the real lifecycle functions (fileRequest, checkGate,
 * mergeRequest, executeMerged) over the real Octokit client (throttling, retry, call counting)
 * against the GitHub API simulator, whose every response is checked against GitHub's OpenAPI
 * description and whose state is a real Git repository.
 */

let world: World | undefined;

afterEach(async () => {
  await world?.close(); // throws if the simulator sent a response GitHub would not
  world = undefined;
});

/** "12 calls (GET /repos/{owner}/{repo}/pulls ×1, …)" for the report. */
function describeCalls(calls: readonly ApiCall[]): string {
  const routes = new Map<string, number>();
  for (const c of calls)
    routes.set(`${c.method} ${c.route}`, (routes.get(`${c.method} ${c.route}`) ?? 0) + 1);
  return `${calls.length} calls: ${[...routes].map(([r, n]) => `${r} ×${n}`).join(", ")}`;
}

describe("github: the GitHub forge with the real lifecycle", () => {
  it("request → PR with card → two approvals → gate → merge → execute once", async () => {
    const w = (world = await World.create());

    // 1. The agent's request becomes a pull request.
    let mark = w.counter.total;
    const filed = await w.file(requests.criticalExport());
    const fileCalls = w.counter.since(mark);
    expect(filed.denied).toBe(false);
    expect(filed.branch).toBe(`interlock/${filed.id}`);
    expect(filed.url).toMatch(/\/acme\/approvals\/pull\/1$/);
    const pr = w.pr(filed.id);
    expect(pr.state).toBe("open");
    expect(pr.headSha).toBe(filed.head);
    const body = w.sim.bodyOf(pr.number)!;
    expect(body).toContain("Interlock approval card: `db.export`");
    expect(body).not.toContain("jane.doe@example.com"); // masked before it reached GitHub
    // No labels (a fourth write); the card says risk and classification.
    expect(w.sim.labelsOf(pr.number)).toEqual([]);
    expect(body).toMatch(/critical/i);
    // No baseline ref: what the App filed is the commit of its first push to the branch, one
    // commit on top of the default branch's tip.
    expect(await w.sim.git.resolve(`refs/interlock/requests/${filed.id}`)).toBeUndefined();
    const fileOnBranch = await w.sim.git.file(filed.head!, filed.path);
    expect(fileOnBranch?.content.toString()).not.toContain("jane.doe@example.com");
    // The requester's commit is authored as the requester, not as a GitHub account.
    const commit = (await w.sim.git.commit(filed.head!))!;
    expect(commit.author.name).toBe("agent:etl-bot");
    expect(commit.parents).toEqual([await w.sim.git.resolve("refs/heads/main")]);

    // 2. Nobody has approved: the gate says what is missing.
    mark = w.counter.total;
    const before = await w.gate(filed.id);
    const gateCallsBefore = w.counter.since(mark);
    expect(before.verdict.satisfied).toBe(false);
    expect(ruleOf(before, "groups").detail).toMatch(/data-stewards: 0 of 1/);
    expect(ruleOf(before, "single-file").ok).toBe(true);
    expect(ruleOf(before, "untampered").ok).toBe(true);
    expect(await before.context.author()).toBe(BOT);

    // 3. A data steward and a security engineer approve on GitHub.
    w.clock.tick();
    await w.sim.as("dana").review(pr.number, "APPROVE");
    w.clock.tick();
    await w.sim.as("sam").review(pr.number, "APPROVE", { body: "ok for the partner report" });

    mark = w.counter.total;
    const gate = await w.gate(filed.id);
    const gateCalls = w.counter.since(mark);
    expect(gate.verdict.satisfied, renderVerdict(gate.verdict)).toBe(true);
    expect(gate.verdict.approvals).toEqual([
      expect.objectContaining({ who: "dana", counted: true }),
      expect.objectContaining({ who: "sam", counted: true }),
    ]);
    expect(ruleOf(gate, "codeowners").detail).toMatch(/dana/);

    // The gate workflow passes the request's path from the event's pull request title as a
    // hint: the first query then reads the file too, and the gate is 1 query + the activity.
    w.forge.expectRequestPath(filed.id, filed.path);
    mark = w.counter.total;
    const hinted = await w.gate(filed.id);
    const hintedCalls = w.counter.since(mark);
    expect(hinted.verdict).toEqual(gate.verdict);
    expect(w.counter.kinds(hintedCalls)).toEqual({ rest: 1, graphql: 1, writes: 0 });
    // A writer can edit the title: a wrong hint is never read as the request file, it only
    // costs the second query.
    w.forge.expectRequestPath(filed.id, `requests/iam.grant/${filed.id}.yaml`);
    mark = w.counter.total;
    expect((await w.gate(filed.id)).verdict).toEqual(gate.verdict);
    expect(w.counter.kinds(w.counter.since(mark))).toEqual({ rest: 1, graphql: 2, writes: 0 });

    // 4. Merge, pinned to the head the gate saw.
    mark = w.counter.total;
    const merged = await w.counter.measure("merge", () =>
      mergeRequest(w.forge, filed.id, w.clock.tick()),
    );
    const mergeCalls = w.counter.since(mark);
    expect(merged.merged).toBe(true);
    const after = w.pr(filed.id);
    expect(after.merged).toBe(true);
    const mergeCommit = (await w.sim.git.commit(merged.merged ? merged.commit : ""))!;
    expect(mergeCommit.parents[1]).toBe(filed.head);
    expect(mergeCommit.message).toMatch(/Interlock-Approved-By: dana/);

    // 5. Execute: claimed through a ref, run once, the result committed to main.
    mark = w.counter.total;
    const reports = await w.execute();
    const execCalls = w.counter.since(mark);
    expect(reports).toEqual([
      expect.objectContaining({ id: filed.id, action: "db.export", status: "succeeded" }),
    ]);
    expect(w.runs()).toEqual([filed.id]);
    // The claim is a file on the protected default branch (no writer can remove it), not a ref.
    expect(await w.fileOnMain(`claims/${filed.id}.yaml`)).toContain(`id: ${filed.id}`);
    expect(await w.sim.git.resolve(`refs/interlock/claims/${filed.id}`)).toBeUndefined();
    const result = parseYaml((await w.fileOnMain(`results/${filed.id}.yaml`))!) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({
      id: filed.id,
      outcome: "succeeded",
      merge_commit: mergeCommit.sha,
    });
    expect(result.approvers).toEqual(["dana", "sam"]);

    // 6. A second run does nothing.
    mark = w.counter.total;
    expect(await w.execute()).toEqual([]);
    const idleCalls = w.counter.since(mark);
    expect(w.runs()).toEqual([filed.id]);

    // Every call is counted; the figures go into the report (GitHub: ~80 writes/min/identity).
    // A GraphQL query is a POST but no write (GitHub counts it in points, apart from REST).
    const writes = (calls: readonly ApiCall[]) => w.counter.kinds(calls).writes;
    const graphql = (calls: readonly ApiCall[]) => w.counter.kinds(calls).graphql;
    const figures = {
      fileRequest: describeCalls(fileCalls),
      "gate (no reviews)": describeCalls(gateCallsBefore),
      "gate (two approvals)": describeCalls(gateCalls),
      "gate (two approvals, path hint)": describeCalls(hintedCalls),
      merge: describeCalls(mergeCalls),
      execute: describeCalls(execCalls),
      "execute again (nothing to do)": describeCalls(idleCalls),
    };
    console.info(
      `GitHub API calls per operation:\n${Object.entries(figures)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join("\n")}`,
    );
    expect(fileCalls.length).toBe(4);
    expect(writes(fileCalls)).toBe(3); // branch, file (contents API), pull request

    // The gate's reads: one GraphQL query for the pull request, its reviews, dismissals, files,
    // commits, trust inputs and teams; the activity log (REST); one GraphQL query for the request
    // file at the head and as filed. Publishing the verdict adds the one write.
    for (const calls of [gateCallsBefore, gateCalls]) {
      expect(graphql(calls)).toBe(2);
      expect(calls.length - graphql(calls)).toBe(1); // GET activity
      expect(writes(calls)).toBe(0);
    }
    // Execution: tree, one GraphQL query, compare of the merge, activity, claim, result (the
    // Action's comment makes 7).
    expect(execCalls.length).toBe(6);
    expect(graphql(execCalls)).toBe(1);
    expect(writes(execCalls)).toBe(2); // the claim and the result (contents API)
    expect(idleCalls.length).toBe(1); // one tree listing: every request has its result
    expect(w.counter.byScope()["forge.openProposal"]).toBe(4);
  });

  it("writes one new file on the default branch in one call, retrying a conflict; an existing file is replaced", async () => {
    const w = (world = await World.create());
    // Another writer moved main between GitHub reading its tip and moving it: 409, retried.
    w.sim.failNext({ method: "PUT", path: /\/contents\//, status: 409, message: "conflict" });
    let mark = w.counter.total;
    const first = await w.forge.commitToDefault(
      [{ path: "results/x.yaml", content: "one\n" }],
      "One",
      w.clock.tick(),
    );
    expect(w.counter.since(mark).map((c) => `${c.method} ${c.route}`)).toEqual([
      "PUT /repos/{owner}/{repo}/contents/{path}",
      "PUT /repos/{owner}/{repo}/contents/{path}",
    ]);
    expect(await w.sim.git.resolve("refs/heads/main")).toBe(first);
    expect(await w.fileOnMain("results/x.yaml")).toBe("one\n");
    const commit = (await w.sim.git.commit(first))!;
    expect(commit.author.name).toBe("Interlock");
    // The file exists: GitHub wants its sha (422), and the Git data path replaces it.
    mark = w.counter.total;
    await w.forge.commitToDefault(
      [{ path: "results/x.yaml", content: "two\n" }],
      "Two",
      w.clock.tick(),
    );
    expect(w.counter.since(mark)).toHaveLength(5);
    expect(await w.fileOnMain("results/x.yaml")).toBe("two\n");
  });

  it("records a denial on the default branch, never as a pull request", async () => {
    const w = (world = await World.create());
    const denied = await w.file({
      action: "iam.grant",
      resource: "aws://prod/iam",
      params: { principal: "agent:etl-bot", role: "admin" },
      reason: "I need more access",
      requester: { id: "agent:etl-bot", kind: "agent" },
    });
    expect(denied.denied).toBe(true);
    expect(w.sim.pullFor(denied.id)).toBeUndefined();
    expect(await w.fileOnMain(`denials/${denied.id}.yaml`)).toContain(denied.id);
  });

  it("a merge is refused by GitHub when the head moved after the gate was evaluated", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    const { number } = w.pr(filed.id);
    await w.sim.as("dana").review(number, "APPROVE");
    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied, renderVerdict(gate.verdict)).toBe(true);
    await w.sim.push("mallory", `interlock/${filed.id}`, {}, { message: "nothing to see" });
    await expect(
      w.forge.merge(filed.id, gate.context.headCommit, "Merge", w.clock.tick()),
    ).rejects.toThrow(/moved.*Head branch was modified/);
    expect(w.pr(filed.id).merged).toBe(false);
  });

  it("publishes the gate as a check run and comments on the pull request", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    const gate = await w.gate(filed.id);
    const run = await w.forge.publishGate(
      filed.id,
      gate.verdict,
      renderVerdict(gate.verdict),
      gate.context.headCommit,
    );
    expect(run.url).toMatch(/\/runs\//);
    const [check] = w.sim.checkRuns();
    expect(check).toMatchObject({
      name: "interlock/gate",
      headSha: gate.context.headCommit,
      conclusion: "failure",
      by: BOT,
    });
    expect(check!.title).toBe(gate.verdict.summary);
    const url = await w.forge.comment(filed.id, "Waiting for data-stewards.");
    expect(url).toMatch(/#issuecomment-/);
    expect(w.sim.comments(w.pr(filed.id).number)).toEqual(["Waiting for data-stewards."]);
  });

  it("the Octokit client retries a secondary rate limit once, without waiting in tests", async () => {
    const w = (world = await World.create());
    const { createOctokit } = await import("../src/forge/github/octokit.ts");
    const warnings: string[] = [];
    const counter = new ApiCallCounter();
    const octokit = createOctokit({
      token: w.sim.token(BOT),
      baseUrl: w.sim.url,
      msPerSecond: 1,
      counter,
      log: { warn: (m) => warnings.push(m) },
    });
    const limited = {
      path: /\/pulls$/,
      status: 403,
      message:
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      headers: { "retry-after": "30" },
    };
    w.sim.failNext({ ...limited });
    const { data } = await octokit.rest.pulls.list({ owner: "acme", repo: "approvals" });
    expect(data).toEqual([]);
    expect(warnings.join("\n")).toMatch(/secondary rate limit.*retrying once in 30 s/);
    // Both attempts count against the rate limit, so both are counted.
    expect(counter.calls.map((c) => `${c.method} ${c.route} ${c.status}`)).toEqual([
      "GET /repos/{owner}/{repo}/pulls 403",
      "GET /repos/{owner}/{repo}/pulls 200",
    ]);

    // Twice in a row: retried once, then GitHub's error is reported (nothing hangs).
    w.sim.failNext({ ...limited, times: 2 });
    await expect(octokit.rest.pulls.list({ owner: "acme", repo: "approvals" })).rejects.toThrow(
      /secondary rate limit/,
    );
    // A wait longer than the limit is not retried at all.
    w.sim.failNext({ ...limited, headers: { "retry-after": "3600" } });
    await expect(octokit.rest.pulls.list({ owner: "acme", repo: "approvals" })).rejects.toThrow(
      /secondary rate limit/,
    );
    expect(warnings.at(-1)).toMatch(/longer than 60 s, giving up/);
  });
});
