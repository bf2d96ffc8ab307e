import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type InterlockConfig } from "../config/config.ts";
import { InterlockError } from "../errors.ts";
import { LocalForge } from "../forge/local/local-forge.ts";
import { loadRepoContext, type RepoContext } from "./context.ts";

export interface LocalRepo {
  readonly repo: RepoContext;
  readonly config: InterlockConfig;
  readonly forge: LocalForge;
}

/** Opens a local approvals repository: its config, policies, masking key and forge. */
export async function openLocalRepo(repo: string | undefined, cwd: string): Promise<LocalRepo> {
  const ctx = await loadRepoContext(repo, cwd);
  if (!existsSync(join(ctx.repoDir, ".git"))) {
    throw new InterlockError("usage", `${ctx.repoDir} is not a Git repository`, {
      hint: "Create an approvals repository with 'interlock init <dir>', or pass --repo <dir>.",
    });
  }
  const config = loadConfig(ctx.repoDir);
  return { repo: ctx, config, forge: new LocalForge(ctx.repoDir, config) };
}

/** The executor's age identities, from the file named in the config. */
export function executorIdentities(repoDir: string, config: InterlockConfig): string[] {
  const file = join(repoDir, config.executors.identity_file);
  if (!existsSync(file)) {
    throw new InterlockError(
      "config.invalid",
      `no executor identity at ${config.executors.identity_file}`,
      {
        hint: "Only an executor can run approved requests: put its age identity (AGE-SECRET-KEY-1…) in that file.",
      },
    );
  }
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("AGE-SECRET-KEY-"));
}
