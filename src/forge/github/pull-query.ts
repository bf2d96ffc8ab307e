import { CONFIG_PATH } from "../../config/config.ts";
import { CODEOWNERS_LOCATIONS } from "../../gate/codeowners.ts";
import { POLICY_DIST } from "../../evidence/evidence.ts";
import type { ChangeStatus, ReviewState } from "../../gate/snapshot.ts";
import type { GitHubClient } from "./octokit.ts";

/**
 * What the gate and the executor read about a proposal, in one GraphQL query
 * (https://docs.github.com/graphql): the pull request by its head branch, its reviews with
 * whether each author can push (PullRequestReview.authorCanPushToRepository, instead of one
 * permission call per reviewer), who dismissed which review (the timeline's
 * ReviewDismissedEvent), its changed files and commits with their GitHub users, the trust
 * inputs (CODEOWNERS and .interlock/config.yaml) on the base, and the organisation's teams with
 * their members. Only the REST activity log (who pushed) has no GraphQL counterpart.
 *
 * Every field is from GitHub's schema; the test simulator executes these queries against the
 * published schema, so a field GitHub does not have fails there too.
 */

/**
 * GitHub's file statuses, mapped so that anything but a plain addition is visible. GraphQL names
 * a renamed file by its new path only (PullRequestChangedFile has no previous path); a rename is
 * never a plain addition, so the single-file rule refuses such a proposal all the same.
 */
const CHANGE: Record<string, ChangeStatus> = {
  ADDED: "added",
  COPIED: "added",
  DELETED: "removed",
  RENAMED: "renamed",
  MODIFIED: "modified",
  CHANGED: "modified",
};

export interface PullPerson {
  readonly login?: string;
  readonly name?: string;
  readonly email?: string;
}

export interface PullReview {
  /** The review's node id (what a dismissal names). */
  readonly id: string;
  readonly state: string;
  readonly submittedAt: string | null;
  /** Null when the commit is gone (garbage-collected or force-deleted). */
  readonly commit: string | null;
  readonly login: string | undefined;
  readonly isBot: boolean;
  readonly canPush: boolean;
  /** What the reviewer wrote with the review (shown, masked, to the requester as a reason). */
  readonly body: string;
}

export interface PullDismissal {
  readonly by: string | undefined;
  readonly byBot: boolean;
  readonly was: ReviewState | undefined;
}

/** One pull request as the query reads it. */
export interface PullData {
  readonly number: number;
  readonly url: string;
  readonly headRef: string;
  readonly headRepo: string | undefined;
  readonly headSha: string;
  readonly baseRef: string;
  readonly baseSha: string;
  readonly author: string;
  readonly mergedAt: Date | undefined;
  readonly merge: { readonly sha: string; readonly parents: readonly string[] } | undefined;
  /** The trust inputs at the merge's first parent (merged pull requests). */
  readonly firstParentFiles?: BaseFiles;
  readonly reviews: readonly PullReview[];
  /** Dismissals by the review's node id. */
  readonly dismissals: ReadonlyMap<string, PullDismissal>;
  /** The PR's changes and commits (open proposals; a merge is compared through REST). */
  readonly files?: readonly { path: string; status: ChangeStatus }[];
  readonly commits?: readonly { sha: string; author: PullPerson; committer: PullPerson }[];
  /** File texts read with the query: "<commit>:<path>" → text, or undefined when absent. */
  readonly texts: ReadonlyMap<string, string | undefined>;
  /** The committer date each of the pull request's commits records, by commit id. */
  readonly commitDates: ReadonlyMap<string, string>;
}

/** The organisation's teams: slug → members, or why they could not be read. */
export type OrgTeams =
  | { readonly members: ReadonlyMap<string, readonly string[]>; readonly incomplete: boolean }
  | { readonly unreadable: string };

/**
 * Trust inputs on a base: CODEOWNERS (first found), the configuration, and the built policy's
 * manifest (policies/dist/manifest.json: which policy revision is committed there).
 */
export interface BaseFiles {
  readonly codeowners: string | undefined;
  readonly config: string | undefined;
  readonly manifest: string | undefined;
}

/** A base where none of the trust inputs could be read. */
export const NO_BASE_FILES: BaseFiles = {
  codeowners: undefined,
  config: undefined,
  manifest: undefined,
};

const TEXT = "object { ... on Blob { text isTruncated } }";
const BLOB = "... on Blob { text isTruncated }";

/** The trust inputs of one commit, as fields of a Commit (aliases f0…f3). */
const BASE_FILES = [
  ...CODEOWNERS_LOCATIONS,
  CONFIG_PATH.split("\\").join("/"),
  POLICY_DIST.manifest,
]
  .map((p, i) => `f${i}: file(path: ${JSON.stringify(p)}) { ${TEXT} }`)
  .join(" ");

const ACTOR = "author { __typename login }";

/** The pull request fields both queries read; `$path` a variable name when the path is known. */
function pullFields(path: string | undefined, merged: boolean): string {
  const fileAt = path ? `file: file(path: ${path}) { ${TEXT} }` : "";
  return `
    number url headRefName headRefOid baseRefName baseRefOid mergedAt
    headRepository { nameWithOwner }
    ${ACTOR}
    ${merged ? `mergeCommit { oid ${fileAt} parents(first: 3) { totalCount nodes { oid ${BASE_FILES} } } }` : ""}
    reviews(first: 100) { pageInfo { hasNextPage endCursor } nodes { ${REVIEW} } }
    timelineItems(itemTypes: [REVIEW_DISMISSED_EVENT], first: 100) {
      pageInfo { hasNextPage endCursor } nodes { ${DISMISSAL} }
    }
    ${merged ? "" : "files(first: 100) { totalCount nodes { path changeType } }"}
    commits(first: 100) { totalCount nodes { commit { oid committedDate ${fileAt} ${merged ? "" : PEOPLE} } } }`;
}

const REVIEW = `id state body submittedAt commit { oid } authorCanPushToRepository ${ACTOR}`;
const DISMISSAL =
  "... on ReviewDismissedEvent { actor { __typename login } previousReviewState review { id } }";
const PEOPLE = "author { name email user { login } } committer { name email user { login } }";

const TEAMS = `organization(login: $org) {
    teams(first: 100) { pageInfo { hasNextPage } nodes { slug members(first: 100) { pageInfo { hasNextPage } nodes { login } } } }
  }`;

interface Raw {
  [k: string]: unknown;
}

/** GitHub's GraphQL answer: the data, and the errors of fields answered null. */
async function run(
  octokit: GitHubClient,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ data: Raw; errors: { type?: string; path?: unknown[]; message: string }[] }> {
  try {
    const data = await octokit.graphql<Raw>(query, variables);
    return { data, errors: [] };
  } catch (err) {
    const e = err as { name?: string; data?: Raw; errors?: { type?: string; message: string }[] };
    if (e.name === "GraphqlResponseError" && e.data && Array.isArray(e.errors)) {
      return { data: e.data, errors: e.errors };
    }
    throw err;
  }
}

/**
 * Errors GitHub reports for fields answered null: those under `organization` are the teams'
 * (read as unreadable); any other makes the whole answer untrustworthy and is thrown.
 */
function teamsOrThrow(
  errors: { type?: string; path?: unknown[]; message: string }[],
): string | undefined {
  let teams: string | undefined;
  for (const e of errors) {
    if (e.path?.[0] === "organization" && (e.type === "FORBIDDEN" || e.type === "NOT_FOUND")) {
      teams = `GitHub answered ${e.type} (${e.message}) to reading the organisation's teams: Interlock's GitHub App needs the organisation permission Members: read, and GITHUB_TOKEN can never read teams`;
      continue;
    }
    throw new Error(`GitHub's GraphQL API answered: ${e.type ?? "error"}: ${e.message}`);
  }
  return teams;
}

function orgTeams(raw: unknown, unreadable: string | undefined): OrgTeams {
  if (unreadable !== undefined) return { unreadable };
  const org = raw as {
    teams: {
      pageInfo: { hasNextPage: boolean };
      nodes: {
        slug: string;
        members: { pageInfo: { hasNextPage: boolean }; nodes: { login: string }[] };
      }[];
    };
  } | null;
  if (org == null) return { unreadable: "GitHub did not answer the organisation's teams" };
  const members = new Map<string, string[]>();
  let incomplete = org.teams.pageInfo.hasNextPage;
  for (const t of org.teams.nodes) {
    if (t.members.pageInfo.hasNextPage) {
      incomplete = true;
      continue; // read in full when it is needed (teamMembers)
    }
    members.set(
      t.slug.toLowerCase(),
      t.members.nodes.map((m) => m.login),
    );
  }
  return { members, incomplete };
}

function text(entry: unknown, what: string): string | undefined {
  const blob = (entry as { object?: { text?: string | null; isTruncated?: boolean } } | null)
    ?.object;
  return blobText(blob, what);
}

function blobText(
  blob: { text?: string | null; isTruncated?: boolean } | null | undefined,
  what: string,
): string | undefined {
  if (blob == null || blob.text === undefined) return undefined;
  if (blob.isTruncated || blob.text === null) {
    throw new Error(
      `GitHub gave ${what} truncated or as binary: Interlock does not judge part of a file`,
    );
  }
  return blob.text;
}

function baseFiles(commit: Raw, where: string): BaseFiles {
  let codeowners: string | undefined;
  for (let i = 0; i < CODEOWNERS_LOCATIONS.length && codeowners === undefined; i++) {
    codeowners = text(commit[`f${i}`], `${CODEOWNERS_LOCATIONS[i]} at ${where}`);
  }
  const config = text(commit[`f${CODEOWNERS_LOCATIONS.length}`], `${CONFIG_PATH} at ${where}`);
  const manifest = text(
    commit[`f${CODEOWNERS_LOCATIONS.length + 1}`],
    `${POLICY_DIST.manifest} at ${where}`,
  );
  return { codeowners, config, manifest };
}

function isBotActor(a: { __typename?: string; login?: string } | null | undefined): boolean {
  return a?.__typename === "Bot" || (a?.login ?? "").toLowerCase().endsWith("[bot]");
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

export { reviewState };

/** Parses one pull request node; `path` the request file when it was read with the query. */
async function pullData(
  octokit: GitHubClient,
  repo: { owner: string; repo: string },
  raw: Raw,
  path: string | undefined,
): Promise<PullData> {
  const p = raw as {
    number: number;
    url: string;
    headRefName: string;
    headRefOid: string;
    baseRefName: string;
    baseRefOid: string;
    mergedAt: string | null;
    headRepository: { nameWithOwner: string } | null;
    author: { __typename: string; login: string } | null;
    mergeCommit?: {
      oid: string;
      file?: unknown;
      parents: { totalCount: number; nodes: Raw[] };
    } | null;
    reviews: Page<RawReview>;
    timelineItems: Page<RawDismissal>;
    files?: { totalCount: number; nodes: { path: string; changeType: string }[] };
    commits: { totalCount: number; nodes: { commit: RawCommit }[] };
  };
  const texts = new Map<string, string | undefined>();
  let merge: PullData["merge"];
  if (p.mergeCommit) {
    merge = {
      sha: p.mergeCommit.oid,
      parents: p.mergeCommit.parents.nodes.map((n) => n.oid as string),
    };
    if (path !== undefined) {
      texts.set(`${p.mergeCommit.oid}:${path}`, text(p.mergeCommit.file, `${path} at the merge`));
    }
  }
  const first = p.mergeCommit?.parents.nodes[0];
  const firstParentFiles =
    first === undefined ? undefined : baseFiles(first, `the merge's first parent`);
  // An open proposal's commits name its committers, so all must be read (fail closed); a merged
  // one's commits only carry the filed version of the file, read by itself when it is not
  // among them.
  if (p.files && p.commits.totalCount > p.commits.nodes.length) {
    throw new Error(
      `pull request #${p.number} has ${p.commits.totalCount} commits; Interlock reads at most ${p.commits.nodes.length}`,
    );
  }
  if (p.files && p.files.totalCount > p.files.nodes.length) {
    throw new Error(
      `pull request #${p.number} changes ${p.files.totalCount} files; Interlock reads at most ${p.files.nodes.length}`,
    );
  }
  const person = (g: RawCommit["author"]): PullPerson => ({
    ...(g?.user?.login ? { login: g.user.login } : {}),
    ...(g?.name ? { name: g.name } : {}),
    ...(g?.email ? { email: g.email } : {}),
  });
  for (const n of p.commits.nodes) {
    if (path !== undefined && "file" in n.commit) {
      texts.set(`${n.commit.oid}:${path}`, text(n.commit.file, `${path} at ${n.commit.oid}`));
    }
  }
  const number = p.number;
  const more = async <T>(page: Page<T>, field: "reviews" | "timelineItems", sel: string) => {
    const nodes = [...page.nodes];
    let info = page.pageInfo;
    while (info.hasNextPage) {
      const args =
        field === "timelineItems"
          ? "itemTypes: [REVIEW_DISMISSED_EVENT], first: 100, after: $after"
          : "first: 100, after: $after";
      const { data, errors } = await run(
        octokit,
        `query($owner: String!, $repo: String!, $number: Int!, $after: String!) {
          repository(owner: $owner, name: $repo) { pullRequest(number: $number) {
            ${field}(${args}) { pageInfo { hasNextPage endCursor } nodes { ${sel} } } } } }`,
        { ...repo, number, after: info.endCursor },
      );
      teamsOrThrow(errors);
      const next = (data.repository as { pullRequest: Record<string, Page<T>> }).pullRequest[
        field
      ]!;
      nodes.push(...next.nodes);
      info = next.pageInfo;
    }
    return nodes;
  };
  const reviews = (await more(p.reviews, "reviews", REVIEW)).map((r): PullReview => ({
    id: r.id,
    state: r.state,
    submittedAt: r.submittedAt,
    commit: r.commit?.oid ?? null,
    login: r.author?.login,
    isBot: isBotActor(r.author),
    canPush: r.authorCanPushToRepository,
    body: r.body ?? "",
  }));
  const dismissals = new Map<string, PullDismissal>();
  for (const d of await more(p.timelineItems, "timelineItems", DISMISSAL)) {
    if (!d.review || !d.actor) continue;
    dismissals.set(d.review.id, {
      by: d.actor.login,
      byBot: isBotActor(d.actor),
      was: reviewState(d.previousReviewState),
    });
  }
  return {
    number,
    url: p.url,
    headRef: p.headRefName,
    headRepo: p.headRepository?.nameWithOwner,
    headSha: p.headRefOid,
    baseRef: p.baseRefName,
    baseSha: p.baseRefOid,
    author: p.author?.login ?? "ghost",
    mergedAt: p.mergedAt ? new Date(p.mergedAt) : undefined,
    merge,
    ...(firstParentFiles ? { firstParentFiles } : {}),
    reviews,
    dismissals,
    ...(p.files
      ? {
          files: p.files.nodes.map((f) => ({
            path: f.path,
            status: CHANGE[f.changeType] ?? "modified",
          })),
        }
      : {}),
    ...(p.files
      ? {
          commits: p.commits.nodes.map(({ commit: c }) => ({
            sha: c.oid,
            author: person(c.author),
            committer: person(c.committer),
          })),
        }
      : {}),
    texts,
    commitDates: new Map(
      p.commits.nodes.flatMap(({ commit: c }) =>
        c.committedDate ? [[c.oid, c.committedDate] as const] : [],
      ),
    ),
  };
}

interface Page<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: T[];
}
interface RawReview {
  id: string;
  state: string;
  submittedAt: string | null;
  body?: string | null;
  commit: { oid: string } | null;
  authorCanPushToRepository: boolean;
  author: { __typename: string; login: string } | null;
}
interface RawDismissal {
  actor?: { __typename: string; login: string } | null;
  previousReviewState: string;
  review?: { id: string } | null;
}
interface RawCommit {
  oid: string;
  committedDate?: string;
  file?: unknown;
  author?: { name?: string | null; email?: string | null; user?: { login: string } | null } | null;
  committer?: {
    name?: string | null;
    email?: string | null;
    user?: { login: string } | null;
  } | null;
}

export interface OpenPullAnswer {
  readonly pull: PullData | undefined;
  readonly base: BaseFiles;
  readonly teams: OrgTeams;
  /** Interlock's App's check runs named `checkName` on the head, by their id. */
  readonly gateRuns: { readonly head: string; readonly ids: readonly number[] } | undefined;
}

/**
 * The open pull request from `branch` into `baseRef`, with the trust inputs on `baseRef`, the
 * organisation's teams and the App's gate check runs on the head: 1 GraphQL query.
 */
export async function queryOpenPull(
  octokit: GitHubClient,
  q: {
    owner: string;
    repo: string;
    org: string;
    branch: string;
    baseRef: string;
    checkName: string;
    appSlug: string;
    /** The request file's probable path: read at every commit with the same query. */
    path?: string | undefined;
  },
): Promise<OpenPullAnswer> {
  const hinted = q.path !== undefined;
  const query = `query($owner: String!, $repo: String!, $org: String!, $branch: String!, $base: String!, $baseFiles: String!, $check: String!${hinted ? ", $path: String!" : ""}) {
    repository(owner: $owner, name: $repo) {
      pullRequests(headRefName: $branch, baseRefName: $base, states: [OPEN], first: 5) { nodes { ${pullFields(hinted ? "$path" : undefined, false)} } }
      base: object(expression: $baseFiles) { ... on Commit { ${BASE_FILES} } }
      tip: object(expression: $branch) { ... on Commit { oid checkSuites(first: 50) { pageInfo { hasNextPage }
        nodes { app { slug } checkRuns(first: 20, filterBy: { checkName: $check }) { nodes { databaseId } } } } } }
    }
    ${TEAMS}
  }`;
  const { data, errors } = await run(octokit, query, {
    owner: q.owner,
    repo: q.repo,
    org: q.org,
    branch: q.branch,
    base: q.baseRef,
    baseFiles: q.baseRef,
    check: q.checkName,
    ...(hinted ? { path: q.path } : {}),
  });
  const unreadableTeams = teamsOrThrow(errors);
  const repo = data.repository as {
    pullRequests: { nodes: Raw[] };
    base: Raw | null;
    tip: {
      oid: string;
      checkSuites: {
        pageInfo: { hasNextPage: boolean };
        nodes: { app: { slug: string } | null; checkRuns: { nodes: { databaseId: number }[] } }[];
      };
    } | null;
  };
  const same = `${q.owner}/${q.repo}`.toLowerCase();
  const node = repo.pullRequests.nodes.find(
    (n) =>
      n.headRefName === q.branch &&
      (n.headRepository as { nameWithOwner: string } | null)?.nameWithOwner.toLowerCase() === same,
  );
  const pull = node === undefined ? undefined : await pullData(octokit, q, node, q.path);
  // Suites are not filtered by name (CheckSuiteFilter.checkName is "Filters the check suites by
  // this name", not the runs'); when there are more than one page of them, publishGate looks
  // the runs up itself.
  const gateRuns =
    repo.tip && !repo.tip.checkSuites.pageInfo.hasNextPage
      ? {
          head: repo.tip.oid,
          ids: repo.tip.checkSuites.nodes
            .filter((s) => s.app?.slug === q.appSlug)
            .flatMap((s) => s.checkRuns.nodes.map((r) => r.databaseId)),
        }
      : undefined;
  return {
    pull,
    base: repo.base ? baseFiles(repo.base, q.baseRef) : NO_BASE_FILES,
    teams: orgTeams(data.organization, unreadableTeams),
    gateRuns,
  };
}

export interface MergedAnswer {
  /** Merged pull requests from interlock/<id> into the base, by request id, first merged first. */
  readonly pulls: ReadonlyMap<string, readonly PullData[]>;
  /** Request ids whose claim ref exists. */
  readonly claimed: ReadonlySet<string>;
  readonly teams: OrgTeams;
}

/**
 * For each request (id, path of its file): the merged pull requests from its branch with the
 * file at the merge and at each of the PR's commits, the trust inputs at the merge's first
 * parent, whether its claim ref exists; and the organisation's teams. 1 GraphQL query for up
 * to 20 requests.
 */
export async function queryMerged(
  octokit: GitHubClient,
  q: {
    owner: string;
    repo: string;
    org: string;
    baseRef: string;
    branchPrefix: string;
    claimPrefix: string;
  },
  requests: readonly { id: string; path: string }[],
): Promise<MergedAnswer> {
  const pulls = new Map<string, PullData[]>();
  const claimed = new Set<string>();
  let teams: OrgTeams = { members: new Map(), incomplete: false };
  for (let at = 0; at < requests.length; at += 20) {
    const batch = requests.slice(at, at + 20);
    const vars: Record<string, unknown> = {
      owner: q.owner,
      repo: q.repo,
      org: q.org,
      base: q.baseRef,
    };
    const decl = ["$owner: String!", "$repo: String!", "$org: String!", "$base: String!"];
    const fields = batch.map((r, i) => {
      vars[`b${i}`] = `${q.branchPrefix}${r.id}`;
      vars[`p${i}`] = r.path;
      vars[`c${i}`] = `${q.claimPrefix}${r.id}`;
      decl.push(`$b${i}: String!`, `$p${i}: String!`, `$c${i}: String!`);
      return `r${i}: pullRequests(headRefName: $b${i}, baseRefName: $base, states: [MERGED], first: 10) { nodes { ${pullFields(`$p${i}`, true)} } }
        c${i}: ref(qualifiedName: $c${i}) { name }`;
    });
    const query = `query(${decl.join(", ")}) {
      repository(owner: $owner, name: $repo) { ${fields.join("\n")} }
      ${TEAMS}
    }`;
    const { data, errors } = await run(octokit, query, vars);
    const unreadable = teamsOrThrow(errors);
    if (at === 0) teams = orgTeams(data.organization, unreadable);
    const repo = data.repository as Raw;
    const same = `${q.owner}/${q.repo}`.toLowerCase();
    for (const [i, r] of batch.entries()) {
      const nodes = (repo[`r${i}`] as { nodes: Raw[] }).nodes;
      const list: PullData[] = [];
      for (const n of nodes) {
        const pr = await pullData(octokit, q, n, r.path);
        if (
          pr.headRef === `${q.branchPrefix}${r.id}` &&
          pr.headRepo?.toLowerCase() === same &&
          pr.mergedAt !== undefined &&
          pr.merge !== undefined
        ) {
          list.push(pr);
        }
      }
      pulls.set(
        r.id,
        list.sort((a, b) => a.mergedAt!.getTime() - b.mergedAt!.getTime()),
      );
      if (repo[`c${i}`] != null) claimed.add(r.id);
    }
  }
  return { pulls, claimed, teams };
}

/**
 * Files at commits (head and filed versions of a request file): 1 GraphQL query.
 * "<commit>:<path>" → text, or undefined when there is no such file.
 */
export async function queryTexts(
  octokit: GitHubClient,
  q: { owner: string; repo: string },
  revisions: readonly string[],
): Promise<Map<string, string | undefined>> {
  const vars: Record<string, unknown> = { owner: q.owner, repo: q.repo };
  const decl = ["$owner: String!", "$repo: String!"];
  const fields = revisions.map((rev, i) => {
    vars[`e${i}`] = rev;
    decl.push(`$e${i}: String!`);
    return `t${i}: object(expression: $e${i}) { ${BLOB} }`;
  });
  const { data, errors } = await run(
    octokit,
    `query(${decl.join(", ")}) { repository(owner: $owner, name: $repo) { ${fields.join(" ")} } }`,
    vars,
  );
  teamsOrThrow(errors);
  const repo = data.repository as Raw;
  const out = new Map<string, string | undefined>();
  revisions.forEach((rev, i) => {
    out.set(rev, blobText(repo[`t${i}`] as { text?: string | null } | null, rev));
  });
  return out;
}

/**
 * Members of the organisation's teams `slugs` in full (teams too large for the first answer):
 * 1 GraphQL query per 100 members of the largest team.
 */
export async function queryTeamMembers(
  octokit: GitHubClient,
  org: string,
  slugs: readonly string[],
): Promise<OrgTeams> {
  const members = new Map<string, string[]>();
  let pending = slugs.map((s) => ({ slug: s, after: null as string | null }));
  while (pending.length > 0) {
    const vars: Record<string, unknown> = { org };
    const decl = ["$org: String!"];
    const fields = pending.map((t, i) => {
      vars[`s${i}`] = t.slug;
      vars[`a${i}`] = t.after;
      decl.push(`$s${i}: String!`, `$a${i}: String`);
      return `t${i}: team(slug: $s${i}) { members(first: 100, after: $a${i}) { pageInfo { hasNextPage endCursor } nodes { login } } }`;
    });
    const { data, errors } = await run(
      octokit,
      `query(${decl.join(", ")}) { organization(login: $org) { ${fields.join(" ")} } }`,
      vars,
    );
    const unreadable = teamsOrThrow(errors);
    if (unreadable !== undefined) return { unreadable };
    const orgData = data.organization as Raw;
    const next: typeof pending = [];
    pending.forEach((t, i) => {
      const team = orgData[`t${i}`] as { members: Page<{ login: string }> } | null;
      if (team == null) return; // no such team: it stays unknown and counts nobody
      const key = t.slug.toLowerCase();
      members.set(key, [...(members.get(key) ?? []), ...team.members.nodes.map((m) => m.login)]);
      if (team.members.pageInfo.hasNextPage) {
        next.push({ slug: t.slug, after: team.members.pageInfo.endCursor });
      }
    });
    pending = next;
  }
  return { members, incomplete: false };
}
