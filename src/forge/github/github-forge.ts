import type { GateVerdict } from "../../gate/snapshot.ts";
import type {
  Forge,
  MergedRequest,
  NewProposal,
  OpenedProposal,
  ProposalContext,
} from "../forge.ts";
import {
  BRANCH_PREFIX,
  CLAIM_REF_PREFIX,
  claimPath,
  INTERLOCK_IDENTITY,
  requesterIdentity,
  type GitIdentity,
} from "../refs.ts";
import type { ApiCallCounter } from "./api-call-counter.ts";
import { httpStatus, type GitHubClient } from "./octokit.ts";
import { GitHubProposalContext, type ContextDeps } from "./proposal-context.ts";
import type { PolicyAtBase } from "../../evidence/evidence.ts";
import { defaultPoliciesDir, readBundle, revisionOf } from "../../policy/bundle.ts";

/** The shipped default policy by directory, read once per process. */
const DEFAULT_POLICY = new Map<string, PolicyAtBase>();
import {
  NO_BASE_FILES,
  queryMerged,
  queryOpenPull,
  type OrgTeams,
  type PullData,
} from "./pull-query.ts";

export interface GitHubForgeOptions {
  readonly octokit: GitHubClient;
  /** The approvals repository. */
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch: string;
  /** The organisation whose teams owner handles name ("@acme/security" → team security). */
  readonly org: string;
  /** The login Interlock acts as (the token's identity): the author of every proposal. */
  readonly botLogin: string;
  /** Attributes API calls to forge operations ("forge.openProposal", …). */
  readonly counter?: ApiCallCounter;
  /** Who Interlock's own commits are by (default: Interlock <interlock@localhost>). */
  readonly identity?: GitIdentity;
  /**
   * Interlock's shipped default policies (default: the package's policies/; the Action ships
   * them next to its bundle): what a repository that commits no built policy is decided by.
   */
  readonly defaultPoliciesDir?: string;
}

/** The check run the gate is published as (make it a required check on the default branch). */
export const GATE_CHECK_NAME = "interlock/gate";

/** requests/<action>/<ULID>.yaml */
const REQUEST_FILE = /^requests\/[a-z0-9_.-]{1,100}\/([0-9A-HJKMNP-TV-Z]{26})\.yaml$/;

/** GitHub's limits on a check run's output. */
const CHECK_TITLE_MAX = 255;
const CHECK_SUMMARY_MAX = 65_535;

interface PullInfo {
  readonly number: number;
  readonly url: string;
  readonly headSha: string;
  readonly headRef: string;
  readonly headRepo: string | undefined;
  readonly baseSha: string;
  readonly baseRef: string;
  readonly author: string;
  readonly mergedAt: Date | undefined;
  readonly mergeCommit: string | undefined;
}

interface PullLike {
  readonly number: number;
  readonly html_url: string;
  readonly head: { readonly sha: string; readonly ref: string; readonly repo: unknown };
  readonly base: { readonly sha: string; readonly ref: string };
  readonly user: { readonly login: string } | null;
  readonly merged_at: string | null;
  readonly merge_commit_sha: string | null;
}

function pullInfo(p: PullLike): PullInfo {
  const repo = p.head.repo as { full_name?: string } | null;
  return {
    number: p.number,
    url: p.html_url,
    headSha: p.head.sha,
    headRef: p.head.ref,
    headRepo: repo?.full_name,
    baseSha: p.base.sha,
    baseRef: p.base.ref,
    author: p.user?.login ?? "ghost",
    mergedAt: p.merged_at ? new Date(p.merged_at) : undefined,
    mergeCommit: p.merge_commit_sha ?? undefined,
  };
}

/**
 * The GitHub forge: a proposal is a pull request from interlock/<id> adding one request file;
 * reviews are PR reviews; merging is GitHub's merge, pinned to the head the gate evaluated;
 * claims and tamper baselines are refs outside refs/heads (refs/interlock/…), created with the
 * Git data API, which fails atomically when the ref exists.
 *
 * Only this adapter (and the context it creates) speaks Octokit; lifecycle and gate code see
 * the Forge interface. Each method uses as few API calls as it can — GitHub allows about 80
 * content-creating requests a minute per identity — and counts them when given a counter.
 */
export class GitHubForge implements Forge {
  readonly kind = "github" as const;
  readonly defaultBranch: string;
  readonly owner: string;
  readonly repo: string;
  readonly #octokit: GitHubClient;
  readonly #org: string;
  readonly #botLogin: string;
  readonly #counter: ApiCallCounter | undefined;
  readonly #identity: GitIdentity;
  readonly #defaultPoliciesDir: string;
  /** Pull request numbers by request id (a PR's number never changes). */
  readonly #numbers = new Map<string, number>();
  /** Merged pull requests by merge commit (a merged PR's head and merge are final). */
  readonly #merged = new Map<string, PullInfo>();
  /** Merge commits by request id, from mergedRequests (a commit for the claim ref). */
  readonly #mergeCommits = new Map<string, string>();
  /** Merged proposals as the GraphQL query read them, by merge commit, with the org's teams. */
  readonly #mergedPulls = new Map<string, { pull: PullData; teams: OrgTeams }>();
  /** Interlock's own gate check runs by head commit, as the last proposal() read them. */
  readonly #gateRuns = new Map<string, readonly number[]>();
  /** Where request files probably are, by request id (hints: expectRequestPath). */
  readonly #pathHints = new Map<string, string>();

  constructor(options: GitHubForgeOptions) {
    this.#octokit = options.octokit;
    this.owner = options.owner;
    this.repo = options.repo;
    this.defaultBranch = options.defaultBranch;
    this.#org = options.org;
    this.#botLogin = options.botLogin;
    this.#counter = options.counter;
    this.#identity = options.identity ?? INTERLOCK_IDENTITY;
    this.#defaultPoliciesDir = options.defaultPoliciesDir ?? defaultPoliciesDir();
  }

  get #r(): { owner: string; repo: string } {
    return { owner: this.owner, repo: this.repo };
  }

  /**
   * Opens the proposal in three writes: the branch interlock/<id> created at the default
   * branch's tip, the request file committed onto it with the contents API (blob, tree, commit
   * and ref move in one request:
   * https://docs.github.com/rest/repos/contents#create-or-update-file-contents), and the pull
   * request with the approval card as its body. The gate later reads "what Interlock filed"
   * from GitHub's activity log (the App's creation of the branch, then the App's push of that
   * commit right after it), never from a baseline ref, which any writer could move.
   *
   * No labels: the pulls API cannot set them (POST /pulls has no `labels`:
   * https://docs.github.com/rest/pulls/pulls#create-a-pull-request), a fourth write would cost
   * a sixth of the content-creation budget per filing, and the approval card already shows risk
   * and classification. 4 API calls, 3 writes.
   */
  openProposal(p: NewProposal): Promise<OpenedProposal> {
    return this.#op("openProposal", async () => {
      const base = await this.#branchTip(this.defaultBranch);
      const branch = `${BRANCH_PREFIX}${p.id}`;
      if (!(await this.#createRef(`refs/heads/${branch}`, base.commit))) {
        throw new Error(`branch ${branch} exists already`);
      }
      const date = p.date.toISOString();
      const author = requesterIdentity(p.requester.id);
      const { data: put } = await this.#octokit.rest.repos.createOrUpdateFileContents({
        ...this.#r,
        path: p.path,
        branch,
        message: `${p.title}\n\n${p.body}`,
        content: Buffer.from(p.content, "utf8").toString("base64"),
        author: { name: author.name, email: author.email, date },
        committer: { name: this.#identity.name, email: this.#identity.email, date },
      });
      const head = put.commit.sha;
      if (head === undefined) throw new Error(`GitHub did not say which commit filed ${p.path}`);
      let pr: { number: number; url: string };
      try {
        const { data } = await this.#octokit.rest.pulls.create({
          ...this.#r,
          title: p.title,
          body: p.body,
          head: branch,
          base: this.defaultBranch,
          maintainer_can_modify: false,
        });
        pr = { number: data.number, url: data.html_url };
      } catch (err) {
        // A retried POST whose first attempt succeeded (a 5xx after the fact): it exists.
        const existing =
          httpStatus(err) === 422 && /already exists/i.test((err as Error).message)
            ? await this.#openPull(p.id)
            : undefined;
        if (existing === undefined || existing.headSha !== head) throw err;
        pr = existing;
      }
      this.#numbers.set(p.id, pr.number);
      return { id: p.id, branch, head, url: pr.url };
    });
  }

  recordDenial(p: {
    id: string;
    path: string;
    content: string;
    message: string;
    date: Date;
  }): Promise<string> {
    return this.#op("recordDenial", () =>
      this.commitToDefault([{ path: p.path, content: p.content }], p.message, p.date),
    );
  }

  /**
   * Where request `id`'s file probably is (the gate workflow reads it from the event's pull
   * request title): proposal() then reads it at every commit of the pull request in its one
   * query. Only a hint: the gate takes the path from the pull request's changes, and a file
   * read under another path is never used for it (a wrong hint costs one more query).
   */
  expectRequestPath(id: string, path: string): void {
    if (REQUEST_FILE.exec(path)?.[1] === id) this.#pathHints.set(id, path);
  }

  /**
   * The open pull request from interlock/<id> into the default branch, at its current head,
   * with everything the gate reads about it but the activity log: 1 GraphQL query
   * (pull-query.ts). With a path hint (expectRequestPath) the query also reads the request file
   * at each of the pull request's commits (the head, and the one the App filed); otherwise the
   * context reads it with a second query once the changes name it.
   */
  proposal(id: string): Promise<ProposalContext | undefined> {
    return this.#op("proposal", async () => {
      const branch = `${BRANCH_PREFIX}${id}`;
      const answer = await queryOpenPull(this.#octokit, {
        ...this.#r,
        org: this.#org,
        branch,
        baseRef: this.defaultBranch,
        checkName: GATE_CHECK_NAME,
        appSlug: this.#botLogin.replace(/\[bot\]$/, ""),
        path: this.#pathHints.get(id),
      });
      if (answer.gateRuns) this.#gateRuns.set(answer.gateRuns.head, answer.gateRuns.ids);
      const pr = answer.pull;
      if (pr === undefined) return undefined;
      this.#numbers.set(id, pr.number);
      return new GitHubProposalContext(
        {
          id,
          number: pr.number,
          headCommit: pr.headSha,
          baseCommit: pr.baseSha,
          author: pr.author,
          branchRef: `refs/heads/${branch}`,
          compare: { base: pr.baseRef, head: pr.headSha },
          contentRef: pr.headSha,
          codeownersRef: pr.baseRef,
          pull: pr,
          base: answer.base,
          teams: answer.teams,
          changesFrom: "pull",
        },
        this.#contextDeps(),
      );
    });
  }

  /**
   * Merges through GitHub with `sha: head`: GitHub refuses (409) when the head moved since the
   * gate was evaluated, so what is merged is exactly what the gate saw. 1 API call.
   */
  merge(id: string, head: string, message: string, _date: Date): Promise<string> {
    return this.#op("merge", async () => {
      const number = this.#numbers.get(id) ?? (await this.#openPull(id))?.number;
      if (number === undefined) throw new Error(`no open pull request for request ${id}`);
      const [title, ...rest] = message.split("\n");
      try {
        const { data } = await this.#octokit.rest.pulls.merge({
          ...this.#r,
          pull_number: number,
          sha: head,
          merge_method: "merge",
          commit_title: title ?? `Merge request ${id}`,
          commit_message: rest.join("\n").trim(),
        });
        return data.sha;
      } catch (err) {
        const status = httpStatus(err);
        const why = (err as Error).message;
        if (status === 409) {
          throw new Error(
            `the proposal moved (the gate was evaluated on ${head.slice(0, 7)}): GitHub says "${why}"`,
          );
        }
        if (status === 405) throw new Error(`GitHub refused to merge #${number}: ${why}`);
        throw err;
      }
    });
  }

  /**
   * Request files on the default branch that have no result yet, oldest first.
   *
   * One REST call lists the default branch's tree; one GraphQL query (per 20 pending requests)
   * reads, for each, the merged pull request from its proposal branch with everything
   * `evidence` needs, and whether its claim exists, both returned as `listed`. A file that
   * reached the branch without a merged pull request from its branch is looked up through the
   * commit that added it (2 REST calls); `evidence` then refuses it, or it stays pending.
   *
   * Unlike the local forge, files that already have a result are left out unless
   * `includeExecuted` is set: listing them costs two calls each, on every run, forever, and
   * `executeMerged` skips them anyway.
   */
  mergedRequests(opts: { includeExecuted?: boolean } = {}): Promise<MergedRequest[]> {
    return this.#op("mergedRequests", async () => {
      const { data: tree } = await this.#octokit.rest.git.getTree({
        ...this.#r,
        tree_sha: this.defaultBranch,
        recursive: "1",
      });
      if (tree.truncated) {
        throw new Error(
          `the tree of ${this.defaultBranch} is too large for one API call; archive old requests`,
        );
      }
      const paths = new Set(tree.tree.filter((e) => e.type === "blob").map((e) => e.path!));
      const wanted: { id: string; path: string; hasResult: boolean }[] = [];
      for (const path of paths) {
        const id = REQUEST_FILE.exec(path)?.[1];
        if (id === undefined) continue;
        const hasResult = paths.has(`results/${id}.yaml`);
        if (!opts.includeExecuted && hasResult) continue;
        wanted.push({ id, path, hasResult });
      }
      const answer = await this.#queryMerged(wanted);
      const merged: MergedRequest[] = [];
      for (const w of wanted) {
        const m = await this.#mergedRequest(w.id, w.path, answer.pulls.get(w.id)?.[0]);
        const claimed = paths.has(claimPath(w.id)) || answer.claimed.has(w.id);
        merged.push(w.hasResult ? m : { ...m, listed: { hasResult: false, claimed } });
      }
      return merged.sort(
        (a, b) => a.mergedAt.getTime() - b.mergedAt.getTime() || a.id.localeCompare(b.id),
      );
    });
  }

  /**
   * The proposal as it was merged: the pull request whose merge commit is `m.mergeCommit`,
   * its head at the merge, its reviews up to the merge, and the changes the merge brought into
   * the default branch. Anything else (a direct push, a merge of some other branch) is refused.
   */
  evidence(m: MergedRequest): Promise<ProposalContext | { refused: string }> {
    return this.#op("evidence", async () => {
      const short = m.mergeCommit.slice(0, 7);
      let read = this.#mergedPulls.get(m.mergeCommit);
      if (read === undefined) {
        await this.#queryMerged([{ id: m.id, path: m.path }]);
        read = this.#mergedPulls.get(m.mergeCommit);
      }
      const pr =
        read?.pull ?? this.#merged.get(m.mergeCommit) ?? (await this.#mergedPull(m.mergeCommit));
      if (pr === undefined || pr.mergedAt === undefined) {
        return {
          refused: `${m.path} reached ${this.defaultBranch} in ${short}, which was not merged through a pull request (a direct push or a bypass of the proposal)`,
        };
      }
      const branch = `${BRANCH_PREFIX}${m.id}`;
      if (pr.headRef !== branch || pr.headRepo !== `${this.owner}/${this.repo}`) {
        return {
          refused: `${m.path} was merged through pull request #${pr.number} from ${pr.headRepo ?? "a deleted repository"}:${pr.headRef}, not through its proposal ${branch}`,
        };
      }
      if (pr.baseRef !== this.defaultBranch) {
        return { refused: `pull request #${pr.number} was merged into ${pr.baseRef}` };
      }
      if (read === undefined) {
        // Found only through the commit→PR index: not this proposal's pull request after all.
        return {
          refused: `${m.path} reached ${this.defaultBranch} in ${short} through pull request #${pr.number}, which GitHub does not list as merged from ${branch}`,
        };
      }
      const parents = read.pull.merge!.parents;
      const first = parents[0];
      if (first === undefined) {
        return { refused: `${short} has no parent: it never was a proposal` };
      }
      if (parents.length > 2) {
        return { refused: `${short} is an octopus merge; Interlock merges one proposal at a time` };
      }
      if (parents.length === 2 && parents[1] !== pr.headSha) {
        return {
          refused: `${short} merges ${parents[1]!.slice(0, 7)}, not the head ${pr.headSha.slice(0, 7)} of pull request #${pr.number}`,
        };
      }
      return new GitHubProposalContext(
        {
          id: m.id,
          number: pr.number,
          headCommit: pr.headSha,
          baseCommit: first,
          author: pr.author,
          branchRef: `refs/heads/${branch}`,
          compare: { base: first, head: m.mergeCommit },
          excludeCommit: m.mergeCommit,
          contentRef: m.mergeCommit,
          codeownersRef: first,
          knownPath: m.path,
          reviewsUntil: pr.mergedAt,
          pull: read.pull,
          base: read.pull.firstParentFiles ?? NO_BASE_FILES,
          teams: read.teams,
          changesFrom: "compare",
        },
        this.#contextDeps(),
      );
    });
  }

  /**
   * Claims a request by creating claims/<id>.yaml on the protected default branch with the
   * contents API, which refuses (422) to create a file that exists, and commits onto the tip in
   * the same request (a 409 when another writer moved it is retried): of two executors, one
   * gets the file. A writer cannot undo the claim: only Interlock's App may push to the default
   * branch (the ruleset `doctor` checks), and deleting the file takes a commit there that stays
   * in its history. (A refs/interlock/claims/<id> ref, which earlier versions made, would not
   * do: rulesets cover only branches and tags, so any writer could delete it and re-arm a
   * request that crashed after its action ran.) 1 call.
   */
  claim(id: string, date: Date): Promise<boolean> {
    return this.#op("claim", async () => {
      const merge = this.#mergeCommits.get(id);
      const content =
        `interlock: 1\nid: ${id}\n` +
        (merge ? `merge_commit: ${merge}\n` : "") +
        `claimed_at: ${date.toISOString()}\n`;
      const committed = await this.#putNewFile(
        { path: claimPath(id), content },
        `Claim ${id}`,
        date,
      );
      return committed !== undefined;
    });
  }

  /**
   * Whether claims/<id>.yaml is on the default branch, or the claim ref of earlier versions
   * exists. 1–3 calls (the executor learns both with its listing instead).
   */
  isClaimed(id: string): Promise<boolean> {
    return this.#op("isClaimed", async () => {
      if ((await this.#readDefaultFile(claimPath(id))) !== undefined) return true;
      try {
        await this.#octokit.rest.git.getRef({
          ...this.#r,
          ref: gitRef(`${CLAIM_REF_PREFIX}${id}`),
        });
        return true;
      } catch (err) {
        if (httpStatus(err) === 404) return false;
        throw err;
      }
    });
  }

  /** Removes a claim for a person's explicit retry: the claim file, and any old claim ref. */
  releaseClaim(id: string): Promise<void> {
    return this.#op("releaseClaim", async () => {
      const file = await this.#readDefaultFile(claimPath(id));
      if (file !== undefined) {
        const who = { name: this.#identity.name, email: this.#identity.email };
        await this.#octokit.rest.repos.deleteFile({
          ...this.#r,
          path: claimPath(id),
          branch: this.defaultBranch,
          sha: file.sha,
          message: `Release the claim on ${id} for a retry`,
          committer: who,
          author: who,
        });
      }
      try {
        await this.#octokit.rest.git.deleteRef({
          ...this.#r,
          ref: gitRef(`${CLAIM_REF_PREFIX}${id}`),
        });
      } catch (err) {
        if (httpStatus(err) !== 404 && httpStatus(err) !== 422) throw err;
      }
    });
  }

  /**
   * On GitHub a requester withdraws by closing the pull request, which can then never be
   * merged; there is no signed withdrawal record of a merged request yet.
   */
  async isWithdrawn(): Promise<boolean> {
    return false;
  }

  readDefault(path: string): Promise<string | undefined> {
    return this.#op("readDefault", async () => (await this.#readDefaultFile(path))?.text);
  }

  /** A file on the default branch with its blob sha; undefined if there is none. 1–2 calls. */
  async #readDefaultFile(path: string): Promise<{ text: string; sha: string } | undefined> {
    try {
      const { data } = await this.#octokit.rest.repos.getContent({
        ...this.#r,
        path,
        ref: this.defaultBranch,
      });
      if (Array.isArray(data) || data.type !== "file") return undefined;
      if (data.encoding === "base64" && data.content !== undefined) {
        return { text: Buffer.from(data.content, "base64").toString("utf8"), sha: data.sha };
      }
      const blob = await this.#octokit.rest.git.getBlob({ ...this.#r, file_sha: data.sha });
      return { text: Buffer.from(blob.data.content, "base64").toString("utf8"), sha: data.sha };
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * One commit on the default branch. A single new file (a result, a denial) goes through the
   * contents API, where GitHub commits onto the current tip and moves the branch in one request
   * (https://docs.github.com/rest/repos/contents#create-or-update-file-contents): 1 call, retried
   * on 409 when another writer moved the branch meanwhile. Otherwise, or when the file exists
   * already (422 without its sha): tree and commit through the Git data API, then a
   * fast-forward-only ref update, rebuilt on the new tip when another writer got there first
   * (422); 4 calls when nobody races.
   */
  commitToDefault(
    files: { path: string; content: string }[],
    message: string,
    date: Date,
  ): Promise<string> {
    return this.#op("commitToDefault", async () => {
      const [only] = files;
      if (files.length === 1 && only !== undefined) {
        const committed = await this.#putNewFile(only, message, date);
        if (committed !== undefined) return committed;
      }
      for (let attempt = 0; attempt < 10; attempt++) {
        const tip = await this.#branchTip(this.defaultBranch);
        const commit = await this.#commit({
          parent: tip.commit,
          baseTree: tip.tree,
          files,
          message,
          author: this.#identity,
          date,
        });
        try {
          await this.#octokit.rest.git.updateRef({
            ...this.#r,
            ref: `heads/${this.defaultBranch}`,
            sha: commit,
            force: false,
          });
          return commit;
        } catch (err) {
          if (httpStatus(err) !== 422 || !/fast.forward/i.test((err as Error).message)) throw err;
        }
      }
      throw new Error(`could not update ${this.defaultBranch}: too many concurrent writers`);
    });
  }

  /**
   * Publishes a gate verdict as the check run "interlock/gate" on the head it was evaluated on
   * (the PR head if `head` is not given): one check run per head, created by Interlock's App
   * the first time and updated in place after that, so a stale failure never sits next to a
   * newer success (branch protection weighs every run with the required name). A check run,
   * not a commit status: a check run belongs to the App whose token created it and only that App
   * can update it, so a required check pinned to the App cannot be published by anyone else,
   * while "anyone with write permissions to a repository can set the state for any status
   * check" (https://docs.github.com/pull-requests/collaborating-with-pull-requests/collaborating-on-repositories-with-code-quality-features/about-status-checks).
   * 1 call, the write, after proposal() read the App's runs on this head; else 2.
   */
  publishGate(
    id: string,
    verdict: GateVerdict,
    markdown: string,
    head?: string,
  ): Promise<{ id: number; url: string }> {
    return this.#op("publishGate", async () => {
      const sha = head ?? (await this.#openPull(id))?.headSha;
      if (sha === undefined) throw new Error(`no open pull request for request ${id}`);
      const result = {
        conclusion: verdict.satisfied ? ("success" as const) : ("failure" as const),
        output: {
          title: truncate(verdict.summary, CHECK_TITLE_MAX),
          summary: truncate(markdown, CHECK_SUMMARY_MAX),
        },
      };
      // Our own runs on the head: read with the proposal (GraphQL) when it was evaluated here,
      // otherwise looked up (an App's bot account is "<app slug>[bot]").
      let own = this.#gateRuns.get(sha)?.[0];
      if (!this.#gateRuns.has(sha)) {
        const { data: listed } = await this.#octokit.rest.checks.listForRef({
          ...this.#r,
          ref: sha,
          check_name: GATE_CHECK_NAME,
          filter: "all",
          per_page: 100,
        });
        const slug = this.#botLogin.replace(/\[bot\]$/, "");
        own = listed.check_runs.find((r) => r.app?.slug === slug)?.id;
      }
      if (own !== undefined) {
        const { data } = await this.#octokit.rest.checks.update({
          ...this.#r,
          check_run_id: own,
          status: "completed",
          ...result,
        });
        return { id: data.id, url: data.html_url ?? data.url };
      }
      const { data } = await this.#octokit.rest.checks.create({
        ...this.#r,
        name: GATE_CHECK_NAME,
        head_sha: sha,
        status: "completed",
        external_id: id,
        ...result,
      });
      this.#gateRuns.set(sha, [data.id]);
      return { id: data.id, url: data.html_url ?? data.url };
    });
  }

  /**
   * Comments on a request's pull request (by request id: open, merged or closed) or on an
   * issue or pull request (by number).
   */
  comment(target: string | number, body: string): Promise<string> {
    return this.#op("comment", async () => {
      const number =
        typeof target === "number"
          ? target
          : (this.#numbers.get(target) ?? (await this.#latestPull(target))?.number);
      if (number === undefined) throw new Error(`no open pull request for request ${target}`);
      const { data } = await this.#octokit.rest.issues.createComment({
        ...this.#r,
        issue_number: number,
        body,
      });
      return data.html_url;
    });
  }

  /** Closes a proposal without merging it, optionally deleting its branch. */
  closeProposal(id: string, opts: { deleteBranch?: boolean } = {}): Promise<void> {
    return this.#op("closeProposal", async () => {
      const number = this.#numbers.get(id) ?? (await this.#openPull(id))?.number;
      if (number === undefined) return;
      await this.#octokit.rest.pulls.update({ ...this.#r, pull_number: number, state: "closed" });
      this.#numbers.delete(id);
      if (opts.deleteBranch) {
        try {
          await this.#octokit.rest.git.deleteRef({
            ...this.#r,
            ref: `heads/${BRANCH_PREFIX}${id}`,
          });
        } catch (err) {
          if (httpStatus(err) !== 404 && httpStatus(err) !== 422) throw err;
        }
      }
    });
  }

  // -------------------------------------------------------------------------------------------

  #op<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.#counter ? this.#counter.measure(`forge.${name}`, fn) : fn();
  }

  #contextDeps(): ContextDeps {
    return {
      defaultPolicy: () => {
        const dir = this.#defaultPoliciesDir;
        let p = DEFAULT_POLICY.get(dir);
        if (p === undefined) {
          const files = readBundle(dir);
          p = { revision: revisionOf(files.wasm, files.dataJson), files, committed: false };
          DEFAULT_POLICY.set(dir, p);
        }
        return p;
      },
      octokit: this.#octokit,
      owner: this.owner,
      repo: this.repo,
      org: this.#org,
      botLogin: this.#botLogin,
      identityEmail: this.#identity.email,
      ...(this.#counter ? { counter: this.#counter } : {}),
    };
  }

  /** The open PR from interlock/<id> into the default branch. 1 call. */
  async #openPull(id: string): Promise<PullInfo | undefined> {
    const { data } = await this.#octokit.rest.pulls.list({
      ...this.#r,
      head: `${this.owner}:${BRANCH_PREFIX}${id}`,
      base: this.defaultBranch,
      state: "open",
      per_page: 2,
    });
    const pr = data.find((p) => p.head.ref === `${BRANCH_PREFIX}${id}`);
    if (pr === undefined) return undefined;
    this.#numbers.set(id, pr.number);
    return pullInfo(pr);
  }

  /** The newest PR from interlock/<id> in any state (for comments after a merge). 1 call. */
  async #latestPull(id: string): Promise<PullInfo | undefined> {
    const { data } = await this.#octokit.rest.pulls.list({
      ...this.#r,
      head: `${this.owner}:${BRANCH_PREFIX}${id}`,
      base: this.defaultBranch,
      state: "all",
      sort: "created",
      direction: "desc",
      per_page: 1,
    });
    const pr = data.find((p) => p.head.ref === `${BRANCH_PREFIX}${id}`);
    return pr === undefined ? undefined : pullInfo(pr);
  }

  /**
   * A merged PR whose merge commit is `sha` among those GitHub associates with the commit (an
   * index that lags a merge: https://github.com/release-drafter/release-drafter/pull/1604),
   * for a merge the proposal's own pull requests do not explain. 1 call.
   */
  async #mergedPull(sha: string): Promise<PullInfo | undefined> {
    const { data } = await this.#octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      ...this.#r,
      commit_sha: sha,
      per_page: 100,
    });
    const pr = data.map(pullInfo).find((p) => p.mergedAt !== undefined && p.mergeCommit === sha);
    if (pr !== undefined) this.#merged.set(sha, pr);
    return pr;
  }

  /** The merged proposals of `requests` and their claims (pull-query.ts), remembered. */
  async #queryMerged(requests: readonly { id: string; path: string }[]) {
    const answer = await queryMerged(
      this.#octokit,
      {
        ...this.#r,
        org: this.#org,
        baseRef: this.defaultBranch,
        branchPrefix: BRANCH_PREFIX,
        claimPrefix: CLAIM_REF_PREFIX,
      },
      requests,
    );
    for (const list of answer.pulls.values()) {
      for (const pull of list)
        this.#mergedPulls.set(pull.merge!.sha, { pull, teams: answer.teams });
    }
    return answer;
  }

  /**
   * How a request file reached the default branch. Its proposal's merged pull request, looked
   * up by its head branch (1 call); failing that, the commit that added the file and any pull
   * request GitHub associates with it (2 calls), which `evidence` then judges. When no pull
   * request is found at all, the file may have been pushed directly, or GitHub has not yet
   * indexed a merge that just happened: the request is returned as pending, never as a
   * refusal, and looked at again on the next run (it is never run without its pull request).
   */
  async #mergedRequest(
    id: string,
    path: string,
    own: PullData | undefined,
  ): Promise<MergedRequest> {
    if (own !== undefined) {
      return this.#remember(id, path, {
        number: own.number,
        url: own.url,
        headSha: own.headSha,
        headRef: own.headRef,
        headRepo: own.headRepo,
        baseSha: own.baseSha,
        baseRef: own.baseRef,
        author: own.author,
        mergedAt: own.mergedAt,
        mergeCommit: own.merge!.sha,
      });
    }
    const commits = await this.#octokit.paginate(this.#octokit.rest.repos.listCommits, {
      ...this.#r,
      sha: this.defaultBranch,
      path,
      per_page: 100,
    });
    const added = commits.at(-1);
    if (added === undefined) throw new Error(`no commit on ${this.defaultBranch} adds ${path}`);
    const { data } = await this.#octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      ...this.#r,
      commit_sha: added.sha,
      per_page: 100,
    });
    const other = data
      .map(pullInfo)
      .find(
        (p) =>
          p.mergedAt !== undefined &&
          p.mergeCommit !== undefined &&
          p.baseRef === this.defaultBranch,
      );
    if (other !== undefined) return this.#remember(id, path, other);
    const date = added.commit.committer?.date ?? added.commit.author?.date;
    return {
      id,
      path,
      mergeCommit: added.sha,
      mergedAt: new Date(date ?? 0),
      pending:
        `no merged pull request from ${BRANCH_PREFIX}${id} was found for ${path}: GitHub may not ` +
        "have indexed a merge that just happened, or the file was pushed without one. It is not " +
        "run, and it is looked at again on the next run.",
    };
  }

  #remember(id: string, path: string, pr: PullInfo): MergedRequest {
    this.#merged.set(pr.mergeCommit!, pr);
    this.#mergeCommits.set(id, pr.mergeCommit!);
    this.#numbers.set(id, pr.number);
    return { id, path, mergeCommit: pr.mergeCommit!, mergedAt: pr.mergedAt! };
  }

  /** A branch's tip commit and its tree (one call, where the Git ref API would need two). */
  async #branchTip(branch: string): Promise<{ commit: string; tree: string }> {
    try {
      const { data } = await this.#octokit.rest.repos.getBranch({ ...this.#r, branch });
      return { commit: data.commit.sha, tree: data.commit.commit.tree.sha };
    } catch (err) {
      if (httpStatus(err) === 404) throw new Error(`the repository has no ${branch} branch`);
      throw err;
    }
  }

  /** A commit of `files` on top of `parent` (tree with inline contents, then commit). 2 calls. */
  async #commit(c: {
    parent: string;
    baseTree: string;
    files: readonly { path: string; content: string }[];
    message: string;
    author: GitIdentity;
    date: Date;
  }): Promise<string> {
    const { data: tree } = await this.#octokit.rest.git.createTree({
      ...this.#r,
      base_tree: c.baseTree,
      tree: c.files.map((f) => ({
        path: f.path,
        mode: "100644" as const,
        type: "blob" as const,
        content: f.content,
      })),
    });
    const date = c.date.toISOString();
    const { data: commit } = await this.#octokit.rest.git.createCommit({
      ...this.#r,
      message: c.message,
      tree: tree.sha,
      parents: [c.parent],
      author: { name: c.author.name, email: c.author.email, date },
      committer: { name: this.#identity.name, email: this.#identity.email, date },
    });
    return commit.sha;
  }

  /**
   * Commits a file that does not exist yet onto the default branch through the contents API.
   * Undefined when it exists already (GitHub then wants its blob sha: 422).
   */
  async #putNewFile(
    file: { path: string; content: string },
    message: string,
    date: Date,
  ): Promise<string | undefined> {
    const who = {
      name: this.#identity.name,
      email: this.#identity.email,
      date: date.toISOString(),
    };
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        const { data } = await this.#octokit.rest.repos.createOrUpdateFileContents({
          ...this.#r,
          path: file.path,
          branch: this.defaultBranch,
          message,
          content: Buffer.from(file.content, "utf8").toString("base64"),
          author: who,
          committer: who,
        });
        if (data.commit.sha === undefined) {
          throw new Error(`GitHub did not say which commit wrote ${file.path}`);
        }
        return data.commit.sha;
      } catch (err) {
        const status = httpStatus(err);
        if (status === 422 && /\bsha\b/i.test((err as Error).message)) return undefined;
        if (status !== 409) throw err;
      }
    }
    throw new Error(`could not update ${this.defaultBranch}: too many concurrent writers`);
  }

  /** Creates a ref; false if it exists already (GitHub: 422 "Reference already exists"). */
  async #createRef(ref: string, sha: string): Promise<boolean> {
    try {
      await this.#octokit.rest.git.createRef({ ...this.#r, ref, sha });
      return true;
    } catch (err) {
      if (httpStatus(err) === 422 && /already exists/i.test((err as Error).message)) return false;
      throw err;
    }
  }
}

/** "refs/interlock/claims/x" → "interlock/claims/x", as the Git refs API names refs. */
function gitRef(ref: string): string {
  return ref.replace(/^refs\//, "");
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
