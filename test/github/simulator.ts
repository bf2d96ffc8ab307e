import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ownersFor, parseCodeowners } from "../../src/gate/codeowners.ts";
import { BareRepo, ZERO_SHA, type CommitInfo, type GitPerson } from "./bare-repo.ts";
import { answerGraphql, connection, fieldError, NotModelled } from "./graphql.ts";
import { OpenApiValidator } from "./openapi.ts";
import { iso, nodeId, Shapes, type Json, type SimUser, type UserType } from "./shapes.ts";

/**
 * A GitHub REST API simulator for testing the GitHub forge without github.com: an HTTP server
 * on 127.0.0.1 that speaks the subset of the API Interlock uses, over a REAL bare Git
 * repository (objects and refs are made with git plumbing, contents read with cat-file).
 *
 * It models what matters for safety: authenticated users (tokens), User and Bot accounts,
 * repository roles, organisation teams, pull requests whose head follows their branch, reviews
 * bound to the head they were given on, pushes by a given user (recorded in the activity log
 * like GitHub's), merges pinned to a head sha (409 when it moved, 405 when not mergeable),
 * branch protection with an admin bypass, check runs, comments, labels, and the settings a
 * `doctor` reads. Errors have GitHub's body shape ({message, documentation_url, status}).
 *
 * Every response body is validated against the operation's schema in GitHub's OpenAPI
 * description before it is sent; a mismatch is answered with a 500 and recorded in
 * `violations`, which `close()` turns into a thrown error, so the simulator cannot drift from
 * GitHub's real shapes.
 */

export type Role = "read" | "triage" | "write" | "maintain" | "admin";

const ROLE_RANK: Record<Role, number> = { read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

/** The legacy `permission` GitHub reports next to `role_name`. */
const LEGACY_PERMISSION: Record<Role, string> = {
  read: "read",
  triage: "read",
  write: "write",
  maintain: "write",
  admin: "admin",
};

const DOCS = "https://docs.github.com/rest";

export interface Protection {
  /** Pull requests need this many approving reviews (from people with write access). */
  readonly requiredApprovals?: number;
  /** Admins are held to the rules too (false: an admin can merge or push past them). */
  readonly enforceAdmins?: boolean;
  readonly requiredChecks?: readonly (string | RequiredCheck)[];
  readonly dismissStaleReviews?: boolean;
  readonly requireCodeOwnerReviews?: boolean;
  readonly requireLastPushApproval?: boolean;
  /** Logins allowed to push to the branch directly (a ruleset bypass list). */
  readonly bypass?: readonly string[];
}

/**
 * github.com behaviours the simulator models, each a switch that defaults to what github.com
 * does (the source is cited on each). A test turns one off only to show what it guards against;
 * end-to-end tests run with every switch at its default.
 */
export interface GitHubBehaviour {
  /**
   * How `GET /repos/{o}/{r}/activity` answers. Which token permission it needs is not in
   * GitHub's published permission tables, and GitHub answers 404 (or 403 "Resource not
   * accessible by integration") to a token that may not see a resource
   * (https://docs.github.com/rest/overview/troubleshooting-the-rest-api#404-not-found-for-an-existing-resource).
   * Default "readable" (the endpoint is `enabledForGitHubApps` in GitHub's OpenAPI description);
   * 403 and 404 model a token without the permission.
   */
  readonly activityApi: "readable" | 403 | 404;
  /**
   * Seconds after a merge during which `GET /commits/{sha}/pulls` does not yet list the merged
   * pull request: GitHub's commit→PR index lags ("a known lag for very recently merged PRs",
   * https://github.com/release-drafter/release-drafter/pull/1604; timing-dependent empty
   * results, https://github.com/release-drafter/release-drafter/issues/322). `GET /pulls`
   * reads the pull requests themselves and does not lag.
   */
  readonly associationLagSeconds: number;
  /**
   * Team members are readable by people in the organisation, and by an App only with the
   * organisation permission Members: read; GITHUB_TOKEN never reads them (404:
   * https://github.com/actions/github-script/issues/518,
   * https://github.com/pozil/auto-assign-issue/issues/91).
   */
  readonly teamsByTokenType: boolean;
  /**
   * "Allow GitHub Actions to create and approve pull requests" (off in new repositories) gates
   * PR creation by GITHUB_TOKEN, not only approval:
   * https://github.blog/changelog/2022-05-03-github-actions-prevent-github-actions-from-creating-and-approving-pull-requests
   */
  readonly actionsPullRequestSetting: boolean;
  /**
   * A check run belongs to the App whose token created it: GitHub Actions (id 15368) for
   * GITHUB_TOKEN, the App itself for its installation token
   * (https://docs.github.com/rest/checks/runs#create-a-check-run: "only GitHub Apps can
   * create check runs"; https://docs.github.com/actions/concepts/security/github_token).
   */
  readonly checkRunAppByToken: boolean;
  /**
   * Merges obey branch protection's required checks (every check run with the required name on
   * the head must pass, only from the pinned App when one is set: "Pass -1 to explicitly allow
   * any app", the protection API's `app_id`;
   * https://docs.github.com/pull-requests/collaborating-with-pull-requests/collaborating-on-repositories-with-code-quality-features/troubleshooting-required-status-checks)
   * and code-owner review ("Require review from Code Owners",
   * https://docs.github.com/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners).
   */
  readonly enforceAtMerge: boolean;
  /**
   * Which events start workflow runs, by who caused them: "events triggered by the
   * GITHUB_TOKEN, with the exception of workflow_dispatch and repository_dispatch, will not
   * create a new workflow run" (https://docs.github.com/actions/concepts/security/github_token);
   * on github.com since 2026, `pull_request` runs for a pull request created or updated by
   * GITHUB_TOKEN are created waiting for a person's approval instead (the note "If you need
   * workflow runs from workflow-created pull requests to execute without requiring approval, use
   * a GitHub App installation access token" on the same page). An App's token starts runs.
   */
  readonly workflowTriggerRules: boolean;
}

/** What an event does to a workflow listening for it. */
export type WorkflowStart = "runs" | "none" | "awaiting-approval";

/** github.com's behaviour: every switch on. */
export const GITHUB_COM: GitHubBehaviour = {
  activityApi: "readable",
  associationLagSeconds: 60,
  teamsByTokenType: true,
  actionsPullRequestSetting: true,
  checkRunAppByToken: true,
  enforceAtMerge: true,
  workflowTriggerRules: true,
};

/** The GitHub App GitHub Actions' GITHUB_TOKEN belongs to. */
export const GITHUB_ACTIONS_APP = { id: 15368, slug: "github-actions", name: "GitHub Actions" };

/** A required check: its name and, when pinned, the App that must provide it. */
export interface RequiredCheck {
  readonly context: string;
  readonly appId?: number;
}

export interface SimulatorOptions {
  readonly behaviour?: Partial<GitHubBehaviour>;
  readonly owner?: string;
  readonly repo?: string;
  readonly defaultBranch?: string;
  /** The simulator's clock (server-set times: reviews, merges, activity). */
  readonly now?: () => Date;
}

interface Pull {
  readonly number: number;
  readonly id: number;
  title: string;
  body: string | null;
  readonly author: string;
  readonly head: string;
  readonly base: string;
  state: "open" | "closed";
  merged: boolean;
  headSha: string;
  baseSha: string;
  mergeCommit: string | null;
  mergedAt: Date | null;
  mergedBy: string | null;
  closedAt: Date | null;
  readonly createdAt: Date;
  updatedAt: Date;
  readonly labels: string[];
  readonly maintainerCanModify: boolean;
}

interface Review {
  readonly id: number;
  readonly pull: number;
  readonly user: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
  readonly body: string;
  readonly commitId: string;
  readonly submittedAt: Date | null;
}

interface Comment {
  readonly id: number;
  readonly issue: number;
  readonly user: string;
  readonly body: string;
  readonly at: Date;
}

interface CheckRun {
  readonly id: number;
  readonly name: string;
  readonly headSha: string;
  status: string;
  conclusion: string | null;
  title: string | null;
  summary: string | null;
  readonly externalId: string | null;
  at: Date;
  readonly by: string;
  readonly app: { readonly id: number; readonly slug: string; readonly name: string };
}

interface Activity {
  readonly id: number;
  readonly before: string;
  readonly after: string;
  readonly ref: string;
  readonly at: Date;
  readonly type: "push" | "force_push" | "branch_creation" | "branch_deletion" | "pr_merge";
  readonly actor: string;
}

interface Team {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  readonly members: Set<string>;
}

/** A failure to answer instead of the real response (rate limits, outages). */
export interface InjectedFailure {
  readonly method?: string;
  /** Matches the request path (e.g. /\/pulls$/). */
  readonly path: RegExp;
  readonly status: number;
  readonly message: string;
  readonly headers?: Record<string, string>;
  /** How many requests fail (default 1). */
  times?: number;
}

interface Ctx {
  readonly method: string;
  readonly template: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly actor: SimUser;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

type Handler = (ctx: Ctx) => Promise<Reply>;

interface Route {
  readonly method: string;
  readonly template: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly handler: Handler;
}

/** An error answered with GitHub's error body. `body: false` sends none (as some 422s do). */
class HttpError extends Error {
  readonly status: number;
  readonly errors?: readonly (Json | string)[];
  readonly noBody: boolean;
  constructor(
    status: number,
    message: string,
    opts: { errors?: (Json | string)[]; noBody?: boolean } = {},
  ) {
    super(message);
    this.status = status;
    if (opts.errors) this.errors = opts.errors;
    this.noBody = opts.noBody ?? false;
  }
}

const notFound = () => new HttpError(404, "Not Found");

function checkOf(c: string | RequiredCheck): RequiredCheck {
  return typeof c === "string" ? { context: c } : c;
}

export class GitHubSimulator {
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch: string;
  readonly git: BareRepo;
  /** Responses that did not match GitHub's OpenAPI description (should stay empty). */
  readonly violations: string[] = [];
  /** Every request answered: "METHOD /path → status". */
  readonly log: string[] = [];
  /** GraphQL requests answered (POST /graphql), counted apart from REST calls. */
  graphqlCalls = 0;
  readonly now: () => Date;
  /** The github.com behaviours in force (see GitHubBehaviour). */
  behaviour: GitHubBehaviour;

  readonly #server: Server;
  /** GitHub Apps by their bot login: id, slug, and whether they may read org members. */
  readonly #apps = new Map<
    string,
    { id: number; slug: string; name: string; membersRead: boolean }
  >();
  /** Commits that no longer exist (force-pushed away and garbage-collected). */
  readonly #gone = new Set<string>();
  readonly #validator: OpenApiValidator;
  readonly #routes: Route[] = [];
  readonly #users = new Map<string, SimUser>();
  readonly #tokens = new Map<string, string>();
  readonly #roles = new Map<string, Role>();
  readonly #teams = new Map<string, Team>();
  readonly #pulls: Pull[] = [];
  readonly #reviews: Review[] = [];
  /** Pull requests closed or reopened through the API, as issue events. */
  readonly #closures: { id: number; pull: number; actor: string; at: Date; event: string }[] = [];
  /** Repository dispatch events, delivered to the workflow runner (eventsSince). */
  readonly #dispatches: Extract<SimEvent, { kind: "repository_dispatch" }>[] = [];
  readonly #comments: Comment[] = [];
  readonly #labels = new Map<
    string,
    { id: number; name: string; color: string; description: string | null }
  >();
  readonly #checkRuns: CheckRun[] = [];
  /** Review dismissals: who dismissed which review, and what it was (the issue timeline). */
  readonly #dismissals: {
    id: number;
    pull: number;
    reviewId: number;
    state: string;
    actor: string;
    message: string | null;
    at: Date;
  }[] = [];
  readonly #activity: Activity[] = [];
  readonly #protection = new Map<string, Protection>();
  readonly #failures: InjectedFailure[] = [];
  #tamper: ((body: unknown) => unknown) | undefined;
  #before: ((method: string, path: string) => Promise<void> | void) | undefined;
  #workflow = { default_workflow_permissions: "read", can_approve_pull_request_reviews: false };
  #shapes!: Shapes;
  #nextId = 1000;
  #nextNumber = 1;
  readonly #created: Date;

  private constructor(git: BareRepo, opts: SimulatorOptions) {
    this.git = git;
    this.owner = opts.owner ?? "acme";
    this.repo = opts.repo ?? "approvals";
    this.defaultBranch = opts.defaultBranch ?? "main";
    this.now = opts.now ?? (() => new Date());
    this.behaviour = { ...GITHUB_COM, ...opts.behaviour };
    this.#created = this.now();
    this.#validator = OpenApiValidator.load();
    this.#server = createServer((req, res) => void this.#serve(req, res));
    this.#addUser(this.owner, "Organization");
    this.#addUser("web-flow", "User", { name: "GitHub", email: "noreply@github.com" });
    this.#registerRoutes();
  }

  /** Starts a simulator on 127.0.0.1 (a free port) over a new bare repository. */
  static async start(opts: SimulatorOptions = {}): Promise<GitHubSimulator> {
    const git = await BareRepo.create(opts.defaultBranch ?? "main");
    const sim = new GitHubSimulator(git, opts);
    await new Promise<void>((resolve) => sim.#server.listen(0, "127.0.0.1", resolve));
    const { port } = sim.#server.address() as AddressInfo;
    sim.#shapes = new Shapes({
      api: `http://127.0.0.1:${port}`,
      html: "https://github.test",
      owner: sim.owner,
      repo: sim.repo,
      userByEmail: (email) => sim.#userByEmail(email),
      ownerUser: () => sim.#users.get(sim.owner.toLowerCase())!,
    });
    return sim;
  }

  /** The API root to give Octokit as baseUrl. */
  get url(): string {
    return this.#shapes.api;
  }

  /** Stops the server, removes the repository, and throws if any response violated the schema. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.git.remove();
    this.assertValid();
  }

  /** Throws when a response did not match GitHub's OpenAPI description. */
  assertValid(): void {
    if (this.violations.length > 0) {
      throw new Error(
        `the simulator sent responses GitHub would not:\n${this.violations.join("\n")}`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Setting the scene

  /** Adds an account and returns its token. */
  addUser(
    login: string,
    opts: { type?: UserType; role?: Role; name?: string; email?: string } = {},
  ): string {
    const user = this.#addUser(
      login,
      opts.type ?? (login.endsWith("[bot]") ? "Bot" : "User"),
      opts,
    );
    if (opts.role) this.#roles.set(user.login.toLowerCase(), opts.role);
    const token = `ghs_${randomBytes(18).toString("base64url")}`;
    this.#tokens.set(token, user.login.toLowerCase());
    return token;
  }

  /** The account (throws if unknown). */
  user(login: string): SimUser {
    const u = this.#users.get(login.toLowerCase());
    if (!u) throw new Error(`no user ${login} in the simulator`);
    return u;
  }

  /** A token of the user (a new one each time). */
  token(login: string): string {
    const u = this.user(login);
    const token = `ghs_${randomBytes(18).toString("base64url")}`;
    this.#tokens.set(token, u.login.toLowerCase());
    return token;
  }

  /**
   * Registers `login` (an "…[bot]" account, added with addUser) as a GitHub App's bot, so its
   * check runs belong to that App; `membersRead` is the organisation permission Members: read.
   */
  addApp(login: string, app: { id: number; slug: string; name?: string; membersRead?: boolean }) {
    this.#apps.set(login.toLowerCase(), {
      id: app.id,
      slug: app.slug,
      name: app.name ?? app.slug,
      membersRead: app.membersRead ?? false,
    });
  }

  /** Changes github.com behaviours (see GitHubBehaviour). */
  behave(b: Partial<GitHubBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...b };
  }

  /**
   * Garbage-collects a commit that was force-pushed away: GitHub then answers reviews given on it
   * with `commit_id: null` ("If the commit object was garbage collected or forcibly deleted, then
   * it no longer exists in Git and this value will be null": the pull-request-review schema,
   * https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request).
   */
  collectGarbage(sha: string): void {
    this.#gone.add(sha);
  }

  /** Whether `event` caused by `actor` starts a workflow run (GitHubBehaviour.workflowTriggerRules). */
  workflowStart(event: string, actor: string): WorkflowStart {
    if (!this.behaviour.workflowTriggerRules) return "runs";
    if (actor.toLowerCase() !== "github-actions[bot]") return "runs";
    if (event === "workflow_dispatch" || event === "repository_dispatch") return "runs";
    if (event === "pull_request") return "awaiting-approval";
    return "none";
  }

  setRole(login: string, role: Role | undefined): void {
    const key = this.user(login).login.toLowerCase();
    if (role === undefined) this.#roles.delete(key);
    else this.#roles.set(key, role);
  }

  addTeam(slug: string, members: readonly string[], name = slug): void {
    this.#teams.set(slug.toLowerCase(), {
      id: this.#id(),
      slug: slug.toLowerCase(),
      name,
      members: new Set(members.map((m) => this.user(m).login.toLowerCase())),
    });
  }

  addTeamMember(slug: string, login: string): void {
    const team = this.#teams.get(slug.toLowerCase());
    if (!team) throw new Error(`no team ${slug}`);
    team.members.add(this.user(login).login.toLowerCase());
  }

  protect(branch: string, protection: Protection): void {
    this.#protection.set(branch, protection);
  }

  setWorkflowPermissions(p: {
    defaultPermissions?: "read" | "write";
    canApprovePullRequests?: boolean;
  }) {
    this.#workflow = {
      default_workflow_permissions:
        p.defaultPermissions ?? this.#workflow.default_workflow_permissions,
      can_approve_pull_request_reviews:
        p.canApprovePullRequests ?? this.#workflow.can_approve_pull_request_reviews,
    };
  }

  /**
   * Rewrites the next response body before it is validated: a test of the validation itself
   * (a simulator bug that drops a field must fail the test, not reach the client).
   */
  tamperNext(edit: (body: unknown) => unknown): void {
    this.#tamper = edit;
  }

  /**
   * Runs `fn` before each request is handled (once it is known to be a modelled route): lets
   * a test act in the window between two of a client's requests, as a racing writer would.
   */
  beforeRequest(fn: (method: string, path: string) => Promise<void> | void): void {
    this.#before = fn;
  }

  /** Makes the next matching request(s) fail, e.g. with a secondary rate limit. */
  failNext(f: InjectedFailure): void {
    this.#failures.push({ ...f, times: f.times ?? 1 });
  }

  /** The first commit of the default branch, by the organisation's admin. */
  async seed(files: Record<string, string>, message = "Initial commit"): Promise<string> {
    const tree = await this.git.buildTree(
      undefined,
      Object.entries(files).map(([path, content]) => ({ path, content })),
    );
    const who = this.#person(this.user(this.owner));
    const commit = await this.git.commitTree({
      tree,
      parents: [],
      message,
      author: who,
      committer: who,
    });
    await this.#moveRef(`refs/heads/${this.defaultBranch}`, commit, undefined, this.owner);
    return commit;
  }

  /**
   * `git push` by `login`: a commit authored and committed by that user on `branch` (created
   * from the default branch if missing), changing `files` (null deletes). Branch protection
   * applies, and the activity log records `login` as the pusher whatever the commit claims.
   * Returns the new commit.
   */
  async push(
    login: string,
    branch: string,
    files: Record<string, string | null>,
    opts: { message?: string; date?: Date; as?: { name: string; email: string } } = {},
  ): Promise<string> {
    const user = this.user(login);
    const ref = `refs/heads/${branch}`;
    const old = await this.git.resolve(ref);
    const parent = old ?? (await this.git.resolve(`refs/heads/${this.defaultBranch}`))!;
    const base = await this.git.resolve(parent, "tree");
    const tree = await this.git.buildTree(
      base,
      Object.entries(files).map(([path, content]) =>
        content === null ? { path, sha: null } : { path, content },
      ),
    );
    // `as`: the name and e-mail written into the commit, which anyone can set to anything.
    const who = { ...this.#person(user), ...opts.as, ...(opts.date ? { date: opts.date } : {}) };
    const commit = await this.git.commitTree({
      tree,
      parents: [parent],
      message: opts.message ?? `Update ${Object.keys(files).join(", ")}`,
      author: who,
      committer: who,
    });
    this.#checkPush(user, branch);
    if (!(await this.#moveRef(ref, commit, old, user.login))) {
      throw new Error(`push to ${branch} lost a race`);
    }
    return commit;
  }

  /** A client acting as `login` over HTTP (for reviews, merges, comments in tests). */
  as(login: string): SimClient {
    return new SimClient(this.url, this.token(login), `/repos/${this.owner}/${this.repo}`);
  }

  /** The pull request from interlock/<id> (or a branch name), or undefined. */
  pullFor(
    idOrBranch: string,
  ): { number: number; headSha: string; state: string; merged: boolean } | undefined {
    const pulls = [...this.#pulls].reverse();
    const pr =
      pulls.find((p) => p.head === idOrBranch) ??
      pulls.find((p) => p.head === `interlock/${idOrBranch}`);
    return pr && { number: pr.number, headSha: pr.headSha, state: pr.state, merged: pr.merged };
  }

  /** Labels of a pull request. */
  labelsOf(number: number): string[] {
    return [...(this.#pulls.find((p) => p.number === number)?.labels ?? [])];
  }

  /** The body of a pull request. */
  bodyOf(number: number): string | null {
    return this.#pulls.find((p) => p.number === number)?.body ?? null;
  }

  checkRuns(): readonly CheckRun[] {
    return this.#checkRuns;
  }

  comments(number: number): string[] {
    return this.#comments.filter((c) => c.issue === number).map((c) => c.body);
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let route: Route | undefined;
    let reply: Reply;
    try {
      const failure = this.#failures.find(
        (f) => (f.method === undefined || f.method === method) && f.path.test(url.pathname),
      );
      if (failure) {
        if (--failure.times! <= 0) this.#failures.splice(this.#failures.indexOf(failure), 1);
        reply = {
          status: failure.status,
          body: {
            message: failure.message,
            documentation_url: DOCS,
            status: String(failure.status),
          },
          headers: failure.headers ?? {},
        };
      } else {
        const actor = this.#authenticate(req.headers.authorization);
        let params: Record<string, string> = {};
        for (const r of this.#routes) {
          if (r.method !== method) continue;
          const m = r.regex.exec(url.pathname);
          if (!m) continue;
          route = r;
          params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
          break;
        }
        if (route === undefined) {
          this.violations.push(`not modelled by the simulator: ${method} ${url.pathname}`);
          throw notFound();
        }
        if (params.owner !== undefined && params.owner.toLowerCase() !== this.owner.toLowerCase()) {
          throw notFound();
        }
        if (params.repo !== undefined && params.repo.toLowerCase() !== this.repo.toLowerCase()) {
          throw notFound();
        }
        if (params.org !== undefined && params.org.toLowerCase() !== this.owner.toLowerCase()) {
          throw notFound();
        }
        let body: Record<string, unknown> = {};
        if (raw.trim() !== "") {
          try {
            body = JSON.parse(raw) as Record<string, unknown>;
          } catch {
            throw new HttpError(400, "Problems parsing JSON");
          }
        }
        await this.#before?.(method, url.pathname);
        reply = await route.handler({
          method,
          template: route.template,
          params,
          query: url.searchParams,
          body,
          actor,
        });
      }
    } catch (err) {
      if (err instanceof HttpError) {
        reply = err.noBody
          ? { status: err.status }
          : {
              status: err.status,
              body: {
                message: err.message,
                documentation_url: DOCS,
                status: String(err.status),
                ...(err.errors ? { errors: err.errors } : {}),
              },
            };
      } else {
        const msg = `simulator error in ${method} ${url.pathname}: ${(err as Error).stack ?? String(err)}`;
        this.violations.push(msg);
        reply = { status: 500, body: { message: msg, documentation_url: DOCS, status: "500" } };
      }
    }
    if (this.#tamper !== undefined && reply.body !== undefined) {
      reply = { ...reply, body: this.#tamper(reply.body) };
      this.#tamper = undefined;
    }
    if (route !== undefined && route.template !== "/graphql") {
      try {
        const errors = this.#validator.check(method, route.template, reply.status, reply.body);
        if (errors.length > 0) {
          this.violations.push(
            `${method} ${route.template} → ${reply.status}:\n  ${errors.join("\n  ")}`,
          );
          reply = {
            status: 500,
            body: {
              message: "simulator: the response does not match GitHub's OpenAPI description",
            },
          };
        }
      } catch (err) {
        this.violations.push(String((err as Error).message));
        reply = { status: 500, body: { message: String((err as Error).message) } };
      }
    }
    this.log.push(`${method} ${url.pathname}${url.search} → ${reply.status}`);
    const reset = Math.floor(this.now().getTime() / 1000) + 3600;
    const headers: Record<string, string> = {
      "x-github-api-version-selected": "2022-11-28",
      "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": String(reset),
      "x-ratelimit-used": "1",
      "x-ratelimit-resource": route?.template === "/graphql" ? "graphql" : "core",
      ...reply.headers,
    };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
    } else {
      res.writeHead(reply.status, {
        ...headers,
        "content-type": "application/json; charset=utf-8",
      });
      res.end(JSON.stringify(reply.body));
    }
  }

  #authenticate(header: string | undefined): SimUser {
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? "");
    const login = m ? this.#tokens.get(m[1]!) : undefined;
    if (login === undefined) throw new HttpError(401, "Bad credentials");
    return this.#users.get(login)!;
  }

  /**
   * Registers an operation under GitHub's path template. Parameters in `greedy` may contain
   * slashes (refs, paths, branch names), whether or not the client encoded them.
   */
  #route(method: string, template: string, handler: Handler, greedy: readonly string[] = []) {
    const names: string[] = [];
    const pattern = template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
      names.push(name);
      return greedy.includes(name) ? "(.+)" : "([^/]+)";
    });
    this.#routes.push({ method, template, regex: new RegExp(`^${pattern}$`), names, handler });
  }

  /** A page of `items` (per_page, page) with GitHub's Link header. */
  #page<T>(ctx: Ctx, items: readonly T[], map: (t: T) => unknown): Reply {
    const per = Math.min(100, Math.max(1, Number(ctx.query.get("per_page")) || 30));
    const page = Math.max(1, Number(ctx.query.get("page")) || 1);
    const last = Math.max(1, Math.ceil(items.length / per));
    const slice = items.slice((page - 1) * per, page * per);
    const links: string[] = [];
    const link = (p: number, rel: string) => {
      const q = new URLSearchParams(ctx.query);
      q.set("page", String(p));
      q.set("per_page", String(per));
      const path = ctx.template.replace(/\{([a-z_]+)\}/g, (_, n: string) =>
        encodeURIComponent(ctx.params[n]!),
      );
      links.push(`<${this.url}${path}?${q.toString()}>; rel="${rel}"`);
    };
    if (page < last) {
      link(page + 1, "next");
      link(last, "last");
    }
    if (page > 1) {
      link(1, "first");
      link(page - 1, "prev");
    }
    return {
      status: 200,
      body: slice.map(map),
      headers: links.length ? { link: links.join(", ") } : {},
    };
  }

  // -------------------------------------------------------------------------------------------
  // State helpers

  #id(): number {
    return this.#nextId++;
  }

  #addUser(login: string, type: UserType, o: { name?: string; email?: string } = {}): SimUser {
    const id = this.#id();
    const user: SimUser = {
      login,
      id,
      type,
      name: o.name ?? login,
      email: o.email ?? `${id}+${login}@users.noreply.github.test`,
    };
    this.#users.set(login.toLowerCase(), user);
    return user;
  }

  #userByEmail(email: string): SimUser | undefined {
    const e = email.toLowerCase();
    return [...this.#users.values()].find((u) => u.email.toLowerCase() === e);
  }

  #person(u: SimUser, date = this.now()): GitPerson {
    return { name: u.name, email: u.email, date };
  }

  #role(login: string): Role | undefined {
    return this.#roles.get(login.toLowerCase());
  }

  /** The actor needs at least `min` on the repository (a private one: no role, no repository). */
  #need(actor: SimUser, min: Role): void {
    const role = this.#role(actor.login);
    if (role === undefined) throw notFound();
    if (ROLE_RANK[role] < ROLE_RANK[min]) {
      throw new HttpError(403, `Must have ${min} access to repository`);
    }
  }

  #isAdmin(login: string): boolean {
    return this.#role(login) === "admin";
  }

  #association(login: string): string {
    if (login.toLowerCase() === this.owner.toLowerCase()) return "OWNER";
    if ([...this.#teams.values()].some((t) => t.members.has(login.toLowerCase()))) return "MEMBER";
    return this.#role(login) ? "COLLABORATOR" : "NONE";
  }

  /** Direct updates of a protected branch need a bypass (or an admin the rules do not bind). */
  #checkPush(actor: SimUser, branch: string): void {
    const p = this.#protection.get(branch);
    if (p === undefined || p.requiredApprovals === undefined) return;
    if (p.bypass?.some((b) => b.toLowerCase() === actor.login.toLowerCase())) return;
    if (this.#isAdmin(actor.login) && !p.enforceAdmins) return;
    throw new HttpError(422, `Protected branch update failed for refs/heads/${branch}.`);
  }

  /**
   * Moves a ref with compare-and-swap (old undefined: must not exist), records branch
   * activity, and lets open pull requests follow their head branch.
   */
  async #moveRef(
    ref: string,
    sha: string,
    old: string | undefined,
    actor: string,
    type?: Activity["type"],
  ): Promise<boolean> {
    if (!(await this.git.updateRef(ref, sha, old))) return false;
    if (ref.startsWith("refs/heads/")) {
      const kind =
        type ??
        (old === undefined
          ? "branch_creation"
          : (await this.git.isAncestor(old, sha))
            ? "push"
            : "force_push");
      this.#activity.push({
        id: this.#id(),
        before: old ?? ZERO_SHA,
        after: sha,
        ref,
        at: this.now(),
        type: kind,
        actor,
      });
      const branch = ref.slice("refs/heads/".length);
      for (const pr of this.#pulls) {
        if (pr.state === "open" && pr.head === branch) {
          pr.headSha = sha;
          pr.baseSha = (await this.git.resolve(`refs/heads/${pr.base}`)) ?? pr.baseSha;
          pr.updatedAt = this.now();
        }
      }
    }
    return true;
  }

  async #deleteRef(ref: string, actor: string): Promise<void> {
    const old = await this.git.resolve(ref, "any");
    await this.git.deleteRef(ref);
    if (ref.startsWith("refs/heads/")) {
      const branch = ref.slice("refs/heads/".length);
      this.#activity.push({
        id: this.#id(),
        before: old ?? ZERO_SHA,
        after: ZERO_SHA,
        ref,
        at: this.now(),
        type: "branch_deletion",
        actor,
      });
      for (const pr of this.#pulls) {
        if (pr.state === "open" && pr.head === branch) {
          pr.state = "closed"; // GitHub closes a pull request whose head branch is deleted
          pr.closedAt = this.now();
        }
      }
    }
  }

  async #commitOf(rev: string): Promise<CommitInfo> {
    const sha = await this.git.resolve(rev);
    const c = sha === undefined ? undefined : await this.git.commit(sha);
    if (c === undefined) throw new HttpError(404, `No commit found for SHA: ${rev}`);
    return c;
  }

  #pull(number: string | number): Pull {
    const pr = this.#pulls.find((p) => p.number === Number(number));
    if (pr === undefined) throw notFound();
    return pr;
  }

  /** The commit a pull request's files and commits are counted from. */
  async #pullBase(pr: Pull): Promise<string> {
    const base = pr.merged && pr.mergeCommit ? `${pr.mergeCommit}^1` : `refs/heads/${pr.base}`;
    const tip = (await this.git.resolve(base)) ?? pr.baseSha;
    return (await this.git.mergeBase(tip, pr.headSha)) ?? tip;
  }

  async #pullJson(pr: Pull, full: boolean): Promise<Json> {
    const s = this.#shapes;
    const a = s.repoApi;
    const n = pr.number;
    const repository = s.repository(this.defaultBranch, this.#created, this.now());
    const ownerJson = s.user(this.user(this.owner));
    const side = (ref: string, sha: string) => ({
      label: `${this.owner}:${ref}`,
      ref,
      sha,
      user: ownerJson,
      repo: repository,
    });
    const link = (href: string) => ({ href });
    const out: Json = {
      url: `${a}/pulls/${n}`,
      id: pr.id,
      node_id: nodeId("PullRequest", pr.id),
      html_url: `${s.repoHtml}/pull/${n}`,
      diff_url: `${s.repoHtml}/pull/${n}.diff`,
      patch_url: `${s.repoHtml}/pull/${n}.patch`,
      issue_url: `${a}/issues/${n}`,
      commits_url: `${a}/pulls/${n}/commits`,
      review_comments_url: `${a}/pulls/${n}/comments`,
      review_comment_url: `${a}/pulls/comments{/number}`,
      comments_url: `${a}/issues/${n}/comments`,
      statuses_url: `${a}/statuses/${pr.headSha}`,
      number: n,
      state: pr.state,
      locked: false,
      title: pr.title,
      user: s.user(this.user(pr.author)),
      body: pr.body,
      labels: pr.labels.map((l) => s.label(this.#labels.get(l)!)),
      milestone: null,
      active_lock_reason: null,
      created_at: iso(pr.createdAt),
      updated_at: iso(pr.updatedAt),
      closed_at: pr.closedAt ? iso(pr.closedAt) : null,
      merged_at: pr.mergedAt ? iso(pr.mergedAt) : null,
      merge_commit_sha: pr.mergeCommit,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: side(pr.head, pr.headSha),
      base: side(pr.base, pr.baseSha),
      _links: {
        self: link(`${a}/pulls/${n}`),
        html: link(`${s.repoHtml}/pull/${n}`),
        issue: link(`${a}/issues/${n}`),
        comments: link(`${a}/issues/${n}/comments`),
        review_comments: link(`${a}/pulls/${n}/comments`),
        review_comment: link(`${a}/pulls/comments{/number}`),
        commits: link(`${a}/pulls/${n}/commits`),
        statuses: link(`${a}/statuses/${pr.headSha}`),
      },
      author_association: this.#association(pr.author),
      auto_merge: null,
      draft: false,
    };
    if (!full) return out;
    const base = await this.#pullBase(pr);
    const files = await this.git.diff(base, pr.headSha);
    const commits = await this.git.log([`${base}..${pr.headSha}`]);
    const mergeable =
      pr.state === "open"
        ? (await this.git.mergeTree(`refs/heads/${pr.base}`, pr.headSha)) !== undefined
        : null;
    return {
      ...out,
      merged: pr.merged,
      mergeable,
      rebaseable: mergeable,
      mergeable_state: pr.state !== "open" ? "unknown" : mergeable ? "clean" : "dirty",
      merged_by: pr.mergedBy ? s.user(this.user(pr.mergedBy)) : null,
      comments: this.#comments.filter((c) => c.issue === n).length,
      review_comments: 0,
      maintainer_can_modify: pr.maintainerCanModify,
      commits: commits.length,
      additions: files.reduce((x, f) => x + f.additions, 0),
      deletions: files.reduce((x, f) => x + f.deletions, 0),
      changed_files: files.length,
    };
  }

  #reviewJson(r: Review): Json {
    const s = this.#shapes;
    const html = `${s.repoHtml}/pull/${r.pull}#pullrequestreview-${r.id}`;
    return {
      id: r.id,
      node_id: nodeId("PullRequestReview", r.id),
      user: s.user(this.user(r.user)),
      body: r.body,
      state: r.state,
      html_url: html,
      pull_request_url: `${s.repoApi}/pulls/${r.pull}`,
      _links: { html: { href: html }, pull_request: { href: `${s.repoApi}/pulls/${r.pull}` } },
      ...(r.submittedAt ? { submitted_at: iso(r.submittedAt) } : {}),
      commit_id: this.#gone.has(r.commitId) ? null : r.commitId,
      author_association: this.#association(r.user),
    };
  }

  #commentJson(c: Comment): Json {
    const s = this.#shapes;
    return {
      id: c.id,
      node_id: nodeId("IssueComment", c.id),
      url: `${s.repoApi}/issues/comments/${c.id}`,
      html_url: `${s.repoHtml}/pull/${c.issue}#issuecomment-${c.id}`,
      body: c.body,
      user: s.user(this.user(c.user)),
      created_at: iso(c.at),
      updated_at: iso(c.at),
      issue_url: `${s.repoApi}/issues/${c.issue}`,
      author_association: this.#association(c.user),
    };
  }

  #checkRunJson(c: CheckRun): Json {
    const s = this.#shapes;
    return {
      id: c.id,
      head_sha: c.headSha,
      node_id: nodeId("CheckRun", c.id),
      external_id: c.externalId,
      url: `${s.repoApi}/check-runs/${c.id}`,
      html_url: `${s.repoHtml}/runs/${c.id}`,
      details_url: `${s.repoHtml}/runs/${c.id}`,
      status: c.status,
      conclusion: c.conclusion,
      started_at: iso(c.at),
      completed_at: c.status === "completed" ? iso(c.at) : null,
      output: {
        title: c.title,
        summary: c.summary,
        text: null,
        annotations_count: 0,
        annotations_url: `${s.repoApi}/check-runs/${c.id}/annotations`,
      },
      name: c.name,
      check_suite: { id: 1 },
      app: s.app(this.user(this.owner), c.app),
      pull_requests: [],
    };
  }

  #teamJson(t: Team): Json {
    return this.#shapes.team({ id: t.id, slug: t.slug, name: t.name, description: null });
  }

  #protectionJson(branch: string, p: Protection): Json {
    const url = `${this.#shapes.repoApi}/branches/${branch}/protection`;
    return {
      url,
      enabled: true,
      ...(p.requiredChecks
        ? {
            required_status_checks: {
              url: `${url}/required_status_checks`,
              strict: false,
              contexts: p.requiredChecks.map((c) => checkOf(c).context),
              checks: p.requiredChecks.map((c) => ({
                context: checkOf(c).context,
                app_id: checkOf(c).appId ?? null,
              })),
              contexts_url: `${url}/required_status_checks/contexts`,
            },
          }
        : {}),
      enforce_admins: { url: `${url}/enforce_admins`, enabled: p.enforceAdmins ?? false },
      ...(p.requiredApprovals !== undefined
        ? {
            required_pull_request_reviews: {
              url: `${url}/required_pull_request_reviews`,
              dismiss_stale_reviews: p.dismissStaleReviews ?? false,
              require_code_owner_reviews: p.requireCodeOwnerReviews ?? false,
              required_approving_review_count: p.requiredApprovals,
              require_last_push_approval: p.requireLastPushApproval ?? false,
            },
          }
        : {}),
      required_linear_history: { enabled: false },
      allow_force_pushes: { enabled: false },
      allow_deletions: { enabled: false },
      block_creations: { enabled: false },
      required_conversation_resolution: { enabled: false },
      lock_branch: { enabled: false },
      allow_fork_syncing: { enabled: false },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Operations

  #registerRoutes(): void {
    const R = "/repos/{owner}/{repo}";

    // --- GraphQL (https://docs.github.com/graphql) ----------------------------------------------
    // Executed against GitHub's published schema (./graphql.ts); values come from #graphqlRoot.
    this.#route("POST", "/graphql", async (ctx) => {
      this.graphqlCalls++;
      const { body, violations } = await answerGraphql(ctx.body, this.#graphqlRoot(ctx.actor));
      this.violations.push(...violations);
      return { status: 200, body };
    });

    // --- Git data ---------------------------------------------------------------------------
    this.#route(
      "GET",
      `${R}/git/ref/{ref}`,
      async (ctx) => {
        this.#need(ctx.actor, "read");
        const ref = `refs/${ctx.params.ref}`;
        const sha = await this.git.resolve(ref, "any");
        if (sha === undefined) throw notFound();
        const type = (await this.git.objectType(sha)) ?? "commit";
        return { status: 200, body: this.#shapes.gitRef(ref, sha, type) };
      },
      ["ref"],
    );

    this.#route(`POST`, `${R}/git/refs`, async (ctx) => {
      this.#need(ctx.actor, "write");
      const ref = String(ctx.body.ref ?? "");
      const sha = String(ctx.body.sha ?? "");
      if (!/^refs\/.+\/.+/.test(ref) || /\.\.|[\s~^:?*[\\]|\/$|\.lock$/.test(ref)) {
        throw new HttpError(422, "Reference name is invalid");
      }
      if (!/^[0-9a-f]{40}$/.test(sha) || (await this.git.objectType(sha)) === undefined) {
        throw new HttpError(422, "Object does not exist");
      }
      if (ref.startsWith("refs/heads/")) this.#checkPush(ctx.actor, ref.slice(11));
      if (!(await this.#moveRef(ref, sha, undefined, ctx.actor.login))) {
        throw new HttpError(422, "Reference already exists");
      }
      const type = (await this.git.objectType(sha))!;
      return {
        status: 201,
        body: this.#shapes.gitRef(ref, sha, type),
        headers: { location: `${this.#shapes.repoApi}/git/${ref}` },
      };
    });

    this.#route(
      "PATCH",
      `${R}/git/refs/{ref}`,
      async (ctx) => {
        this.#need(ctx.actor, "write");
        const ref = `refs/${ctx.params.ref}`;
        const sha = String(ctx.body.sha ?? "");
        const old = await this.git.resolve(ref, "any");
        if (old === undefined) throw new HttpError(422, "Reference does not exist");
        if ((await this.git.objectType(sha)) === undefined) {
          throw new HttpError(422, "Object does not exist");
        }
        if (ref.startsWith("refs/heads/")) this.#checkPush(ctx.actor, ref.slice(11));
        if (ctx.body.force !== true && !(await this.git.isAncestor(old, sha))) {
          throw new HttpError(422, "Update is not a fast forward");
        }
        if (!(await this.#moveRef(ref, sha, old, ctx.actor.login))) {
          // Someone moved it between the check and the update: no longer a fast forward.
          throw new HttpError(422, "Update is not a fast forward");
        }
        return {
          status: 200,
          body: this.#shapes.gitRef(ref, sha, (await this.git.objectType(sha))!),
        };
      },
      ["ref"],
    );

    this.#route(
      "DELETE",
      `${R}/git/refs/{ref}`,
      async (ctx) => {
        this.#need(ctx.actor, "write");
        const ref = `refs/${ctx.params.ref}`;
        if ((await this.git.resolve(ref, "any")) === undefined) {
          throw new HttpError(422, "Reference does not exist", { noBody: true });
        }
        if (ref.startsWith("refs/heads/")) this.#checkPush(ctx.actor, ref.slice(11));
        await this.#deleteRef(ref, ctx.actor.login);
        return { status: 204 };
      },
      ["ref"],
    );

    this.#route("POST", `${R}/git/trees`, async (ctx) => {
      this.#need(ctx.actor, "write");
      const baseTree = ctx.body.base_tree as string | undefined;
      if (baseTree !== undefined && (await this.git.objectType(baseTree)) !== "tree") {
        throw new HttpError(422, "base_tree is not a valid tree", {
          errors: [{ resource: "Tree", field: "base_tree", code: "invalid" }],
        });
      }
      const entries = (ctx.body.tree ?? []) as {
        path?: string;
        mode?: string;
        type?: string;
        sha?: string | null;
        content?: string;
      }[];
      const changes = [];
      for (const e of entries) {
        if (
          !e.path ||
          !e.mode ||
          !["100644", "100755", "040000", "160000", "120000"].includes(e.mode)
        ) {
          throw new HttpError(422, "Invalid tree info", {
            errors: [{ resource: "Tree", field: "tree", code: "invalid" }],
          });
        }
        if (e.content !== undefined)
          changes.push({ path: e.path, mode: e.mode, content: e.content });
        else if (e.sha === null) changes.push({ path: e.path, sha: null });
        else if (e.sha && (await this.git.objectType(e.sha)) !== undefined) {
          changes.push({ path: e.path, mode: e.mode, sha: e.sha });
        } else throw new HttpError(422, `tree.sha ${String(e.sha)} is not a valid blob`);
      }
      const sha = await this.git.buildTree(baseTree, changes);
      return { status: 201, body: await this.#treeJson(sha, false) };
    });

    this.#route("GET", `${R}/git/trees/{tree_sha}`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const rev = ctx.params.tree_sha!;
      const sha =
        (await this.git.resolve(rev, "tree")) ??
        (await this.git.resolve(`refs/heads/${rev}`, "tree"));
      if (sha === undefined) throw notFound();
      const recursive =
        ctx.query.has("recursive") && !["0", "false"].includes(ctx.query.get("recursive")!);
      return { status: 200, body: await this.#treeJson(sha, recursive) };
    });

    this.#route("GET", `${R}/git/blobs/{file_sha}`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const sha = ctx.params.file_sha!;
      if ((await this.git.objectType(sha)) !== "blob") throw notFound();
      const content = await this.git.readBlob(sha);
      return {
        status: 200,
        body: {
          content: content.toString("base64"),
          encoding: "base64",
          url: `${this.#shapes.repoApi}/git/blobs/${sha}`,
          sha,
          size: content.length,
          node_id: nodeId("Blob", sha.slice(0, 12)),
        },
      };
    });

    this.#route("POST", `${R}/git/commits`, async (ctx) => {
      this.#need(ctx.actor, "write");
      const tree = String(ctx.body.tree ?? "");
      if ((await this.git.objectType(tree)) !== "tree") {
        throw new HttpError(422, "Tree SHA does not exist");
      }
      const parents = (ctx.body.parents ?? []) as string[];
      for (const p of parents) {
        if ((await this.git.objectType(p)) !== "commit") {
          throw new HttpError(422, "Parent SHA does not exist or is not a commit object");
        }
      }
      const person = (p: unknown, fallback: GitPerson): GitPerson => {
        const o = p as { name?: string; email?: string; date?: string } | undefined;
        if (!o?.name || !o.email) return fallback;
        return { name: o.name, email: o.email, date: o.date ? new Date(o.date) : this.now() };
      };
      const author = person(ctx.body.author, this.#person(ctx.actor));
      const committer = person(ctx.body.committer, author);
      const sha = await this.git.commitTree({
        tree,
        parents,
        message: String(ctx.body.message ?? ""),
        author,
        committer,
      });
      return { status: 201, body: this.#shapes.gitCommit((await this.git.commit(sha))!) };
    });

    // --- Repository contents, commits, branches -----------------------------------------------
    this.#route(
      "GET",
      `${R}/contents/{path}`,
      async (ctx) => {
        this.#need(ctx.actor, "read");
        const ref = ctx.query.get("ref") ?? this.defaultBranch;
        const commit = await this.git.resolve(ref);
        if (commit === undefined) throw new HttpError(404, `No commit found for the ref ${ref}`);
        const path = ctx.params.path!.replace(/^\/+|\/+$/g, "");
        const file = await this.git.file(commit, path);
        if (file !== undefined) {
          return { status: 200, body: this.#shapes.contentFile(path, file.sha, file.content, ref) };
        }
        const dir = await this.git.lsTree(`${commit}:${path}`);
        if (dir.length === 0) throw notFound();
        return {
          status: 200,
          body: dir.map((e) =>
            this.#shapes.contentEntry(
              path ? `${path}/${e.path}` : e.path,
              e.type === "tree" ? "dir" : "file",
              e.sha,
              e.size ?? 0,
              ref,
            ),
          ),
        };
      },
      ["path"],
    );

    // PUT contents: one file committed onto a branch's tip, the ref moved in the same request
    // (https://docs.github.com/rest/repos/contents#create-or-update-file-contents). `message`
    // and `content` (base64) are required; `sha` is required to replace an existing file (422
    // without it, 409 when it is not the file's current blob); `branch` defaults to the default
    // branch and must exist; author and committer default to the authenticated account. The
    // branch's protection applies as to any push, and the activity log records a push by the
    // caller. Status and message for a missing branch are not verified live.
    this.#route(
      "PUT",
      `${R}/contents/{path}`,
      async (ctx) => {
        this.#need(ctx.actor, "write");
        const path = ctx.params.path!.replace(/^\/+|\/+$/g, "");
        const message = ctx.body.message;
        const content = ctx.body.content;
        if (typeof message !== "string" || message === "") {
          throw new HttpError(422, `Invalid request.\n\n"message" wasn't supplied.`);
        }
        if (typeof content !== "string" || !/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(content)) {
          throw new HttpError(422, `Invalid request.\n\n"content" wasn't supplied.`);
        }
        const branch = typeof ctx.body.branch === "string" ? ctx.body.branch : this.defaultBranch;
        const ref = `refs/heads/${branch}`;
        const tip = await this.git.resolve(ref);
        if (tip === undefined) throw new HttpError(404, `Branch ${branch} not found`);
        const existing = await this.git.file(tip, path);
        const sha = ctx.body.sha as string | undefined;
        if (existing !== undefined && sha === undefined) {
          throw new HttpError(422, `Invalid request.\n\n"sha" wasn't supplied.`);
        }
        if (existing !== undefined && sha !== existing.sha) {
          throw new HttpError(409, `${path} does not match ${String(sha)}`);
        }
        this.#checkPush(ctx.actor, branch);
        const parent = (await this.git.commit(tip))!;
        const tree = await this.git.buildTree(parent.tree, [
          { path, mode: "100644", content: Buffer.from(content, "base64").toString("utf8") },
        ]);
        const person = (p: unknown, fallback: GitPerson): GitPerson => {
          const o = p as { name?: string; email?: string; date?: string } | undefined;
          if (!o?.name || !o.email) return fallback;
          return { name: o.name, email: o.email, date: o.date ? new Date(o.date) : this.now() };
        };
        const committer = person(ctx.body.committer, this.#person(ctx.actor));
        const author = person(ctx.body.author, committer);
        const commit = await this.git.commitTree({
          tree,
          parents: [tip],
          message,
          author,
          committer,
        });
        if (!(await this.#moveRef(ref, commit, tip, ctx.actor.login))) {
          throw new HttpError(409, `${branch} moved while the file was committed`);
        }
        const file = (await this.git.file(commit, path))!;
        const info = (await this.git.commit(commit))!;
        const git = this.#shapes.gitCommit(info) as Record<string, unknown>;
        const entry = this.#shapes.contentFile(path, file.sha, file.content, branch) as Record<
          string,
          unknown
        >;
        const { content: _c, encoding: _e, ...described } = entry;
        return {
          status: existing === undefined ? 201 : 200,
          body: { content: described, commit: git },
        };
      },
      ["path"],
    );

    // DELETE contents: one file removed in a commit onto the branch's tip
    // (https://docs.github.com/rest/repos/contents#delete-a-file): `message` and `sha` (the
    // file's blob) required; 404 when there is no such file, 409 when `sha` is not its blob.
    // The branch's protection applies as to any push.
    this.#route(
      "DELETE",
      `${R}/contents/{path}`,
      async (ctx) => {
        this.#need(ctx.actor, "write");
        const path = ctx.params.path!.replace(/^\/+|\/+$/g, "");
        if (typeof ctx.body.message !== "string" || ctx.body.message === "") {
          throw new HttpError(422, `Invalid request.\n\n"message" wasn't supplied.`);
        }
        if (typeof ctx.body.sha !== "string") {
          throw new HttpError(422, `Invalid request.\n\n"sha" wasn't supplied.`);
        }
        const branch = typeof ctx.body.branch === "string" ? ctx.body.branch : this.defaultBranch;
        const ref = `refs/heads/${branch}`;
        const tip = await this.git.resolve(ref);
        if (tip === undefined) throw new HttpError(404, `Branch ${branch} not found`);
        const existing = await this.git.file(tip, path);
        if (existing === undefined) throw notFound();
        if (existing.sha !== ctx.body.sha) {
          throw new HttpError(409, `${path} does not match ${String(ctx.body.sha)}`);
        }
        this.#checkPush(ctx.actor, branch);
        const parent = (await this.git.commit(tip))!;
        const tree = await this.git.buildTree(parent.tree, [{ path, sha: null }]);
        const who = this.#person(ctx.actor);
        const commit = await this.git.commitTree({
          tree,
          parents: [tip],
          message: ctx.body.message,
          author: who,
          committer: who,
        });
        if (!(await this.#moveRef(ref, commit, tip, ctx.actor.login))) {
          throw new HttpError(409, `${branch} moved while the file was deleted`);
        }
        return {
          status: 200,
          body: {
            content: null,
            commit: this.#shapes.gitCommit((await this.git.commit(commit))!),
          },
        };
      },
      ["path"],
    );

    this.#route("GET", `${R}/commits`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const rev = ctx.query.get("sha") ?? this.defaultBranch;
      const sha = await this.git.resolve(rev);
      if (sha === undefined) throw new HttpError(404, `No commit found for SHA: ${rev}`);
      const path = ctx.query.get("path");
      const commits = await this.git.log([sha, ...(path ? ["--", path] : [])]);
      return this.#page(ctx, commits, (c) => this.#shapes.commit(c));
    });

    this.#route("GET", `${R}/commits/{ref}`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const c = await this.#commitOf(ctx.params.ref!);
      const from = c.parents[0] ?? (await this.git.buildTree(undefined, []));
      return { status: 200, body: this.#shapes.commit(c, await this.git.diff(from, c.sha)) };
    });

    this.#route("GET", `${R}/commits/{commit_sha}/pulls`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const c = await this.#commitOf(ctx.params.commit_sha!);
      const prs: Pull[] = [];
      const lagMs = this.behaviour.associationLagSeconds * 1000;
      for (const pr of this.#pulls) {
        if (pr.mergedAt && this.now().getTime() - pr.mergedAt.getTime() < lagMs) continue;
        const contains =
          pr.mergeCommit === c.sha ||
          pr.headSha === c.sha ||
          (await this.git
            .isAncestor(c.sha, pr.headSha)
            .then(async (yes) =>
              yes ? !(await this.git.isAncestor(c.sha, await this.#pullBase(pr))) : false,
            ));
        if (contains) prs.push(pr);
      }
      const bodies = await Promise.all(prs.map((p) => this.#pullJson(p, false)));
      return this.#page(ctx, bodies, (b) => b);
    });

    this.#route(
      "GET",
      `${R}/compare/{basehead}`,
      async (ctx) => {
        this.#need(ctx.actor, "read");
        const m = /^(.+?)\.\.\.?(.+)$/.exec(ctx.params.basehead!);
        if (!m) throw notFound();
        const strip = (r: string) => r.replace(/^[^:]+:/, "");
        const base = await this.#commitOf(strip(m[1]!));
        const head = await this.#commitOf(strip(m[2]!));
        const mb = (await this.git.mergeBase(base.sha, head.sha)) ?? base.sha;
        const ahead = await this.git.log(["--reverse", `${base.sha}..${head.sha}`]);
        const behind = await this.git.log([`${head.sha}..${base.sha}`]);
        const files = await this.git.diff(mb, head.sha);
        const s = this.#shapes;
        const status =
          ahead.length && behind.length
            ? "diverged"
            : ahead.length
              ? "ahead"
              : behind.length
                ? "behind"
                : "identical";
        return {
          status: 200,
          body: {
            url: `${s.repoApi}/compare/${ctx.params.basehead}`,
            html_url: `${s.repoHtml}/compare/${ctx.params.basehead}`,
            permalink_url: `${s.repoHtml}/compare/${this.owner}:${base.sha.slice(0, 7)}...${this.owner}:${head.sha.slice(0, 7)}`,
            diff_url: `${s.repoHtml}/compare/${ctx.params.basehead}.diff`,
            patch_url: `${s.repoHtml}/compare/${ctx.params.basehead}.patch`,
            base_commit: s.commit(base),
            merge_base_commit: s.commit((await this.git.commit(mb))!),
            status,
            ahead_by: ahead.length,
            behind_by: behind.length,
            total_commits: ahead.length,
            commits: ahead.slice(0, 250).map((c) => s.commit(c)),
            files: files.slice(0, 300).map((f) => s.diffEntry(f, head.sha)),
          },
        };
      },
      ["basehead"],
    );

    // Before /branches/{branch}: a branch name may contain slashes.
    this.#route(
      "GET",
      `${R}/branches/{branch}/protection`,
      async (ctx) => {
        this.#need(ctx.actor, "admin");
        const p = this.#protection.get(ctx.params.branch!);
        if (p === undefined) throw new HttpError(404, "Branch not protected");
        return { status: 200, body: this.#protectionJson(ctx.params.branch!, p) };
      },
      ["branch"],
    );

    this.#route(
      "GET",
      `${R}/branches/{branch}`,
      async (ctx) => {
        this.#need(ctx.actor, "read");
        const branch = ctx.params.branch!;
        const sha = await this.git.resolve(`refs/heads/${branch}`);
        if (sha === undefined) throw new HttpError(404, "Branch not found");
        const s = this.#shapes;
        const p = this.#protection.get(branch);
        return {
          status: 200,
          body: {
            name: branch,
            commit: s.commit((await this.git.commit(sha))!),
            _links: {
              html: `${s.repoHtml}/tree/${branch}`,
              self: `${s.repoApi}/branches/${branch}`,
            },
            protected: p !== undefined,
            protection: p
              ? {
                  enabled: true,
                  required_status_checks: {
                    enforcement_level: p.requiredChecks?.length ? "everyone" : "off",
                    contexts: (p.requiredChecks ?? []).map((c) => checkOf(c).context),
                    checks: (p.requiredChecks ?? []).map((c) => ({
                      context: checkOf(c).context,
                      app_id: checkOf(c).appId ?? null,
                    })),
                  },
                }
              : {
                  enabled: false,
                  required_status_checks: { enforcement_level: "off", contexts: [], checks: [] },
                },
            protection_url: `${s.repoApi}/branches/${branch}/protection`,
          },
        };
      },
      ["branch"],
    );

    this.#route("GET", `${R}/activity`, async (ctx) => {
      this.#need(ctx.actor, "read");
      if (this.behaviour.activityApi === 403) {
        throw new HttpError(403, "Resource not accessible by integration");
      }
      if (this.behaviour.activityApi === 404) throw notFound();
      const q = ctx.query;
      const refParam = q.get("ref");
      const ref = refParam && !refParam.startsWith("refs/") ? `refs/heads/${refParam}` : refParam;
      let items = this.#activity.filter(
        (a) =>
          (ref === null || a.ref === ref) &&
          (!q.get("actor") || a.actor.toLowerCase() === q.get("actor")!.toLowerCase()) &&
          (!q.get("activity_type") || a.type === q.get("activity_type")),
      );
      items = q.get("direction") === "asc" ? items : [...items].reverse();
      const s = this.#shapes;
      return this.#page(ctx, items, (a) => ({
        id: a.id,
        node_id: nodeId("RepositoryActivity", a.id),
        before: a.before,
        after: a.after,
        ref: a.ref,
        timestamp: iso(a.at),
        activity_type: a.type,
        actor: s.user(this.user(a.actor)),
      }));
    });

    this.#route("GET", `${R}/collaborators/{username}/permission`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const u = this.#users.get(ctx.params.username!.toLowerCase());
      if (u === undefined || u.type !== "User") throw notFound();
      const role = this.#role(u.login);
      const rank = role ? ROLE_RANK[role] : 0;
      return {
        status: 200,
        body: {
          permission: role ? LEGACY_PERMISSION[role] : "none",
          role_name: role ?? "none",
          user: {
            ...this.#shapes.user(u),
            permissions: {
              pull: rank >= 1,
              triage: rank >= 2,
              push: rank >= 3,
              maintain: rank >= 4,
              admin: rank >= 5,
            },
            role_name: role ?? "none",
          },
        },
      };
    });

    this.#route("GET", `${R}/actions/permissions/workflow`, async (ctx) => {
      this.#need(ctx.actor, "admin");
      return { status: 200, body: { ...this.#workflow } };
    });

    this.#route("GET", `${R}/codeowners/errors`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const ref = ctx.query.get("ref") ?? this.defaultBranch;
      const commit = await this.git.resolve(ref);
      if (commit === undefined) throw new HttpError(404, "", { noBody: true });
      for (const path of [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]) {
        const file = await this.git.file(commit, path);
        if (file === undefined) continue;
        const text = file.content.toString("utf8");
        const lines = text.split("\n");
        const parsed = parseCodeowners(text);
        const errors: Json[] = parsed.errors.map((e) => ({
          line: Math.max(1, e.line),
          column: 1,
          source: lines[e.line - 1] ?? "",
          kind: "Invalid pattern",
          suggestion: null,
          message: e.message,
          path,
        }));
        for (const rule of parsed.rules) {
          for (const owner of rule.owners) {
            const team = /^@([^/]+)\/(.+)$/.exec(owner);
            const known = team
              ? team[1]!.toLowerCase() === this.owner.toLowerCase() &&
                this.#teams.has(team[2]!.toLowerCase())
              : owner.startsWith("@")
                ? this.#users.has(owner.slice(1).toLowerCase())
                : true;
            if (!known) {
              const source = lines[rule.line - 1] ?? "";
              errors.push({
                line: rule.line,
                column: Math.max(1, source.indexOf(owner) + 1),
                source,
                kind: "Unknown owner",
                suggestion: `make sure ${owner} exists and has write access to the repository`,
                message: `Unknown owner on line ${rule.line}: make sure ${owner} exists and has write access to the repository\n\n  ${source}`,
                path,
              });
            }
          }
        }
        return { status: 200, body: { errors } };
      }
      throw new HttpError(404, "", { noBody: true });
    });

    // --- Pull requests ------------------------------------------------------------------------
    // "Get a repository" (full-repository): what the SDK asks for the default branch.
    this.#route("GET", R, async (ctx) => {
      this.#need(ctx.actor, "read");
      const repo = this.#shapes.repository(this.defaultBranch, this.#created, this.now()) as Record<
        string,
        unknown
      >;
      return {
        status: 200,
        body: { ...repo, subscribers_count: 0, network_count: 0 } as Json,
      };
    });

    // "Create a repository dispatch event": a token with Contents write (a user with write
    // access); 204 and no body; event_type ≤ 100 characters; client_payload at most 10
    // top-level properties. https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event
    this.#route("POST", `${R}/dispatches`, async (ctx) => {
      this.#need(ctx.actor, "write");
      const eventType = ctx.body.event_type;
      if (typeof eventType !== "string" || eventType === "" || eventType.length > 100) {
        throw new HttpError(422, "Invalid request.\n\nevent_type is missing or too long.");
      }
      const payload = ctx.body.client_payload ?? {};
      if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
        throw new HttpError(422, "Invalid request.\n\nclient_payload is not an object.");
      }
      if (Object.keys(payload).length > 10) {
        throw new HttpError(422, "Invalid request.\n\nNo more than 10 properties are allowed.");
      }
      this.#dispatches.push({
        seq: this.#id(),
        kind: "repository_dispatch",
        eventType,
        clientPayload: payload as Record<string, unknown>,
        actor: ctx.actor.login,
      });
      return { status: 204 };
    });

    this.#route("POST", `${R}/pulls`, async (ctx) => {
      this.#need(ctx.actor, "write");
      if (
        this.behaviour.actionsPullRequestSetting &&
        ctx.actor.login === "github-actions[bot]" &&
        !this.#workflow.can_approve_pull_request_reviews
      ) {
        throw new HttpError(
          403,
          "GitHub Actions is not permitted to create or approve pull requests.",
        );
      }
      const head = String(ctx.body.head ?? "").replace(/^[^:]+:/, "");
      const base = String(ctx.body.base ?? "");
      const headSha = await this.git.resolve(`refs/heads/${head}`);
      const baseSha = await this.git.resolve(`refs/heads/${base}`);
      const invalid = (field: string) =>
        new HttpError(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field, code: "invalid" }],
        });
      if (headSha === undefined) throw invalid("head");
      if (baseSha === undefined) throw invalid("base");
      if (this.#pulls.some((p) => p.state === "open" && p.head === head && p.base === base)) {
        throw new HttpError(422, "Validation Failed", {
          errors: [
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${this.owner}:${head}.`,
            },
          ],
        });
      }
      if (await this.git.isAncestor(headSha, baseSha)) {
        throw new HttpError(422, "Validation Failed", {
          errors: [
            {
              resource: "PullRequest",
              code: "custom",
              message: `No commits between ${base} and ${head}`,
            },
          ],
        });
      }
      const now = this.now();
      const pr: Pull = {
        number: this.#nextNumber++,
        id: this.#id(),
        title: String(ctx.body.title ?? ""),
        body: typeof ctx.body.body === "string" ? ctx.body.body : null,
        author: ctx.actor.login,
        head,
        base,
        state: "open",
        merged: false,
        headSha,
        baseSha,
        mergeCommit: null,
        mergedAt: null,
        mergedBy: null,
        closedAt: null,
        createdAt: now,
        updatedAt: now,
        labels: [],
        maintainerCanModify: ctx.body.maintainer_can_modify === true,
      };
      this.#pulls.push(pr);
      return {
        status: 201,
        body: await this.#pullJson(pr, true),
        headers: { location: `${this.#shapes.repoApi}/pulls/${pr.number}` },
      };
    });

    this.#route("GET", `${R}/pulls`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const state = ctx.query.get("state") ?? "open";
      const head = ctx.query.get("head");
      const base = ctx.query.get("base");
      const prs = this.#pulls
        .filter((p) => state === "all" || p.state === state)
        .filter((p) => {
          if (!head) return true;
          const [owner, branch] = head.includes(":") ? head.split(":") : [this.owner, head];
          return owner!.toLowerCase() === this.owner.toLowerCase() && p.head === branch;
        })
        .filter((p) => !base || p.base === base);
      if (ctx.query.get("direction") !== "asc") prs.reverse(); // newest first, GitHub's default
      const bodies = await Promise.all(prs.map((p) => this.#pullJson(p, false)));
      return this.#page(ctx, bodies, (b) => b);
    });

    this.#route("GET", `${R}/pulls/{pull_number}`, async (ctx) => {
      this.#need(ctx.actor, "read");
      return { status: 200, body: await this.#pullJson(this.#pull(ctx.params.pull_number!), true) };
    });

    this.#route("PATCH", `${R}/pulls/{pull_number}`, async (ctx) => {
      this.#need(ctx.actor, "write");
      const pr = this.#pull(ctx.params.pull_number!);
      if (typeof ctx.body.title === "string") pr.title = ctx.body.title;
      if (typeof ctx.body.body === "string") pr.body = ctx.body.body;
      if (ctx.body.state === "closed" && pr.state === "open") {
        pr.state = "closed";
        pr.closedAt = this.now();
        const at = pr.closedAt;
        this.#closures.push({
          id: this.#id(),
          pull: pr.number,
          actor: ctx.actor.login,
          at,
          event: "closed",
        });
      } else if (ctx.body.state === "open" && pr.state === "closed" && !pr.merged) {
        pr.state = "open";
        pr.closedAt = null;
        const at = this.now();
        this.#closures.push({
          id: this.#id(),
          pull: pr.number,
          actor: ctx.actor.login,
          at,
          event: "reopened",
        });
      }
      pr.updatedAt = this.now();
      return { status: 200, body: await this.#pullJson(pr, true) };
    });

    this.#route("GET", `${R}/pulls/{pull_number}/files`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const pr = this.#pull(ctx.params.pull_number!);
      const files = await this.git.diff(await this.#pullBase(pr), pr.headSha);
      return this.#page(ctx, files, (f) => this.#shapes.diffEntry(f, pr.headSha));
    });

    this.#route("GET", `${R}/pulls/{pull_number}/commits`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const pr = this.#pull(ctx.params.pull_number!);
      const commits = await this.git.log([
        "--reverse",
        `${await this.#pullBase(pr)}..${pr.headSha}`,
      ]);
      return this.#page(ctx, commits, (c) => this.#shapes.commit(c));
    });

    this.#route("GET", `${R}/pulls/{pull_number}/reviews`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const pr = this.#pull(ctx.params.pull_number!);
      const reviews = this.#reviews.filter(
        (r) => r.pull === pr.number && (r.state !== "PENDING" || r.user === ctx.actor.login),
      );
      return this.#page(ctx, reviews, (r) => this.#reviewJson(r));
    });

    this.#route("POST", `${R}/pulls/{pull_number}/reviews`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const pr = this.#pull(ctx.params.pull_number!);
      const event = ctx.body.event as string | undefined;
      const simple = (message: string) =>
        new HttpError(422, "Unprocessable Entity", { errors: [message] });
      if (pr.state !== "open") throw simple("Can not review a closed pull request");
      const sameUser = pr.author.toLowerCase() === ctx.actor.login.toLowerCase();
      if (sameUser && event === "APPROVE") throw simple("Can not approve your own pull request");
      if (sameUser && event === "REQUEST_CHANGES") {
        throw simple("Can not request changes on your own pull request");
      }
      if (
        ctx.actor.login === "github-actions[bot]" &&
        event === "APPROVE" &&
        !this.#workflow.can_approve_pull_request_reviews
      ) {
        throw simple("GitHub Actions is not permitted to approve pull requests.");
      }
      const state =
        event === "APPROVE"
          ? "APPROVED"
          : event === "REQUEST_CHANGES"
            ? "CHANGES_REQUESTED"
            : event === "COMMENT"
              ? "COMMENTED"
              : "PENDING";
      const review: Review = {
        id: this.#id(),
        pull: pr.number,
        user: ctx.actor.login,
        state,
        body: typeof ctx.body.body === "string" ? ctx.body.body : "",
        commitId: typeof ctx.body.commit_id === "string" ? ctx.body.commit_id : pr.headSha,
        submittedAt: state === "PENDING" ? null : this.now(),
      };
      this.#reviews.push(review);
      return { status: 200, body: this.#reviewJson(review) };
    });

    this.#route("PUT", `${R}/pulls/{pull_number}/reviews/{review_id}/dismissals`, async (ctx) => {
      this.#need(ctx.actor, "write");
      const pr = this.#pull(ctx.params.pull_number!);
      const review = this.#reviews.find(
        (r) => r.pull === pr.number && r.id === Number(ctx.params.review_id),
      );
      if (review === undefined) throw notFound();
      if (review.state === "PENDING") {
        throw new HttpError(422, "Unprocessable Entity", {
          errors: ["Can not dismiss a pending review"],
        });
      }
      this.#dismissals.push({
        id: this.#id(),
        pull: pr.number,
        reviewId: review.id,
        state: review.state.toLowerCase(),
        actor: ctx.actor.login,
        message: typeof ctx.body.message === "string" ? ctx.body.message : null,
        at: this.now(),
      });
      review.state = "DISMISSED";
      return { status: 200, body: this.#reviewJson(review) };
    });

    this.#route("PUT", `${R}/pulls/{pull_number}/merge`, async (ctx) => {
      this.#need(ctx.actor, "write");
      const pr = this.#pull(ctx.params.pull_number!);
      if (pr.state !== "open") throw new HttpError(405, "Pull Request is not mergeable");
      if (typeof ctx.body.sha === "string" && ctx.body.sha !== pr.headSha) {
        throw new HttpError(409, "Head branch was modified. Review and try the merge again.");
      }
      const protection = this.#protection.get(pr.base);
      if (protection?.requiredApprovals !== undefined) {
        const approvals = this.#approvalsForProtection(pr, protection);
        const bypass = this.#isAdmin(ctx.actor.login) && !protection.enforceAdmins;
        if (approvals < protection.requiredApprovals && !bypass) {
          const n = protection.requiredApprovals;
          throw new HttpError(
            405,
            `At least ${n} approving review${n === 1 ? " is" : "s are"} required by reviewers with write access.`,
          );
        }
      }
      if (protection !== undefined && this.behaviour.enforceAtMerge) {
        const bypass = this.#isAdmin(ctx.actor.login) && !protection.enforceAdmins;
        if (!bypass) await this.#enforceAtMerge(pr, protection);
      }
      const method = (ctx.body.merge_method as string | undefined) ?? "merge";
      if (method !== "merge" && method !== "squash") {
        throw new HttpError(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field: "merge_method", code: "invalid" }],
        });
      }
      const baseRef = `refs/heads/${pr.base}`;
      const tip = (await this.git.resolve(baseRef))!;
      const tree = await this.git.mergeTree(tip, pr.headSha);
      if (tree === undefined) throw new HttpError(405, "Pull Request is not mergeable");
      const title =
        typeof ctx.body.commit_title === "string"
          ? ctx.body.commit_title
          : method === "merge"
            ? `Merge pull request #${pr.number} from ${this.owner}/${pr.head}`
            : `${pr.title} (#${pr.number})`;
      const message =
        typeof ctx.body.commit_message === "string" ? ctx.body.commit_message : pr.title;
      const now = this.now();
      const commit = await this.git.commitTree({
        tree,
        parents: method === "merge" ? [tip, pr.headSha] : [tip],
        message: message ? `${title}\n\n${message}` : title,
        author: this.#person(method === "merge" ? ctx.actor : this.user(pr.author), now),
        committer: this.#person(this.user("web-flow"), now),
      });
      if (!(await this.#moveRef(baseRef, commit, tip, ctx.actor.login, "pr_merge"))) {
        throw new HttpError(409, "Base branch was modified. Review and try the merge again.");
      }
      Object.assign(pr, {
        state: "closed",
        merged: true,
        mergeCommit: commit,
        mergedAt: now,
        mergedBy: ctx.actor.login,
        closedAt: now,
        updatedAt: now,
      });
      return {
        status: 200,
        body: { sha: commit, merged: true, message: "Pull Request successfully merged" },
      };
    });

    // --- Issues: labels and comments ----------------------------------------------------------
    this.#route("POST", `${R}/issues/{issue_number}/labels`, async (ctx) => {
      this.#need(ctx.actor, "triage");
      const pr = this.#pull(ctx.params.issue_number!);
      const names = (Array.isArray(ctx.body) ? ctx.body : (ctx.body.labels ?? [])) as unknown[];
      for (const raw of names) {
        const name = typeof raw === "string" ? raw : String((raw as { name?: string }).name ?? "");
        if (!name) continue;
        if (!this.#labels.has(name)) {
          // GitHub creates a label that does not exist yet.
          this.#labels.set(name, { id: this.#id(), name, color: "ededed", description: "" });
        }
        if (!pr.labels.includes(name)) pr.labels.push(name);
      }
      return { status: 200, body: pr.labels.map((l) => this.#shapes.label(this.#labels.get(l)!)) };
    });

    this.#route("POST", `${R}/issues/{issue_number}/comments`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const pr = this.#pull(ctx.params.issue_number!);
      const body = String(ctx.body.body ?? "");
      if (body === "") {
        throw new HttpError(422, "Validation Failed", {
          errors: [{ resource: "IssueComment", field: "body", code: "missing_field" }],
        });
      }
      const c: Comment = {
        id: this.#id(),
        issue: pr.number,
        user: ctx.actor.login,
        body,
        at: this.now(),
      };
      this.#comments.push(c);
      return { status: 201, body: this.#commentJson(c) };
    });

    // The issue's events; the simulator records review dismissals, with who dismissed what
    // (https://docs.github.com/rest/using-the-rest-api/issue-event-types#review_dismissed).
    this.#route("GET", `${R}/issues/{issue_number}/events`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const pr = this.#pull(ctx.params.issue_number!);
      const s = this.#shapes;
      // Closing and reopening: GitHub's plain issue events ("closed", "reopened"), with who.
      const closures = this.#closures
        .filter((c) => c.pull === pr.number)
        .map((c) => ({ kind: "closure" as const, c }));
      const dismissals = this.#dismissals
        .filter((d) => d.pull === pr.number)
        .map((d) => ({ kind: "dismissal" as const, d }));
      const items = [...closures, ...dismissals].sort(
        (x, y) =>
          (x.kind === "closure" ? x.c.id : x.d.id) - (y.kind === "closure" ? y.c.id : y.d.id),
      );
      return this.#page(ctx, items, (item) => {
        if (item.kind === "closure") {
          const c = item.c;
          return {
            id: c.id,
            node_id: nodeId(c.event === "closed" ? "ClosedEvent" : "ReopenedEvent", c.id),
            url: `${s.repoApi}/issues/events/${c.id}`,
            actor: s.user(this.user(c.actor)),
            event: c.event,
            commit_id: null,
            commit_url: null,
            created_at: iso(c.at),
            performed_via_github_app: null,
          };
        }
        const d = item.d;
        return {
          id: d.id,
          node_id: nodeId("ReviewDismissedEvent", d.id),
          url: `${s.repoApi}/issues/events/${d.id}`,
          actor: s.user(this.user(d.actor)),
          event: "review_dismissed",
          commit_id: null,
          commit_url: null,
          created_at: iso(d.at),
          performed_via_github_app: null,
          dismissed_review: {
            state: d.state,
            review_id: d.reviewId,
            dismissal_message: d.message,
          },
        };
      });
    });

    this.#route("GET", `${R}/issues/{issue_number}/comments`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const pr = this.#pull(ctx.params.issue_number!);
      return this.#page(
        ctx,
        this.#comments.filter((c) => c.issue === pr.number),
        (c) => this.#commentJson(c),
      );
    });

    // --- Checks -------------------------------------------------------------------------------
    this.#route("POST", `${R}/check-runs`, async (ctx) => {
      if (ctx.actor.type !== "Bot") {
        // Only GitHub Apps (and GITHUB_TOKEN, an app token) create check runs.
        throw new HttpError(403, "You must authenticate via a GitHub App.");
      }
      this.#need(ctx.actor, "write");
      const sha = String(ctx.body.head_sha ?? "");
      if ((await this.git.objectType(sha)) !== "commit") {
        throw new HttpError(422, "No commit found for SHA: " + sha);
      }
      const output = (ctx.body.output ?? {}) as { title?: string; summary?: string };
      const run: CheckRun = {
        id: this.#id(),
        name: String(ctx.body.name ?? ""),
        headSha: sha,
        status: String(ctx.body.status ?? (ctx.body.conclusion ? "completed" : "queued")),
        conclusion: (ctx.body.conclusion as string | undefined) ?? null,
        title: output.title ?? null,
        summary: output.summary ?? null,
        externalId: (ctx.body.external_id as string | undefined) ?? null,
        at: this.now(),
        by: ctx.actor.login,
        app: this.#appOf(ctx.actor.login),
      };
      this.#checkRuns.push(run);
      return { status: 201, body: this.#checkRunJson(run) };
    });

    // Only the App that created a check run may update it
    // (https://docs.github.com/rest/checks/runs#update-a-check-run).
    this.#route("PATCH", `${R}/check-runs/{check_run_id}`, async (ctx) => {
      this.#need(ctx.actor, "write");
      const run = this.#checkRuns.find((r) => r.id === Number(ctx.params.check_run_id));
      if (run === undefined) throw notFound();
      if (ctx.actor.type !== "Bot" || this.#appOf(ctx.actor.login).id !== run.app.id) {
        throw new HttpError(403, "Resource not accessible by integration");
      }
      const output = (ctx.body.output ?? {}) as { title?: string; summary?: string };
      if (typeof ctx.body.status === "string") run.status = ctx.body.status;
      if (typeof ctx.body.conclusion === "string") {
        run.conclusion = ctx.body.conclusion;
        run.status = "completed";
      }
      if (output.title !== undefined) run.title = output.title;
      if (output.summary !== undefined) run.summary = output.summary;
      run.at = this.now();
      return { status: 200, body: this.#checkRunJson(run) };
    });

    this.#route("GET", `${R}/commits/{ref}/check-runs`, async (ctx) => {
      this.#need(ctx.actor, "read");
      const c = await this.#commitOf(ctx.params.ref!);
      const name = ctx.query.get("check_name");
      const app = ctx.query.get("app_id");
      const runs = this.#checkRuns
        .filter(
          (r) =>
            r.headSha === c.sha &&
            (name === null || r.name === name) &&
            (app === null || String(r.app.id) === app),
        )
        .reverse();
      return {
        status: 200,
        body: { total_count: runs.length, check_runs: runs.map((r) => this.#checkRunJson(r)) },
      };
    });

    // --- Organisation teams -------------------------------------------------------------------
    this.#route("GET", "/orgs/{org}/teams", async (ctx) => {
      if (!this.#canReadTeams(ctx.actor)) throw notFound();
      return this.#page(ctx, [...this.#teams.values()], (t) => this.#teamJson(t));
    });

    this.#route("GET", "/orgs/{org}/teams/{team_slug}/members", async (ctx) => {
      if (!this.#canReadTeams(ctx.actor)) throw notFound();
      const team = this.#teams.get(ctx.params.team_slug!.toLowerCase());
      if (team === undefined) throw notFound();
      return this.#page(ctx, [...team.members], (m) => this.#shapes.user(this.user(m)));
    });
  }

  // -------------------------------------------------------------------------------------------
  // GraphQL values. Each object has the fields the simulator models, named and typed as in
  // GitHub's schema (the reference page is cited on each); graphql-js checks the query and the
  // answer against that schema. Fields a query asks for that are not here fail the test.

  #graphqlRoot(actor: SimUser): Record<string, unknown> {
    return {
      // https://docs.github.com/graphql/reference/queries#repository
      repository: (args: { owner: string; name: string }) => {
        const ours =
          args.owner.toLowerCase() === this.owner.toLowerCase() &&
          args.name.toLowerCase() === this.repo.toLowerCase();
        if (!ours || this.#role(actor.login) === undefined) {
          throw fieldError(
            "NOT_FOUND",
            `Could not resolve to a Repository with the name '${args.owner}/${args.name}'.`,
          );
        }
        return this.#gqlRepository(actor);
      },
      // https://docs.github.com/graphql/reference/queries#organization
      organization: (args: { login: string }) => {
        if (args.login.toLowerCase() !== this.owner.toLowerCase()) {
          throw fieldError(
            "NOT_FOUND",
            `Could not resolve to an Organization with the login of '${args.login}'.`,
          );
        }
        return this.#gqlOrganization(actor);
      },
    };
  }

  /** https://docs.github.com/graphql/reference/objects#repository */
  #gqlRepository(actor: SimUser): Record<string, unknown> {
    return {
      nameWithOwner: `${this.owner}/${this.repo}`,
      // https://docs.github.com/graphql/reference/objects#repository (pullRequest(number))
      pullRequest: (a: { number: number }) => {
        const pr = this.#pulls.find((p) => p.number === a.number);
        if (pr === undefined) {
          throw fieldError(
            "NOT_FOUND",
            `Could not resolve to a PullRequest with the number of ${a.number}.`,
          );
        }
        return this.#gqlPull(pr, actor);
      },
      // https://docs.github.com/graphql/reference/objects#repository (pullRequests: states,
      // headRefName, baseRefName; oldest first unless orderBy says otherwise). Reads the pull
      // requests themselves, like REST's GET /pulls: no index lag is modelled (not verified live).
      pullRequests: async (a: {
        states?: string[] | null;
        headRefName?: string | null;
        baseRefName?: string | null;
        orderBy?: { field: string; direction: string } | null;
        first?: number | null;
        after?: string | null;
        last?: number | null;
      }) => {
        let prs = this.#pulls.filter(
          (p) =>
            (!a.states || a.states.includes(p.merged ? "MERGED" : p.state.toUpperCase())) &&
            (a.headRefName == null || p.head === a.headRefName) &&
            (a.baseRefName == null || p.base === a.baseRefName),
        );
        if (a.orderBy?.direction === "DESC") prs = [...prs].reverse();
        return connection(
          prs.map((p) => this.#gqlPull(p, actor)),
          a,
        );
      },
      // https://docs.github.com/graphql/reference/objects#repository (object: "A Git object in
      // the repository", by oid or by a revision expression such as "<sha>:<path>").
      object: async (a: { oid?: string | null; expression?: string | null }) => {
        const rev = a.oid ?? a.expression ?? "";
        const colon = rev.indexOf(":");
        if (colon === -1) {
          const sha = await this.git.resolve(rev, "any");
          if (sha === undefined) return null;
          const type = await this.git.objectType(sha);
          if (type === "commit") return this.#gqlCommit(sha);
          if (type === "blob") return this.#gqlBlob(sha);
          return { __typename: type === "tree" ? "Tree" : "Tag", oid: sha };
        }
        // Like REST contents, reads by sha are not affected by collectGarbage (which models a
        // review's commit going missing only).
        const commit = await this.git.resolve(rev.slice(0, colon));
        if (commit === undefined) return null;
        return this.#gqlPath(commit, rev.slice(colon + 1));
      },
      // https://docs.github.com/graphql/reference/objects#repository (ref: "Fetch a given ref
      // from the repository", by its fully qualified name; null when there is none).
      ref: async (a: { qualifiedName: string }) => {
        const name = a.qualifiedName.startsWith("refs/")
          ? a.qualifiedName
          : `refs/heads/${a.qualifiedName}`;
        const sha = await this.git.resolve(name, "any");
        if (sha === undefined) return null;
        const parts = name.split("/");
        return {
          name: parts.slice(2).join("/"),
          prefix: `${parts.slice(0, 2).join("/")}/`,
          target: async () =>
            (await this.git.objectType(sha)) === "commit"
              ? this.#gqlCommit(sha)
              : { __typename: "Tag", oid: sha },
        };
      },
    };
  }

  /** A tree entry at `path` of a commit: a Blob, a Tree, or null when there is none. */
  async #gqlPath(commit: string, path: string): Promise<Record<string, unknown> | null> {
    const file = await this.git.file(commit, path);
    if (file !== undefined) return this.#gqlBlob(file.sha, file.content);
    const tree = await this.git.resolve(`${commit}:${path}`, "tree");
    return tree === undefined ? null : { __typename: "Tree", oid: tree };
  }

  /**
   * https://docs.github.com/graphql/reference/objects#blob: `text` ("UTF8 text data or null if
   * the Blob is binary"), `isTruncated`, `byteSize`, `oid`. Truncation of large blobs is not
   * modelled (the simulator's files are small); the client fails closed on isTruncated.
   */
  async #gqlBlob(sha: string, content?: Buffer): Promise<Record<string, unknown>> {
    const bytes = content ?? (await this.git.readBlob(sha));
    const binary = bytes.includes(0);
    return {
      __typename: "Blob",
      oid: sha,
      byteSize: bytes.length,
      isBinary: binary,
      isTruncated: false,
      text: binary ? null : bytes.toString("utf8"),
    };
  }

  /**
   * https://docs.github.com/graphql/reference/objects#commit: oid, parents, committedDate,
   * file(path) (a TreeEntry), author and committer (GitActor, with the GitHub user their e-mail belongs to),
   * and the check suites on it with their runs (by app and check name).
   */
  #gqlCommit(sha: string): Record<string, unknown> {
    const info = async () => {
      const c = await this.git.commit(sha);
      if (c === undefined) throw new Error(`no commit ${sha}`);
      return c;
    };
    // https://docs.github.com/graphql/reference/objects#gitactor
    const actor = (p: GitPerson) => {
      const u = this.#userByEmail(p.email);
      return {
        name: p.name,
        email: p.email,
        date: iso(p.date),
        user: u && u.type === "User" ? { login: u.login, __typename: "User" } : null,
      };
    };
    return {
      __typename: "Commit",
      oid: sha,
      parents: async (a: { first?: number | null; after?: string | null }) =>
        connection(
          (await info()).parents.map((p) => this.#gqlCommit(p)),
          a,
        ),
      author: async () => actor((await info()).author),
      committer: async () => actor((await info()).committer),
      // Commit.committedDate: "The datetime when this commit was committed" (a GitTimestamp,
      // ISO-8601), the committer date the commit object records.
      committedDate: async () => iso((await info()).committer.date),
      // https://docs.github.com/graphql/reference/objects#treeentry
      file: async (a: { path: string }) => {
        const path = a.path.replace(/^\/+|\/+$/g, "");
        const object = await this.#gqlPath(sha, path);
        if (object === null) return null;
        return { path, name: path.split("/").pop(), oid: object.oid, object };
      },
      // https://docs.github.com/graphql/reference/objects#checksuite (filterBy: appId,
      // checkName) and https://docs.github.com/graphql/reference/objects#checkrun
      checkSuites: (a: {
        first?: number | null;
        after?: string | null;
        filterBy?: { appId?: number | null; checkName?: string | null } | null;
      }) => {
        const runs = this.#checkRuns.filter((r) => r.headSha === sha);
        const apps = new Map<number, CheckRun["app"]>();
        for (const r of runs) apps.set(r.app.id, r.app);
        const suites = [...apps.values()]
          .filter((app) => a.filterBy?.appId == null || app.id === a.filterBy.appId)
          .filter(
            (app) =>
              a.filterBy?.checkName == null ||
              runs.some((r) => r.app.id === app.id && r.name === a.filterBy!.checkName),
          )
          .map((app) => ({
            app: { slug: app.slug, name: app.name, databaseId: app.id },
            checkRuns: (b: {
              first?: number | null;
              after?: string | null;
              filterBy?: { checkName?: string | null } | null;
            }) =>
              connection(
                runs
                  .filter(
                    (r) =>
                      r.app.id === app.id &&
                      (b.filterBy?.checkName == null || r.name === b.filterBy.checkName),
                  )
                  .map((r) => ({
                    databaseId: r.id,
                    name: r.name,
                    status: r.status.toUpperCase(),
                    conclusion: r.conclusion?.toUpperCase() ?? null,
                  })),
                b,
              ),
          }));
        return connection(suites, a);
      },
    };
  }

  /** https://docs.github.com/graphql/reference/interfaces#actor (User, Bot, Organization). */
  #gqlActor(login: string): Record<string, unknown> {
    const u = this.user(login);
    return { __typename: u.type, login: u.login };
  }

  /** https://docs.github.com/graphql/reference/objects#pullrequest */
  #gqlPull(pr: Pull, actor: SimUser): Record<string, unknown> {
    const s = this.#shapes;
    const base = () => this.#pullBase(pr);
    return {
      number: pr.number,
      url: `${s.repoHtml}/pull/${pr.number}`,
      state: pr.merged ? "MERGED" : pr.state.toUpperCase(),
      headRefName: pr.head,
      headRefOid: pr.headSha,
      baseRefName: pr.base,
      baseRefOid: pr.baseSha,
      headRepository: { nameWithOwner: `${this.owner}/${this.repo}` },
      author: this.#gqlActor(pr.author),
      createdAt: iso(pr.createdAt),
      mergedAt: pr.mergedAt ? iso(pr.mergedAt) : null,
      mergeCommit: pr.mergeCommit ? this.#gqlCommit(pr.mergeCommit) : null,
      headRef: async () => {
        if (pr.state !== "open") return null;
        return { name: pr.head, prefix: "refs/heads/", target: this.#gqlCommit(pr.headSha) };
      },
      // https://docs.github.com/graphql/reference/objects#pullrequestreview: `commit` is null
      // when the commit is gone (REST's commit_id null); `authorCanPushToRepository` ("Indicates
      // whether the author of this review has push access to the repository"); pending reviews
      // are visible to their author only.
      reviews: (a: { first?: number | null; after?: string | null; last?: number | null }) =>
        connection(
          this.#reviews
            .filter(
              (r) =>
                r.pull === pr.number &&
                (r.state !== "PENDING" || r.user.toLowerCase() === actor.login.toLowerCase()),
            )
            .map((r) => this.#gqlReview(r)),
          a,
        ),
      // https://docs.github.com/graphql/reference/objects#reviewdismissedevent (actor,
      // previousReviewState, review). Only this item type is modelled.
      timelineItems: (a: {
        itemTypes?: string[] | null;
        first?: number | null;
        after?: string | null;
      }) => {
        if (!a.itemTypes || a.itemTypes.some((t) => t !== "REVIEW_DISMISSED_EVENT")) {
          throw new NotModelled("the simulator models only REVIEW_DISMISSED_EVENT timeline items");
        }
        return connection(
          this.#dismissals
            .filter((d) => d.pull === pr.number)
            .map((d) => ({
              __typename: "ReviewDismissedEvent",
              actor: this.#gqlActor(d.actor),
              createdAt: iso(d.at),
              previousReviewState: d.state.toUpperCase(),
              review: this.#gqlReview(this.#reviews.find((r) => r.id === d.reviewId)!),
            })),
          a,
        );
      },
      // https://docs.github.com/graphql/reference/objects#pullrequestchangedfile: path and
      // changeType only (no previous path of a rename, no blob).
      files: async (a: { first?: number | null; after?: string | null }) => {
        const diff = await this.git.diff(await base(), pr.headSha);
        return connection(
          diff.map((f) => ({
            path: f.path,
            changeType: f.status === "removed" ? "DELETED" : f.status.toUpperCase(),
            additions: f.additions,
            deletions: f.deletions,
          })),
          a,
        );
      },
      // https://docs.github.com/graphql/reference/objects#pullrequestcommit
      commits: async (a: {
        first?: number | null;
        after?: string | null;
        last?: number | null;
      }) => {
        const commits = await this.git.log(["--reverse", `${await base()}..${pr.headSha}`]);
        return connection(
          commits.map((c) => ({ commit: this.#gqlCommit(c.sha) })),
          a,
        );
      },
    };
  }

  #gqlReview(r: Review): Record<string, unknown> {
    const role = this.#role(r.user);
    return {
      id: nodeId("PullRequestReview", r.id),
      fullDatabaseId: String(r.id),
      state: r.state,
      body: r.body,
      submittedAt: r.submittedAt ? iso(r.submittedAt) : null,
      commit: this.#gone.has(r.commitId) ? null : this.#gqlCommit(r.commitId),
      author: this.#gqlActor(r.user),
      authorCanPushToRepository: role !== undefined && ROLE_RANK[role] >= ROLE_RANK.write,
    };
  }

  /**
   * https://docs.github.com/graphql/reference/objects#organization (team(slug), teams) and
   * https://docs.github.com/graphql/reference/objects#team (members). A token that may not
   * read the organisation's teams (GitHubBehaviour.teamsByTokenType) gets the field null and
   * an error of type FORBIDDEN, "Resource not accessible by integration"
   * (https://github.com/react/create-react-app/issues/12722 shows it for the teams list).
   */
  #gqlOrganization(actor: SimUser): Record<string, unknown> {
    const readable = () => {
      if (!this.#canReadTeams(actor)) {
        throw fieldError("FORBIDDEN", "Resource not accessible by integration");
      }
    };
    const teamNode = (t: Team) => ({
      slug: t.slug,
      name: t.name,
      members: (a: { first?: number | null; after?: string | null }) =>
        connection(
          [...t.members].map((m) => this.#gqlActor(m)),
          a,
        ),
    });
    return {
      login: this.owner,
      team: (a: { slug: string }) => {
        readable();
        const t = this.#teams.get(a.slug.toLowerCase());
        return t === undefined ? null : teamNode(t);
      },
      teams: (a: { first?: number | null; after?: string | null }) => {
        readable();
        return connection([...this.#teams.values()].map(teamNode), a);
      },
    };
  }

  /** Who may list teams and their members (see GitHubBehaviour.teamsByTokenType). */
  #canReadTeams(actor: SimUser): boolean {
    if (this.behaviour.teamsByTokenType && actor.type === "Bot") {
      return this.#apps.get(actor.login.toLowerCase())?.membersRead === true;
    }
    return this.#role(actor.login) !== undefined || this.#memberOfOrg(actor.login);
  }

  /** The App a bot's token belongs to (GitHub Actions unless modelled per token). */
  #appOf(login: string): { id: number; slug: string; name: string } {
    if (!this.behaviour.checkRunAppByToken) return GITHUB_ACTIONS_APP;
    if (login === "github-actions[bot]") return GITHUB_ACTIONS_APP;
    const app = this.#apps.get(login.toLowerCase());
    if (app) return { id: app.id, slug: app.slug, name: app.name };
    const id = 90_000 + [...login].reduce((n, ch) => (n * 31 + ch.charCodeAt(0)) % 10_000, 0);
    return { id, slug: login.replace(/\[bot\]$/, ""), name: login };
  }

  #memberOfOrg(login: string): boolean {
    return [...this.#teams.values()].some((t) => t.members.has(login.toLowerCase()));
  }

  /**
   * Required checks and code-owner review, as GitHub checks them before a merge: every check run
   * with a required name on the head must have passed (a stale failure next to a newer success
   * still blocks), counting only runs of the pinned App when the check is pinned; and, with
   * "Require review from Code Owners", each changed file needs the latest approval of one of its
   * owners (base branch CODEOWNERS; teams by their members) with write access.
   */
  async #enforceAtMerge(pr: Pull, p: Protection): Promise<void> {
    for (const required of p.requiredChecks ?? []) {
      const { context, appId } = checkOf(required);
      const runs = this.#checkRuns.filter(
        (r) =>
          r.headSha === pr.headSha &&
          r.name === context &&
          (appId === undefined || appId === -1 || r.app.id === appId),
      );
      const passed = (r: CheckRun) =>
        r.status === "completed" && ["success", "neutral", "skipped"].includes(r.conclusion ?? "");
      if (runs.length === 0 || !runs.every(passed)) {
        throw new HttpError(
          405,
          `Required status check "${context}" is ${runs.length === 0 ? "expected" : "failing"}.`,
        );
      }
    }
    if (!p.requireCodeOwnerReviews) return;
    const text =
      (await this.git.file(`refs/heads/${pr.base}`, ".github/CODEOWNERS")) ??
      (await this.git.file(`refs/heads/${pr.base}`, "CODEOWNERS")) ??
      (await this.git.file(`refs/heads/${pr.base}`, "docs/CODEOWNERS"));
    if (text === undefined) return;
    const codeowners = parseCodeowners(text.content.toString("utf8"));
    const latest = new Map<string, Review>();
    for (const r of this.#reviews) {
      if (r.pull !== pr.number || r.state === "COMMENTED" || r.state === "PENDING") continue;
      latest.set(r.user.toLowerCase(), r);
    }
    const approvers = [...latest.values()]
      .filter((r) => r.state === "APPROVED")
      .map((r) => r.user.toLowerCase())
      .filter((u) => {
        const role = this.#role(u);
        return role !== undefined && ROLE_RANK[role] >= ROLE_RANK.write;
      });
    const owns = (owner: string, login: string) => {
      const team = /^@[^/]+\/(.+)$/.exec(owner);
      if (team) return this.#teams.get(team[1]!.toLowerCase())?.members.has(login) ?? false;
      return owner.replace(/^@/, "").toLowerCase() === login;
    };
    for (const f of await this.git.diff(await this.#pullBase(pr), pr.headSha)) {
      const rule = ownersFor(codeowners, f.path);
      if (rule === undefined || rule.owners.length === 0) continue;
      if (!approvers.some((a) => rule.owners.some((o) => owns(o, a)))) {
        throw new HttpError(
          405,
          "Waiting on code owner review from " + rule.owners.join(", ") + ".",
        );
      }
    }
  }

  /**
   * Approvals GitHub's branch protection counts: each person's latest approving or rejecting
   * review, approvals only, from people with write access; with "dismiss stale reviews" or
   * "approval of the most recent push", only those on the current head.
   */
  #approvalsForProtection(pr: Pull, p: Protection): number {
    const latest = new Map<string, Review>();
    for (const r of this.#reviews) {
      if (r.pull !== pr.number || r.state === "COMMENTED" || r.state === "PENDING") continue;
      latest.set(r.user.toLowerCase(), r);
    }
    let n = 0;
    for (const r of latest.values()) {
      if (r.state !== "APPROVED") continue;
      const role = this.#role(r.user);
      if (!role || ROLE_RANK[role] < ROLE_RANK.write) continue;
      if ((p.dismissStaleReviews || p.requireLastPushApproval) && r.commitId !== pr.headSha)
        continue;
      n++;
    }
    return n;
  }

  async #treeJson(sha: string, recursive: boolean): Promise<Json> {
    const entries = await this.git.lsTree(sha, { recursive });
    const a = this.#shapes.repoApi;
    return {
      sha,
      url: `${a}/git/trees/${sha}`,
      tree: entries.map((e) => ({
        path: e.path,
        mode: e.mode,
        type: e.type,
        sha: e.sha,
        ...(e.type === "blob" ? { size: e.size ?? 0 } : {}),
        url: `${a}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}`,
      })),
      truncated: false,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Webhook events, for the workflow runner (test/github/workflows.ts)

  /**
   * What happened after `since` (a `seq` this returned before; 0: everything), in order, as
   * the webhook events GitHub would deliver: branch pushes (creations, deletions and merges
   * included; refs outside branches fire none), pull requests opened or synchronized by a push
   * to their head branch, reviews submitted and dismissed. Each carries who caused it.
   */
  eventsSince(since: number): SimEvent[] {
    const out: SimEvent[] = [];
    const pull = (p: Pull): SimPull => ({
      number: p.number,
      title: p.title,
      head: p.head,
      base: p.base,
      headSha: p.headSha,
      state: p.state,
      author: p.author,
    });
    for (const a of this.#activity) {
      if (a.id <= since) continue;
      out.push({
        seq: a.id,
        kind: "push",
        ref: a.ref,
        before: a.before,
        after: a.after,
        actor: a.actor,
      });
      if (a.type !== "push" && a.type !== "force_push") continue;
      for (const p of this.#pulls) {
        if (p.id < a.id && p.state === "open" && `refs/heads/${p.head}` === a.ref) {
          out.push({
            seq: a.id,
            kind: "pull_request",
            action: "synchronize",
            pull: { ...pull(p), headSha: a.after },
            actor: a.actor,
          });
        }
      }
    }
    for (const p of this.#pulls) {
      if (p.id > since)
        out.push({
          seq: p.id,
          kind: "pull_request",
          action: "opened",
          pull: pull(p),
          actor: p.author,
        });
    }
    for (const r of this.#reviews) {
      if (r.id <= since || r.submittedAt === null) continue;
      const dismissed = this.#dismissals.find((d) => d.reviewId === r.id);
      const state =
        r.state === "DISMISSED" ? (dismissed?.state ?? "dismissed") : r.state.toLowerCase();
      out.push({
        seq: r.id,
        kind: "pull_request_review",
        action: "submitted",
        pull: pull(this.#pull(r.pull)),
        review: { id: r.id, state, commitId: r.commitId, user: r.user },
        actor: r.user,
      });
    }
    for (const d of this.#dismissals) {
      if (d.id <= since) continue;
      const r = this.#reviews.find((x) => x.id === d.reviewId)!;
      out.push({
        seq: d.id,
        kind: "pull_request_review",
        action: "dismissed",
        pull: pull(this.#pull(d.pull)),
        review: { id: r.id, state: "dismissed", commitId: r.commitId, user: r.user },
        actor: d.actor,
      });
    }
    for (const d of this.#dispatches) {
      if (d.seq > since) out.push(d);
    }
    return out.sort((x, y) => x.seq - y.seq);
  }

  /** The latest event sequence number so far (what eventsSince(…) counts from). */
  eventCursor(): number {
    return this.#nextId - 1;
  }

  /** The repository role of an account (undefined: none). */
  roleOf(login: string): Role | undefined {
    return this.#role(login);
  }
}

/** A pull request as a webhook event carries it (the parts the workflow runner uses). */
export interface SimPull {
  readonly number: number;
  readonly title: string;
  readonly head: string;
  readonly base: string;
  readonly headSha: string;
  readonly state: "open" | "closed";
  readonly author: string;
}

/** A webhook event the simulator delivers (GitHubSimulator.eventsSince). */
export type SimEvent =
  | {
      readonly seq: number;
      readonly kind: "push";
      readonly ref: string;
      readonly before: string;
      readonly after: string;
      readonly actor: string;
    }
  | {
      readonly seq: number;
      readonly kind: "pull_request";
      readonly action: "opened" | "synchronize";
      readonly pull: SimPull;
      readonly actor: string;
    }
  | {
      readonly seq: number;
      readonly kind: "pull_request_review";
      readonly action: "submitted" | "dismissed";
      readonly pull: SimPull;
      readonly review: { id: number; state: string; commitId: string; user: string };
      readonly actor: string;
    }
  | {
      readonly seq: number;
      readonly kind: "repository_dispatch";
      readonly eventType: string;
      readonly clientPayload: Record<string, unknown>;
      readonly actor: string;
    };

/** A minimal client acting as one user, for test steps GitHub's UI would do (review, merge). */
export class SimClient {
  readonly #base: string;
  readonly #token: string;
  readonly #repo: string;

  constructor(base: string, token: string, repoPath: string) {
    this.#base = base;
    this.#token = token;
    this.#repo = repoPath;
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; data: Json }> {
    const res = await fetch(
      `${this.#base}${path.startsWith("/repos/") || path.startsWith("/orgs/") ? path : this.#repo + path}`,
      {
        method,
        headers: {
          authorization: `token ${this.#token}`,
          accept: "application/vnd.github+json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
    );
    const text = await res.text();
    return { status: res.status, data: text ? (JSON.parse(text) as Json) : {} };
  }

  /** Submits a review; throws on an error response. */
  async review(
    number: number,
    event: "APPROVE" | "REQUEST_CHANGES" | "COMMENT",
    opts: { body?: string; commitId?: string } = {},
  ): Promise<Json> {
    const r = await this.request("POST", `/pulls/${number}/reviews`, {
      event,
      body: opts.body ?? "",
      ...(opts.commitId ? { commit_id: opts.commitId } : {}),
    });
    if (r.status !== 200) throw new Error(`review failed (${r.status}): ${JSON.stringify(r.data)}`);
    return r.data;
  }

  /** Merges a pull request; returns the status and body (the test decides what to expect). */
  merge(number: number, opts: { sha?: string; method?: "merge" | "squash" } = {}) {
    return this.request("PUT", `/pulls/${number}/merge`, {
      merge_method: opts.method ?? "merge",
      ...(opts.sha ? { sha: opts.sha } : {}),
    });
  }
}
