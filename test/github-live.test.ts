import { describe, expect, it } from "vitest";
import { ApiCallCounter } from "../src/forge/github/api-call-counter.ts";
import { GitHubForge } from "../src/forge/github/github-forge.ts";
import { createOctokit } from "../src/forge/github/octokit.ts";
import { renderVerdict } from "../src/gate/gate.ts";
import { fileRequest } from "../src/lifecycle/file-request.ts";
import { checkGate } from "../src/lifecycle/gate-check.ts";
import { newAgeIdentity } from "../src/masking/seal.ts";
import { defaultEngine, requests } from "./github/world.ts";

/**
 * Opt-in: the GitHub forge against the real github.com (or GHES). It files a request in a
 * throwaway approvals repository, reads the gate, and closes the pull request without merging.
 *
 *   INTERLOCK_LIVE_GITHUB_TOKEN  a token with contents, pull requests and metadata (read/write)
 *   INTERLOCK_LIVE_REPO          owner/name of a repository you do not mind writing to
 *   INTERLOCK_LIVE_API_URL       optional, for GitHub Enterprise Server (https://host/api/v3)
 *   INTERLOCK_LIVE_BOT_LOGIN     optional, the token's login when GET /user cannot tell (an App)
 */

const token = process.env.INTERLOCK_LIVE_GITHUB_TOKEN;
const target = process.env.INTERLOCK_LIVE_REPO;
const skipped =
  !token || !target
    ? "set INTERLOCK_LIVE_GITHUB_TOKEN and INTERLOCK_LIVE_REPO=owner/name to run it against GitHub"
    : !/^[^/\s]+\/[^/\s]+$/.test(target)
      ? `INTERLOCK_LIVE_REPO must be owner/name, not "${target}"`
      : undefined;

describe("github live: the GitHub forge against the real GitHub API", () => {
  if (skipped !== undefined) {
    it.skip(`skipped: ${skipped}`, () => {});
    return;
  }

  it("files a request as a pull request, reads its gate, and closes it unmerged", async () => {
    const [owner, repo] = target!.split("/") as [string, string];
    const counter = new ApiCallCounter();
    const octokit = createOctokit({
      token: token!,
      counter,
      userAgent: "interlock-live-test",
      ...(process.env.INTERLOCK_LIVE_API_URL
        ? { baseUrl: process.env.INTERLOCK_LIVE_API_URL }
        : {}),
    });
    const { data: info } = await octokit.rest.repos.get({ owner, repo });
    const botLogin =
      process.env.INTERLOCK_LIVE_BOT_LOGIN ??
      (await octokit.rest.users.getAuthenticated()).data.login;
    const forge = new GitHubForge({
      octokit,
      owner,
      repo,
      defaultBranch: info.default_branch,
      org: owner,
      botLogin,
      counter,
    });
    const age = await newAgeIdentity();
    const now = new Date();
    const filed = await fileRequest(requests.export(), {
      forge,
      decide: {
        engine: await defaultEngine(),
        now,
        repo: target!,
        hmacKey: new Uint8Array(32).fill(1),
      },
      recipients: [age.recipient],
    });
    try {
      expect(filed.denied).toBe(false);
      expect(filed.url).toMatch(new RegExp(`/${owner}/${repo}/pull/\\d+$`, "i"));
      const gate = await checkGate(forge, filed.id, new Date());
      console.info(renderVerdict(gate.verdict));
      expect(gate.verdict.satisfied).toBe(false); // nobody approved
      expect(gate.verdict.rules.find((r) => r.rule === "single-file")?.ok).toBe(true);
      // Confirms live what the simulator only models: this token may read the repository
      // activity API, which records the filer's branch creation (signed-request), and the
      // request as filed reads back at that commit (untampered).
      expect(gate.verdict.rules.find((r) => r.rule === "signed-request")?.ok).toBe(true);
      expect(gate.verdict.rules.find((r) => r.rule === "untampered")?.ok).toBe(true);
      expect(await gate.context.author()).toBe(botLogin);
    } finally {
      await forge.closeProposal(filed.id, { deleteBranch: true });
      await octokit.rest.git
        .deleteRef({ owner, repo, ref: `interlock/requests/${filed.id}` })
        .catch(() => undefined);
      console.info(`GitHub API calls: ${JSON.stringify(counter.byScope())}`);
    }
  }, 120_000);
});
