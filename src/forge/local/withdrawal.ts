import { stringify } from "yaml";
import type { IdentityDirectory } from "../../identity/directory.ts";
import { ORIGINAL_REF_PREFIX, withdrawalPath } from "../refs.ts";
import type { Git } from "./git.ts";
import { commitSigner } from "./signed-request.ts";

/** A verified withdrawal: the commit that recorded it, who signed it and when. */
export interface Withdrawal {
  readonly commit: string;
  readonly by: string;
  readonly at: Date;
}

/** The file a withdrawal adds on the default branch (what it says is covered by the signature). */
export function withdrawalFile(p: { id: string; by: string; at: Date; reason?: string }): string {
  return stringify({
    version: 1,
    request: p.id,
    withdrawn_by: p.by,
    withdrawn_at: p.at.toISOString(),
    ...(p.reason ? { reason: p.reason } : {}),
  });
}

/**
 * Whether request `id` was withdrawn, and by whom: a commit on the first-parent history of
 * `branch` that added withdrawals/<id>.yaml, signed by the same configured principal whose
 * key signed the filed request (its baseline commit). An unsigned withdrawal, or one signed by
 * anyone else, is no withdrawal. One rule for the forge, the executor and the audit.
 */
export async function findWithdrawal(
  git: Git,
  branch: string,
  id: string,
  dir: IdentityDirectory,
): Promise<Withdrawal | undefined> {
  const commits = (
    await git.tryRaw([
      "log",
      "--no-ext-diff",
      "--no-textconv",
      "--first-parent",
      "--diff-filter=A",
      "--format=%H %ct",
      `refs/heads/${branch}`,
      "--",
      withdrawalPath(id),
    ])
  )
    ?.split("\n")
    .filter(Boolean);
  if (!commits || commits.length === 0) return undefined;
  const original = await git.revParse(`${ORIGINAL_REF_PREFIX}${id}`);
  if (original === undefined) return undefined;
  const filer = commitSigner(await git.raw(["cat-file", "commit", original]), dir);
  if (filer === undefined) return undefined;
  for (const line of commits) {
    const [commit, ct] = line.split(" ");
    const signer = commitSigner(await git.raw(["cat-file", "commit", commit!]), dir);
    if (signer === filer) return { commit: commit!, by: signer, at: new Date(Number(ct) * 1000) };
  }
  return undefined;
}
