/**
 * Webhook payloads as GitHub sends them to a workflow (GITHUB_EVENT_PATH), for the action's
 * tests. Each builder returns a complete payload; test/github-action.test.ts validates every
 * one of them, variants included, against @octokit/webhooks-schemas with ajv, so the action
 * is tested on what GitHub really sends rather than on the few fields it reads.
 */

export const OWNER = "acme";
export const REPO = "approvals";
export const FULL_NAME = `${OWNER}/${REPO}`;
const API = "https://api.github.com";
const WEB = "https://github.com";
const T = "2026-11-24T10:00:00Z";

/** A ULID-shaped request id for proposal branches. */
export const REQUEST_ID = "01KAW5W2Z8N3Q6R7S8T9V0WXYZ";
export const HEAD_SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
export const BASE_SHA = "9049f1265b7d61be4a8904a9a27120d2064dab3b";

export function user(login: string, type: "User" | "Bot" | "Organization" = "User", id = 1001) {
  const u = `${API}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: `U_${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url: u,
    html_url: `${WEB}/${encodeURIComponent(login)}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type,
    site_admin: false,
  };
}

export function repository(fullName = FULL_NAME, defaultBranch = "main") {
  const [owner, name] = fullName.split("/") as [string, string];
  const r = `${API}/repos/${fullName}`;
  return {
    id: 4242,
    node_id: "R_4242",
    name,
    full_name: fullName,
    private: true,
    owner: user(owner, "Organization", 9000),
    html_url: `${WEB}/${fullName}`,
    description: "Interlock approvals",
    fork: false,
    url: r,
    forks_url: `${r}/forks`,
    keys_url: `${r}/keys{/key_id}`,
    collaborators_url: `${r}/collaborators{/collaborator}`,
    teams_url: `${r}/teams`,
    hooks_url: `${r}/hooks`,
    issue_events_url: `${r}/issues/events{/number}`,
    events_url: `${r}/events`,
    assignees_url: `${r}/assignees{/user}`,
    branches_url: `${r}/branches{/branch}`,
    tags_url: `${r}/tags`,
    blobs_url: `${r}/git/blobs{/sha}`,
    git_tags_url: `${r}/git/tags{/sha}`,
    git_refs_url: `${r}/git/refs{/sha}`,
    trees_url: `${r}/git/trees{/sha}`,
    statuses_url: `${r}/statuses/{sha}`,
    languages_url: `${r}/languages`,
    stargazers_url: `${r}/stargazers`,
    contributors_url: `${r}/contributors`,
    subscribers_url: `${r}/subscribers`,
    subscription_url: `${r}/subscription`,
    commits_url: `${r}/commits{/sha}`,
    git_commits_url: `${r}/git/commits{/sha}`,
    comments_url: `${r}/comments{/number}`,
    issue_comment_url: `${r}/issues/comments{/number}`,
    contents_url: `${r}/contents/{+path}`,
    compare_url: `${r}/compare/{base}...{head}`,
    merges_url: `${r}/merges`,
    archive_url: `${r}/{archive_format}{/ref}`,
    downloads_url: `${r}/downloads`,
    issues_url: `${r}/issues{/number}`,
    pulls_url: `${r}/pulls{/number}`,
    milestones_url: `${r}/milestones{/number}`,
    notifications_url: `${r}/notifications{?since,all,participating}`,
    labels_url: `${r}/labels{/name}`,
    releases_url: `${r}/releases{/id}`,
    deployments_url: `${r}/deployments`,
    created_at: T,
    updated_at: T,
    pushed_at: T,
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    clone_url: `${WEB}/${fullName}.git`,
    svn_url: `${WEB}/${fullName}`,
    homepage: null,
    size: 12,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    has_projects: false,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    open_issues_count: 1,
    license: null,
    forks: 0,
    open_issues: 1,
    watchers: 0,
    default_branch: defaultBranch,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: "private",
    custom_properties: {},
  };
}

export function workflowDispatchEvent(
  opts: { ref?: string; inputs?: Record<string, string> | null; sender?: string } = {},
) {
  return {
    inputs: opts.inputs === undefined ? { request: "" } : opts.inputs,
    ref: opts.ref ?? "refs/heads/main",
    repository: repository(),
    sender: user(opts.sender ?? "alice"),
    workflow: ".github/workflows/interlock-request.yml",
  };
}

export function repositoryDispatchEvent(
  opts: {
    clientPayload?: Record<string, unknown> | null;
    sender?: string;
    senderType?: "User" | "Bot";
    eventType?: string;
  } = {},
) {
  return {
    action: opts.eventType ?? "interlock-request",
    branch: "main",
    client_payload: opts.clientPayload === undefined ? {} : opts.clientPayload,
    repository: repository(),
    sender: user(opts.sender ?? "etl-bot", opts.senderType ?? "User", 2002),
    installation: { id: 77, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNzc=" },
  };
}

export function pushEvent(
  opts: { ref?: string; after?: string; deleted?: boolean; pusher?: string } = {},
) {
  const after = opts.after ?? HEAD_SHA;
  const commit = {
    id: after,
    tree_id: "f9d2a07e9488b91af2641b26b9407fe22a451433",
    distinct: true,
    message: `Merge db.export request ${REQUEST_ID}`,
    timestamp: T,
    url: `${WEB}/${FULL_NAME}/commit/${after}`,
    author: { name: "Interlock", email: "interlock@users.noreply.github.com" },
    committer: { name: "GitHub", email: "noreply@github.com" },
    added: [`requests/db.export/${REQUEST_ID}.yaml`],
    removed: [],
    modified: [],
  };
  return {
    ref: opts.ref ?? "refs/heads/main",
    before: BASE_SHA,
    after,
    created: false,
    deleted: opts.deleted ?? false,
    forced: false,
    base_ref: null,
    compare: `${WEB}/${FULL_NAME}/compare/${BASE_SHA.slice(0, 12)}...${after.slice(0, 12)}`,
    commits: [commit],
    head_commit: commit,
    repository: repository(),
    pusher: { name: opts.pusher ?? "dana", email: `${opts.pusher ?? "dana"}@acme.example` },
    sender: user(opts.pusher ?? "dana"),
  };
}

export interface PullRequestOptions {
  number?: number;
  headRef?: string;
  headSha?: string;
  headRepo?: string;
  baseRef?: string;
  state?: "open" | "closed";
}

function pullRequest(o: PullRequestOptions) {
  const number = o.number ?? 7;
  const p = `${API}/repos/${FULL_NAME}/pulls/${number}`;
  const i = `${API}/repos/${FULL_NAME}/issues/${number}`;
  const headRef = o.headRef ?? `interlock/${REQUEST_ID}`;
  const headSha = o.headSha ?? HEAD_SHA;
  const headRepo = o.headRepo ?? FULL_NAME;
  const baseRef = o.baseRef ?? "main";
  const bot = user("github-actions[bot]", "Bot", 41898282);
  return {
    url: p,
    id: 1_000_000 + number,
    node_id: `PR_${number}`,
    html_url: `${WEB}/${FULL_NAME}/pull/${number}`,
    diff_url: `${WEB}/${FULL_NAME}/pull/${number}.diff`,
    patch_url: `${WEB}/${FULL_NAME}/pull/${number}.patch`,
    issue_url: i,
    number,
    state: o.state ?? "open",
    locked: false,
    title: "db.export on postgres://prod/customers [high]",
    user: bot,
    body: "Interlock approval card",
    created_at: T,
    updated_at: T,
    closed_at: null,
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    labels: [],
    milestone: null,
    commits_url: `${p}/commits`,
    review_comments_url: `${p}/comments`,
    review_comment_url: `${API}/repos/${FULL_NAME}/pulls/comments{/number}`,
    comments_url: `${i}/comments`,
    statuses_url: `${API}/repos/${FULL_NAME}/statuses/${headSha}`,
    head: {
      label: `${headRepo.split("/")[0]}:${headRef}`,
      ref: headRef,
      sha: headSha,
      user: user(headRepo.split("/")[0]!, "Organization", 9000),
      repo: repository(headRepo),
    },
    base: {
      label: `${OWNER}:${baseRef}`,
      ref: baseRef,
      sha: BASE_SHA,
      user: user(OWNER, "Organization", 9000),
      repo: repository(),
    },
    _links: {
      self: { href: p },
      html: { href: `${WEB}/${FULL_NAME}/pull/${number}` },
      issue: { href: i },
      comments: { href: `${i}/comments` },
      review_comments: { href: `${p}/comments` },
      review_comment: { href: `${API}/repos/${FULL_NAME}/pulls/comments{/number}` },
      commits: { href: `${p}/commits` },
      statuses: { href: `${API}/repos/${FULL_NAME}/statuses/${headSha}` },
    },
    author_association: "CONTRIBUTOR",
    auto_merge: null,
    active_lock_reason: null,
    draft: false,
  };
}

export function pullRequestEvent(
  opts: PullRequestOptions & { action?: "opened" | "synchronize" | "reopened" | "closed" } = {},
) {
  const pr = pullRequest(opts);
  const action = opts.action ?? "opened";
  return {
    action,
    number: pr.number,
    pull_request: {
      ...pr,
      ...(action === "closed" ? { state: "closed", closed_at: T } : {}),
      merged: false,
      mergeable: null,
      rebaseable: null,
      mergeable_state: "unknown",
      merged_by: null,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 20,
      deletions: 0,
      changed_files: 1,
    },
    ...(action === "synchronize" ? { before: BASE_SHA, after: pr.head.sha } : {}),
    repository: repository(),
    sender: user("github-actions[bot]", "Bot", 41898282),
  };
}

export function pullRequestReviewEvent(
  opts: PullRequestOptions & {
    reviewer?: string;
    review?: "approved" | "changes_requested" | "commented";
  } = {},
) {
  const pr = pullRequest(opts);
  const reviewer = opts.reviewer ?? "dana";
  return {
    action: "submitted",
    review: {
      id: 80,
      node_id: "PRR_80",
      user: user(reviewer, "User", 3003),
      body: null,
      commit_id: pr.head.sha,
      submitted_at: T,
      state: opts.review ?? "approved",
      html_url: `${pr.html_url}#pullrequestreview-80`,
      pull_request_url: pr.url,
      author_association: "MEMBER",
      _links: {
        html: { href: `${pr.html_url}#pullrequestreview-80` },
        pull_request: { href: pr.url },
      },
    },
    pull_request: pr,
    repository: repository(),
    sender: user(reviewer, "User", 3003),
  };
}
