import { CODEOWNERS_LOCATIONS } from "../../gate/codeowners.ts";
import type { ChangeStatus } from "../../gate/snapshot.ts";
import { ownerMembers, type InterlockConfig } from "../../config/config.ts";
import { InterlockError } from "../../errors.ts";
import { directoryOf, resolvePrincipal } from "../../identity/directory.ts";
import type {
  Forge,
  ForgeReview,
  MergedRequest,
  NewProposal,
  OpenedProposal,
  ProposalContext,
} from "../forge.ts";
import {
  BRANCH_PREFIX,
  CLAIM_REF_PREFIX,
  INTERLOCK_IDENTITY,
  ORIGINAL_REF_PREFIX,
  requesterIdentity,
  idOfRequestPath,
  idOfResultPath,
  idOfWithdrawalPath,
  REQUESTS_DIR,
  RESULTS_DIR,
  withdrawalPath,
  WITHDRAWALS_DIR,
} from "../refs.ts";
import { GitEvidenceReader } from "../../evidence/git-reader.ts";
import type { EvidenceSource, MergeUnderTest } from "../../evidence/reader.ts";
import { firstParentHistory } from "../../audit/history.ts";
import { interlockHome } from "../../settings/home.ts";
import { TrustChainBuilder, untrustedChain, type TrustChain } from "../../trust/chain.ts";
import { pinnedRoot } from "../../trust/root.ts";
import { Git } from "./git.ts";
import { REVIEW_TAG_PREFIX, reviewFromTag } from "./reviews.ts";
import { signCommitObject, verifyRequestCommit } from "./signed-request.ts";
import type { AllowedSigner } from "./sshsig.ts";

/**
 * The embedded local forge: a plain Git repository. A proposal is the branch interlock/<id>
 * with one commit adding the request file; reviews are SSH-signed tags on the reviewed commit;
 * merging, claiming and recording results move refs with compare-and-swap.
 */
export class LocalForge implements Forge {
  readonly kind = "local" as const;
  readonly git: Git;
  readonly config: InterlockConfig;
  readonly defaultBranch: string;

  /** The Interlock home holding the pinned trust root (outside the repository). */
  readonly home: string | undefined;

  constructor(repoDir: string, config: InterlockConfig, opts: { home?: string } = {}) {
    this.git = new Git(repoDir);
    this.config = config;
    this.defaultBranch = config.default_branch;
    this.home = opts.home;
  }

  get #main(): string {
    return `refs/heads/${this.defaultBranch}`;
  }

  async openProposal(p: NewProposal): Promise<OpenedProposal> {
    const key = p.signingKey;
    if (key === undefined) {
      throw new InterlockError("usage", `${p.requester.id} has no key to sign the request with`, {
        hint: "On the local forge a request is signed by whoever files it: pass --as <agent-or-person> (key from the Interlock home) or --key <file>.",
      });
    }
    const base = await this.git.revParse(this.#main);
    if (base === undefined) throw new Error(`the repository has no ${this.defaultBranch} branch`);
    // Signed in-process as the object is written (as git signs with gpg.format=ssh).
    const head = await this.git.commitFiles({
      base,
      parents: [base],
      files: [{ path: p.path, content: p.content }],
      message: `${p.title}\n\n${p.body}`,
      author: requesterIdentity(p.requester.id),
      committer: INTERLOCK_IDENTITY,
      date: p.date,
      sign: (unsigned) => signCommitObject(unsigned, key),
    });
    const branch = `${BRANCH_PREFIX}${p.id}`;
    // The branch and the tamper baseline (what Interlock wrote, kept outside the branch), both
    // or neither: a baseline someone created first is never silently kept.
    const refs = [
      { ref: `refs/heads/${branch}`, oid: head },
      { ref: `${ORIGINAL_REF_PREFIX}${p.id}`, oid: head },
    ];
    if (!(await this.git.createRefs(refs))) {
      throw new Error(`branch ${branch} or its baseline exists already`);
    }
    return { id: p.id, branch, head };
  }

  async recordDenial(p: {
    id: string;
    path: string;
    content: string;
    message: string;
    date: Date;
  }): Promise<string> {
    return this.commitToDefault([{ path: p.path, content: p.content }], p.message, p.date);
  }

  async proposal(id: string): Promise<ProposalContext | undefined> {
    const head = await this.git.revParse(`refs/heads/${BRANCH_PREFIX}${id}`);
    if (head === undefined) return undefined;
    const main = await this.git.revParse(this.#main);
    const base = main
      ? (await this.git.tryRaw(["merge-base", main, head]))?.trim() || undefined
      : undefined;
    if (base === undefined) return undefined; // unrelated history: not a proposal of this repository
    if (base === head) return undefined; // merged already: no longer an open proposal
    return this.#context(id, head, base, base, undefined);
  }

  evidenceSource(): EvidenceSource {
    const reader = new GitEvidenceReader(this.git.dir, this.defaultBranch);
    let trust: Promise<TrustChain> | undefined;
    return {
      reader,
      prospective: (id, at) => this.#prospective(id, at),
      trust: () => (trust ??= this.#trust(reader)),
      close: () => reader.close(),
    };
  }

  /** The default branch's trust chain, anchored in the root this home pins. */
  async #trust(reader: GitEvidenceReader): Promise<TrustChain> {
    const home = this.home ?? interlockHome(process.env);
    const pinned = await pinnedRoot(this.git, this.defaultBranch, home);
    if (!pinned.ok) return untrustedChain(pinned.reason);
    const builder = new TrustChainBuilder();
    for await (const c of firstParentHistory(this.git.dir, this.#main)) builder.observe(c);
    return builder.finish(reader, pinned.root);
  }

  /** The merge `merge` would make now: the proposal head onto the default branch's tip. */
  async #prospective(id: string, at: Date): Promise<MergeUnderTest | undefined> {
    const head = await this.git.revParse(`refs/heads/${BRANCH_PREFIX}${id}`);
    const main = await this.git.revParse(this.#main);
    if (head === undefined || main === undefined) return undefined;
    const mergeBase = (await this.git.tryRaw(["merge-base", main, head]))?.trim();
    if (!mergeBase) return undefined; // unrelated history: not a proposal of this repository
    if (mergeBase === head) return undefined; // merged already: no longer an open proposal
    return { id, head, base: main, landed: head, changed: await this.#diff(mergeBase, head), at };
  }

  async merge(id: string, head: string, message: string, date: Date): Promise<string> {
    const branchHead = await this.git.revParse(`refs/heads/${BRANCH_PREFIX}${id}`);
    if (branchHead !== head) {
      throw new Error(
        `the proposal moved (now at ${short(branchHead)}, the gate was evaluated on ${short(head)})`,
      );
    }
    const main = await this.git.revParse(this.#main);
    if (main === undefined) throw new Error(`the repository has no ${this.defaultBranch} branch`);
    const mergeBase = (await this.git.raw(["merge-base", main, head])).trim();
    if (!mergeBase) throw new Error("the proposal does not share history with the default branch");
    const changed = await this.#diff(mergeBase, head);
    const files: { path: string; content: string }[] = [];
    for (const c of changed) {
      const content = await this.git.readFile(head, c.path);
      if (c.status !== "added" || content === undefined)
        throw new Error(`cannot merge: ${c.path} is ${c.status}`);
      files.push({ path: c.path, content });
    }
    for (let attempt = 0; attempt < 100; attempt++) {
      const tip = await this.git.revParse(this.#main);
      const commit = await this.git.commitFiles({
        base: tip,
        parents: [tip!, head],
        files,
        message,
        author: INTERLOCK_IDENTITY,
        committer: INTERLOCK_IDENTITY,
        date,
      });
      if (await this.git.compareAndSwap(this.#main, commit, tip)) {
        await this.git.syncWorktree(this.defaultBranch);
        return commit;
      }
    }
    throw new Error(`could not update ${this.defaultBranch}: too many concurrent writers`);
  }

  async mergedRequests(): Promise<MergedRequest[]> {
    const out = await this.git.tryRaw([
      "log",
      "--no-ext-diff",
      "--no-textconv",
      "--first-parent",
      "--reverse",
      "--diff-filter=A",
      "--name-only",
      "-z",
      "--format=%x01%H %ct",
      this.#main,
      "--",
      REQUESTS_DIR,
    ]);
    if (!out) return [];
    const merged: MergedRequest[] = [];
    for (const chunk of out.split("\x01").filter(Boolean)) {
      // "<sha> <committer time>\0\n<path>\0<path>\0…"
      const cut = chunk.indexOf("\0");
      const [commit, ct] = chunk.slice(0, cut).split(" ");
      const paths = chunk
        .slice(cut + 1)
        .split("\0")
        .map((s) => s.trim())
        .filter(Boolean);
      for (const path of paths) {
        const id = idOfRequestPath(path);
        if (id && commit)
          merged.push({
            id,
            path,
            mergeCommit: commit,
            mergedAt: new Date(Number(ct) * 1000),
          });
      }
    }
    return merged;
  }

  async evidence(m: MergedRequest): Promise<ProposalContext | { refused: string }> {
    const parents = (await this.git.raw(["rev-list", "--parents", "-n", "1", m.mergeCommit]))
      .trim()
      .split(" ")
      .slice(1);
    const first = parents[0];
    if (first === undefined)
      return { refused: `${m.path} was in the very first commit: it never was a proposal` };
    if (parents.length > 2)
      return {
        refused: `${short(m.mergeCommit)} is an octopus merge; Interlock merges one proposal at a time`,
      };
    // A merge commit: the proposal head is its second parent. A fast-forward: the commit itself.
    const head = parents[1] ?? m.mergeCommit;
    const mergeBase = (await this.git.raw(["merge-base", first, head])).trim() || first;
    return this.#context(m.id, head, mergeBase, first, { commit: m.mergeCommit, at: m.mergedAt });
  }

  async recordedResults(): Promise<ReadonlySet<string>> {
    return this.#idsAdded(["--first-parent"], RESULTS_DIR, idOfResultPath);
  }

  async withdrawalCandidates(): Promise<ReadonlySet<string>> {
    // Every commit reachable from main, as the withdrawal rule reads them (git-reader.ts).
    return this.#idsAdded(["--full-history"], WITHDRAWALS_DIR, idOfWithdrawalPath);
  }

  /** Ids of the files ever added under `dir` on main's history (walked as `walk` says). */
  async #idsAdded(
    walk: readonly string[],
    dir: string,
    idOf: (path: string) => string | undefined,
  ): Promise<ReadonlySet<string>> {
    const out = await this.git.tryRaw([
      "log",
      ...walk,
      "--diff-filter=A",
      "--name-only",
      "--format=",
      this.#main,
      "--",
      dir,
    ]);
    const ids = new Set<string>();
    for (const line of (out ?? "").split("\n")) {
      const id = idOf(line.trim());
      if (id) ids.add(id);
    }
    return ids;
  }

  async claim(id: string): Promise<boolean> {
    const main = await this.git.revParse(this.#main);
    return this.git.compareAndSwap(`${CLAIM_REF_PREFIX}${id}`, main!, undefined);
  }

  async isClaimed(id: string): Promise<boolean> {
    const r = await this.git.run(["rev-parse", "--verify", "--quiet", `${CLAIM_REF_PREFIX}${id}`]);
    return r.code === 0;
  }

  async releaseClaim(id: string): Promise<void> {
    await this.git.tryRaw(["update-ref", "-d", `${CLAIM_REF_PREFIX}${id}`]);
  }

  /**
   * Records a withdrawal on the default branch: a commit adding withdrawals/<id>.yaml, signed
   * with the requester's key (as the request was), so no one else can withdraw it.
   */
  async recordWithdrawal(p: {
    id: string;
    by: string;
    content: string;
    message: string;
    signingKey: NonNullable<NewProposal["signingKey"]>;
    date: Date;
  }): Promise<string> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const tip = await this.git.revParse(this.#main);
      if (tip === undefined) throw new Error(`the repository has no ${this.defaultBranch} branch`);
      const key = p.signingKey;
      const commit = await this.git.commitFiles({
        base: tip,
        parents: [tip],
        files: [{ path: withdrawalPath(p.id), content: p.content }],
        message: p.message,
        author: requesterIdentity(p.by),
        committer: INTERLOCK_IDENTITY,
        date: p.date,
        sign: (unsigned) => signCommitObject(unsigned, key),
      });
      if (await this.git.compareAndSwap(this.#main, commit, tip)) {
        await this.git.syncWorktree(this.defaultBranch);
        return commit;
      }
    }
    throw new Error(`could not update ${this.defaultBranch}: too many concurrent writers`);
  }

  async readDefault(path: string): Promise<string | undefined> {
    return this.git.readFile(this.#main, path);
  }

  async commitToDefault(
    files: { path: string; content: string }[],
    message: string,
    date: Date,
  ): Promise<string> {
    const commit = await this.git.appendCommit(this.defaultBranch, files, message, {
      author: INTERLOCK_IDENTITY,
      committer: INTERLOCK_IDENTITY,
      date,
    });
    await this.git.syncWorktree(this.defaultBranch);
    return commit;
  }

  async #diff(from: string, to: string): Promise<{ path: string; status: ChangeStatus }[]> {
    const out = await this.git.raw([
      "diff",
      "--no-ext-diff",
      "--no-textconv",
      "--name-status",
      "-z",
      "--no-renames",
      from,
      to,
    ]);
    const parts = out.split("\0").filter(Boolean);
    const files: { path: string; status: ChangeStatus }[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const code = parts[i]!;
      const status: ChangeStatus = code.startsWith("A")
        ? "added"
        : code.startsWith("D")
          ? "removed"
          : "modified";
      files.push({ path: parts[i + 1]!, status });
    }
    return files;
  }

  /**
   * A proposal context at `head`. For a merged request, `merged` limits reviews to those given
   * up to the merge, and the changed files are what the merge brought into the default branch.
   */
  #context(
    id: string,
    head: string,
    mergeBase: string,
    base: string,
    merged: { commit: string; at: Date } | undefined,
  ): ProposalContext {
    const config = this.config;
    const git = this.git;
    const directory = directoryOf(config);
    let commitsCache: { author: string; people: string[] } | undefined;
    const commits = async () => {
      if (commitsCache) return commitsCache;
      const out = await git.raw([
        "log",
        "--reverse",
        "--format=%an%x00%ae%x00%cn%x00%ce",
        `${mergeBase}..${head}`,
      ]);
      const rows = out
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\0"));
      const who = (name: string, email: string) =>
        resolvePrincipal(directory, email)?.id ?? resolvePrincipal(directory, name)?.id ?? name;
      const people = new Set<string>();
      for (const [an, ae, cn, ce] of rows) {
        people.add(who(an!, ae!));
        if (ce !== INTERLOCK_IDENTITY.email) people.add(who(cn!, ce!));
      }
      const first = rows[0];
      commitsCache = { author: first ? who(first[0]!, first[1]!) : "", people: [...people] };
      return commitsCache;
    };
    return {
      id,
      headCommit: head,
      baseCommit: base,
      author: async () => (await commits()).author,
      committers: async () => (await commits()).people,
      changedFiles: async () =>
        merged ? this.#diff(base, merged.commit) : this.#diff(mergeBase, head),
      reviews: async () => {
        const all = await this.#reviews(id);
        return merged ? all.filter((r) => r.at.getTime() <= merged.at.getTime()) : all;
      },
      // For a merged request, "head" content is what actually landed on the default branch:
      // a merge commit can carry a rewritten file that the proposal head never had.
      readHead: (path) => git.readFile(merged ? merged.commit : head, path),
      readOriginal: (path) => git.readFile(`${ORIGINAL_REF_PREFIX}${id}`, path),
      codeowners: async () => {
        for (const loc of CODEOWNERS_LOCATIONS) {
          const text = await git.readFile(base, loc);
          if (text !== undefined) return text;
        }
        return undefined;
      },
      teams: async () => ownerMembers(config),
      identities: async () => directory,
      authenticate: async (declared) => {
        // The signed commit is the one Interlock filed (the baseline the record is read from),
        // and it must be part of the proposal.
        const original = await git.revParse(`${ORIGINAL_REF_PREFIX}${id}`);
        if (original === undefined) {
          return { verified: false, reason: "the proposal has no filed commit to verify" };
        }
        const onProposal = (await git.tryRaw(["merge-base", original, head]))?.trim();
        if (onProposal !== original) {
          return {
            verified: false,
            reason: `the filed commit ${short(original)} is not part of the proposal`,
          };
        }
        const raw = await git.raw(["cat-file", "commit", original]);
        return verifyRequestCommit(raw, declared, directory);
      },
    };
  }

  /** Every review tag for a request, verified against the configured signing keys. */
  async #reviews(id: string): Promise<ForgeReview[]> {
    const refs = await this.git.tryRaw([
      "for-each-ref",
      "--format=%(objectname) %(objecttype)",
      `refs/tags/${REVIEW_TAG_PREFIX}${id}/`,
    ]);
    if (!refs) return [];
    const allowed = allowedSigners(this.config);
    const reviews: ForgeReview[] = [];
    for (const line of refs.split("\n").filter(Boolean)) {
      const [oid, type] = line.split(" ");
      if (type !== "tag") continue;
      const raw = await this.git.raw(["cat-file", "tag", oid!]);
      const review = reviewFromTag(raw, id, this.config, allowed);
      if (review) reviews.push(review);
    }
    return reviews;
  }
}

/** One list per parsed configuration, so each key is decoded once (sshsig caches per signer). */
const signersOf = new WeakMap<InterlockConfig, AllowedSigner[]>();

/** The allowed signers for review signatures: each configured person's key, for namespace git. */
export function allowedSigners(config: InterlockConfig): AllowedSigner[] {
  let signers = signersOf.get(config);
  if (signers === undefined) {
    signers = Object.entries(config.people)
      .filter(([, p]) => p.signing_key !== undefined)
      .map(([id, p]) => ({ principal: id, publicKey: p.signing_key!, namespaces: ["git"] }));
    signersOf.set(config, signers);
  }
  return [...signers];
}

function short(sha: string | undefined): string {
  return sha ? sha.slice(0, 7) : "nothing";
}
