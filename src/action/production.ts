import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as actionsCore from "@actions/core";
import { GitHubForge } from "../forge/github/github-forge.ts";
import { createOctokit, type CreateOctokitOptions } from "../forge/github/octokit.ts";
import type { ActionCore, ActionForge, ForgeTarget, RunDeps } from "./run.ts";
import { parseSettings } from "./settings.ts";

/**
 * The action's real dependencies: @actions/core, the GitHub forge over Octokit, the process.
 * Only this module (and main.ts, which calls run with them) touches the SDKs and the process.
 */

export function actionsCoreOutput(): ActionCore {
  return {
    setOutput: (name, value) => actionsCore.setOutput(name, value),
    info: (m) => actionsCore.info(m),
    warning: (m) => actionsCore.warning(m),
    setFailed: (m) => actionsCore.setFailed(m),
    summary: async (markdown) => {
      // Job summaries need a runner that provides the file; elsewhere the log has the outcome.
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await actionsCore.summary.addRaw(markdown, true).write();
    },
  };
}

/** Builds the GitHub forge for a target (pacing and waits as GitHub asks, unless overridden). */
export function githubForgeFactory(
  opts: Pick<CreateOctokitOptions, "pacing" | "msPerSecond" | "counter" | "log"> & {
    readonly defaultPoliciesDir?: string;
  } = {},
): (t: ForgeTarget) => ActionForge {
  const { defaultPoliciesDir, ...client } = opts;
  return (t) =>
    new GitHubForge({
      octokit: createOctokit({
        token: t.token,
        baseUrl: t.apiUrl,
        userAgent: "interlock-action",
        ...client,
      }),
      owner: t.owner,
      repo: t.repo,
      defaultBranch: t.defaultBranch,
      org: t.owner,
      botLogin: t.botLogin,
      ...(client.counter ? { counter: client.counter } : {}),
      ...(defaultPoliciesDir ? { defaultPoliciesDir } : {}),
    });
}

/** Interlock's default policies, copied next to the bundle (dist/policies) by build-action. */
export function bundledPoliciesDir(moduleUrl: string): string | undefined {
  const dir = fileURLToPath(new URL("./policies", moduleUrl));
  return existsSync(dir) ? dir : undefined;
}

/** Everything run() needs, from the process and @actions/core. */
export function productionDeps(moduleUrl: string): RunDeps {
  const policies = bundledPoliciesDir(moduleUrl);
  return {
    settings: () => parseSettings(process.env),
    forgeFactory: githubForgeFactory({
      log: { warn: (m) => actionsCore.warning(m) },
      ...(policies === undefined ? {} : { defaultPoliciesDir: policies }),
    }),
    core: actionsCoreOutput(),
    env: process.env,
    now: () => new Date(),
    ...(policies === undefined ? {} : { defaultPoliciesDir: policies }),
  };
}
