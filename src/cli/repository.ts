import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { InterlockError } from "../errors.ts";
import { Git } from "../forge/local/git.ts";
import { interlockHome, repoHome } from "../settings/home.ts";

// Which approvals repository a command works on, and its directory in the Interlock home: kept
// apart from local.ts (which opens the forge) so that `evaluate` finds the repository without
// loading the forge, the evidence checks and the trust chain.

/**
 * The approvals repository a command works on: the top of the Git working tree around
 * `--repo` (or the current directory), so the CLI works from any subdirectory; the directory
 * itself when it is in no working tree. Asked through the hardened Git wrapper.
 */
export async function findRepoDir(repo: string | undefined, cwd: string): Promise<string> {
  const start = resolve(cwd, repo ?? ".");
  if (!existsSync(start)) {
    throw new InterlockError("usage", `${repo ?? start}: no such directory`, {
      hint: "Point --repo at an approvals repository, or create one with 'interlock init'.",
    });
  }
  if (existsSync(join(start, ".git"))) return start;
  // Git finds a working tree only through a `.git` in the directory or an ancestor (its
  // environment here is built from nothing: no GIT_DIR), so without one there is nothing to ask
  // and no process to start (most of a short command's time outside a repository).
  if (!hasGitAncestor(start)) return start;
  const top = (await new Git(start).tryRaw(["rev-parse", "--show-toplevel"]))?.trim();
  if (!top || realpathSync(top) === realpathSync(start)) return start;
  return top;
}

function hasGitAncestor(dir: string): boolean {
  for (let d = dirname(dir); ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return true;
    if (dirname(d) === d) return false;
  }
}

/**
 * The repository's directory in the Interlock home: named after the initial commit of the
 * default branch (HEAD when that is not there yet); undefined when there is no commit.
 */
export async function repoHomeOf(
  repoDir: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const git = new Git(repoDir);
  // Along first parents: a merged-in unrelated history cannot change which root names the home.
  const roots = (await git.tryRaw(["rev-list", "--first-parent", "--max-parents=0", "HEAD"]))
    ?.trim()
    .split("\n");
  const root = roots?.[roots.length - 1];
  if (!root || !/^[0-9a-f]{40}$/.test(root)) return undefined;
  return repoHome(interlockHome(env), root);
}
