import { parse as parseYaml } from "yaml";
import { GATE_CHECK_NAME } from "./github-forge.ts";
import { httpStatus, type GitHubClient } from "./octokit.ts";

/**
 * `interlock doctor --github owner/repo`: reads how an approvals repository is protected on
 * GitHub and says, finding by finding, whether an approval could be bypassed there and how to
 * fix it. Interlock's executor re-checks the evidence of every merge, so a weak setting here
 * rarely lets an action run unapproved; but it lets unapproved content reach the default branch,
 * a forged check pass, or a bot approve, and the audit trail is only as good as the branch.
 *
 * Severities: "error" — a way around the gate (or a check that cannot be read, which is not
 * proof of safety); "warning" — defence in depth that is missing; "ok" and "info" say what holds.
 */

export type Severity = "ok" | "info" | "warning" | "error";

export interface DoctorFinding {
  /** A stable id, e.g. "gate-check.required". */
  readonly id: string;
  readonly severity: Severity;
  readonly message: string;
  /** How to fix it (absent when nothing needs fixing). */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly repository: string;
  readonly defaultBranch: string;
  readonly findings: readonly DoctorFinding[];
  /** True when no finding is an error. */
  readonly safe: boolean;
}

const GATE_CHECK = GATE_CHECK_NAME;
/** The GitHub App id of GitHub Actions (what GITHUB_TOKEN check runs come from on github.com). */
export const GITHUB_ACTIONS_APP_ID = 15368;

/** Where the settings live in the web UI, for the fix texts. */
const BRANCH_SETTINGS = (r: string, b: string) =>
  `Settings → Branches (or Rules → Rulesets) for ${b} in ${r}`;

interface Evidence {
  readonly source: "branch protection" | `ruleset ${string}`;
}

/** What the classic protection and the active rulesets say, merged: either may provide a rule. */
interface Protection {
  readonly classic: ClassicProtection | "none" | "unreadable";
  readonly rules: readonly BranchRule[] | "unreadable";
  readonly rulesetBypass: Map<number, RulesetInfo | "unreadable">;
}

interface ClassicProtection {
  readonly requiredChecks: readonly { context: string; app_id: number | null }[];
  readonly enforceAdmins: boolean;
  readonly reviews?: {
    readonly dismissStale: boolean;
    readonly requireLastPush: boolean;
    readonly codeOwners: boolean;
    readonly count: number;
    readonly bypassers: number;
  };
  readonly allowForcePushes: boolean;
  readonly allowDeletions: boolean;
}

interface RulesetInfo {
  readonly name: string;
  readonly actors: readonly { readonly type: string; readonly id: number | null }[];
}

interface BranchRule {
  readonly type: string;
  readonly ruleset_id?: number;
  readonly parameters?: Record<string, unknown>;
}

/** Reads the repository's settings (GET requests only) and judges them. */
export async function diagnoseRepository(
  octokit: GitHubClient,
  owner: string,
  repo: string,
): Promise<DoctorReport> {
  const r = { owner, repo };
  const full = `${owner}/${repo}`;
  const { data: repository } = await octokit.rest.repos.get(r);
  const branch = repository.default_branch;
  const findings: DoctorFinding[] = [];

  const protection = await readProtection(octokit, owner, repo, branch);
  findings.push(...judgeProtection(protection, full, branch));
  findings.push(...(await judgeWorkflowPermissions(octokit, owner, repo)));
  findings.push(...(await judgeCodeowners(octokit, owner, repo, branch)));
  findings.push(...(await judgeWorkflows(octokit, owner, repo, branch)));
  findings.push(...(await judgeEnvironment(octokit, owner, repo, branch)));

  return {
    repository: full,
    defaultBranch: branch,
    findings,
    safe: findings.every((f) => f.severity !== "error"),
  };
}

// ---------------------------------------------------------------------------------------------
// Reading

async function readProtection(
  octokit: GitHubClient,
  owner: string,
  repo: string,
  branch: string,
): Promise<Protection> {
  let classic: Protection["classic"];
  try {
    const { data } = await octokit.rest.repos.getBranchProtection({ owner, repo, branch });
    const rsc = data.required_status_checks;
    const checks = rsc?.checks ?? (rsc?.contexts ?? []).map((c) => ({ context: c, app_id: null }));
    const prr = data.required_pull_request_reviews;
    const allowances = prr?.bypass_pull_request_allowances;
    classic = {
      requiredChecks: checks,
      enforceAdmins: data.enforce_admins?.enabled ?? false,
      ...(prr
        ? {
            reviews: {
              dismissStale: prr.dismiss_stale_reviews ?? false,
              requireLastPush: prr.require_last_push_approval ?? false,
              codeOwners: prr.require_code_owner_reviews ?? false,
              count: prr.required_approving_review_count ?? 0,
              bypassers:
                (allowances?.users?.length ?? 0) +
                (allowances?.teams?.length ?? 0) +
                (allowances?.apps?.length ?? 0),
            },
          }
        : {}),
      allowForcePushes: data.allow_force_pushes?.enabled ?? false,
      allowDeletions: data.allow_deletions?.enabled ?? false,
    };
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404 && /not protected/i.test((err as Error).message)) classic = "none";
    else if (status === 404 || status === 403) classic = "unreadable";
    else throw err;
  }

  let rules: Protection["rules"];
  try {
    const data = await octokit.paginate(octokit.rest.repos.getBranchRules, {
      owner,
      repo,
      branch,
      per_page: 100,
    });
    rules = data as BranchRule[];
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404 || status === 403) rules = "unreadable";
    else throw err;
  }

  const rulesetBypass: Protection["rulesetBypass"] = new Map();
  if (rules !== "unreadable") {
    const ids = new Set(
      rules.map((x) => x.ruleset_id).filter((x): x is number => typeof x === "number"),
    );
    for (const id of ids) {
      try {
        const { data } = await octokit.rest.repos.getRepoRuleset({
          owner,
          repo,
          ruleset_id: id,
        });
        // bypass_actors is only shown to those who may edit the ruleset: absent is unknown.
        rulesetBypass.set(
          id,
          data.bypass_actors === undefined
            ? "unreadable"
            : {
                name: data.name,
                actors: data.bypass_actors.map((a) => ({
                  type: a.actor_type,
                  id: a.actor_id ?? null,
                })),
              },
        );
      } catch (err) {
        const status = httpStatus(err);
        if (status === 404 || status === 403) rulesetBypass.set(id, "unreadable");
        else throw err;
      }
    }
  }
  return { classic, rules, rulesetBypass };
}

// ---------------------------------------------------------------------------------------------
// Judging

function judgeProtection(p: Protection, repo: string, branch: string): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const where = BRANCH_SETTINGS(repo, branch);
  const classic = typeof p.classic === "object" ? p.classic : undefined;
  const rules = p.rules === "unreadable" ? [] : p.rules;
  const rulesetName = (id: number | undefined) => {
    const b = id === undefined ? undefined : p.rulesetBypass.get(id);
    return b && b !== "unreadable" ? `ruleset "${b.name}"` : `ruleset ${id ?? "?"}`;
  };

  if (p.classic === "unreadable" || p.rules === "unreadable") {
    out.push({
      id: "protection.readable",
      severity: "error",
      message:
        `the token cannot read the protection of ${branch}` +
        (p.classic === "unreadable" ? " (branch protection)" : "") +
        (p.rules === "unreadable" ? " (rulesets)" : "") +
        ", so nothing below about it is proven",
      fix: "Run doctor with a token of a repository admin (fine-grained: Administration: read, Contents: read).",
    });
  }
  if (p.classic === "none" && rules.length === 0) {
    out.push({
      id: "protection.enabled",
      severity: "error",
      message: `${branch} is not protected: anyone with write access can push requests, results or policy changes to it directly`,
      fix: `${where}: add a rule for ${branch} with the settings below.`,
    });
  }

  // 1. interlock/gate is required, and only the right app can satisfy it.
  const gateChecks: (Evidence & { app: number | null; rulesetId?: number })[] = [];
  for (const c of classic?.requiredChecks ?? []) {
    if (c.context === GATE_CHECK) gateChecks.push({ source: "branch protection", app: c.app_id });
  }
  for (const rule of rules) {
    if (rule.type !== "required_status_checks") continue;
    const list = (rule.parameters?.required_status_checks ?? []) as {
      context: string;
      integration_id?: number;
    }[];
    for (const c of list) {
      if (c.context === GATE_CHECK) {
        gateChecks.push({
          source: rulesetName(rule.ruleset_id) as Evidence["source"],
          app: c.integration_id ?? null,
          ...(rule.ruleset_id === undefined ? {} : { rulesetId: rule.ruleset_id }),
        });
      }
    }
  }
  if (gateChecks.length === 0) {
    out.push({
      id: "gate-check.required",
      severity: "error",
      message: `${GATE_CHECK} is not a required status check on ${branch}: a request can be merged without the gate holding`,
      fix: `${where}: require status checks to pass, and add "${GATE_CHECK}" with the Interlock GitHub App as its source (it appears after the gate workflow has run once).`,
    });
  } else {
    out.push({
      id: "gate-check.required",
      severity: "ok",
      message: `${GATE_CHECK} is a required status check (${[...new Set(gateChecks.map((g) => g.source))].join(", ")})`,
    });
    const pinned = gateChecks.filter((g) => g.app !== null);
    if (pinned.length === 0) {
      out.push({
        id: "gate-check.pinned",
        severity: "error",
        message: `the required ${GATE_CHECK} check is not pinned to an app: anyone with write access can post a commit status named ${GATE_CHECK} and satisfy it`,
        fix: `${where}: set the source of "${GATE_CHECK}" to the Interlock GitHub App (docs/github.md).`,
      });
    } else if (pinned.some((g) => g.app === GITHUB_ACTIONS_APP_ID)) {
      // A check run created with any workflow's GITHUB_TOKEN belongs to GitHub Actions, and a
      // writer's branch workflow can raise its token to checks: write.
      out.push({
        id: "gate-check.pinned",
        severity: "error",
        message: `the required ${GATE_CHECK} check is pinned to GitHub Actions (app id ${GITHUB_ACTIONS_APP_ID}): any writer's workflow on a branch can publish a passing ${GATE_CHECK} as GitHub Actions`,
        fix: `${where}: set the source of "${GATE_CHECK}" to the Interlock GitHub App, whose key only default-branch jobs can use (docs/github.md).`,
      });
    } else {
      const apps = [...new Set(pinned.map((g) => g.app))];
      out.push({
        id: "gate-check.pinned",
        severity: "ok",
        message: `${GATE_CHECK} only counts from app ${apps.map(String).join(", ")}`,
      });
    }
  }

  // 2. Nobody is exempt from the required check.
  if (gateChecks.length > 0) {
    out.push(...judgeBypass(p, classic, gateChecks, where));
    // The action commits denials and results to the default branch itself.
    const appBypass = [...p.rulesetBypass.values()].some(
      (b) =>
        b !== "unreadable" &&
        b.actors.some((a) => a.type === "Integration" && a.id !== GITHUB_ACTIONS_APP_ID),
    );
    if (!appBypass) {
      out.push({
        id: "protection.results",
        severity: "warning",
        message:
          `this protection also refuses the action's own commits to ${branch} (denials/ and results/): ` +
          "denied requests and execution results cannot be recorded",
        fix: "Protect the branch with a ruleset whose only bypass actor is the Interlock GitHub App, and run the request and execute workflows with that app's token (docs/github.md, Tokens).",
      });
    }
  }

  // 3. History cannot be rewritten or the branch deleted (classic and rulesets both apply).
  const protectedAtAll = classic !== undefined || rules.length > 0;
  const readable = p.classic !== "unreadable" && p.rules !== "unreadable";
  if (protectedAtAll && readable) {
    const rewritable =
      !(classic && !classic.allowForcePushes) && !rules.some((x) => x.type === "non_fast_forward");
    const deletable =
      !(classic && !classic.allowDeletions) && !rules.some((x) => x.type === "deletion");
    if (rewritable || deletable) {
      const what = [rewritable && "force pushes", deletable && "deletion"].filter(Boolean);
      out.push({
        id: "protection.history",
        severity: "error",
        message: `${branch} allows ${what.join(" and ")}: the audit trail (requests, results, merges) could be rewritten`,
        fix: `${where}: do not allow force pushes or deletions (rulesets: block force pushes, restrict deletions).`,
      });
    } else {
      out.push({
        id: "protection.history",
        severity: "ok",
        message: `${branch} cannot be force-pushed or deleted`,
      });
    }
  }

  // 4. GitHub's own review settings: defence in depth behind the gate's rules 3 and 4.
  const prRule = rules.find((x) => x.type === "pull_request")?.parameters as
    | {
        dismiss_stale_reviews_on_push?: boolean;
        require_last_push_approval?: boolean;
        require_code_owner_review?: boolean;
        required_approving_review_count?: number;
      }
    | undefined;
  const reviews = classic?.reviews;
  const setting = (
    id: string,
    ok: boolean,
    good: string,
    bad: string,
    fix: string,
    severity: Severity = "warning",
  ) => out.push(ok ? { id, severity: "ok", message: good } : { id, severity, message: bad, fix });
  setting(
    "reviews.required",
    (reviews?.count ?? 0) >= 1 || (prRule?.required_approving_review_count ?? 0) >= 1,
    "pull requests need an approving review before merging",
    `${branch} does not require an approving review: only the ${GATE_CHECK} check stands between a proposal and a merge`,
    `${where}: require a pull request before merging, with at least 1 approval.`,
  );
  setting(
    "reviews.dismiss-stale",
    (reviews?.dismissStale ?? false) || (prRule?.dismiss_stale_reviews_on_push ?? false),
    "stale approvals are dismissed when new commits are pushed",
    "stale approvals are not dismissed on push (the gate ignores them, but GitHub still shows them as approvals)",
    `${where}: turn on "Dismiss stale pull request approvals when new commits are pushed".`,
  );
  setting(
    "reviews.last-push",
    (reviews?.requireLastPush ?? false) || (prRule?.require_last_push_approval ?? false),
    "the most recent push must be approved by someone other than its pusher",
    "approval of the most recent reviewable push is not required",
    `${where}: turn on "Require approval of the most recent reviewable push".`,
  );
  setting(
    "reviews.code-owners",
    (reviews?.codeOwners ?? false) || (prRule?.require_code_owner_review ?? false),
    "code owner review is required",
    "code owner review is not required (the gate enforces CODEOWNERS itself; GitHub would too)",
    `${where}: turn on "Require review from Code Owners".`,
  );
  if ((reviews?.bypassers ?? 0) > 0) {
    out.push({
      id: "reviews.bypass-allowances",
      severity: "warning",
      message: `${reviews!.bypassers} user(s), team(s) or app(s) may bypass the pull request requirements`,
      fix: `${where}: empty "Allow specified actors to bypass required pull requests".`,
    });
  }
  return out;
}

/**
 * Who may merge without interlock/gate. Classic protection: administrators, unless
 * enforce_admins. Rulesets: their bypass actors. The one acceptable bypass is a dedicated app
 * (not GitHub Actions) that records results and denials on the default branch, whose key
 * only workflows on the default branch can use.
 */
function judgeBypass(
  p: Protection,
  classic: ClassicProtection | undefined,
  gateChecks: readonly { source: string; rulesetId?: number }[],
  where: string,
): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const viaClassic = gateChecks.some((g) => g.source === "branch protection");
  if (viaClassic) {
    out.push(
      classic?.enforceAdmins
        ? {
            id: "protection.admins",
            severity: "ok",
            message: `branch protection applies to administrators too (enforce_admins)`,
          }
        : {
            id: "protection.admins",
            severity: "error",
            message:
              `administrators are exempt from branch protection (enforce_admins is off): an admin can merge a request without ${GATE_CHECK} ` +
              "(the executor then refuses it, but unapproved content is on the default branch)",
            fix: `${where}: turn on "Do not allow bypassing the above settings".`,
          },
    );
  }
  for (const id of new Set(gateChecks.map((g) => g.rulesetId).filter((x) => x !== undefined))) {
    const info = p.rulesetBypass.get(id);
    if (info === undefined || info === "unreadable") {
      out.push({
        id: "ruleset.bypass",
        severity: "error",
        message: `the token cannot see who may bypass ruleset ${id}, which requires ${GATE_CHECK}`,
        fix: "Run doctor with a token of a repository admin (fine-grained: Administration: read).",
      });
      continue;
    }
    const people = info.actors.filter((a) => a.type !== "Integration");
    const actions = info.actors.filter(
      (a) => a.type === "Integration" && a.id === GITHUB_ACTIONS_APP_ID,
    );
    const apps = info.actors.filter(
      (a) => a.type === "Integration" && a.id !== GITHUB_ACTIONS_APP_ID,
    );
    if (people.length > 0) {
      out.push({
        id: "ruleset.bypass",
        severity: "error",
        message: `ruleset "${info.name}" lets ${people.map((a) => `${a.type}${a.id === null ? "" : ` ${a.id}`}`).join(", ")} bypass it: they can merge a request without ${GATE_CHECK}`,
        fix: `Rules → Rulesets → "${info.name}": remove every bypass actor except the Interlock app.`,
      });
    }
    if (actions.length > 0) {
      out.push({
        id: "ruleset.bypass",
        severity: "error",
        message: `ruleset "${info.name}" lets GitHub Actions bypass it: any workflow with contents: write, on any branch a writer pushes, can push to the default branch`,
        fix: `Rules → Rulesets → "${info.name}": remove GitHub Actions from the bypass list; let a dedicated app record results (docs/github.md).`,
      });
    }
    if (apps.length > 0) {
      out.push({
        id: "ruleset.bypass-app",
        severity: "warning",
        message: `ruleset "${info.name}" lets app ${apps.map((a) => a.id).join(", ")} bypass it (needed to record results and denials): its key must only be usable from the default branch`,
        fix: "Keep the app's private key in an environment whose deployment branches are only the default branch (docs/github.md).",
      });
    }
    if (info.actors.length === 0) {
      out.push({
        id: "ruleset.bypass",
        severity: "ok",
        message: `nobody may bypass ruleset "${info.name}"`,
      });
    }
  }
  return out;
}

async function judgeWorkflowPermissions(
  octokit: GitHubClient,
  owner: string,
  repo: string,
): Promise<DoctorFinding[]> {
  const fix = `Settings → Actions → General → Workflow permissions in ${owner}/${repo}`;
  try {
    const { data } =
      await octokit.rest.actions.getGithubActionsDefaultWorkflowPermissionsRepository({
        owner,
        repo,
      });
    return [
      data.can_approve_pull_request_reviews
        ? {
            id: "actions.can-approve",
            severity: "error",
            message:
              "GitHub Actions may approve pull requests: any workflow's GITHUB_TOKEN can add an approving review (Interlock never counts a bot, but GitHub's required reviews would)",
            fix: `${fix}: clear "Allow GitHub Actions to create and approve pull requests".`,
          }
        : {
            id: "actions.can-approve",
            severity: "ok",
            message: "GitHub Actions cannot approve pull requests",
          },
      data.default_workflow_permissions === "read"
        ? {
            id: "actions.default-permissions",
            severity: "ok",
            message: "workflows get a read-only GITHUB_TOKEN unless they ask for more",
          }
        : {
            id: "actions.default-permissions",
            severity: "warning",
            message: `workflows get a ${data.default_workflow_permissions} GITHUB_TOKEN by default`,
            fix: `${fix}: choose "Read repository contents and packages permissions"; the Interlock workflows declare what they need (docs/github.md).`,
          },
    ];
  } catch (err) {
    const status = httpStatus(err);
    if (status !== 404 && status !== 403) throw err;
    return [
      {
        id: "actions.readable",
        severity: "error",
        message: "the token cannot read the repository's Actions workflow permissions",
        fix: "Run doctor with a token of a repository admin (fine-grained: Administration: read).",
      },
    ];
  }
}

async function judgeCodeowners(
  octokit: GitHubClient,
  owner: string,
  repo: string,
  branch: string,
): Promise<DoctorFinding[]> {
  try {
    const { data } = await octokit.rest.repos.codeownersErrors({ owner, repo, ref: branch });
    if (data.errors.length === 0) {
      return [{ id: "codeowners.valid", severity: "ok", message: "CODEOWNERS has no errors" }];
    }
    return data.errors.map((e) => ({
      id: "codeowners.valid",
      severity: "error" as const,
      message: `${e.path}:${e.line}: ${e.kind}${e.source ? ` in "${e.source.trim()}"` : ""} (GitHub ignores the line; Interlock's gate blocks every request while CODEOWNERS has errors)`,
      fix: e.suggestion ?? `Fix line ${e.line} of ${e.path} on ${branch}.`,
    }));
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404) {
      return [
        {
          id: "codeowners.present",
          severity: "warning",
          message: `there is no CODEOWNERS on ${branch}: only the policy's approval groups decide who approves`,
          fix: "Add CODEOWNERS (interlock init writes one) naming an owner team for each requests/<action>/ path.",
        },
      ];
    }
    if (status === 403) {
      return [
        {
          id: "codeowners.readable",
          severity: "error",
          message: "the token cannot read CODEOWNERS errors",
          fix: "Give the token Contents: read.",
        },
      ];
    }
    throw err;
  }
}

/** Workflow files: triggers that run PR content with a write token, and expressions in scripts. */
async function judgeWorkflows(
  octokit: GitHubClient,
  owner: string,
  repo: string,
  branch: string,
): Promise<DoctorFinding[]> {
  let entries: { name: string; path: string; type: string }[];
  try {
    const { data } = await octokit.rest.repos.getContent({
      owner,
      repo,
      path: ".github/workflows",
      ref: branch,
    });
    entries = Array.isArray(data) ? data : [];
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404) return [];
    if (status === 403) {
      return [
        {
          id: "workflows.readable",
          severity: "error",
          message: "the token cannot read .github/workflows",
          fix: "Give the token Contents: read.",
        },
      ];
    }
    throw err;
  }
  const out: DoctorFinding[] = [];
  for (const e of entries) {
    if (e.type !== "file" || !/\.ya?ml$/.test(e.name)) continue;
    const { data } = await octokit.rest.repos.getContent({
      owner,
      repo,
      path: e.path,
      ref: branch,
    });
    if (Array.isArray(data) || data.type !== "file" || data.content === undefined) continue;
    out.push(...lintWorkflow(e.path, Buffer.from(data.content, "base64").toString("utf8")));
  }
  if (out.length === 0 && entries.length > 0) {
    out.push({
      id: "workflows.safe",
      severity: "ok",
      message:
        "no workflow runs on pull_request_target or workflow_run, or puts event data into a script",
    });
  }
  return out;
}

/** The environment that holds the App's key, the executor identity and the masking key. */
export const INTERLOCK_ENVIRONMENT = "interlock";

/**
 * The `interlock` environment may be used by the default branch only: otherwise a writer's
 * branch workflow reaches the App's key (and can publish the gate or push through the App's
 * bypass) and the executor's identity.
 */
async function judgeEnvironment(
  octokit: GitHubClient,
  owner: string,
  repo: string,
  branch: string,
): Promise<DoctorFinding[]> {
  const id = "environment.default-branch-only";
  const fix = `Settings → Environments → ${INTERLOCK_ENVIRONMENT} → Deployment branches: Selected branches, only ${branch} (docs/github.md).`;
  let policy: { protected_branches: boolean; custom_branch_policies: boolean } | null | undefined;
  try {
    const { data } = await octokit.rest.repos.getEnvironment({
      owner,
      repo,
      environment_name: INTERLOCK_ENVIRONMENT,
    });
    policy = data.deployment_branch_policy;
  } catch (err) {
    const status = httpStatus(err);
    if (status !== 404 && status !== 403) throw err;
    return [
      {
        id,
        severity: "error",
        message: `there is no environment ${INTERLOCK_ENVIRONMENT} (or the token cannot read it, ${status}): the App's key cannot be kept to ${branch}`,
        fix: `Create it: ${fix}`,
      },
    ];
  }
  if (!policy) {
    return [
      {
        id,
        severity: "error",
        message: `environment ${INTERLOCK_ENVIRONMENT} can be used from any branch: a writer's branch workflow can read the App's key`,
        fix,
      },
    ];
  }
  if (policy.custom_branch_policies) {
    const { data } = await octokit.rest.repos.listDeploymentBranchPolicies({
      owner,
      repo,
      environment_name: INTERLOCK_ENVIRONMENT,
      per_page: 100,
    });
    const names = data.branch_policies.map((b) => `${b.type ?? "branch"}:${b.name ?? ""}`);
    if (names.length === 1 && names[0] === `branch:${branch}`) {
      return [
        {
          id,
          severity: "ok",
          message: `environment ${INTERLOCK_ENVIRONMENT} is usable from ${branch} only`,
        },
      ];
    }
    return [
      {
        id,
        severity: "error",
        message: `environment ${INTERLOCK_ENVIRONMENT} can be used from ${names.join(", ") || "no branch"}, not only ${branch}`,
        fix,
      },
    ];
  }
  // "Protected branches only": every branch a ruleset protects, not only the default one.
  return [
    {
      id,
      severity: "warning",
      message: `environment ${INTERLOCK_ENVIRONMENT} can be used from every protected branch, not only ${branch}`,
      fix,
    },
  ];
}

/** Event data a PR author or requester controls, when written into a `run:` script. */
const TAINTED_SOURCE = /\b(github\.event\.|github\.head_ref\b|inputs\.|steps\.[^}]*\.outputs\.)/;
/** Values GitHub itself makes (numbers, ids, shas): safe to interpolate. */
const GITHUB_MADE = /\.(number|id|sha|run_id|run_number)\s*$/;

/** The first `${{ … }}` in a script that pastes attacker-controlled text into it, if any. */
function taintedExpression(script: string): string | undefined {
  for (const m of script.matchAll(/\$\{\{([^}]*)\}\}/g)) {
    const inner = m[1]!.trim();
    if (TAINTED_SOURCE.test(inner) && !GITHUB_MADE.test(inner)) return m[0];
  }
  return undefined;
}

/** Lints one workflow file for the bypasses docs/github.md warns about. Pure. */
export function lintWorkflow(path: string, text: string): DoctorFinding[] {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch {
    return [
      {
        id: "workflows.parse",
        severity: "warning",
        message: `${path} is not valid YAML, so doctor could not check it`,
        fix: "Fix the YAML (GitHub will refuse to run it too).",
      },
    ];
  }
  if (typeof doc !== "object" || doc === null) return [];
  const w = doc as { on?: unknown; true?: unknown; jobs?: Record<string, { steps?: unknown[] }> };
  // YAML 1.1 reads a bare `on:` key as true in some parsers; `yaml` (1.2) keeps "on".
  const on = w.on ?? w.true;
  const triggers =
    typeof on === "string"
      ? [on]
      : Array.isArray(on)
        ? on.map(String)
        : on && typeof on === "object"
          ? Object.keys(on)
          : [];
  const out: DoctorFinding[] = [];
  if (triggers.includes("workflow_run")) {
    out.push({
      id: "workflows.trigger",
      severity: "error",
      message: `${path} runs on workflow_run: it gets a write token and secrets while pull request content controls what it sees`,
      fix: "Run the gate on pull_request_target without a checkout (docs/github.md); remove workflow_run.",
    });
  }
  // pull_request_target is how the gate reaches the App's key in default-branch context; it is
  // safe only while no step checks out or runs the pull request's content.
  const checksOut = Object.values(w.jobs ?? {}).some((job) =>
    (Array.isArray(job?.steps) ? job.steps : []).some((step) =>
      /^actions\/checkout@/i.test(String((step as { uses?: unknown } | null)?.uses ?? "")),
    ),
  );
  if (triggers.includes("pull_request_target") && checksOut) {
    out.push({
      id: "workflows.trigger",
      severity: "error",
      message: `${path} runs on pull_request_target and checks out code: a pull request's content would run with the App's key and a write token`,
      fix: "The gate needs no checkout: remove actions/checkout from this workflow (docs/github.md).",
    });
  }
  for (const [jobName, job] of Object.entries(w.jobs ?? {})) {
    for (const [i, step] of (Array.isArray(job?.steps) ? job.steps : []).entries()) {
      const run = (step as { run?: unknown } | null)?.run;
      if (typeof run !== "string") continue;
      const expr = taintedExpression(run);
      if (expr !== undefined) {
        out.push({
          id: "workflows.script-injection",
          severity: "error",
          message: `${path}: job ${jobName}, step ${i + 1} writes ${expr} into a run: script, where a request or PR author controls the text`,
          fix: 'Pass the value through env: (VALUE: ${{ … }}) and use "$VALUE" in the script, or give it to the Interlock action with with:.',
        });
      }
    }
  }
  return out;
}

/** The report as text: one line per finding, its fix indented below. */
export function renderDoctorReport(report: DoctorReport): string {
  const mark: Record<Severity, string> = { ok: "✓", info: "·", warning: "!", error: "✗" };
  const lines = [
    `Interlock doctor: ${report.repository} (default branch ${report.defaultBranch})`,
    "",
  ];
  const order: Severity[] = ["error", "warning", "info", "ok"];
  const sorted = [...report.findings].sort(
    (a, b) => order.indexOf(a.severity) - order.indexOf(b.severity),
  );
  for (const f of sorted) {
    lines.push(`  ${mark[f.severity]} ${f.severity.padEnd(7)} ${f.message}`);
    if (f.fix) lines.push(`            fix: ${f.fix}`);
  }
  const errors = report.findings.filter((f) => f.severity === "error").length;
  const warnings = report.findings.filter((f) => f.severity === "warning").length;
  lines.push(
    "",
    errors > 0
      ? `${errors} problem(s) leave a way around the gate${warnings ? `, and ${warnings} warning(s)` : ""}.`
      : `Nothing unsafe found${warnings ? ` (${warnings} warning(s))` : ""}.`,
  );
  return lines.join("\n") + "\n";
}
