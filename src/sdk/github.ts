import { randomBytes } from "node:crypto";
import { InterlockError } from "../errors.ts";
import { createOctokit, httpStatus, type GitHubClient } from "../forge/github/octokit.ts";
import { GitHubForge } from "../forge/github/github-forge.ts";
import { BRANCH_PREFIX, CORRELATION_TRAILER, denialPath, isRequestId } from "../forge/refs.ts";
import { checkGate } from "../lifecycle/gate-check.ts";
import { openStateOf, type RequestState } from "../lifecycle/status.ts";
import { maskText } from "../masking/mask.ts";
import { recordedResult } from "../notify/local.ts";
import { recordOf, type ParsedRequestFile } from "../proposal/request-file.ts";
import { validateRequestValue } from "../request/parse.ts";
import {
  fileAndHandle,
  handleFor,
  type ApprovalBackend,
  type ApprovalHandle,
  type ApprovalStatus,
  type ExecutionResult,
  type Filed,
  type Rejection,
  type SdkClock,
  executionOf,
  standingRejections,
} from "./approval.ts";

/**
 * The SDK over GitHub (docs/github.md, "Agents: the SDK and MCP over GitHub"). The agent never writes to the approvals repository: it
 * dispatches the request to the repository's request workflow (`repository_dispatch` of type
 * `interlock-request`, as docs/github.md sets up), where the Interlock Action decides, masks
 * and files it under the App's identity, binding the requester to the account that dispatched
 * it. The dispatch carries a random correlation token, which the Action echoes in the pull
 * request's body and in a denial's commit message: that is how the agent learns its request's
 * id. Everything else is read: the pull request by its branch, the gate as GitHub's evidence
 * shows it now (the same check the Action publishes), and the result the executor recorded.
 */

/** The approvals repository on GitHub, and who asks. */
export interface GitHubTarget {
  readonly owner: string;
  readonly repo: string;
  /**
   * The requester's token (the agent's own account, or the person who sponsors it): it needs
   * Contents: write to dispatch (GitHub's rule for `repository_dispatch`), and read access to
   * pull requests, checks and the organisation's teams to follow the gate.
   */
  readonly token: string;
  /** The Interlock App's bot account (`<app-slug>[bot]`): only its pull requests count. */
  readonly botLogin: string;
  /** The API root (default https://api.github.com; GHES: https://host/api/v3). */
  readonly apiUrl?: string;
  /** The organisation whose teams CODEOWNERS names (default: the owner). */
  readonly org?: string;
  /** The default branch (default: asked of GitHub once). */
  readonly defaultBranch?: string;
}

export interface GitHubApprovalOptions {
  readonly github: GitHubTarget;
  /**
   * The principal the token files as, as the approvals repository's config names it
   * ("agent:etl-bot"): a request without `requester` is filed as them, and the handle follows
   * only their requests.
   */
  readonly as: string;
  /** How long filing waits for the request workflow to open the pull request (default 5 min). */
  readonly fileTimeoutMs?: number;
  /** Between looks while filing (default 3 s). */
  readonly pollMs?: number;
  readonly clock?: SdkClock;
  /** A ready client (tests); default: one built from `github`. */
  readonly octokit?: GitHubClient;
}

/** The dispatch event type the documented request workflow listens to. */
export const REQUEST_EVENT_TYPE = "interlock-request";

const DEFAULT_FILE_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_FILE_POLL_MS = 3_000;
/** How many of the newest pull requests and denial commits a filing looks through. */
const LOOK_BACK = 50;

/** Files a request through the repository's request workflow and returns its handle. */
export async function requestApprovalOnGitHub(
  request: unknown,
  options: GitHubApprovalOptions,
): Promise<ApprovalHandle> {
  return fileAndHandle(githubBackend(options), request, options.clock);
}

/** A handle for a request filed earlier on GitHub, by its id. */
export function resumeApprovalOnGitHub(id: string, options: GitHubApprovalOptions): ApprovalHandle {
  return handleFor(githubBackend(options), id, options.clock);
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** GitHub as the SDK's backend. */
export function githubBackend(options: GitHubApprovalOptions): ApprovalBackend {
  const t = options.github;
  const octokit =
    options.octokit ??
    createOctokit({
      token: t.token,
      ...(t.apiUrl ? { baseUrl: t.apiUrl } : {}),
      userAgent: "interlock-sdk",
    });
  const r = { owner: t.owner, repo: t.repo };
  const now = () => options.clock?.now() ?? new Date();
  const sleep = (ms: number) => options.clock?.sleep(ms) ?? realSleep(ms);
  const as = options.as;
  const bot = t.botLogin.toLowerCase();

  let branch: Promise<string> | undefined;
  const defaultBranch = () =>
    (branch ??= t.defaultBranch
      ? Promise.resolve(t.defaultBranch)
      : octokit.rest.repos.get(r).then((x) => x.data.default_branch));
  const forge = async () =>
    new GitHubForge({
      octokit,
      ...r,
      defaultBranch: await defaultBranch(),
      org: t.org ?? t.owner,
      botLogin: t.botLogin,
    });

  /** The newest pull request the App opened from interlock/<id>, any state. */
  async function pullOf(id: string) {
    const { data } = await octokit.rest.pulls.list({
      ...r,
      state: "all",
      head: `${t.owner}:${BRANCH_PREFIX}${id}`,
      per_page: 10,
    });
    return data.find(
      (p) => p.user?.login.toLowerCase() === bot && p.head.ref === `${BRANCH_PREFIX}${id}`,
    );
  }

  /** The newest pull requests of the repository, any state (the filing looks among them). */
  async function recentPulls() {
    const { data } = await octokit.rest.pulls.list({
      ...r,
      state: "all",
      sort: "created",
      direction: "desc",
      per_page: LOOK_BACK,
    });
    return data;
  }

  /** What a correlation token became: a pull request of the App's, or a recorded denial. */
  async function findFiled(correlation: string): Promise<Filed | undefined> {
    const line = `${CORRELATION_TRAILER}: ${correlation}`;
    for (const p of await recentPulls()) {
      const id = p.head.ref.startsWith(BRANCH_PREFIX) ? p.head.ref.slice(BRANCH_PREFIX.length) : "";
      if (p.user?.login.toLowerCase() !== bot || !isRequestId(id)) continue;
      if (!(p.body ?? "").split("\n").some((l) => l.trim() === line)) continue;
      return { id, denied: false, denyReasons: [], url: p.html_url };
    }
    const { data: commits } = await octokit.rest.repos.listCommits({
      ...r,
      sha: await defaultBranch(),
      path: "denials",
      per_page: LOOK_BACK,
    });
    for (const c of commits) {
      const lines = c.commit.message.split("\n").map((l) => l.trim());
      if (!lines.includes(line)) continue;
      const id = lines.find((l) => l.startsWith("Interlock-Denied: "))?.slice(18) ?? "";
      if (!isRequestId(id)) continue;
      // The denial file itself is the record: what the policy said, masked.
      const record = recordOf(await (await forge()).readDefault(denialPath(id)));
      if (record === undefined) continue;
      return { id, denied: true, denyReasons: record.decision.deny, url: null };
    }
    return undefined;
  }

  async function ownStatus(id: string): Promise<ApprovalStatus> {
    const s = await statusOf(id);
    if (s.requester !== as) {
      throw new InterlockError("usage", `request ${id} was not filed by ${as}`, {
        hint: `Follow the requests ${as} filed; a reviewer reads any request on its pull request.`,
      });
    }
    return s;
  }

  return {
    async file(request) {
      // The requester is whoever dispatches (the Action binds it); a request that does not
      // name one is filed as `as`. Checked here first, so a malformed request fails now with
      // its reasons instead of as a failed workflow run the agent cannot read.
      const value =
        request !== null && typeof request === "object" && !Array.isArray(request)
          ? (request as Record<string, unknown>)
          : undefined;
      const filled =
        value !== undefined && value.requester === undefined
          ? {
              ...value,
              requester: { id: as, kind: as.startsWith("agent:") ? "agent" : "human" },
            }
          : request;
      const parsed = validateRequestValue(filled);
      const correlation = randomBytes(16).toString("hex");
      try {
        await octokit.rest.repos.createDispatchEvent({
          ...r,
          event_type: REQUEST_EVENT_TYPE,
          client_payload: { request: parsed, correlation },
        });
      } catch (err) {
        const status = httpStatus(err);
        throw new InterlockError(
          "usage",
          `GitHub refused the dispatch to ${t.owner}/${t.repo}: ${(err as Error).message}`,
          {
            hint:
              status === 404 || status === 403
                ? "The token needs Contents: write on the approvals repository to dispatch a request."
                : "Check the repository name and the token, then file again.",
          },
        );
      }
      const timeout = Math.max(0, options.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS);
      const poll = Math.max(50, options.pollMs ?? DEFAULT_FILE_POLL_MS);
      const deadline = now().getTime() + timeout;
      for (;;) {
        const found = await findFiled(correlation);
        if (found) return found;
        const left = deadline - now().getTime();
        if (left <= 0) {
          throw new InterlockError(
            "usage",
            `the request was dispatched, but no pull request or denial for it appeared in ${Math.round(timeout / 1000)} s`,
            {
              hint:
                `See the request workflow's runs in ${t.owner}/${t.repo} (Actions): a failed run says why. ` +
                `Its correlation token is ${correlation}; do not file again before checking, or it may be filed twice.`,
            },
          );
        }
        await sleep(Math.min(poll, left));
      }
    },

    status: ownStatus,

    async withdraw(id) {
      const s = await ownStatus(id);
      if (s.state !== "pending" && s.state !== "approved" && s.state !== "rejected") {
        throw new InterlockError(
          "usage",
          `request ${id} is ${s.state}: there is nothing to withdraw`,
        );
      }
      const p = await pullOf(id);
      if (p === undefined) throw new InterlockError("usage", `no pull request for request ${id}`);
      // On GitHub a withdrawal is the closed pull request: GitHub records who closed it, and a
      // closed pull request cannot be merged (reopening it puts it before the gate again).
      await octokit.rest.pulls.update({ ...r, pull_number: p.number, state: "closed" });
    },

    async list() {
      const ids = (await recentPulls())
        .filter((p) => p.user?.login.toLowerCase() === bot)
        .map((p) => p.head.ref.slice(BRANCH_PREFIX.length))
        .filter(isRequestId);
      const out: ApprovalStatus[] = [];
      for (const id of ids) {
        const s = await statusOf(id);
        if (s.requester === as) out.push(s);
      }
      return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
  };

  /** Where request `id` stands on GitHub now. */
  async function statusOf(id: string): Promise<ApprovalStatus> {
    const f = await forge();
    const p = await pullOf(id);
    if (p === undefined) {
      const record = recordOf(await f.readDefault(denialPath(id)));
      if (record === undefined) {
        throw new InterlockError("usage", `no request ${id} in ${t.owner}/${t.repo}`, {
          hint: "Use the id returned when the request was filed.",
        });
      }
      return status(id, "denied", record, {
        summary: `denied by policy: ${record.decision.deny.join("; ")}`,
        denyReasons: record.decision.deny,
      });
    }
    const url = p.html_url;
    if (p.merged_at) {
      const record = await mergedRecord(f, id, p.number, p.head.sha);
      const result = await recordedResult(f, id);
      if (result === undefined) {
        return status(id, "merged", record, { summary: "merged; waits for the executor", url });
      }
      const refused = result.outcome === "refused";
      const execution = executionOf(result);
      return status(id, refused ? "invalid" : "executed", record, {
        summary: refused
          ? `refused by the executor, never run: ${result.error ?? "no reason recorded"}`
          : "executed; see its result",
        execution,
        approvers: result.approvers,
        url,
      });
    }
    if (p.state === "closed") {
      // Who closed it: the newest "closed" event of the pull request's issue.
      const { data: events } = await octokit.rest.issues.listEvents({
        ...r,
        issue_number: p.number,
        per_page: 100,
      });
      const by = events.filter((e) => e.event === "closed").at(-1)?.actor?.login ?? null;
      return status(id, "withdrawn", await mergedRecord(f, id, p.number, p.head.sha), {
        summary: `its pull request was closed${by ? ` by ${by}` : ""} without a merge`,
        withdrawnBy: by,
        url,
      });
    }
    // Open: the gate, exactly as the Action evaluates it (the one evidence rule).
    const gate = await checkGate(f, id, now());
    const { verdict } = gate;
    const state = openStateOf(verdict);
    const rejections = standingRejections(
      gate.collected.snapshot.reviews.filter((rv) => rv.verified && !rv.isBot),
    );
    const expiresAt = gate.collected.snapshot.request.expiresAt.toISOString();
    return {
      ...status(id, state, gate.collected.record, {
        summary:
          state === "expired"
            ? `expired at ${expiresAt}; it can no longer be approved`
            : state === "approved"
              ? "nothing: the gate holds, it can be merged"
              : verdict.summary,
        rejections,
        approvers: verdict.approvals.filter((a) => a.counted).map((a) => a.who),
        url,
      }),
      expiresAt,
    };
  }

  /** The request file as merged (or as last proposed): on the default branch, else the PR's head. */
  async function mergedRecord(
    f: GitHubForge,
    id: string,
    number: number,
    head: string,
  ): Promise<ParsedRequestFile | undefined> {
    const { data: files } = await octokit.rest.pulls.listFiles({ ...r, pull_number: number });
    const path = files.map((x) => x.filename).find((x) => x.endsWith(`/${id}.yaml`));
    if (path === undefined) return undefined;
    const onDefault = recordOf(await f.readDefault(path));
    if (onDefault) return onDefault;
    try {
      const { data } = await octokit.rest.repos.getContent({ ...r, path, ref: head });
      return "content" in data && typeof data.content === "string"
        ? recordOf(Buffer.from(data.content, "base64").toString("utf8"))
        : undefined;
    } catch {
      return undefined;
    }
  }
}

function status(
  id: string,
  state: RequestState,
  record: ParsedRequestFile | undefined,
  o: {
    summary: string;
    denyReasons?: readonly string[];
    rejections?: readonly Rejection[];
    approvers?: readonly string[];
    execution?: ExecutionResult;
    withdrawnBy?: string | null;
    url?: string;
  },
): ApprovalStatus {
  const req = record?.request as { action?: unknown; requester?: { id?: unknown } } | undefined;
  return {
    id,
    state,
    summary: maskText(o.summary),
    action: String(req?.action ?? "?"),
    risk: record?.decision.risk ?? "?",
    requester: String(req?.requester?.id ?? "?"),
    requestedAt: record?.requested_at ?? null,
    expiresAt: record?.expires_at ?? null,
    denyReasons: o.denyReasons ?? [],
    rejections: o.rejections ?? [],
    approvers: o.approvers ?? [],
    reviewers: [],
    execution: o.execution ?? null,
    withdrawnBy: o.withdrawnBy ?? null,
    url: o.url ?? null,
  };
}
