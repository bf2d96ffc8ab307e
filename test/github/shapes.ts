import type { CommitInfo, DiffEntry, GitPerson } from "./bare-repo.ts";

/**
 * GitHub's JSON shapes, filled the way api.github.com fills them (node ids, URLs, counts), for
 * the simulator. Each builder returns exactly one schema of GitHub's OpenAPI description; the
 * simulator validates every response against it, so a missing or mistyped field fails a test.
 */

export type UserType = "User" | "Bot" | "Organization";

export interface SimUser {
  readonly login: string;
  readonly id: number;
  readonly type: UserType;
  readonly name: string;
  readonly email: string;
}

export type Json = Record<string, unknown>;

/** GitHub's timestamps: ISO 8601, whole seconds, "Z". */
export function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A node id in GitHub's legacy format (base64 of "<n>:<Type><id>"). */
export function nodeId(type: string, id: number | string): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString("base64");
}

export class Shapes {
  readonly api: string;
  readonly html: string;
  readonly owner: string;
  readonly repo: string;
  readonly #userByEmail: (email: string) => SimUser | undefined;
  readonly #ownerUser: () => SimUser;

  constructor(o: {
    api: string;
    html: string;
    owner: string;
    repo: string;
    userByEmail: (email: string) => SimUser | undefined;
    ownerUser: () => SimUser;
  }) {
    this.api = o.api;
    this.html = o.html;
    this.owner = o.owner;
    this.repo = o.repo;
    this.#userByEmail = o.userByEmail;
    this.#ownerUser = o.ownerUser;
  }

  get repoApi(): string {
    return `${this.api}/repos/${this.owner}/${this.repo}`;
  }

  get repoHtml(): string {
    return `${this.html}/${this.owner}/${this.repo}`;
  }

  /** simple-user */
  user(u: SimUser): Json {
    const login = encodeURIComponent(u.login); // "app[bot]" → "app%5Bbot%5D", as GitHub does
    const base = `${this.api}/users/${login}`;
    return {
      login: u.login,
      id: u.id,
      node_id: nodeId(u.type === "Bot" ? "Bot" : "User", u.id),
      avatar_url: `https://avatars.githubusercontent.test/u/${u.id}?v=4`,
      gravatar_id: "",
      url: base,
      html_url: `${this.html}/${u.type === "Bot" ? `apps/${encodeURIComponent(u.login.replace(/\[bot\]$/, ""))}` : login}`,
      followers_url: `${base}/followers`,
      following_url: `${base}/following{/other_user}`,
      gists_url: `${base}/gists{/gist_id}`,
      starred_url: `${base}/starred{/owner}{/repo}`,
      subscriptions_url: `${base}/subscriptions`,
      organizations_url: `${base}/orgs`,
      repos_url: `${base}/repos`,
      events_url: `${base}/events{/privacy}`,
      received_events_url: `${base}/received_events`,
      type: u.type,
      user_view_type: "public",
      site_admin: false,
    };
  }

  /** repository (the approvals repository, as pull requests embed it) */
  repository(defaultBranch: string, created: Date, pushed: Date): Json {
    const a = this.repoApi;
    return {
      id: 424242,
      node_id: nodeId("Repository", 424242),
      name: this.repo,
      full_name: `${this.owner}/${this.repo}`,
      license: null,
      forks: 0,
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
      owner: this.user(this.#ownerUser()),
      private: true,
      html_url: this.repoHtml,
      description: "Interlock approvals",
      fork: false,
      url: a,
      archive_url: `${a}/{archive_format}{/ref}`,
      assignees_url: `${a}/assignees{/user}`,
      blobs_url: `${a}/git/blobs{/sha}`,
      branches_url: `${a}/branches{/branch}`,
      collaborators_url: `${a}/collaborators{/collaborator}`,
      comments_url: `${a}/comments{/number}`,
      commits_url: `${a}/commits{/sha}`,
      compare_url: `${a}/compare/{base}...{head}`,
      contents_url: `${a}/contents/{+path}`,
      contributors_url: `${a}/contributors`,
      deployments_url: `${a}/deployments`,
      downloads_url: `${a}/downloads`,
      events_url: `${a}/events`,
      forks_url: `${a}/forks`,
      git_commits_url: `${a}/git/commits{/sha}`,
      git_refs_url: `${a}/git/refs{/sha}`,
      git_tags_url: `${a}/git/tags{/sha}`,
      git_url: `git://github.test/${this.owner}/${this.repo}.git`,
      issue_comment_url: `${a}/issues/comments{/number}`,
      issue_events_url: `${a}/issues/events{/number}`,
      issues_url: `${a}/issues{/number}`,
      keys_url: `${a}/keys{/key_id}`,
      labels_url: `${a}/labels{/name}`,
      languages_url: `${a}/languages`,
      merges_url: `${a}/merges`,
      milestones_url: `${a}/milestones{/number}`,
      notifications_url: `${a}/notifications{?since,all,participating}`,
      pulls_url: `${a}/pulls{/number}`,
      releases_url: `${a}/releases{/id}`,
      ssh_url: `git@github.test:${this.owner}/${this.repo}.git`,
      stargazers_url: `${a}/stargazers`,
      statuses_url: `${a}/statuses/{sha}`,
      subscribers_url: `${a}/subscribers`,
      subscription_url: `${a}/subscription`,
      tags_url: `${a}/tags`,
      teams_url: `${a}/teams`,
      trees_url: `${a}/git/trees{/sha}`,
      clone_url: `${this.repoHtml}.git`,
      mirror_url: null,
      hooks_url: `${a}/hooks`,
      svn_url: this.repoHtml,
      homepage: null,
      language: null,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      size: 1,
      default_branch: defaultBranch,
      open_issues_count: 0,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: "private",
      pushed_at: iso(pushed),
      created_at: iso(created),
      updated_at: iso(pushed),
      allow_forking: false,
      web_commit_signoff_required: false,
      open_issues: 0,
      watchers: 0,
    };
  }

  gitPerson(p: GitPerson): Json {
    return { name: p.name, email: p.email, date: iso(p.date) };
  }

  /** The GitHub account a commit e-mail belongs to (simple-user), or null. */
  commitUser(p: GitPerson): Json | null {
    const u = this.#userByEmail(p.email);
    return u ? this.user(u) : null;
  }

  unverified(): Json {
    return {
      verified: false,
      reason: "unsigned",
      signature: null,
      payload: null,
      verified_at: null,
    };
  }

  /** commit (the REST commits API shape), optionally with files and stats */
  commit(c: CommitInfo, files?: readonly DiffEntry[]): Json {
    const out: Json = {
      url: `${this.repoApi}/commits/${c.sha}`,
      sha: c.sha,
      node_id: nodeId("Commit", c.sha.slice(0, 12)),
      html_url: `${this.repoHtml}/commit/${c.sha}`,
      comments_url: `${this.repoApi}/commits/${c.sha}/comments`,
      commit: {
        url: `${this.repoApi}/git/commits/${c.sha}`,
        author: this.gitPerson(c.author),
        committer: this.gitPerson(c.committer),
        message: c.message.replace(/\n+$/, ""),
        comment_count: 0,
        tree: { sha: c.tree, url: `${this.repoApi}/git/trees/${c.tree}` },
        verification: this.unverified(),
      },
      author: this.commitUser(c.author),
      committer: this.commitUser(c.committer),
      parents: c.parents.map((p) => ({
        sha: p,
        url: `${this.repoApi}/commits/${p}`,
        html_url: `${this.repoHtml}/commit/${p}`,
      })),
    };
    if (files !== undefined) {
      const additions = files.reduce((n, f) => n + f.additions, 0);
      const deletions = files.reduce((n, f) => n + f.deletions, 0);
      out.stats = { total: additions + deletions, additions, deletions };
      out.files = files.map((f) => this.diffEntry(f, c.sha));
    }
    return out;
  }

  /** git-commit (the Git data API shape) */
  gitCommit(c: CommitInfo): Json {
    return {
      sha: c.sha,
      node_id: nodeId("Commit", c.sha.slice(0, 12)),
      url: `${this.repoApi}/git/commits/${c.sha}`,
      html_url: `${this.repoHtml}/commit/${c.sha}`,
      author: this.gitPerson(c.author),
      committer: this.gitPerson(c.committer),
      tree: { sha: c.tree, url: `${this.repoApi}/git/trees/${c.tree}` },
      message: c.message.replace(/\n+$/, ""),
      parents: c.parents.map((p) => ({
        sha: p,
        url: `${this.repoApi}/git/commits/${p}`,
        html_url: `${this.repoHtml}/commit/${p}`,
      })),
      verification: this.unverified(),
    };
  }

  /** diff-entry */
  diffEntry(f: DiffEntry, ref: string): Json {
    const path = encodeURIComponent(f.path).replace(/%2F/g, "/");
    return {
      sha: f.blob,
      filename: f.path,
      status: f.status,
      additions: f.additions,
      deletions: f.deletions,
      changes: f.additions + f.deletions,
      blob_url: `${this.repoHtml}/blob/${ref}/${path}`,
      raw_url: `${this.repoHtml}/raw/${ref}/${path}`,
      contents_url: `${this.repoApi}/contents/${path}?ref=${ref}`,
      ...(f.previousPath !== undefined ? { previous_filename: f.previousPath } : {}),
    };
  }

  /** git-ref */
  gitRef(ref: string, sha: string, type: string): Json {
    return {
      ref,
      node_id: nodeId("Ref", ref),
      url: `${this.repoApi}/git/${ref}`,
      object: { type, sha, url: `${this.repoApi}/git/${type}s/${sha}` },
    };
  }

  /** content-file */
  contentFile(path: string, sha: string, content: Buffer, ref: string): Json {
    const name = path.split("/").pop()!;
    const url = `${this.repoApi}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    const git = `${this.repoApi}/git/blobs/${sha}`;
    const html = `${this.repoHtml}/blob/${ref}/${path}`;
    return {
      type: "file",
      encoding: "base64",
      size: content.length,
      name,
      path,
      content: (content.toString("base64").match(/.{1,60}/g) ?? []).join("\n") + "\n",
      sha,
      url,
      git_url: git,
      html_url: html,
      download_url: `https://raw.githubusercontent.test/${this.owner}/${this.repo}/${ref}/${path}`,
      _links: { git, html, self: url },
    };
  }

  /** One entry of a directory listing (content-directory item). */
  contentEntry(path: string, type: "file" | "dir", sha: string, size: number, ref: string): Json {
    const url = `${this.repoApi}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    const git = `${this.repoApi}/git/${type === "dir" ? "trees" : "blobs"}/${sha}`;
    const html = `${this.repoHtml}/${type === "dir" ? "tree" : "blob"}/${ref}/${path}`;
    return {
      type,
      size,
      name: path.split("/").pop()!,
      path,
      sha,
      url,
      git_url: git,
      html_url: html,
      download_url:
        type === "file"
          ? `https://raw.githubusercontent.test/${this.owner}/${this.repo}/${ref}/${path}`
          : null,
      _links: { git, html, self: url },
    };
  }

  label(l: { id: number; name: string; color: string; description: string | null }): Json {
    return {
      id: l.id,
      node_id: nodeId("Label", l.id),
      url: `${this.repoApi}/labels/${encodeURIComponent(l.name)}`,
      name: l.name,
      description: l.description,
      color: l.color,
      default: false,
    };
  }

  /** team (and team-simple, which is a subset) */
  team(t: { id: number; slug: string; name: string; description: string | null }): Json {
    const url = `${this.api}/organizations/1/team/${t.id}`;
    return {
      id: t.id,
      node_id: nodeId("Team", t.id),
      url,
      html_url: `${this.html}/orgs/${this.owner}/teams/${t.slug}`,
      name: t.name,
      slug: t.slug,
      description: t.description,
      privacy: "closed",
      notification_setting: "notifications_enabled",
      permission: "pull",
      members_url: `${url}/members{/member}`,
      repositories_url: `${url}/repos`,
      type: "organization",
      parent: null,
    };
  }

  /** nullable-integration: the GitHub App a check run belongs to */
  app(
    owner: SimUser,
    app: { id: number; slug: string; name: string } = {
      id: 15368,
      slug: "github-actions",
      name: "GitHub Actions",
    },
  ): Json {
    const actions = app.id === 15368;
    return {
      id: app.id,
      slug: app.slug,
      node_id: nodeId("App", app.id),
      client_id: "Iv1.0000000000000000",
      owner: this.user(owner),
      name: app.name,
      description: actions ? "Automate your workflow from idea to production" : null,
      external_url: actions ? "https://help.github.test/en/actions" : `${this.html}/${app.slug}`,
      html_url: `${this.html}/apps/${app.slug}`,
      created_at: "2018-07-30T09:30:17Z",
      updated_at: "2019-12-10T19:04:12Z",
      permissions: { checks: "write", contents: "write", pull_requests: "write", metadata: "read" },
      events: ["check_run", "pull_request", "push"],
    };
  }
}
