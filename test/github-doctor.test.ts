import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";
import { lintWorkflow, type DoctorReport } from "../src/forge/github/doctor.ts";
import { ROOT } from "./e2e-helpers.ts";
import { OpenApiValidator } from "./github/openapi.ts";
import { Shapes } from "./github/shapes.ts";

/**
 * `interlock doctor --github` against a small local GitHub: only the read endpoints doctor
 * uses, each response validated against GitHub's OpenAPI description (@octokit/openapi) before
 * it is sent, so doctor is tested on the shapes GitHub really returns.
 */

const OWNER = "acme";
const REPO = "approvals";
const T = "2026-11-24T10:00:00Z";
const GATE_APP = 15368;

type Json = Record<string, unknown>;

/** What the repository's settings are; each test sets its own. */
interface RepoSettings {
  protection: Json | "none" | "forbidden";
  rules: Json[];
  rulesets: Record<number, Json>;
  workflowPermissions: {
    default_workflow_permissions: "read" | "write";
    can_approve_pull_request_reviews: boolean;
  };
  codeowners: Json[] | "none";
  workflows: Record<string, string>;
}

let server: Server;
let base: string;
let settings: RepoSettings;
const requests: string[] = [];
const openapi = OpenApiValidator.load();

const shapes = new Shapes({
  api: "http://api.github.test",
  html: "https://github.test",
  owner: OWNER,
  repo: REPO,
  userByEmail: () => undefined,
  ownerUser: () => ({
    login: OWNER,
    id: 9000,
    type: "Organization",
    name: "Acme",
    email: "it@acme.example",
  }),
});

function fullRepository(): Json {
  return {
    ...shapes.repository("main", new Date(T), new Date(T)),
    has_discussions: false,
    disabled: false,
    network_count: 0,
    subscribers_count: 1,
  };
}

function protectionUrl(): string {
  return `${shapes.repoApi}/branches/main/protection`;
}

/** A branch protection as GitHub returns it. */
export function classicProtection(o: {
  checks?: { context: string; app_id: number | null }[];
  enforceAdmins?: boolean;
  reviews?: Partial<{
    dismiss_stale_reviews: boolean;
    require_last_push_approval: boolean;
    require_code_owner_reviews: boolean;
    required_approving_review_count: number;
  }> | null;
  forcePushes?: boolean;
  deletions?: boolean;
}): Json {
  const url = protectionUrl();
  const checks = o.checks ?? [{ context: "interlock/gate", app_id: GATE_APP }];
  return {
    url,
    required_status_checks: {
      url: `${url}/required_status_checks`,
      strict: false,
      contexts: checks.map((c) => c.context),
      contexts_url: `${url}/required_status_checks/contexts`,
      checks,
    },
    required_signatures: { url: `${url}/required_signatures`, enabled: false },
    enforce_admins: { url: `${url}/enforce_admins`, enabled: o.enforceAdmins ?? true },
    ...(o.reviews === null
      ? {}
      : {
          required_pull_request_reviews: {
            url: `${url}/required_pull_request_reviews`,
            dismiss_stale_reviews: true,
            require_code_owner_reviews: true,
            required_approving_review_count: 1,
            require_last_push_approval: true,
            ...o.reviews,
          },
        }),
    required_linear_history: { enabled: false },
    allow_force_pushes: { enabled: o.forcePushes ?? false },
    allow_deletions: { enabled: o.deletions ?? false },
    block_creations: { enabled: false },
    required_conversation_resolution: { enabled: false },
    lock_branch: { enabled: false },
    allow_fork_syncing: { enabled: false },
  };
}

const DOCS = readFileSync(join(ROOT, "docs", "github.md"), "utf8");
/** The three workflows of docs/github.md, by file name. */
const DOC_WORKFLOWS: Record<string, string> = Object.fromEntries(
  [...DOCS.matchAll(/### `\.github\/workflows\/([a-z-]+\.yml)`\n\n```yaml\n([\s\S]*?)```/g)].map(
    (m) => [m[1]!, m[2]!],
  ),
);

/** The app that records results (the ruleset's only bypass actor in docs/github.md). */
const APP = 987654;

function rules(id: number, app: number): Json[] {
  return [
    {
      type: "required_status_checks",
      ruleset_source_type: "Repository",
      ruleset_source: "acme/approvals",
      ruleset_id: id,
      parameters: {
        strict_required_status_checks_policy: false,
        required_status_checks: [{ context: "interlock/gate", integration_id: app }],
      },
    },
    {
      type: "pull_request",
      ruleset_source_type: "Repository",
      ruleset_source: "acme/approvals",
      ruleset_id: id,
      parameters: {
        dismiss_stale_reviews_on_push: true,
        require_code_owner_review: true,
        require_last_push_approval: true,
        required_approving_review_count: 1,
        required_review_thread_resolution: false,
      },
    },
    {
      type: "non_fast_forward",
      ruleset_source_type: "Repository",
      ruleset_source: "acme/approvals",
      ruleset_id: id,
    },
    {
      type: "deletion",
      ruleset_source_type: "Repository",
      ruleset_source: "acme/approvals",
      ruleset_id: id,
    },
  ];
}

function ruleset(id: number, bypass: Json[]): Json {
  return {
    id,
    name: "interlock",
    target: "branch",
    source_type: "Repository",
    source: "acme/approvals",
    enforcement: "active",
    bypass_actors: bypass,
    conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
    rules: [],
    node_id: "RRS_1",
    created_at: T,
    updated_at: T,
  };
}

/** As docs/github.md recommends: a ruleset pinned to the Interlock app, which alone may bypass it. */
function goodSettings(): RepoSettings {
  return {
    protection: "none",
    rules: rules(7, APP),
    rulesets: {
      7: ruleset(7, [{ actor_id: APP, actor_type: "Integration", bypass_mode: "always" }]),
    },
    workflowPermissions: {
      default_workflow_permissions: "read",
      can_approve_pull_request_reviews: false,
    },
    codeowners: [],
    workflows: DOC_WORKFLOWS,
  };
}

function send(res: ServerResponse, template: string, status: number, body: unknown): void {
  openapi.assert("GET", template, status, body);
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function notFound(res: ServerResponse, template: string, message = "Not Found"): void {
  send(res, template, 404, {
    message,
    documentation_url: "https://docs.github.com/rest",
    status: "404",
  });
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", base);
  requests.push(`${req.method} ${url.pathname}`);
  if (req.method !== "GET") {
    res.writeHead(405).end();
    return;
  }
  if (req.headers.authorization !== "token ghp_doctor") {
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: "Bad credentials", documentation_url: "x", status: "401" }));
    return;
  }
  const r = `/repos/${OWNER}/${REPO}`;
  const p = decodeURIComponent(url.pathname);
  if (p === `/repos/${OWNER}/nope`) return notFound(res, "/repos/{owner}/{repo}");
  if (p === r) return send(res, "/repos/{owner}/{repo}", 200, fullRepository());
  if (p === `${r}/branches/main/protection`) {
    const t = "/repos/{owner}/{repo}/branches/{branch}/protection";
    if (settings.protection === "none") return notFound(res, t, "Branch not protected");
    if (settings.protection === "forbidden") return notFound(res, t);
    return send(res, t, 200, settings.protection);
  }
  if (p === `${r}/rules/branches/main`) {
    return send(res, "/repos/{owner}/{repo}/rules/branches/{branch}", 200, settings.rules);
  }
  const ruleset = /^\/repos\/acme\/approvals\/rulesets\/(\d+)$/.exec(p);
  if (ruleset) {
    const t = "/repos/{owner}/{repo}/rulesets/{ruleset_id}";
    const rs = settings.rulesets[Number(ruleset[1])];
    return rs ? send(res, t, 200, rs) : notFound(res, t);
  }
  if (p === `${r}/actions/permissions/workflow`) {
    return send(
      res,
      "/repos/{owner}/{repo}/actions/permissions/workflow",
      200,
      settings.workflowPermissions,
    );
  }
  if (p === `${r}/codeowners/errors`) {
    const t = "/repos/{owner}/{repo}/codeowners/errors";
    if (settings.codeowners === "none") return notFound(res, t);
    return send(res, t, 200, { errors: settings.codeowners });
  }
  if (p === `${r}/contents/.github/workflows`) {
    const names = Object.keys(settings.workflows);
    if (names.length === 0) return notFound(res, "/repos/{owner}/{repo}/contents/{path}");
    return send(
      res,
      "/repos/{owner}/{repo}/contents/{path}",
      200,
      names.map((n) =>
        shapes.contentEntry(`.github/workflows/${n}`, "file", "a".repeat(40), 100, "main"),
      ),
    );
  }
  const wf = /^\/repos\/acme\/approvals\/contents\/\.github\/workflows\/([^/]+)$/.exec(p);
  if (wf && settings.workflows[wf[1]!] !== undefined) {
    return send(
      res,
      "/repos/{owner}/{repo}/contents/{path}",
      200,
      shapes.contentFile(
        `.github/workflows/${wf[1]}`,
        "b".repeat(40),
        Buffer.from(settings.workflows[wf[1]!]!),
        "main",
      ),
    );
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ message: `unexpected ${p}` }));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: (err as Error).message }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function doctor(
  args: string[],
  env: NodeJS.ProcessEnv = { INTERLOCK_GITHUB_TOKEN: "ghp_doctor", GITHUB_API_URL: base },
) {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([]),
    env,
    cwd: ROOT,
    now: () => new Date(T),
  };
  const code = await main(["doctor", ...args], io);
  return { code, stdout, stderr };
}

async function report(): Promise<DoctorReport & { code: number }> {
  const r = await doctor(["--github", "acme/approvals", "--json"]);
  return { ...(JSON.parse(r.stdout) as DoctorReport), code: r.code };
}

const severityOf = (rep: DoctorReport, id: string) =>
  rep.findings.filter((f) => f.id === id).map((f) => f.severity);

describe("interlock doctor --github", () => {
  it("a repository set up as docs/github.md says is safe: exit 0", async () => {
    settings = goodSettings();
    requests.length = 0;
    const r = await doctor(["--github", "acme/approvals"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Interlock doctor: acme\/approvals \(default branch main\)/);
    expect(r.stdout).toMatch(
      /✓ ok +interlock\/gate is a required status check \(ruleset "interlock"\)/,
    );
    expect(r.stdout).toMatch(/interlock\/gate only counts from app 987654/);
    expect(r.stdout).toMatch(/GitHub Actions cannot approve pull requests/);
    expect(r.stdout).toMatch(/no workflow runs on pull_request_target/);
    expect(r.stdout).toMatch(/! warning +ruleset "interlock" lets app 987654 bypass it/);
    expect(r.stdout).toMatch(/Nothing unsafe found \(1 warning\(s\)\)\.\n$/);
    expect(requests.every((x) => x.startsWith("GET "))).toBe(true);

    const rep = await report();
    expect(rep).toMatchObject({ repository: "acme/approvals", defaultBranch: "main", safe: true });
    expect(rep.findings.filter((f) => f.severity !== "ok").map((f) => f.id)).toEqual([
      "ruleset.bypass-app",
    ]);
  });

  it("classic protection done right is safe, but cannot let the action record results", async () => {
    settings = { ...goodSettings(), protection: classicProtection({}), rules: [], rulesets: {} };
    const rep = await report();
    expect(rep.code).toBe(0);
    expect(rep.findings.filter((f) => f.severity !== "ok").map((f) => f.id)).toEqual([
      "protection.results",
    ]);
    expect(rep.findings.find((f) => f.id === "gate-check.pinned")!.message).toMatch(
      /15368 \(GitHub Actions\)/,
    );
    expect(severityOf(rep, "protection.admins")).toEqual(["ok"]);
  });

  it("an unprotected branch, approving Actions and a pull_request_target workflow: exit 4", async () => {
    settings = {
      ...goodSettings(),
      protection: "none",
      rules: [],
      rulesets: {},
      workflowPermissions: {
        default_workflow_permissions: "write",
        can_approve_pull_request_reviews: true,
      },
      codeowners: [
        {
          line: 3,
          column: 22,
          kind: "Unknown owner",
          source: "/requests/db.export/ @acme/data-stewardz\n",
          suggestion: null,
          message: "Unknown owner on line 3",
          path: "CODEOWNERS",
        },
      ],
      workflows: {
        "ci.yml":
          "on: pull_request_target\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n" +
          '      - run: echo "${{ github.event.pull_request.title }}"\n',
      },
    };
    const rep = await report();
    expect(rep.code).toBe(4);
    expect(rep.safe).toBe(false);
    expect(severityOf(rep, "protection.enabled")).toEqual(["error"]);
    expect(severityOf(rep, "gate-check.required")).toEqual(["error"]);
    expect(severityOf(rep, "actions.can-approve")).toEqual(["error"]);
    expect(severityOf(rep, "actions.default-permissions")).toEqual(["warning"]);
    expect(severityOf(rep, "codeowners.valid")).toEqual(["error"]);
    expect(severityOf(rep, "workflows.trigger")).toEqual(["error"]);
    expect(severityOf(rep, "workflows.script-injection")).toEqual(["error"]);
    const text = await doctor(["--github", "acme/approvals"]);
    expect(text.code).toBe(4);
    expect(text.stdout).toMatch(/✗ error +main is not protected/);
    expect(text.stdout).toMatch(/fix: Settings → Actions → General → Workflow permissions/);
    expect(text.stdout).toMatch(/CODEOWNERS:3: Unknown owner/);
    expect(text.stdout).toMatch(/problem\(s\) leave a way around the gate/);
  });

  it("an unpinned check, admins exempt, force pushes allowed, reviews off: each is named", async () => {
    settings = {
      ...goodSettings(),
      rules: [],
      rulesets: {},
      protection: classicProtection({
        checks: [{ context: "interlock/gate", app_id: null }],
        enforceAdmins: false,
        forcePushes: true,
        reviews: {
          dismiss_stale_reviews: false,
          require_last_push_approval: false,
          require_code_owner_reviews: false,
          required_approving_review_count: 0,
        },
      }),
    };
    const rep = await report();
    expect(rep.code).toBe(4);
    expect(severityOf(rep, "gate-check.required")).toEqual(["ok"]);
    expect(severityOf(rep, "gate-check.pinned")).toEqual(["error"]);
    expect(severityOf(rep, "protection.admins")).toEqual(["error"]);
    expect(severityOf(rep, "protection.history")).toEqual(["error"]);
    for (const id of [
      "reviews.required",
      "reviews.dismiss-stale",
      "reviews.last-push",
      "reviews.code-owners",
    ]) {
      expect(severityOf(rep, id), id).toEqual(["warning"]);
    }
    expect(rep.findings.find((f) => f.id === "gate-check.pinned")!.fix).toMatch(/15368/);
  });

  it("rulesets count as protection; bypass actors are judged by who they are", async () => {
    settings = { ...goodSettings(), rulesets: { 7: ruleset(7, []) } };
    let rep = await report();
    expect(rep.code).toBe(0);
    expect(severityOf(rep, "ruleset.bypass")).toEqual(["ok"]);
    expect(rep.findings.find((f) => f.id === "gate-check.pinned")!.message).toMatch(/987654/);
    expect(severityOf(rep, "protection.history")).toEqual(["ok"]);
    expect(severityOf(rep, "protection.results")).toEqual(["warning"]);

    settings.rulesets = {
      7: ruleset(7, [{ actor_id: APP, actor_type: "Integration", bypass_mode: "always" }]),
    };
    rep = await report();
    expect(rep.code).toBe(0);
    expect(severityOf(rep, "ruleset.bypass-app")).toEqual(["warning"]);

    settings.rulesets = {
      7: ruleset(7, [
        { actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" },
        { actor_id: GATE_APP, actor_type: "Integration", bypass_mode: "always" },
      ]),
    };
    rep = await report();
    expect(rep.code).toBe(4);
    expect(severityOf(rep, "ruleset.bypass")).toEqual(["error", "error"]);

    // bypass_actors hidden from the token: not proven safe.
    const { bypass_actors: _hidden, ...noActors } = ruleset(7, []);
    settings.rulesets = { 7: noActors };
    rep = await report();
    expect(rep.code).toBe(4);
    expect(rep.findings.find((f) => f.id === "ruleset.bypass")!.message).toMatch(/cannot see/);
  });

  it("settings the token cannot read are not taken as safe", async () => {
    settings = { ...goodSettings(), protection: "forbidden" };
    const rep = await report();
    expect(rep.code).toBe(4);
    expect(severityOf(rep, "protection.readable")).toEqual(["error"]);
  });

  it("usage errors: no --github, a bad name, no token, an unknown repository, a bad token", async () => {
    expect((await doctor([])).code).toBe(2);
    const bad = await doctor(["--github", "not a repo"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not owner\/repo/);
    const noToken = await doctor(["--github", "acme/approvals"], { GITHUB_API_URL: base });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/needs a GitHub token/);
    expect(noToken.stderr).toMatch(/INTERLOCK_GITHUB_TOKEN/);
    const missing = await doctor(["--github", "acme/nope"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such repository, or the token cannot see it/);
    const badToken = await doctor(["--github", "acme/approvals"], {
      GITHUB_TOKEN: "wrong",
      GITHUB_API_URL: base,
    });
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toMatch(/refused the token/);
    const help = await doctor(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 nothing unsafe/);
  });
});

describe("the workflows of docs/github.md", () => {
  it("are the three workflows, with the least permissions each needs", () => {
    const parsed = Object.fromEntries(
      Object.entries(DOC_WORKFLOWS).map(([n, t]) => [n, parseYaml(t) as Json]),
    );
    expect(Object.keys(parsed).sort()).toEqual([
      "interlock-execute.yml",
      "interlock-gate.yml",
      "interlock-request.yml",
    ]);
    expect(parsed["interlock-request.yml"]!.permissions).toEqual({
      contents: "write",
      "pull-requests": "write",
    });
    expect(parsed["interlock-gate.yml"]!.permissions).toEqual({
      checks: "write",
      contents: "read",
      "pull-requests": "read",
    });
    expect(parsed["interlock-execute.yml"]!.permissions).toEqual({
      contents: "write",
      "pull-requests": "write",
    });
    expect(Object.keys(parsed["interlock-request.yml"]!.on as Json).sort()).toEqual([
      "repository_dispatch",
      "workflow_dispatch",
    ]);
    expect(Object.keys(parsed["interlock-gate.yml"]!.on as Json).sort()).toEqual([
      "pull_request",
      "pull_request_review",
    ]);
    expect(Object.keys(parsed["interlock-execute.yml"]!.on as Json)).toEqual(["push"]);
    expect(DOCS).not.toMatch(/^\s*pull_request_target:/m);
  });

  it("pass doctor's workflow lint, which catches the bypasses it warns about", () => {
    for (const [name, text] of Object.entries(DOC_WORKFLOWS)) {
      expect(lintWorkflow(name, text), name).toEqual([]);
    }
    const bad = lintWorkflow(
      "bad.yml",
      [
        "on:",
        "  workflow_run: { workflows: [ci] }",
        "  repository_dispatch: {}",
        "jobs:",
        "  a:",
        "    steps:",
        "      - run: interlock request - <<< '${{ github.event.client_payload.request }}'",
        "      - run: echo ${{ inputs.request }}",
        "      - run: echo ${{ github.event.pull_request.number }} ${{ github.sha }}",
        "      - env: { R: '${{ inputs.request }}' }",
        '        run: echo "$R"',
      ].join("\n"),
    );
    expect(bad.map((f) => f.id)).toEqual([
      "workflows.trigger",
      "workflows.script-injection",
      "workflows.script-injection",
    ]);
  });
});
