import { configAt, newEvidenceCache, type EvidenceCache } from "../evidence/evidence.ts";
import type { EvidenceReader } from "../evidence/reader.ts";
import { allowedSigners } from "../forge/local/local-forge.ts";
import { REQUEST_ID_SOURCE } from "../forge/refs.ts";
import { reviewFromTag } from "../forge/local/reviews.ts";
import { CODEOWNERS_LOCATIONS } from "../gate/codeowners.ts";

/**
 * The trust inputs: who may approve (config: people, keys, teams, admins, executors), what
 * each path needs (CODEOWNERS) and what is decided (policies). A change to any of them on the
 * default branch is valid only as a governance change approved by the admins of the revision
 * before it.
 */
export function isGoverned(path: string): boolean {
  return (
    path.startsWith(".interlock/") ||
    path.startsWith("policies/") ||
    CODEOWNERS_LOCATIONS.includes(path)
  );
}

/** The trailer that names the governance change a merge lands. */
export const GOVERNANCE_TRAILER = "Interlock-Governance";
const GOVERNANCE_ID = new RegExp(`^${GOVERNANCE_TRAILER}: (${REQUEST_ID_SOURCE})$`, "m");

/** The quorum of admins a governance change needs: a majority of the previous revision's. */
export function adminQuorum(admins: readonly string[]): number {
  return Math.floor(admins.length / 2) + 1;
}

/** A first-parent commit of the default branch and the paths it changed against its parent. */
export interface ChainCommit {
  readonly oid: string;
  readonly parents: readonly string[];
  readonly files: readonly { readonly path: string }[];
}

/** The verified chain: where (if anywhere) it breaks. */
export interface TrustChain {
  readonly root: string;
  /** The first commit that broke the chain, and why; undefined when the whole chain holds. */
  readonly broken?: { readonly commit: string; readonly reason: string };
  /** Why trust inputs as committed at `commit` cannot be trusted; undefined when they can. */
  brokenAt(commit: string): string | undefined;
}

/** One governance change to verify: `head` proposed, landing on `base` as `landed` at `at`. */
export interface GovernanceMerge {
  readonly id: string;
  readonly base: string;
  readonly head: string;
  readonly landed: string;
  readonly at: Date;
  readonly paths: readonly string[];
}

/**
 * Verifies one governance change against the admins named in the configuration committed at
 * its base: a quorum of them approved the proposed head with verified signed reviews, and what
 * landed is exactly what was proposed. Returns why it is not valid, or undefined.
 */
export async function verifyGovernance(
  reader: EvidenceReader,
  g: GovernanceMerge,
  cache: EvidenceCache = newEvidenceCache(),
): Promise<{ problem?: string; approvers: string[]; admins: string[]; quorum: number }> {
  const config = await configAt(reader, g.base, cache);
  if (config instanceof Error) {
    return {
      problem: `the configuration before it cannot be read: ${config.message}`,
      approvers: [],
      admins: [],
      quorum: 1,
    };
  }
  const admins = [...(config.admins ?? [])];
  const quorum = adminQuorum(admins);
  const fail = (problem: string, approvers: string[] = []) => ({
    problem,
    approvers,
    admins,
    quorum,
  });
  if (admins.length === 0) return fail("the configuration before it names no admins");
  for (const path of g.paths) {
    const landed = await reader.file(g.landed, path);
    const proposed = await reader.file(g.head, path);
    if (landed?.oid !== proposed?.oid) {
      return fail(`${path} as merged is not what the governance change ${g.id} proposed`);
    }
  }
  const signers = allowedSigners(config);
  const approvers = new Set<string>();
  for (const raw of await reader.reviewRecords(g.id)) {
    const r = reviewFromTag(raw, g.id, config, signers);
    if (
      r &&
      r.verified &&
      r.state === "approved" &&
      r.commit === g.head &&
      admins.includes(r.who) &&
      r.at.getTime() <= g.at.getTime()
    ) {
      approvers.add(r.who);
    }
  }
  if (approvers.size < quorum) {
    return fail(
      `governance change ${g.id} has ${approvers.size} of the ${quorum} verified admin approvals it needs ` +
        `(admins: ${admins.join(", ")})`,
      [...approvers],
    );
  }
  return { approvers: [...approvers], admins, quorum };
}

/**
 * Builds the trust chain from the default branch's first-parent history, oldest first (the
 * audit feeds its own single pass; gate and executor stream it once per command). The first
 * commit must be the pinned root; every later commit that changes a trust input must be a
 * governance merge approved by the previous revision's admins.
 */
export class TrustChainBuilder {
  readonly #order = new Map<string, number>();
  readonly #candidates: { commit: ChainCommit; paths: string[] }[] = [];
  #root: string | undefined;

  observe(c: ChainCommit): void {
    if (this.#order.size === 0) this.#root = c.oid;
    this.#order.set(c.oid, this.#order.size);
    if (c.parents.length === 0) return;
    const paths = c.files.map((f) => f.path).filter(isGoverned);
    if (paths.length > 0) this.#candidates.push({ commit: c, paths });
  }

  async finish(
    reader: EvidenceReader,
    pinnedRoot: string,
    cache: EvidenceCache = newEvidenceCache(),
    /** Commits up to this first-parent position were verified under a signed checkpoint. */
    verifiedUpTo = -1,
  ): Promise<TrustChain> {
    const root = this.#root ?? "";
    let broken: { commit: string; reason: string } | undefined;
    if (root !== pinnedRoot) {
      broken = {
        commit: root,
        reason: `the history starts at ${root.slice(0, 12) || "nothing"}, not at the pinned trust root ${pinnedRoot.slice(0, 12)}`,
      };
    }
    for (const { commit, paths } of broken ? [] : this.#candidates) {
      if ((this.#order.get(commit.oid) ?? Infinity) <= verifiedUpTo) continue;
      const problem = await this.#verifyCommit(reader, commit, paths, cache);
      if (problem) {
        broken = { commit: commit.oid, reason: problem };
        break;
      }
    }
    const order = this.#order;
    return {
      root,
      ...(broken ? { broken } : {}),
      brokenAt(commit: string): string | undefined {
        const at = order.get(commit);
        if (at === undefined) return `${commit.slice(0, 12)} is not on the default branch`;
        if (broken && at >= order.get(broken.commit)!) {
          return `the trust chain is broken at ${broken.commit.slice(0, 12)}: ${broken.reason}`;
        }
        return undefined;
      },
    };
  }

  async #verifyCommit(
    reader: EvidenceReader,
    c: ChainCommit,
    paths: string[],
    cache: EvidenceCache,
  ): Promise<string | undefined> {
    const list = paths.slice(0, 3).join(", ") + (paths.length > 3 ? ", …" : "");
    const commit = await reader.commit(c.oid);
    const id = commit ? GOVERNANCE_ID.exec(commit.message)?.[1] : undefined;
    if (commit === undefined || commit.parents.length !== 2 || id === undefined) {
      return `it changes ${list} outside a governance change (no approved proposal)`;
    }
    const r = await verifyGovernance(
      reader,
      {
        id,
        base: commit.parents[0]!,
        head: commit.parents[1]!,
        landed: commit.oid,
        at: commit.committedAt,
        paths,
      },
      cache,
    );
    return r.problem ? `it changes ${list}, but ${r.problem}` : undefined;
  }
}

/** A chain that vouches for nothing (no pinned root): every read of trust inputs is refused. */
export function untrustedChain(reason: string): TrustChain {
  return { root: "", broken: { commit: "", reason }, brokenAt: () => reason };
}
