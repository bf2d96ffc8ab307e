import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOctokit, type GitHubClient } from "../src/forge/github/octokit.ts";
import { OpenApiValidator, SchemaViolation } from "./github/openapi.ts";
import { GitHubSimulator } from "./github/simulator.ts";

/**
 * The GitHub API simulator's own behaviour: real Git underneath, GitHub's semantics on top,
 * and every response checked against GitHub's OpenAPI description.
 */

const R = { owner: "acme", repo: "approvals" };

let sim: GitHubSimulator;
let bot: GitHubClient;

beforeEach(async () => {
  sim = await GitHubSimulator.start({ owner: "acme", repo: "approvals" });
  const token = sim.addUser("interlock-app[bot]", { type: "Bot", role: "write" });
  sim.addUser("root", { role: "admin" });
  for (const u of ["dana", "sam", "mallory"]) sim.addUser(u, { role: "write" });
  sim.addUser("reader", { role: "read" });
  sim.addUser("stranger");
  await sim.seed({ "README.md": "# Approvals\n", CODEOWNERS: "/requests/ @acme/data-stewards\n" });
  bot = createOctokit({ token, baseUrl: sim.url, pacing: "none", msPerSecond: 1 });
});

afterEach(async () => {
  await sim.close(); // throws when a response violated GitHub's description
});

/** A branch with one new file, opened as a pull request by the bot. */
async function openPull(branch = "feature", files: Record<string, string> = { "a.txt": "a\n" }) {
  const head = await sim.push("interlock-app[bot]", branch, files);
  const { data } = await bot.rest.pulls.create({
    ...R,
    head: branch,
    base: "main",
    title: "A change",
  });
  return { number: data.number, head };
}

describe("github: the simulator validates every response against GitHub's OpenAPI description", () => {
  it("the check rejects bodies GitHub would not send, and accepts one it would", () => {
    const v = OpenApiValidator.load();
    const ref = "/repos/{owner}/{repo}/git/ref/{ref}";
    expect(v.check("get", ref, 200, { ref: "refs/heads/main" }).join("\n")).toMatch(
      /must have required property 'node_id'/,
    );
    expect(() => v.assert("get", ref, 200, { ref: 1 })).toThrow(SchemaViolation);
    const good = {
      ref: "refs/heads/main",
      node_id: "MDM6UmVm",
      url: "https://api.github.com/repos/acme/approvals/git/refs/heads/main",
      object: {
        type: "commit",
        sha: "a".repeat(40),
        url: "https://api.github.com/repos/acme/approvals/git/commits/" + "a".repeat(40),
      },
    };
    expect(v.check("get", ref, 200, good)).toEqual([]);
    // A 40-character sha is part of the contract.
    expect(
      v.check("get", ref, 200, { ...good, object: { ...good.object, sha: "abc" } }),
    ).not.toEqual([]);
    // OpenAPI's nullable: null is allowed where the description says so, and only there.
    const review = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals";
    expect(v.check("put", review, 200, { commit_id: null }).join("\n")).not.toMatch(/commit_id/);
    expect(v.check("put", review, 200, { commit_id: 5 }).join("\n")).toMatch(/commit_id/);
    // Errors have GitHub's shape; a status the operation does not declare is refused.
    expect(v.check("get", ref, 404, { message: "Not Found", documentation_url: "x" })).toEqual([]);
    expect(() => v.check("get", ref, 201, good)).toThrow(/not a response the operation declares/);
    expect(() => v.check("get", "/no/such/{thing}", 200, {})).toThrow(/no such operation/);
  });

  it("a response the simulator gets wrong fails the test instead of reaching the client", async () => {
    sim.tamperNext((body) => ({ ...(body as object), node_id: undefined, object: "nope" }));
    const res = await sim.as("dana").request("GET", "/git/ref/heads/main");
    expect(res.status).toBe(500);
    expect(res.data.message).toMatch(/does not match GitHub's OpenAPI description/);
    expect(sim.violations.join("\n")).toMatch(
      /GET \/repos\/\{owner\}\/\{repo\}\/git\/ref\/\{ref\} → 200/,
    );
    expect(() => sim.assertValid()).toThrow(/responses GitHub would not/);
    sim.violations.length = 0; // this test made it on purpose
  });

  it("a request the simulator does not model is reported, not answered with a guess", async () => {
    await expect(bot.request("GET /repos/{owner}/{repo}/deployments", R)).rejects.toMatchObject({
      status: 404,
    });
    expect(sim.violations).toEqual([
      "not modelled by the simulator: GET /repos/acme/approvals/deployments",
    ]);
    sim.violations.length = 0;
  });
});

describe("github: the simulator keeps its state in a real Git repository", () => {
  it("trees, commits and refs made through the API are real git objects", async () => {
    const main = (await bot.rest.repos.getBranch({ ...R, branch: "main" })).data.commit;
    const tree = await bot.rest.git.createTree({
      ...R,
      base_tree: main.commit.tree.sha,
      tree: [{ path: "requests/x/1.yaml", mode: "100644", type: "blob", content: "hello\n" }],
    });
    const commit = await bot.rest.git.createCommit({
      ...R,
      message: "Add a request",
      tree: tree.data.sha,
      parents: [main.sha],
      author: {
        name: "agent:etl-bot",
        email: "etl-bot@requesters.interlock.invalid",
        date: "2026-11-24T10:00:00Z",
      },
    });
    await bot.rest.git.createRef({ ...R, ref: "refs/interlock/requests/1", sha: commit.data.sha });

    expect(await sim.git.resolve("refs/interlock/requests/1")).toBe(commit.data.sha);
    expect(await sim.git.git(["cat-file", "-t", commit.data.sha])).toBe("commit\n");
    expect(await sim.git.git(["show", `${commit.data.sha}:requests/x/1.yaml`])).toBe("hello\n");
    expect(await sim.git.git(["log", "-1", "--format=%an <%ae> %aI", commit.data.sha])).toBe(
      "agent:etl-bot <etl-bot@requesters.interlock.invalid> 2026-11-24T10:00:00+00:00\n",
    );
    const content = await bot.rest.repos.getContent({
      ...R,
      path: "requests/x/1.yaml",
      ref: "refs/interlock/requests/1",
    });
    expect(Array.isArray(content.data) ? undefined : content.data.type).toBe("file");
  });

  it("refs move with compare-and-swap and GitHub's errors", async () => {
    const { data: main } = await bot.rest.git.getRef({ ...R, ref: "heads/main" });
    const sha = main.object.sha;
    await bot.rest.git.createRef({ ...R, ref: "refs/interlock/claims/X", sha });
    await expect(
      bot.rest.git.createRef({ ...R, ref: "refs/interlock/claims/X", sha }),
    ).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/Reference already exists/),
    });
    // A non-fast-forward update is refused unless forced.
    const side = await sim.push("mallory", "side", { "b.txt": "b\n" });
    await sim.push("root", "main", { "c.txt": "c\n" });
    await expect(
      bot.rest.git.updateRef({ ...R, ref: "heads/main", sha: side, force: false }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/not a fast forward/) });
    // GitHub's error body: message, documentation_url, status.
    const missing = await sim.as("dana").request("GET", "/git/ref/interlock/claims/none");
    expect(missing.status).toBe(404);
    expect(missing.data).toEqual({
      message: "Not Found",
      documentation_url: expect.any(String),
      status: "404",
    });
    await bot.rest.git.deleteRef({ ...R, ref: "interlock/claims/X" });
    expect(await sim.git.resolve("refs/interlock/claims/X", "any")).toBeUndefined();
  });

  it("the contents API commits one file onto a branch's tip, as the caller, with GitHub's errors", async () => {
    const main = (await sim.git.resolve("refs/heads/main"))!;
    await bot.rest.git.createRef({ ...R, ref: "refs/heads/interlock/x", sha: main });
    const content = Buffer.from("id: x\n").toString("base64");
    const created = await bot.rest.repos.createOrUpdateFileContents({
      ...R,
      path: "requests/a/x.yaml",
      branch: "interlock/x",
      message: "File x",
      content,
    });
    expect(created.status).toBe(201);
    const head = created.data.commit.sha!;
    expect(created.data.commit.parents?.map((p) => p.sha)).toEqual([main]);
    expect(created.data.commit.author?.name).toBe("interlock-app[bot]");
    expect(await sim.git.resolve("refs/heads/interlock/x")).toBe(head);
    expect((await sim.git.file(head, "requests/a/x.yaml"))?.content.toString()).toBe("id: x\n");
    expect((await sim.git.file(head, "README.md"))?.content.toString()).toBe("# Approvals\n");
    // The activity log: the bot created the branch, then pushed the file onto it.
    const { data: activity } = await bot.rest.repos.listActivities({
      ...R,
      ref: "refs/heads/interlock/x",
    });
    expect(activity.map((a) => [a.activity_type, a.actor?.login, a.before, a.after])).toEqual([
      ["push", "interlock-app[bot]", main, head],
      ["branch_creation", "interlock-app[bot]", "0".repeat(40), main],
    ]);

    const put = (body: Record<string, unknown>, as = "interlock-app[bot]") =>
      sim.as(as).request("PUT", "/contents/requests/a/x.yaml", {
        message: "Again",
        content,
        branch: "interlock/x",
        ...body,
      });
    // An existing file needs its blob sha; a wrong one is a conflict.
    expect((await put({})).status).toBe(422);
    expect((await put({ sha: "0".repeat(40) })).status).toBe(409);
    const blob = created.data.content!.sha!;
    expect((await put({ sha: blob })).status).toBe(200);
    expect((await put({ branch: "nope" })).status).toBe(404);
    expect((await put({ message: undefined })).status).toBe(422);
    expect((await put({ sha: blob }, "reader")).status).toBe(403);
  });

  it("tokens authenticate users; a private repository is invisible without a role", async () => {
    const anonymous = await fetch(`${sim.url}/repos/acme/approvals/pulls`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ message: "Bad credentials", status: "401" });
    const stranger = await sim.as("stranger").request("GET", "/pulls");
    expect(stranger.status).toBe(404);
    const reader = await sim
      .as("reader")
      .request("POST", "/git/refs", { ref: "refs/heads/x", sha: "a".repeat(40) });
    expect(reader.status).toBe(403);
  });
});

describe("github: pull requests, reviews and merges as GitHub does them", () => {
  it("a pull request follows its branch; a review keeps the commit it was given on", async () => {
    const { number, head } = await openPull();
    const review = await sim.as("dana").review(number, "APPROVE");
    expect(review).toMatchObject({ state: "APPROVED", commit_id: head });
    const pushed = await sim.push("mallory", "feature", { "a.txt": "changed\n" });
    expect((await bot.rest.pulls.get({ ...R, pull_number: number })).data.head.sha).toBe(pushed);
    const reviews = await bot.rest.pulls.listReviews({ ...R, pull_number: number });
    expect(reviews.data.map((r) => [r.user?.login, r.state, r.commit_id])).toEqual([
      ["dana", "APPROVED", head],
    ]);
    // GitHub refuses an author's approval of their own pull request.
    await expect(sim.as("interlock-app[bot]").review(number, "APPROVE")).rejects.toThrow(
      /Can not approve your own pull request/,
    );
  });

  it("the activity log names the pusher, whatever the commit says", async () => {
    await openPull();
    await sim.push(
      "mallory",
      "feature",
      { "z.txt": "z\n" },
      { as: { name: "Dana", email: "dana@example.test" } },
    );
    const { data } = await bot.rest.repos.listActivities({ ...R, ref: "refs/heads/feature" });
    expect(data.map((a) => [a.activity_type, a.actor?.login])).toEqual([
      ["push", "mallory"],
      ["branch_creation", "interlock-app[bot]"],
    ]);
    const { data: cmp } = await bot.rest.repos.compareCommitsWithBasehead({
      ...R,
      basehead: "main...feature",
    });
    expect(cmp.commits.at(-1)?.commit.author?.name).toBe("Dana");
    expect(cmp.commits.at(-1)?.author).toBeNull(); // no account has that e-mail
  });

  it("a merge is pinned to the head: 409 when it moved, 405 when it cannot merge", async () => {
    const { number, head } = await openPull();
    await sim.push("mallory", "feature", { "a.txt": "moved\n" });
    const moved = await sim.as("root").merge(number, { sha: head });
    expect(moved).toMatchObject({
      status: 409,
      data: { message: expect.stringMatching(/Head branch was modified/) },
    });
    const { headSha } = sim.pullFor("feature")!;
    const merged = await sim.as("dana").merge(number, { sha: headSha });
    expect(merged.status).toBe(200);
    const commit = await sim.git.commit(String(merged.data.sha));
    expect(commit?.parents).toEqual([expect.any(String), headSha]);
    expect(commit?.committer.email).toBe("noreply@github.com");
    const { data: pr } = await bot.rest.pulls.get({ ...R, pull_number: number });
    expect(pr).toMatchObject({ merged: true, state: "closed", merge_commit_sha: merged.data.sha });
    expect(pr.merged_by?.login).toBe("dana");
    expect((await sim.as("dana").merge(number)).status).toBe(405);
    // GitHub's commit→PR index lags a merge; the pull requests list does not.
    const associated = () =>
      bot.rest.repos.listPullRequestsAssociatedWithCommit({
        ...R,
        commit_sha: String(merged.data.sha),
      });
    expect((await associated()).data).toEqual([]);
    const closed = await bot.rest.pulls.list({ ...R, head: "acme:feature", state: "closed" });
    expect(closed.data.map((p) => [p.number, p.merge_commit_sha])).toEqual([
      [number, merged.data.sha],
    ]);
    sim.behave({ associationLagSeconds: 0 }); // the index caught up
    expect((await associated()).data.map((p) => p.number)).toEqual([number]);
  });

  it("branch protection binds writers; an admin can bypass it unless admins are enforced", async () => {
    sim.protect("main", { requiredApprovals: 1, enforceAdmins: false });
    const { number } = await openPull();
    expect((await sim.as("dana").merge(number)).status).toBe(405);
    await expect(sim.push("dana", "main", { "x.txt": "x\n" })).rejects.toThrow(
      /Protected branch update failed/,
    );
    expect((await sim.as("root").merge(number)).status).toBe(200);

    sim.protect("main", { requiredApprovals: 1, enforceAdmins: true });
    const second = await openPull("second", { "b.txt": "b\n" });
    expect((await sim.as("root").merge(second.number)).status).toBe(405);
    await sim.as("reader").review(second.number, "APPROVE"); // read access: does not count
    expect((await sim.as("root").merge(second.number)).status).toBe(405);
    await sim.as("sam").review(second.number, "APPROVE");
    expect((await sim.as("root").merge(second.number)).status).toBe(200);
  });

  it("check runs need a GitHub App; labels are created on first use", async () => {
    const { number, head } = await openPull();
    const check = {
      name: "interlock/gate",
      head_sha: head,
      status: "completed",
      conclusion: "success",
    } as const;
    const asUser = await sim.as("dana").request("POST", "/check-runs", check);
    expect(asUser.status).toBe(403);
    const run = await bot.rest.checks.create({
      ...R,
      ...check,
      output: { title: "ok", summary: "all good" },
    });
    expect(run.data).toMatchObject({
      name: "interlock/gate",
      conclusion: "success",
      head_sha: head,
    });
    const listed = await bot.rest.checks.listForRef({ ...R, ref: head });
    expect(listed.data.check_runs.map((c) => c.name)).toEqual(["interlock/gate"]);
    const labels = await bot.rest.issues.addLabels({
      ...R,
      issue_number: number,
      labels: ["risk:high"],
    });
    expect(labels.data.map((l) => l.name)).toEqual(["risk:high"]);
  });

  it("lists page with Link headers, and Octokit follows them", async () => {
    sim.addApp("interlock-app[bot]", { id: 424242, slug: "interlock-app", membersRead: true });
    sim.addTeam("a", ["dana"]);
    sim.addTeam("b", ["sam"]);
    sim.addTeam("c", ["mallory", "dana", "sam"]);
    const first = await bot.rest.teams.list({ org: "acme", per_page: 1 });
    expect(first.headers.link).toMatch(/rel="next".*rel="last"/);
    const all = await bot.paginate(bot.rest.teams.listMembersInOrg, {
      org: "acme",
      team_slug: "c",
      per_page: 1,
    });
    expect(all.map((u) => u.login).sort()).toEqual(["dana", "mallory", "sam"]);
  });
});

describe("github: the settings a doctor reads", () => {
  it("branch protection, workflow permissions and CODEOWNERS errors", async () => {
    const admin = createOctokit({ token: sim.token("root"), baseUrl: sim.url, pacing: "none" });
    await expect(
      admin.rest.repos.getBranchProtection({ ...R, branch: "main" }),
    ).rejects.toMatchObject({
      status: 404,
      message: expect.stringMatching(/Branch not protected/),
    });
    sim.protect("main", {
      requiredApprovals: 1,
      requiredChecks: ["interlock/gate"],
      requireCodeOwnerReviews: true,
    });
    const { data: p } = await admin.rest.repos.getBranchProtection({ ...R, branch: "main" });
    expect(p.required_pull_request_reviews?.required_approving_review_count).toBe(1);
    expect(p.required_status_checks?.contexts).toEqual(["interlock/gate"]);
    expect(p.enforce_admins?.enabled).toBe(false);

    const { data: wf } =
      await admin.rest.actions.getGithubActionsDefaultWorkflowPermissionsRepository(R);
    expect(wf).toEqual({
      default_workflow_permissions: "read",
      can_approve_pull_request_reviews: false,
    });

    const { data: errs } = await admin.rest.repos.codeownersErrors(R);
    expect(errs.errors).toEqual([expect.objectContaining({ kind: "Unknown owner", line: 1 })]);
    sim.addTeam("data-stewards", ["dana"]);
    expect((await admin.rest.repos.codeownersErrors(R)).data.errors).toEqual([]);
  });
});

describe("github: the simulator's GraphQL endpoint answers by GitHub's published schema", () => {
  it("refuses a field GitHub does not have, as GitHub's validation does", async () => {
    await expect(
      bot.graphql(`query { repository(owner: "acme", name: "approvals") { noSuchField } }`),
    ).rejects.toThrow(/Cannot query field "noSuchField" on type "Repository"/);
    expect(sim.graphqlCalls).toBe(1);
  });

  it("reviews carry the commit (null once it is gone), the author's type and push access", async () => {
    const { number, head } = await openPull();
    await sim.as("dana").review(number, "REQUEST_CHANGES");
    await sim.as("reader").review(number, "COMMENT");
    sim.collectGarbage(head);
    const data = await bot.graphql<{
      repository: { pullRequest: { reviews: { nodes: unknown[] } } };
    }>(
      `query($n: Int!) { repository(owner: "acme", name: "approvals") { pullRequest(number: $n) {
        reviews(first: 10) { nodes { state commit { oid } authorCanPushToRepository author { __typename login } } } } } }`,
      { n: number },
    );
    expect(data.repository.pullRequest.reviews.nodes).toEqual([
      {
        state: "CHANGES_REQUESTED",
        commit: null,
        authorCanPushToRepository: true,
        author: { __typename: "User", login: "dana" },
      },
      {
        state: "COMMENTED",
        commit: null,
        authorCanPushToRepository: false,
        author: { __typename: "User", login: "reader" },
      },
    ]);
  });

  it("an App without Members: read gets the teams field null with a FORBIDDEN error", async () => {
    sim.addApp("interlock-app[bot]", { id: 424242, slug: "interlock-app", membersRead: false });
    sim.addTeam("data-stewards", ["dana"]);
    const err = (await bot
      .graphql(`query { organization(login: "acme") { team(slug: "data-stewards") { slug } } }`)
      .catch((e: unknown) => e)) as { errors?: { type: string; path: string[] }[]; data?: unknown };
    expect(err.errors).toEqual([
      expect.objectContaining({ type: "FORBIDDEN", path: ["organization", "team"] }),
    ]);
    expect(err.data).toEqual({ organization: { team: null } });
    sim.addApp("interlock-app[bot]", { id: 424242, slug: "interlock-app", membersRead: true });
    const ok = await bot.graphql<{ organization: { team: { members: { nodes: unknown[] } } } }>(
      `query { organization(login: "acme") { team(slug: "data-stewards") { members(first: 10) { nodes { login } } } } }`,
    );
    expect(ok.organization.team.members.nodes).toEqual([{ login: "dana" }]);
  });

  it("reads a file at a commit through Repository.object", async () => {
    const { head } = await openPull("feature", { "a.txt": "hello\n" });
    const data = await bot.graphql<{ repository: { f: unknown; none: unknown } }>(
      `query($e: String!, $n: String!) { repository(owner: "acme", name: "approvals") {
        f: object(expression: $e) { ... on Blob { text byteSize isTruncated } }
        none: object(expression: $n) { ... on Blob { text } } } }`,
      { e: `${head}:a.txt`, n: `${head}:missing.txt` },
    );
    expect(data.repository).toEqual({
      f: { text: "hello\n", byteSize: 6, isTruncated: false },
      none: null,
    });
  });
});
