import { parseConfig, type InterlockConfig } from "../../config/config.ts";
import type { PolicyAtBase } from "../../evidence/evidence.ts";
import { ownersFor, parseCodeowners } from "../../gate/codeowners.ts";
import { directoryOf, EMPTY_DIRECTORY, type IdentityDirectory } from "../../identity/directory.ts";
import { requestPathPattern } from "../../gate/collect.ts";
import { GONE_COMMIT, type ChangeStatus, type Unreadable } from "../../gate/snapshot.ts";
import { parseRequestFile } from "../../proposal/request-file.ts";
import type { RequesterFields } from "../../identity/requester.ts";
import type { AuthenticatedRequester, ForgeReview, ProposalContext } from "../forge.ts";
import type { ApiCallCounter } from "./api-call-counter.ts";
import { httpStatus, type GitHubClient } from "./octokit.ts";
import {
  queryTeamMembers,
  queryTexts,
  reviewState,
  type BaseFiles,
  type OrgTeams,
  type PullData,
} from "./pull-query.ts";

/**
 * One proposal (a pull request) at one head commit — the GitHub side of policy-bot's
 * pull.Context. The forge reads the pull request, its reviews, dismissals, files, commits, the
 * trust inputs and the organisation's teams in one GraphQL query (pull-query.ts) and hands them
 * over; the context adds the repository activity log (REST: who pushed, and what the App filed)
 * and one GraphQL query for the request file at the head and as filed. A merged proposal's
 * changes are what its merge brought into the default branch (one REST compare). Every method
 * is answered at most once per context (one gate evaluation).
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
  /** The pull request as the forge's GraphQL query read it. */
  readonly pull: PullData;
  /** CODEOWNERS and the configuration at `codeownersRef`, read with it. */
  readonly base: BaseFiles;
  /** The organisation's teams, read with it. */
  readonly teams: OrgTeams;
  /** Whether the changes and commits come from the REST compare (a merge) or the pull request. */
  readonly changesFrom: "pull" | "compare";
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

/** GitHub's committer of web and API merges: a machine, not a person who pushed. */
const WEB_FLOW = "web-flow";

interface ActivityEntry {
  readonly type: string;
  readonly before: string;
  readonly after: string;
  readonly actor?: string;
}

interface CompareData {
  readonly files: { path: string; status: ChangeStatus }[];
  readonly commits: {
    sha: string;
    author: { login?: string; name?: string; email?: string };
    committer: { login?: string; name?: string; email?: string };
    /** The committer date the commit records (REST compare only). */
    committedAt?: string | undefined;
  }[];
}

export class GitHubProposalContext implements ProposalContext {
  readonly id: string;
  readonly headCommit: string;
  readonly baseCommit: string;
  readonly #src: ContextSource;
  readonly #deps: ContextDeps;
  readonly #memo = new Map<string, Promise<unknown>>();
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
      const { commits } = await this.#changes();
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
    const { files } = await this.#changes();
    return files.map(({ path, status }) => ({ path, status }));
  }

  /** The proposal's changes and commits: the pull request's, or (merged) the merge's. */
  async #changes(): Promise<CompareData> {
    const { pull, changesFrom } = this.#src;
    if (changesFrom === "compare" || pull.files === undefined || pull.commits === undefined) {
      return this.#compare();
    }
    return { files: [...pull.files], commits: [...pull.commits] };
  }

  /**
   * The pull request's reviews (pending ones are private to their author and left out). An
   * approval or rejection carries whether its author has write access (GitHub's
   * authorCanPushToRepository); bots are recognised by their account type; a dismissed review
   * carries who dismissed it and what it was (the timeline's ReviewDismissedEvent; none known
   * keeps a rejection standing).
   */
  reviews(): Promise<ForgeReview[]> {
    return this.#once("reviews", async () => {
      const until = this.#src.reviewsUntil?.getTime();
      const reviews: ForgeReview[] = [];
      for (const r of this.#src.pull.reviews) {
        const state = reviewState(r.state);
        if (state === undefined || !r.submittedAt) continue;
        const at = new Date(r.submittedAt);
        if (until !== undefined && at.getTime() > until) continue;
        const who = r.login ?? "ghost";
        const matters = state !== "commented"; // a dismissed rejection may still stand
        const canApprove = !r.isBot && r.login !== undefined && matters && r.canPush;
        // GitHub answers commit null when the commit was garbage-collected or forcibly deleted
        // (https://docs.github.com/graphql/reference/objects#pullrequestreview; REST's
        // commit_id null). Such a review is kept: never on the head, so an approval is stale,
        // but a rejection still stands.
        const commit = r.commit ?? GONE_COMMIT;
        const dismissal =
          state === "dismissed"
            ? (this.#src.pull.dismissals.get(r.id) ?? {
                by: undefined,
                byBot: false,
                was: undefined,
              })
            : undefined;
        reviews.push({
          who,
          state,
          commit,
          at,
          isBot: r.isBot,
          verified: true,
          canApprove,
          ...(r.body ? { note: r.body } : {}),
          ...(dismissal ? { dismissal } : {}),
        });
      }
      return reviews;
    });
  }

  async readHead(path: string): Promise<string | undefined> {
    return (await this.#requestTexts(path)).head;
  }

  /**
   * The request file as Interlock's App filed it: at the commit the App filed it with
   * (never the movable refs/interlock/requests/<id>, which any writer can point elsewhere).
   * Undefined when the App did not file it: the gate then fails closed.
   */
  async readOriginal(path: string): Promise<string | undefined> {
    return (await this.#requestTexts(path)).original;
  }

  /**
   * The request file at the head (the merge, once merged) and as filed. Texts the forge's query
   * already read are not read again; the others in one GraphQL query.
   */
  #requestTexts(path: string): Promise<{ head?: string; original?: string }> {
    return this.#once(`texts:${path}`, async () => {
      const filed = await this.#filed();
      const head = `${this.#src.contentRef}:${path}`;
      const original = "reason" in filed ? undefined : `${filed.commit}:${path}`;
      const known = this.#src.pull.texts;
      const missing = [head, ...(original ? [original] : [])].filter((r) => !known.has(r));
      const read =
        missing.length === 0
          ? new Map<string, string | undefined>()
          : await queryTexts(this.#deps.octokit, this.#deps, missing);
      const text = (rev: string) => (known.has(rev) ? known.get(rev) : read.get(rev));
      const out: { head?: string; original?: string } = {};
      const h = text(head);
      if (h !== undefined) out.head = h;
      const o = original === undefined ? undefined : text(original);
      if (o !== undefined) out.original = o;
      return out;
    });
  }

  async codeowners(): Promise<string | undefined> {
    return this.#src.base.codeowners;
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
   * base, read with CODEOWNERS; undefined when there is none. One that does not parse throws
   * (the gate fails closed with the reason).
   */
  config(): Promise<InterlockConfig | undefined> {
    return this.#once("config", async () => {
      const text = this.#src.base.config;
      return text === undefined ? undefined : parseConfig(text);
    });
  }

  /**
   * The policy committed at the base: the revision its built bundle's manifest
   * (policies/dist/manifest.json, read with CODEOWNERS) records, which the executor checks
   * against the Wasm it loads before it decides the sealed original again; Interlock's shipped
   * defaults where the repository commits no bundle. A manifest that does not say which
   * revision it is counts as an incomplete bundle, which no decision matches.
   */
  async policy(): Promise<PolicyAtBase> {
    const text = this.#src.base.manifest;
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
  }

  /**
   * When the request was filed: the committer date of the commit Interlock's App filed it with
   * (the App writes the request's own time there), or why that is not known.
   */
  async filedAt(): Promise<{ at: Date } | { unknown: string }> {
    const filed = await this.#filed();
    if ("reason" in filed) return { unknown: filed.reason };
    const date =
      this.#src.pull.commitDates.get(filed.commit) ??
      (await this.#changes()).commits.find((c) => c.sha === filed.commit)?.committedAt;
    const at = date === undefined ? NaN : Date.parse(date);
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
      const { octokit, org } = this.#deps;
      const wanted = new Map<string, string>(); // key → slug
      for (const handle of handles) {
        const m = /^@([^/\s]+)\/([^/\s]+)$/.exec(handle.trim());
        if (!m || m[1]!.toLowerCase() !== org.toLowerCase()) continue;
        wanted.set(`@${org.toLowerCase()}/${m[2]!.toLowerCase()}`, m[2]!.toLowerCase());
      }
      let known = this.#src.teams;
      const first = known;
      const absent =
        "unreadable" in first
          ? []
          : [...wanted.values()].filter((slug) => !first.members.has(slug));
      if (!("unreadable" in known) && known.incomplete && absent.length > 0) {
        // Teams beyond the first answer's page (or larger than it): read those in full.
        const more = await queryTeamMembers(octokit, org, absent);
        known =
          "unreadable" in more
            ? more
            : { members: new Map([...known.members, ...more.members]), incomplete: false };
      }
      const out: Record<string, string[]> = {};
      for (const [key, slug] of wanted) {
        if ("unreadable" in known) {
          // Unknown: it counts nobody (fail closed), and the gate says what to fix.
          this.#unreadableTeams[key] = known.unreadable;
          continue;
        }
        const members = known.members.get(slug);
        if (members === undefined) {
          this.#unreadableTeams[key] =
            `GitHub lists no team ${slug} in ${org}: no such team, or Interlock's GitHub App may not see it (it needs the organisation permission Members: read)`;
          continue;
        }
        out[key] = [...members];
      }
      return out;
    });
  }

  async #requestPath(): Promise<string | undefined> {
    if (this.#src.knownPath !== undefined) return this.#src.knownPath;
    const pattern = requestPathPattern(this.id);
    return (await this.changedFiles()).find((f) => pattern.test(f.path))?.path;
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
        files.push({ path: f.filename, status: changeStatus(f.status) });
        if (f.status === "renamed" && f.previous_filename) {
          files.push({ path: f.previous_filename, status: "removed" });
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
