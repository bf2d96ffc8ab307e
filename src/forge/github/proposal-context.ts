import { CONFIG_PATH, parseConfig, type InterlockConfig } from "../../config/config.ts";
import { POLICY_DIST, type PolicyAtBase } from "../../evidence/evidence.ts";
import { CODEOWNERS_LOCATIONS, ownersFor, parseCodeowners } from "../../gate/codeowners.ts";
import { directoryOf, EMPTY_DIRECTORY, type IdentityDirectory } from "../../identity/directory.ts";
import { requestPathPattern } from "../../gate/collect.ts";
import {
  GONE_COMMIT,
  type ChangeStatus,
  type ReviewState,
  type Unreadable,
} from "../../gate/snapshot.ts";
import { parseRequestFile } from "../../proposal/request-file.ts";
import type { RequesterFields } from "../../identity/requester.ts";
import type { AuthenticatedRequester, ForgeReview, ProposalContext } from "../forge.ts";
import type { ApiCallCounter } from "./api-call-counter.ts";
import { httpStatus, type GitHubClient } from "./octokit.ts";

/**
 * One proposal (a pull request) read through the GitHub REST API, at one head commit — the
 * GitHub side of policy-bot's pull.Context. Every method is fetched at most once per context
 * (one gate evaluation) and the results are cached, so the gate's many questions cost a handful
 * of API calls.
 */

/** Where a context reads from. Open proposals and merged ones differ only in these refs. */
export interface ContextSource {
  readonly id: string;
  readonly number: number;
  /** The PR head the gate is evaluated on; reviews on other commits are stale. */
  readonly headCommit: string;
  readonly baseCommit: string;
  /** Who opened the pull request. */
  readonly author: string;
  /** refs/heads/interlock/<id>: whose pushes count as commits to the proposal. */
  readonly branchRef: string;
  /**
   * The compare whose files are the proposal's changes and whose commits are its commits:
   * "main...<head>" for an open proposal, "<first parent>...<merge>" for a merged one.
   */
  readonly compare: { readonly base: string; readonly head: string };
  /** A commit excluded from the committers (the merge commit of a merged proposal). */
  readonly excludeCommit?: string;
  /** Where "the head" files are read: the head commit, or the merge commit once merged. */
  readonly contentRef: string;
  /** Where CODEOWNERS is read: the base branch, or the merge's first parent once merged. */
  readonly codeownersRef: string;
  /** The request file path, when it is already known (a merged request). */
  readonly knownPath?: string;
  /** Reviews submitted after this moment are ignored (the merge). */
  readonly reviewsUntil?: Date;
}

export interface ContextDeps {
  readonly octokit: GitHubClient;
  readonly owner: string;
  readonly repo: string;
  readonly org: string;
  /** Interlock's own login: its pushes are not a person's. */
  readonly botLogin: string;
  /** The e-mail address Interlock's commits are made with (not a person either). */
  readonly identityEmail: string;
  readonly counter?: ApiCallCounter;
  /**
   * The policy a repository that commits no built bundle (policies/dist) is decided by:
   * Interlock's shipped defaults, as the request job loads them.
   */
  readonly defaultPolicy: () => PolicyAtBase;
}

/** Repository roles that may approve (GitHub's "write access"). */
const APPROVING_ROLES: ReadonlySet<string> = new Set(["admin", "maintain", "write"]);

/** GitHub's committer of web and API merges: a machine, not a person who pushed. */
const WEB_FLOW = "web-flow";

interface ActivityEntry {
  readonly type: string;
  readonly before: string;
  readonly after: string;
  readonly actor?: string;
}

interface CompareData {
  readonly files: { path: string; status: ChangeStatus; blob: string | undefined }[];
  readonly commits: {
    sha: string;
    author: { login?: string; name?: string; email?: string };
    committer: { login?: string; name?: string; email?: string };
    /** The committer date the commit records. */
    committedAt: string | undefined;
  }[];
}

export class GitHubProposalContext implements ProposalContext {
  readonly id: string;
  readonly headCommit: string;
  readonly baseCommit: string;
  readonly #src: ContextSource;
  readonly #deps: ContextDeps;
  readonly #memo = new Map<string, Promise<unknown>>();
  /** File contents by blob sha: a file whose blob is already known is not fetched again. */
  readonly #blobs = new Map<string, string>();
  /** Why the pushers could not be read, once they were asked for and could not be. */
  #unreadablePushers: string | undefined;
  /** Teams whose members could not be read, with why. */
  readonly #unreadableTeams: Record<string, string> = {};

  constructor(src: ContextSource, deps: ContextDeps) {
    this.#src = src;
    this.#deps = deps;
    this.id = src.id;
    this.headCommit = src.headCommit;
    this.baseCommit = src.baseCommit;
  }

  async author(): Promise<string> {
    return this.#src.author;
  }

  /**
   * Everyone who authored or committed a commit of the proposal (their GitHub login, or the
   * name on the commit when its e-mail belongs to no account), and everyone who pushed to the
   * branch according to the repository activity log. Commit metadata can be forged; the
   * activity log's actor is the authenticated pusher, so a push under a borrowed name still
   * excludes the real pusher.
   */
  committers(): Promise<string[]> {
    return this.#once("committers", async () => {
      const people = new Set<string>();
      const { commits } = await this.#compare();
      const add = (p: { login?: string; name?: string; email?: string }) => {
        if (p.login !== undefined) {
          if (p.login !== WEB_FLOW) people.add(p.login);
        } else if (p.email?.toLowerCase() !== this.#deps.identityEmail.toLowerCase() && p.name) {
          people.add(p.name);
        }
      };
      for (const c of commits) {
        if (c.sha === this.#src.excludeCommit) continue;
        add(c.author);
        add(c.committer);
      }
      for (const pusher of await this.#pushers()) people.add(pusher);
      people.delete(this.#deps.botLogin);
      return [...people];
    });
  }

  /**
   * What GitHub would not tell this context (asked for by committers() and teams()): the gate
   * fails closed on each, with the reason. Call after those two.
   */
  async unreadable(): Promise<Unreadable> {
    await Promise.all([this.committers(), this.teams()]);
    return {
      ...(this.#unreadablePushers === undefined ? {} : { pushers: this.#unreadablePushers }),
      ...(Object.keys(this.#unreadableTeams).length === 0
        ? {}
        : { teams: { ...this.#unreadableTeams } }),
    };
  }

  async changedFiles(): Promise<{ path: string; status: ChangeStatus }[]> {
    const { files } = await this.#compare();
    return files.map(({ path, status }) => ({ path, status }));
  }

  /**
   * The pull request's reviews (pending ones are private to their author and left out). An
   * approval or rejection carries whether its author has write access (one permission lookup
   * per person); bots are recognised by their account type.
   */
  reviews(): Promise<ForgeReview[]> {
    return this.#once("reviews", async () => {
      const { octokit, owner, repo } = this.#deps;
      const raw = await octokit.paginate(octokit.rest.pulls.listReviews, {
        owner,
        repo,
        pull_number: this.#src.number,
        per_page: 100,
      });
      const until = this.#src.reviewsUntil?.getTime();
      const reviews: ForgeReview[] = [];
      for (const r of raw) {
        const state = reviewState(r.state);
        if (state === undefined || !r.submitted_at) continue;
        const at = new Date(r.submitted_at);
        if (until !== undefined && at.getTime() > until) continue;
        const who = r.user?.login ?? "ghost";
        const isBot = r.user?.type === "Bot" || who.toLowerCase().endsWith("[bot]");
        const matters = state !== "commented"; // a dismissed rejection may still stand
        const canApprove = !isBot && r.user != null && matters && (await this.#canApprove(who));
        // GitHub answers commit_id null when the commit was garbage-collected or forcibly
        // deleted (the pull-request-review schema: https://docs.github.com/rest/pulls/reviews).
        // Such a review is kept: never on the head, so an approval is stale, but a rejection
        // still stands.
        const commit = r.commit_id ?? GONE_COMMIT;
        const dismissal = state === "dismissed" ? await this.#dismissalOf(r.id) : undefined;
        reviews.push({
          who,
          state,
          commit,
          at,
          isBot,
          verified: true,
          canApprove,
          ...(dismissal ? { dismissal } : {}),
        });
      }
      return reviews;
    });
  }

  /**
   * Who dismissed a review and what it was, from the pull request's timeline (a review only
   * says DISMISSED). Unreadable (403/404): nobody known, which keeps a rejection standing.
   * 1 call, made only when a review was dismissed.
   */
  async #dismissalOf(
    reviewId: number,
  ): Promise<{ by: string | undefined; byBot: boolean; was: ReviewState | undefined }> {
    const events = await this.#once("dismissals", async () => {
      const { octokit, owner, repo } = this.#deps;
      try {
        const all = await octokit.paginate(octokit.rest.issues.listEvents, {
          owner,
          repo,
          issue_number: this.#src.number,
          per_page: 100,
        });
        const out = new Map<number, { by: string; byBot: boolean; was: string }>();
        for (const e of all as unknown as {
          event?: string;
          actor?: { login: string; type?: string } | null;
          dismissed_review?: { review_id: number; state: string };
        }[]) {
          if (e.event !== "review_dismissed" || !e.dismissed_review || !e.actor) continue;
          out.set(e.dismissed_review.review_id, {
            by: e.actor.login,
            byBot: e.actor.type === "Bot" || e.actor.login.toLowerCase().endsWith("[bot]"),
            was: e.dismissed_review.state,
          });
        }
        return out;
      } catch (err) {
        const status = httpStatus(err);
        if (status !== 403 && status !== 404) throw err;
        return new Map<number, { by: string; byBot: boolean; was: string }>();
      }
    });
    const e = events.get(reviewId);
    if (e === undefined) return { by: undefined, byBot: false, was: undefined };
    return { by: e.by, byBot: e.byBot, was: reviewState(e.was.toUpperCase()) };
  }

  async readHead(path: string): Promise<string | undefined> {
    const blob = (await this.#compare()).files.find((f) => f.path === path)?.blob;
    const known = blob === undefined ? undefined : this.#blobs.get(blob);
    if (known !== undefined) return known;
    return this.#read(path, this.#src.contentRef);
  }

  /**
   * The request file as Interlock's App filed it: at the commit the App filed it with
   * (never the movable refs/interlock/requests/<id>, which any writer can point elsewhere).
   * Undefined when the App did not file it: the gate then fails closed.
   */
  async readOriginal(path: string): Promise<string | undefined> {
    const filed = await this.#filed();
    return "reason" in filed ? undefined : this.#read(path, filed.commit);
  }

  codeowners(): Promise<string | undefined> {
    return this.#once("codeowners", async () => {
      for (const loc of CODEOWNERS_LOCATIONS) {
        const text = await this.#read(loc, this.#src.codeownersRef);
        if (text !== undefined) return text;
      }
      return undefined;
    });
  }

  /**
   * Who is who (people with their aliases such as GitHub logins, agents and their sponsors),
   * from the configuration on the same ref as CODEOWNERS, so that the gate excludes the
   * sponsor and the requester under every name. No configuration: nobody is known. A
   * configuration that does not parse throws (the gate fails closed with the reason).
   */
  identities(): Promise<IdentityDirectory> {
    return this.#once("identities", async () => {
      const config = await this.config();
      return config === undefined ? EMPTY_DIRECTORY : directoryOf(config);
    });
  }

  /**
   * The configuration (people, agents and their sponsors, keys, executors) as committed at the
   * base, the ref CODEOWNERS is read at; undefined when there is none. One that does not parse
   * throws (the gate fails closed with the reason).
   */
  config(): Promise<InterlockConfig | undefined> {
    return this.#once("config", async () => {
      const text = await this.#read(CONFIG_PATH.split("\\").join("/"), this.#src.codeownersRef);
      return text === undefined ? undefined : parseConfig(text);
    });
  }

  /**
   * The policy committed at the base: the revision its built bundle's manifest
   * (policies/dist/manifest.json) records, which the executor checks against the Wasm it loads
   * when it decides the sealed original again; Interlock's shipped defaults where the
   * repository commits no bundle. A manifest that does not say which revision it is counts as
   * an incomplete bundle, which no decision matches.
   */
  policy(): Promise<PolicyAtBase> {
    return this.#once("policy", async () => {
      const text = await this.#read(POLICY_DIST.manifest, this.#src.codeownersRef);
      if (text === undefined) return this.#deps.defaultPolicy();
      let revision: unknown;
      try {
        revision = (JSON.parse(text) as { revision?: unknown }).revision;
      } catch {
        revision = undefined;
      }
      return {
        revision:
          typeof revision === "string" && /^sha256:[0-9a-f]{64}$/.test(revision)
            ? revision
            : "incomplete",
        files: undefined,
        committed: true,
      };
    });
  }

  /**
   * When the request was filed: the committer date of the commit Interlock's App filed it with
   * (the App writes the request's own time there), or why that is not known.
   */
  async filedAt(): Promise<{ at: Date } | { unknown: string }> {
    const filed = await this.#filed();
    if ("reason" in filed) return { unknown: filed.reason };
    const commit = (await this.#compare()).commits.find((c) => c.sha === filed.commit);
    const at = commit?.committedAt === undefined ? NaN : Date.parse(commit.committedAt);
    if (!Number.isFinite(at)) {
      return {
        unknown: `the commit ${filed.commit.slice(0, 7)} the App filed it with is not among the pull request's commits`,
      };
    }
    return { at: new Date(at) };
  }

  /**
   * Members of the organisation's teams that this request names: its approval groups' owners
   * and the CODEOWNERS owners of its path. Other handles are not looked up (a plain "@user"
   * is that user; a team of another organisation, or one that does not exist, stays unknown
   * and counts nobody: fail closed). One call per team instead of one per team of the org.
   */
  teams(): Promise<Record<string, string[]>> {
    return this.#once("teams", async () => {
      const handles = new Set<string>();
      const path = await this.#requestPath();
      if (path !== undefined) {
        const text = (await this.readOriginal(path)) ?? (await this.readHead(path));
        const parsed = text === undefined ? undefined : parseRequestFile(text);
        if (parsed && "record" in parsed) {
          for (const g of parsed.record.decision.approvals.groups) {
            for (const o of g.owners) handles.add(o);
          }
        }
        const co = await this.codeowners();
        const rule = co === undefined ? undefined : ownersFor(parseCodeowners(co), path);
        for (const o of rule?.owners ?? []) handles.add(o);
      }
      const out: Record<string, string[]> = {};
      const { octokit, org } = this.#deps;
      for (const handle of handles) {
        const m = /^@([^/\s]+)\/([^/\s]+)$/.exec(handle.trim());
        if (!m || m[1]!.toLowerCase() !== org.toLowerCase()) continue;
        const key = `@${org.toLowerCase()}/${m[2]!.toLowerCase()}`;
        if (key in out) continue;
        try {
          const members = await octokit.paginate(octokit.rest.teams.listMembersInOrg, {
            org,
            team_slug: m[2]!,
            per_page: 100,
          });
          out[key] = members.map((u) => u.login);
        } catch (err) {
          const status = httpStatus(err);
          if (status !== 403 && status !== 404) throw err;
          // Unknown: it counts nobody (fail closed), and the gate says what to fix.
          this.#unreadableTeams[key] =
            `GitHub answered ${status} (${status === 404 ? "no such team, or " : ""}the token may not read the organisation's teams): ` +
            "Interlock's GitHub App needs the organisation permission Members: read, and GITHUB_TOKEN can never read teams";
        }
      }
      return out;
    });
  }

  async #requestPath(): Promise<string | undefined> {
    if (this.#src.knownPath !== undefined) return this.#src.knownPath;
    const pattern = requestPathPattern(this.id);
    return (await this.changedFiles()).find((f) => pattern.test(f.path))?.path;
  }

  #canApprove(login: string): Promise<boolean> {
    return this.#once(`permission:${login.toLowerCase()}`, async () => {
      const { octokit, owner, repo } = this.#deps;
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
          owner,
          repo,
          username: login,
        });
        return APPROVING_ROLES.has(data.role_name) || APPROVING_ROLES.has(data.permission);
      } catch (err) {
        if (httpStatus(err) === 404) return false; // not a collaborator (or an app)
        throw err;
      }
    });
  }

  #compare(): Promise<CompareData> {
    return this.#once("compare", async () => {
      const { octokit, owner, repo } = this.#deps;
      const { base, head } = this.#src.compare;
      const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
        owner,
        repo,
        basehead: `${base}...${head}`,
        per_page: 100,
      });
      if (data.total_commits > data.commits.length) {
        throw new Error(
          `pull request #${this.#src.number} has ${data.total_commits} commits; Interlock reads at most ${data.commits.length}`,
        );
      }
      const files: CompareData["files"] = [];
      for (const f of data.files ?? []) {
        files.push({ path: f.filename, status: changeStatus(f.status), blob: f.sha ?? undefined });
        if (f.status === "renamed" && f.previous_filename) {
          files.push({ path: f.previous_filename, status: "removed", blob: undefined });
        }
      }
      const person = (
        user: { login?: string } | null | undefined,
        git: { name?: string; email?: string } | null | undefined,
      ) => ({
        ...(user?.login ? { login: user.login } : {}),
        ...(git?.name ? { name: git.name } : {}),
        ...(git?.email ? { email: git.email } : {}),
      });
      const commits = data.commits.map((c) => ({
        sha: c.sha,
        author: person(c.author, c.commit.author),
        committer: person(c.committer, c.commit.committer),
        committedAt: c.commit.committer?.date,
      }));
      return { files, commits };
    });
  }

  /** Who pushed to the proposal's branch (the repository activity log). */
  async #pushers(): Promise<string[]> {
    const activity = await this.#activity();
    if ("unreadable" in activity) {
      this.#unreadablePushers = activity.unreadable;
      return [];
    }
    return activity
      .filter((a) => a.type !== "branch_deletion" && a.actor !== undefined)
      .map((a) => a.actor!);
  }

  /**
   * The repository activity of the proposal's branch, newest first (GitHub's record of who
   * pushed, created or deleted it: the authenticated account, whatever the commits say), or
   * why it could not be read. Not "nobody pushed": GitHub answers 403 or 404 to a token that may
   * not see it, and GitHub Enterprise Server before 3.12 has none. 1 call (paginated).
   */
  #activity(): Promise<ActivityEntry[] | { unreadable: string }> {
    return this.#once("activity", async () => {
      const { octokit, owner, repo } = this.#deps;
      try {
        const activity = await octokit.paginate(octokit.rest.repos.listActivities, {
          owner,
          repo,
          ref: this.#src.branchRef,
          per_page: 100,
        });
        return activity.map((a) => ({
          type: a.activity_type,
          before: a.before,
          after: a.after,
          ...(a.actor ? { actor: a.actor.login } : {}),
        }));
      } catch (err) {
        const status = httpStatus(err);
        if (status !== 403 && status !== 404) throw err;
        return {
          unreadable:
            `GitHub answered ${status} to the repository activity API (GET /repos/${owner}/${repo}/activity), ` +
            "the only record of who pushed to the proposal's branch: give Interlock's token read access to it " +
            "(GitHub Enterprise Server needs 3.12 or later)",
        };
      }
    });
  }

  /**
   * The commit with which Interlock's App filed the request: the baseline the head is compared
   * with. The App creates the branch at the default branch's tip and then commits the request
   * file onto it (the contents API), so in GitHub's activity log the branch's first creation is
   * by the App and the very next entry is the App's push from that creation to the filed
   * commit. A proposal counts only when the App created its branch (every creation of it),
   * made that first push, and opened its pull request; a look-alike made by anyone else
   * (GITHUB_TOKEN included), or a branch a writer pushed to before the App filed, never does.
   */
  #filed(): Promise<{ commit: string } | { reason: string }> {
    return this.#once("filed", async () => {
      const bot = this.#deps.botLogin;
      const isBot = (login: string | undefined) => login?.toLowerCase() === bot.toLowerCase();
      const branch = this.#src.branchRef.replace(/^refs\/heads\//, "");
      if (!isBot(this.#src.author)) {
        return {
          reason: `its pull request #${this.#src.number} was opened by ${this.#src.author}, not by Interlock's App (${bot}): only proposals the App files count`,
        };
      }
      const activity = await this.#activity();
      if ("unreadable" in activity) return { reason: activity.unreadable };
      const other = activity.find((a) => a.type === "branch_creation" && !isBot(a.actor));
      if (other !== undefined) {
        return {
          reason: `${branch} was created by ${other.actor ?? "an unknown account"}, not by Interlock's App (${bot}): only proposals the App files count`,
        };
      }
      // Newest first: the first creation is the last one listed, the App's filing just before it.
      const created = activity.findLastIndex((a) => a.type === "branch_creation");
      if (created === -1) {
        return {
          reason: `GitHub's activity log has no creation of ${branch} by Interlock's App (${bot})`,
        };
      }
      const creation = activity[created]!;
      const filing = activity[created - 1];
      if (
        filing === undefined ||
        filing.type !== "push" ||
        !isBot(filing.actor) ||
        filing.before !== creation.after
      ) {
        const what =
          filing === undefined
            ? "nothing was pushed to it"
            : `the next change to it was a ${filing.type.replace("_", " ")} by ${filing.actor ?? "an unknown account"}`;
        return {
          reason: `Interlock's App created ${branch} but did not file the request on it (${what}): only proposals the App files count`,
        };
      }
      return { commit: filing.after };
    });
  }

  /**
   * Who filed the request: Interlock's App, from a default-branch job, for the requester it
   * bound there (the dispatch sender or the intake issue's author, with the sponsor from the
   * configuration). Verified when the App created the branch, filed the request on it and
   * opened the pull request.
   */
  async authenticate(declared: RequesterFields): Promise<AuthenticatedRequester> {
    const filed = await this.#filed();
    if ("reason" in filed) return { verified: false, reason: filed.reason };
    return {
      verified: true,
      signer: declared.id,
      detail: `filed by Interlock's App (${this.#deps.botLogin}), which created its branch, filed the request on it in ${filed.commit.slice(0, 7)} and opened the pull request`,
      requester: declared,
    };
  }

  /** A file at a ref through the contents API; undefined if it does not exist there. */
  #read(path: string, ref: string): Promise<string | undefined> {
    return this.#once(`read:${ref}:${path}`, async () => {
      const { octokit, owner, repo } = this.#deps;
      try {
        const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref });
        if (Array.isArray(data) || data.type !== "file") return undefined;
        let text: string;
        if (data.encoding === "base64" && data.content !== undefined) {
          text = Buffer.from(data.content, "base64").toString("utf8");
        } else {
          // Over 1 MB the contents API leaves the content out; the blob API has it.
          const blob = await octokit.rest.git.getBlob({ owner, repo, file_sha: data.sha });
          text = Buffer.from(blob.data.content, "base64").toString("utf8");
        }
        this.#blobs.set(data.sha, text);
        return text;
      } catch (err) {
        if (httpStatus(err) === 404) return undefined;
        throw err;
      }
    });
  }

  /** Runs `fn` once per context and key; later calls share its promise. */
  #once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.#memo.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      const counter = this.#deps.counter;
      p = counter ? counter.measure("forge.context", fn) : fn();
      this.#memo.set(key, p);
    }
    return p;
  }
}

function reviewState(state: string): ReviewState | undefined {
  switch (state) {
    case "APPROVED":
      return "approved";
    case "CHANGES_REQUESTED":
      return "changes_requested";
    case "COMMENTED":
      return "commented";
    case "DISMISSED":
      return "dismissed";
    default:
      return undefined; // PENDING: not submitted
  }
}

/** GitHub's file statuses, mapped so that anything but a plain addition is visible. */
function changeStatus(status: string): ChangeStatus {
  switch (status) {
    case "added":
    case "copied":
      return "added";
    case "removed":
      return "removed";
    case "renamed":
      return "renamed";
    default:
      return "modified"; // modified, changed (mode), unchanged
  }
}
