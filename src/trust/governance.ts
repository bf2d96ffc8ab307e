import { existsSync } from "node:fs";
import { monotonicFactory } from "ulid";
import { configAt, newEvidenceCache } from "../evidence/evidence.ts";
import { GitEvidenceReader } from "../evidence/git-reader.ts";
import { InterlockError } from "../errors.ts";
import type { LocalForge } from "../forge/local/local-forge.ts";
import { REVIEW_TAG_PREFIX, reviewMessage, signReviewTag } from "../forge/local/reviews.ts";
import { BRANCH_PREFIX, INTERLOCK_IDENTITY } from "../forge/refs.ts";
import { GOVERNANCE_TRAILER, isGoverned, verifyGovernance } from "./chain.ts";

/** A governance change is the branch interlock/governance/<id>. */
export const GOVERNANCE_BRANCH_PREFIX = `${BRANCH_PREFIX}governance/`;

const newId = monotonicFactory();

const branchRef = (id: string) => `refs/heads/${GOVERNANCE_BRANCH_PREFIX}${id}`;

/** Whether `id` names an open governance change. */
export async function isGovernanceChange(forge: LocalForge, id: string): Promise<boolean> {
  return (await forge.git.revParse(branchRef(id))) !== undefined;
}

/**
 * Proposes a change to trust inputs (config, CODEOWNERS, policies): one commit on the default
 * branch's tip with the given files, on the branch interlock/governance/<id>. It lands only
 * when a majority of the admins named in the current config approve it with signed reviews.
 */
export async function proposeChange(
  forge: LocalForge,
  files: readonly { path: string; content: string }[],
  opts: { now: Date; summary?: string },
): Promise<{ id: string; branch: string; head: string }> {
  if (files.length === 0) throw new InterlockError("usage", "name at least one file to change");
  for (const f of files) {
    if (!isGoverned(f.path)) {
      throw new InterlockError("usage", `${f.path} is not a trust input`, {
        hint: "Governance changes cover .interlock/, policies/ and CODEOWNERS; other files need no proposal.",
      });
    }
  }
  const tip = await forge.git.revParse(`refs/heads/${forge.defaultBranch}`);
  if (tip === undefined) throw new InterlockError("usage", `there is no ${forge.defaultBranch}`);
  const id = newId(opts.now.getTime());
  const paths = files.map((f) => f.path);
  const head = await forge.git.commitFiles({
    base: tip,
    parents: [tip],
    files,
    message: `Governance change ${id}: ${opts.summary ?? paths.join(", ")}\n\n${GOVERNANCE_TRAILER}: ${id}`,
    author: INTERLOCK_IDENTITY,
    committer: INTERLOCK_IDENTITY,
    date: opts.now,
  });
  if (!(await forge.git.compareAndSwap(branchRef(id), head, undefined))) {
    throw new InterlockError("internal", `branch ${GOVERNANCE_BRANCH_PREFIX}${id} exists already`);
  }
  return { id, branch: `${GOVERNANCE_BRANCH_PREFIX}${id}`, head };
}

export interface GovernanceStatus {
  readonly id: string;
  readonly head: string;
  readonly base: string;
  readonly paths: readonly string[];
  readonly satisfied: boolean;
  readonly summary: string;
  readonly approvers: readonly string[];
}

/** Whether the governance change would be valid if merged now (the chain's own rule). */
export async function governanceStatus(
  forge: LocalForge,
  id: string,
  now: Date,
): Promise<GovernanceStatus> {
  const head = await forge.git.revParse(branchRef(id));
  const base = await forge.git.revParse(`refs/heads/${forge.defaultBranch}`);
  if (head === undefined || base === undefined) {
    throw new InterlockError("usage", `no open governance change ${id}`);
  }
  const reader = new GitEvidenceReader(forge.git.dir, forge.defaultBranch);
  try {
    const mergeBase = (await forge.git.raw(["merge-base", base, head])).trim();
    const changes = await reader.changes(mergeBase, head);
    const paths = changes.map((c) => c.path);
    const outside = paths.filter((p) => !isGoverned(p));
    if (outside.length > 0) {
      return fail(`it also changes ${outside.join(", ")}, which are not trust inputs`);
    }
    if (changes.some((c) => c.status === "removed")) {
      return fail("it deletes a trust input; governance changes add or modify files");
    }
    const r = await verifyGovernance(reader, { id, base, head, landed: head, at: now, paths });
    return {
      id,
      head,
      base,
      paths,
      satisfied: r.problem === undefined,
      summary:
        r.problem ??
        `approved by ${r.approvers.join(", ")} (${r.approvers.length} of ${r.admins.length} admins, quorum ${r.quorum})`,
      approvers: r.approvers,
    };
    function fail(summary: string): GovernanceStatus {
      return { id, head: head!, base: base!, paths, satisfied: false, summary, approvers: [] };
    }
  } finally {
    reader.close();
  }
}

/** Signs an admin's approval of a governance change's head (the same signed review tags). */
export async function approveChange(
  forge: LocalForge,
  opts: { id: string; who: string; keyFile: string; now: Date },
): Promise<{ tag: string; head: string }> {
  const head = await forge.git.revParse(branchRef(opts.id));
  const tip = await forge.git.revParse(`refs/heads/${forge.defaultBranch}`);
  if (head === undefined || tip === undefined)
    throw new InterlockError("usage", `no open governance change ${opts.id}`);
  // Who the person is comes from the committed config, never the working tree.
  const reader = new GitEvidenceReader(forge.git.dir, forge.defaultBranch);
  const config = await configAt(reader, tip, newEvidenceCache());
  reader.close();
  if (config instanceof Error) throw new InterlockError("config.invalid", config.message);
  const person = config.people[opts.who];
  if (person === undefined || !config.admins.includes(opts.who)) {
    throw new InterlockError("usage", `${opts.who} is not an admin in the committed config`, {
      hint: `Admins: ${config.admins.join(", ") || "none"}.`,
    });
  }
  // The admin's key comes from their Interlock home (or --key): never the repository.
  const keyFile = opts.keyFile;
  if (!existsSync(keyFile)) {
    throw new InterlockError("usage", `no signing key at ${keyFile}`, {
      hint: `Pass --key <private key file> for ${opts.who}.`,
    });
  }
  const tag = `${REVIEW_TAG_PREFIX}${opts.id}/${opts.who}-${newId(opts.now.getTime())}`;
  await signReviewTag(forge.git, {
    name: tag,
    target: head,
    message: reviewMessage(opts.id, "approved", head),
    tagger: { name: person.name, email: person.email },
    keyFile,
    date: opts.now,
  });
  return { tag, head };
}

/** Merges a governance change when, and only when, a quorum of admins approved its head. */
export async function mergeChange(
  forge: LocalForge,
  id: string,
  now: Date,
): Promise<{ merged: boolean; commit?: string; status: GovernanceStatus }> {
  const status = await governanceStatus(forge, id, now);
  if (!status.satisfied) return { merged: false, status };
  const files: { path: string; content: string }[] = [];
  for (const path of status.paths) {
    const content = await forge.git.readFile(status.head, path);
    if (content === undefined) return { merged: false, status };
    files.push({ path, content });
  }
  const commit = await forge.git.commitFiles({
    base: status.base,
    parents: [status.base, status.head],
    files,
    message:
      `Merge governance change ${id}\n\n${status.summary}\n\n` +
      `${GOVERNANCE_TRAILER}: ${id}\n` +
      status.approvers.map((a) => `Interlock-Approved-By: ${a}`).join("\n"),
    author: INTERLOCK_IDENTITY,
    committer: INTERLOCK_IDENTITY,
    date: now,
  });
  const main = `refs/heads/${forge.defaultBranch}`;
  if (!(await forge.git.compareAndSwap(main, commit, status.base))) {
    throw new InterlockError("usage", `${forge.defaultBranch} moved while merging; run it again`);
  }
  await forge.git.syncWorktree(forge.defaultBranch);
  // The proposal usually came from the working tree's edits: the index catches up with them.
  await forge.git.tryRaw(["reset", "-q", "--", ...status.paths]);
  return { merged: true, commit, status };
}
