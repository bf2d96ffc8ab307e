import { CONFIG_PATH, ownerMembers, parseConfig, type InterlockConfig } from "../config/config.ts";
import { allowedSigners } from "../forge/local/local-forge.ts";
import { commitSigner, verifyRequestCommit } from "../forge/local/signed-request.ts";
import { verifyWithdrawalCommit, type Withdrawal } from "../forge/local/withdrawal.ts";
import { directoryOf, resolvePrincipal, type IdentityDirectory } from "../identity/directory.ts";
import { createHash } from "node:crypto";
import { parseReviewTag, reviewFromTag } from "../forge/local/reviews.ts";
import { INTERLOCK_IDENTITY, ORIGINAL_REF_PREFIX, withdrawalPath } from "../forge/refs.ts";
import { CODEOWNERS_LOCATIONS, parseCodeowners, type Codeowners } from "../gate/codeowners.ts";
import type { GateReview } from "../gate/snapshot.ts";
import { readBundle, revisionOf, defaultPoliciesDir, type BundleFiles } from "../policy/bundle.ts";
import { parseRequestFile } from "../proposal/request-file.ts";
import type { TrustChain } from "../trust/chain.ts";
import type { EvidenceBlob, EvidenceCommit, EvidenceReader, MergeUnderTest } from "./reader.ts";
import { FILING_SKEW_MS } from "./time.ts";
import { judgeEvidence, type EvidenceVerdict } from "./judge.ts";

/** Where a repository's built policy bundle is committed. */
export const POLICY_DIST = {
  dir: "policies/dist",
  wasm: "policies/dist/policy.wasm",
  data: "policies/dist/data.json",
  manifest: "policies/dist/manifest.json",
} as const;

/** The request file of a proposal: `requests/<action>/<id>.yaml`. */
export function requestPathPattern(id: string): RegExp {
  return new RegExp(`^requests/[a-z0-9_.-]{1,100}/${id}\\.yaml$`);
}

/**
 * Caches shared across many requests (the audit): parsed trust inputs and request files by
 * blob id. A blob id names its content (the reader checks every object against its id), so a
 * cached parse is the parse of exactly those bytes.
 */
export interface EvidenceCache {
  readonly config: Map<string, InterlockConfig | Error>;
  readonly codeowners: Map<string, Codeowners>;
  readonly policy: Map<string, PolicyAtBase>;
  /** Parsed request files by blob id (each file is read twice: as filed and as landed). */
  readonly requestFiles?: Map<string, RequestFileParse>;
}

export function newEvidenceCache(): EvidenceCache {
  return { config: new Map(), codeowners: new Map(), policy: new Map(), requestFiles: new Map() };
}

/** What parseRequestFile makes of a request file. */
export type RequestFileParse = ReturnType<typeof parseRequestFile>;

/** Request files kept parsed at most (the audit reads each one once or twice, close together). */
const REQUEST_FILE_CACHE_LIMIT = 4096;

/**
 * The request file in `blob`, parsed once per blob id: the one parser (parseRequestFile), never
 * a second one, so a crafted file cannot read differently to the gate and the audit.
 */
export function requestFileOf(blob: EvidenceBlob, cache?: EvidenceCache): RequestFileParse {
  const memo = cache?.requestFiles;
  const hit = memo?.get(blob.oid);
  if (hit) return hit;
  const parsed = parseRequestFile(blob.content.toString("utf8"));
  if (memo) {
    // Flat memory over any history: the audit reads request files in history order.
    if (memo.size >= REQUEST_FILE_CACHE_LIMIT) memo.clear();
    memo.set(blob.oid, parsed);
  }
  return parsed;
}

/** The policy bundle as committed at a base (or the shipped defaults where none is committed). */
export interface PolicyAtBase {
  readonly revision: string;
  readonly files: BundleFiles | undefined;
  readonly committed: boolean;
}

export type { EvidenceVerdict };

export interface EvidenceOptions {
  /** The verifier's own clock (filing times later than it plus the skew are refused). */
  readonly now: Date;
  readonly cache?: EvidenceCache;
  /**
   * The verified trust chain: trust inputs are read only at a base the chain vouches for.
   * Callers that verify trust (gate, merge, executor, audit) always pass it.
   */
  readonly trust?: TrustChain;
  /**
   * Which withdrawal commits count (default: every one on the default branch). The audit counts
   * only those recorded before the request's result: a withdrawal after it ran changes nothing.
   */
  readonly countsWithdrawal?: (commit: EvidenceCommit) => boolean;
}

/**
 * THE evidence check. The gate, `merge`, the executor and `audit --verify` all call this, so
 * they cannot disagree: config (people, keys, teams), CODEOWNERS and the policy bundle are read
 * as committed at the merge's base, never from the working tree or the current default branch;
 * reviews are verified with the keys of that config; the proposal's commits are walked back to
 * the default branch with no cap; expiry is the filing time plus the decision's TTL.
 */
export async function evidenceAtMerge(
  reader: EvidenceReader,
  m: MergeUnderTest,
  opts: EvidenceOptions,
): Promise<EvidenceVerdict> {
  const cache = opts.cache ?? newEvidenceCache();
  const base7 = m.base.slice(0, 7);
  const untrusted = opts.trust?.brokenAt(m.base);
  if (untrusted !== undefined) {
    return { ok: false, reason: `the trust inputs at ${base7} are not trusted: ${untrusted}` };
  }
  const config = await configAt(reader, m.base, cache);
  if (config instanceof Error) {
    return {
      ok: false,
      reason: `the configuration committed at ${base7} cannot be read: ${config.message}`,
    };
  }
  const pattern = requestPathPattern(m.id);
  const path = m.path ?? m.changed.find((c) => pattern.test(c.path))?.path;
  if (path === undefined || !pattern.test(path)) {
    return {
      ok: false,
      reason: `the proposal for ${m.id} has no request file requests/<action>/${m.id}.yaml`,
    };
  }
  const baseline = await reader.commit(`${ORIGINAL_REF_PREFIX}${m.id}`);
  const originalBlob = baseline ? await reader.file(baseline.oid, path) : undefined;
  const landedBlob = await reader.file(m.landed, path);
  const original = originalBlob && requestFileOf(originalBlob, cache);
  const landed = landedBlob && requestFileOf(landedBlob, cache);
  const trusted =
    original && "record" in original ? original : landed && "record" in landed ? landed : undefined;
  if (trusted === undefined) {
    const why = landed && "error" in landed ? landed.error : "the request file is missing";
    return { ok: false, reason: `cannot read the request file ${path}: ${why}` };
  }
  const record = trusted.record;
  if (baseline === undefined) {
    return {
      ok: false,
      reason: `there is no record that Interlock filed ${m.id} (no ${ORIGINAL_REF_PREFIX}${m.id})`,
    };
  }

  const directory = directoryOf(config);
  const who = (name: string, email: string) => resolvePrincipal(directory, email)?.id ?? name;
  const people = await proposalPeople(reader, m.head, who);
  // Who filed it: the configured principal whose key signed the filed commit (the baseline),
  // which must be part of the proposal; never the declared requester fields.
  const declared = record.request.requester;
  const auth = people.commits.has(baseline.oid)
    ? verifyRequestCommit(baseline.raw, declared, directory)
    : {
        verified: false as const,
        reason: `the filed commit ${baseline.oid.slice(0, 7)} is not part of the proposal`,
      };
  const signers = allowedSigners(config);
  const reviews: GateReview[] = [];
  const records = await reader.reviewRecords(m.id);
  const present = new Set(records.flatMap((raw) => [tagOid(raw, "sha1"), tagOid(raw, "sha256")]));
  const removed: string[] = [];
  for (const raw of records) {
    const review = reviewFromTag(raw, m.id, config, signers);
    if (review && review.at.getTime() <= m.at.getTime()) {
      reviews.push(review);
      // A signed review vouches for the reviews it was given next to: one of them missing now
      // was deleted (a rejection, say), and the gate cannot know what it said.
      if (review.verified) {
        for (const oid of parseReviewTag(raw.toString("utf8"))?.seen ?? []) {
          if (!present.has(oid)) removed.push(`${review.who}'s review names ${oid.slice(0, 7)}`);
        }
      }
    }
  }
  const withdrawn = await withdrawalOf(reader, {
    id: m.id,
    filer: auth.verified ? auth.signer : undefined,
    directory,
    ...(opts.countsWithdrawal ? { counts: opts.countsWithdrawal } : {}),
  });
  return judgeEvidence(
    {
      id: m.id,
      path,
      base: m.base,
      at: m.at,
      config,
      codeowners: await codeownersAt(reader, m.base, cache),
      policy: await policyAt(reader, m.base, cache),
      ...(originalBlob && original ? { original: { blob: originalBlob, parse: original } } : {}),
      ...(landedBlob && landed ? { landed: { blob: landedBlob, parse: landed } } : {}),
      filed: { at: baseline.committedAt },
      authentication: auth,
      proposal: {
        author: people.author,
        headCommit: m.head,
        changedFiles: m.changed,
        committers: people.committers,
      },
      reviews,
      teams: ownerMembers(config),
      ...(withdrawn.withdrawal ? { withdrawal: withdrawn.withdrawal } : {}),
      ignoredWithdrawals: withdrawn.ignored,
      deletedReviews: removed,
    },
    opts.now,
  );
}

/**
 * The withdrawal of a request that has not run, as of the default branch now (`rev`, e.g.
 * refs/heads/main): the one rule below, with the keys configured there and the filer as the
 * configured principal whose key signed the filed request. For `list`, `show`, `withdraw` and
 * the audit's open requests; gate, merge and execute see withdrawals through evidenceAtMerge.
 */
export async function withdrawalNow(
  reader: EvidenceReader,
  id: string,
  rev: string,
  cache: EvidenceCache = newEvidenceCache(),
): Promise<{ withdrawal?: Withdrawal; ignored: string[]; filer?: string }> {
  const config = await configAt(reader, rev, cache);
  if (config instanceof Error)
    return { ignored: [`the configuration cannot be read: ${config.message}`] };
  const directory = directoryOf(config);
  const baseline = await reader.commit(`${ORIGINAL_REF_PREFIX}${id}`);
  const filer = baseline ? commitSigner(baseline.raw, directory) : undefined;
  const found = await withdrawalOf(reader, { id, filer, directory });
  return { ...found, ...(filer ? { filer } : {}) };
}

/**
 * THE rule for withdrawals: request `id` is withdrawn when a commit reachable from the default
 * branch (any parent, so a writer's merge cannot move it aside) added withdrawals/<id>.yaml,
 * signed (SSH, as the filing) by `filer`, the configured principal whose key signed the filed
 * request. Nobody else can withdraw it
 * (not the sponsor, not a writer of the repository); a record that does not verify is
 * reported in `ignored` and changes nothing. A later commit deleting the file does not undo
 * a withdrawal: the commit that added it stays in history.
 */
export async function withdrawalOf(
  reader: EvidenceReader,
  p: {
    readonly id: string;
    readonly filer: string | undefined;
    readonly directory: IdentityDirectory;
    readonly counts?: (commit: EvidenceCommit) => boolean;
  },
): Promise<{ withdrawal?: Withdrawal; ignored: string[] }> {
  const ignored: string[] = [];
  for (const commit of await reader.withdrawalCommits(p.id)) {
    if (p.counts && !p.counts(commit)) continue;
    const content = (await reader.file(commit.oid, withdrawalPath(p.id)))?.content;
    const v = verifyWithdrawalCommit({
      id: p.id,
      commit,
      content,
      filer: p.filer,
      directory: p.directory,
    });
    if (v.verified) return { withdrawal: v.withdrawal, ignored };
    ignored.push(v.reason);
  }
  return { ignored };
}

/** The object id git gives a tag object with this content. */
function tagOid(content: Buffer, algorithm: "sha1" | "sha256"): string {
  return createHash(algorithm).update(`tag ${content.length}\0`).update(content).digest("hex");
}

/**
 * The merge a merge commit made: its first parent is the base; a two-parent merge brings the
 * proposal head (the second parent); a commit with one parent is its own head.
 */
export async function mergeFromCommit(
  reader: EvidenceReader,
  m: { readonly id: string; readonly path: string; readonly mergeCommit: string },
): Promise<MergeUnderTest | { refused: string }> {
  const commit = await reader.commit(m.mergeCommit);
  if (commit === undefined)
    return { refused: `the merge commit ${short(m.mergeCommit)} is missing` };
  const first = commit.parents[0];
  if (first === undefined)
    return { refused: `${m.path} was in the very first commit: it never was a proposal` };
  if (commit.parents.length > 2)
    return {
      refused: `${short(m.mergeCommit)} is an octopus merge; Interlock merges one proposal at a time`,
    };
  return {
    id: m.id,
    path: m.path,
    head: commit.parents[1] ?? commit.oid,
    base: first,
    landed: commit.oid,
    changed: await reader.changes(first, commit.oid),
    at: commit.committedAt,
  };
}

/**
 * The people on the proposal: every author and (non-Interlock) committer of the commits
 * reachable from the head and not on the default branch, walked without any cap.
 */
async function proposalPeople(
  reader: EvidenceReader,
  head: string,
  who: (name: string, email: string) => string,
): Promise<{ author: string; committers: string[]; commits: Set<string> }> {
  const people = new Set<string>();
  const commits = new Set<string>();
  const seen = new Set<string>();
  const stack = [head];
  let oldest: EvidenceCommit | undefined;
  while (stack.length > 0) {
    const oid = stack.pop()!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    if (await reader.onDefaultBranch(oid)) continue;
    const c = await reader.commit(oid);
    if (c === undefined) continue;
    commits.add(c.oid);
    people.add(who(c.authorName, c.authorEmail));
    if (c.committerEmail !== INTERLOCK_IDENTITY.email)
      people.add(who(c.committerName, c.committerEmail));
    if (oldest === undefined || c.committedAt.getTime() <= oldest.committedAt.getTime()) oldest = c;
    stack.push(...c.parents);
  }
  return {
    author: oldest ? who(oldest.authorName, oldest.authorEmail) : "",
    committers: [...people],
    commits,
  };
}

/** The configuration as committed at `commit` (parsed strictly), or why it cannot be read. */
export async function configAt(
  reader: EvidenceReader,
  commit: string,
  cache: EvidenceCache,
): Promise<InterlockConfig | Error> {
  const blob = await reader.file(commit, CONFIG_PATH);
  if (!blob) return new Error(`there is no ${CONFIG_PATH}`);
  const cached = cache.config.get(blob.oid);
  if (cached) return cached;
  let config: InterlockConfig | Error;
  try {
    config = parseConfig(blob.content.toString("utf8"));
  } catch (err) {
    config = err as Error;
  }
  cache.config.set(blob.oid, config);
  return config;
}

async function codeownersAt(
  reader: EvidenceReader,
  commit: string,
  cache: EvidenceCache,
): Promise<Codeowners | null> {
  for (const loc of CODEOWNERS_LOCATIONS) {
    const blob = await reader.file(commit, loc);
    if (!blob) continue;
    const cached = cache.codeowners.get(blob.oid);
    if (cached) return cached;
    const parsed = parseCodeowners(blob.content.toString("utf8"));
    cache.codeowners.set(blob.oid, parsed);
    return parsed;
  }
  return null;
}

/**
 * The policy bundle committed at `commit` (policies/dist); where a repository commits none, the
 * policy shipped with Interlock (not writable through the repository).
 */
export async function policyAt(
  reader: EvidenceReader,
  commit: string,
  cache: EvidenceCache,
): Promise<PolicyAtBase> {
  // Keyed by the dist directory's tree id, so the (large) Wasm is read once per revision.
  const key = (await reader.objectId(commit, POLICY_DIST.dir)) ?? "none";
  const cached = cache.policy.get(key);
  if (cached) return cached;
  const wasm = await reader.file(commit, POLICY_DIST.wasm);
  const data = await reader.file(commit, POLICY_DIST.data);
  const manifest = await reader.file(commit, POLICY_DIST.manifest);
  let policy: PolicyAtBase;
  if (wasm === undefined && data === undefined) {
    const files = readBundle(defaultPoliciesDir());
    policy = { revision: revisionOf(files.wasm, files.dataJson), files, committed: false };
  } else if (wasm === undefined || data === undefined || manifest === undefined) {
    policy = { revision: "incomplete", files: undefined, committed: true };
  } else {
    const dataJson = data.content.toString("utf8");
    let files: BundleFiles | undefined;
    try {
      files = {
        wasm: new Uint8Array(wasm.content),
        dataJson,
        manifest: JSON.parse(manifest.content.toString("utf8")) as BundleFiles["manifest"],
      };
    } catch {
      files = undefined;
    }
    policy = {
      revision: revisionOf(new Uint8Array(wasm.content), dataJson),
      files,
      committed: true,
    };
  }
  cache.policy.set(key, policy);
  return policy;
}

function short(s: string): string {
  return s.replace(/^sha256:/, "").slice(0, 12);
}

export { FILING_SKEW_MS };
export type { MergeUnderTest };
