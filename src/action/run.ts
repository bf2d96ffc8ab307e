import { directoryOf } from "../identity/directory.ts";
import { bindDispatcher } from "../identity/requester.ts";
import type { DecideContext } from "../decide.ts";
import { InterlockError } from "../errors.ts";
import type { Forge } from "../forge/forge.ts";
import type { GateVerdict } from "../gate/snapshot.ts";
import { executeMerged, type ExecutionReport } from "../lifecycle/execute.ts";
import { fileRequest } from "../lifecycle/file-request.ts";
import { checkGate } from "../lifecycle/gate-check.ts";
import { maskText } from "../masking/mask.ts";
import { isChannelSecretName } from "../notify/config.ts";
import type { Transports } from "../notify/deliver.ts";
import { announce, executedFacts, filedFacts, latestReviewEvent, reviewedFacts } from "./notify.ts";
import { CONFIG_PATH, loadConfig, parseConfig, type InterlockConfig } from "../config/config.ts";
import { policiesDirFor } from "../policy/bundle.ts";
import { loadPolicyEngine } from "../policy/engine.ts";
import {
  renderFiledMarkdown,
  renderReportComment,
  renderReportsMarkdown,
  renderVerdictMarkdown,
} from "./render.ts";
import type { ActionSettings, ExecuteSettings, GateSettings, RequestSettings } from "./settings.ts";

/**
 * The action: one entry, three modes chosen by the event (docs/github.md). Everything it touches of
 * the outside world comes in `deps`, so tests run it in-process against a test-double forge or
 * the GitHub simulator. A denial or an unmet gate is a result; only failures fail the step.
 */

/** What the action needs of @actions/core (main.ts adapts the real one). */
export interface ActionCore {
  setOutput(name: string, value: string): void;
  info(message: string): void;
  warning(message: string): void;
  setFailed(message: string): void;
  /** Appends Markdown to the job summary. */
  summary(markdown: string): Promise<void>;
}

/** The forge as the action uses it: the Forge interface plus what only GitHub has. */
export interface ActionForge extends Forge {
  /**
   * Publishes the gate as the `interlock/gate` check run on `head`, the commit it was
   * evaluated on (never on a newer head the verdict has not seen).
   */
  publishGate(id: string, verdict: GateVerdict, markdown: string, head: string): Promise<unknown>;
  /** Comments on the request's pull request. */
  comment(id: string, markdown: string): Promise<unknown>;
  /** A hint where request `id`'s file is, so the forge can read it with its first query. */
  expectRequestPath?(id: string, path: string): void;
}

/** The repository and credentials a forge is built for. */
export interface ForgeTarget {
  readonly token: string;
  /** The Interlock App's bot account: the author of every proposal that counts. */
  readonly botLogin: string;
  readonly apiUrl: string;
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch: string;
}

export interface RunDeps {
  /** The parsed settings, or a function that parses them (its errors fail the step). */
  readonly settings: ActionSettings | (() => ActionSettings);
  readonly forgeFactory: (target: ForgeTarget) => ActionForge;
  readonly core: ActionCore;
  /** The process environment (executors get it without the action's inputs). */
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  /**
   * Interlock's default policies (a policies/ directory with dist/), used when the approvals
   * repository has no policies/ of its own. The bundled action ships them in dist/policies.
   */
  readonly defaultPoliciesDir?: string;
  /** How notifications are delivered (tests); default Slack's Web API client and fetch. */
  readonly transports?: Transports;
}

/** What a run did, for tests and logs (the step's outputs say the same). */
export type RunOutcome =
  | { readonly mode: "request"; readonly id: string; readonly denied: boolean }
  | { readonly mode: "gate"; readonly id: string; readonly satisfied: boolean }
  | { readonly mode: "execute"; readonly reports: readonly ExecutionReport[] }
  | { readonly mode: "skip"; readonly reason: string }
  | { readonly mode: "failed"; readonly message: string };

export async function run(deps: RunDeps): Promise<RunOutcome> {
  const { core } = deps;
  try {
    const s = typeof deps.settings === "function" ? deps.settings() : deps.settings;
    switch (s.mode) {
      case "request":
        return await requestMode(s, deps);
      case "gate":
        return await gateMode(s, deps);
      case "execute":
        return await executeMode(s, deps);
      case "skip":
        core.info(`Interlock: nothing to do: ${s.reason}.`);
        return { mode: "skip", reason: s.reason };
    }
  } catch (err) {
    const message = failureMessage(err);
    core.setFailed(message);
    return { mode: "failed", message };
  }
}

function failureMessage(err: unknown): string {
  if (err instanceof InterlockError) {
    const problems = err.problems.map(
      (p) => `  - ${p.field ?? ""}${p.line === undefined ? "" : ` (line ${p.line})`}: ${p.message}`,
    );
    return maskText(
      [err.message, ...problems, ...(err.hint ? [`Next: ${err.hint}`] : [])].join("\n"),
    );
  }
  return maskText(`Interlock failed: ${(err as Error)?.message ?? String(err)}`);
}

/**
 * What deciding needs in request and execute modes: the checked-out repository's policies (or
 * Interlock's defaults), the masking key, and the repository's name as the policy sees it.
 * Both modes build it the same way, so the executor re-derives exactly what was filed.
 */
async function decideContext(
  s: RequestSettings | ExecuteSettings,
  deps: RunDeps,
): Promise<Omit<DecideContext, "now">> {
  const own = policiesDirFor(s.repoDir);
  const policiesDir = own.isDefault ? (deps.defaultPoliciesDir ?? own.dir) : own.dir;
  if (own.isDefault) {
    deps.core.info(
      "The approvals repository has no policies/: using Interlock's default policies.",
    );
  }
  const engine = await loadPolicyEngine(policiesDir);
  return { engine, repo: `${s.owner}/${s.repo}`, hmacKey: s.maskingKey };
}

function targetOf(s: ActionSettings): ForgeTarget {
  return {
    token: s.token,
    botLogin: s.botLogin,
    apiUrl: s.apiUrl,
    owner: s.owner,
    repo: s.repo,
    defaultBranch: s.defaultBranch,
  };
}

async function requestMode(s: RequestSettings, deps: RunDeps): Promise<RunOutcome> {
  const { core } = deps;
  const config = loadConfig(s.repoDir);
  const decide = await decideContext(s, deps);
  const now = deps.now();
  const identities = directoryOf(config);
  // The requester is whoever GitHub says dispatched it; the sponsor comes from the config.
  const bound = bindDispatcher(identities, s.sender.login, s.request.requester);
  if (!bound.ok) {
    throw new InterlockError(
      "request.invalid",
      `${s.sender.login} dispatched this request, which cannot be filed: ${bound.reason}`,
      {
        hint:
          "On GitHub the requester is the account that dispatches the request: dispatch an agent's " +
          "request with the agent's own account (listed in its aliases in .interlock/config.yaml, " +
          "with its sponsor) or as the person who sponsors it, or file it as yourself (kind: human).",
      },
    );
  }
  const request = { ...s.request, requester: bound.requester };
  const filed = await fileRequest(request, {
    forge: deps.forgeFactory(targetOf(s)),
    decide: { ...decide, now, identities },
    recipients: config.executors.recipients,
    ...(s.correlation ? { correlation: s.correlation } : {}),
  });
  const decision = filed.evaluation.decision;
  core.setOutput("id", filed.id);
  core.setOutput("decision", JSON.stringify(decision));
  await core.summary(renderFiledMarkdown(filed, now));
  await announce({
    config,
    facts: () => filedFacts(filed, deps.env),
    only: (e) => e.kind === "filed" || e.kind === "denied",
    env: deps.env,
    now: deps.now,
    core,
    ...(deps.transports ? { transports: deps.transports } : {}),
  });
  if (filed.denied) {
    core.setFailed(
      maskText(
        `Denied by policy and recorded as evidence in ${filed.path}: ` +
          (decision.deny.join("; ") || "denied"),
      ),
    );
  } else {
    core.info(
      `Filed request ${filed.id} (${decision.risk} risk) as ${filed.url ?? filed.branch ?? filed.path}.`,
    );
  }
  return { mode: "request", id: filed.id, denied: filed.denied };
}

/** The gate reads nothing from the workspace: on a PR event the checkout is the PR's content. */
async function gateMode(s: GateSettings, deps: RunDeps): Promise<RunOutcome> {
  const { core } = deps;
  const forge = deps.forgeFactory(targetOf(s));
  if (s.requestPathHint !== undefined) forge.expectRequestPath?.(s.id, s.requestPathHint);
  const gate = await checkGate(forge, s.id, deps.now());
  const markdown = renderVerdictMarkdown(gate.verdict, {
    id: s.id,
    head: gate.context.headCommit,
  });
  await forge.publishGate(s.id, gate.verdict, markdown, gate.context.headCommit);
  core.setOutput("id", s.id);
  core.setOutput("satisfied", String(gate.verdict.satisfied));
  core.setOutput("decision", JSON.stringify(gate.collected.record.decision));
  await core.summary(markdown);
  core.info(
    `interlock/gate on ${gate.context.headCommit.slice(0, 7)}: ${maskText(gate.verdict.summary)}`,
  );
  if (s.reviewer !== undefined) {
    // A relayed review: announce it, as GitHub records it (a forged name finds none). The
    // configuration comes from the default branch through the API: the gate reads nothing
    // from the workspace.
    const reviewer = s.reviewer;
    let config: InterlockConfig | undefined;
    try {
      const text = await forge.readDefault(CONFIG_PATH);
      config = text === undefined ? undefined : parseConfig(text);
    } catch (err) {
      core.warning(
        maskText(`Notifications: the configuration cannot be read: ${(err as Error).message}`),
      );
    }
    if (config !== undefined) {
      const facts = reviewedFacts(gate, deps.env);
      await announce({
        config,
        facts: () => [facts],
        only: latestReviewEvent(facts, reviewer),
        env: deps.env,
        now: deps.now,
        core,
        ...(deps.transports ? { transports: deps.transports } : {}),
      });
    }
  }
  return { mode: "gate", id: s.id, satisfied: gate.verdict.satisfied };
}

/** Outcomes worth a comment on the pull request (the others repeat on every push). */
const COMMENTED: ReadonlySet<string> = new Set(["succeeded", "failed", "refused"]);

async function executeMode(s: ExecuteSettings, deps: RunDeps): Promise<RunOutcome> {
  const { core } = deps;
  const config = loadConfig(s.repoDir);
  const decide = await decideContext(s, deps);
  const forge = deps.forgeFactory(targetOf(s));
  const reports = await executeMerged({
    forge,
    config,
    repoDir: s.repoDir,
    identities: s.identities,
    // The same names the request was decided with, so the sealed original decides the same.
    decide: { ...decide, identities: directoryOf(config) },
    now: deps.now,
    env: executorEnvironment(deps.env),
    onProgress: (m) => core.info(m),
  });
  const runUrl = runUrlOf(deps.env);
  for (const r of reports) {
    core.info(`${r.id} ${r.action}: ${r.status}: ${maskText(r.detail)}`);
    if (!COMMENTED.has(r.status)) continue;
    try {
      await forge.comment(r.id, renderReportComment(r, runUrl));
    } catch (err) {
      // The result is recorded on the default branch already; a missing comment is cosmetic.
      core.warning(`could not comment on the pull request of ${r.id}: ${(err as Error).message}`);
    }
  }
  core.setOutput("executed", JSON.stringify(reports));
  await core.summary(renderReportsMarkdown(reports));
  await announce({
    config,
    facts: () => executedFacts(reports, forge, deps.env, deps.now()),
    only: (e) => e.kind === "merged" || e.kind === "executed",
    env: deps.env,
    now: deps.now,
    core,
    ...(deps.transports ? { transports: deps.transports } : {}),
  });
  const bad = reports.filter((r) => r.status === "refused" || r.status === "failed");
  if (bad.length > 0) {
    core.setFailed(
      maskText(
        `${bad.length} request(s) did not run successfully: ` +
          bad.map((r) => `${r.id} ${r.status}: ${r.detail}`).join("; "),
      ),
    );
  }
  return { mode: "execute", reports };
}

/**
 * The environment executors get: the process's, minus the action's inputs (INPUT_*), which
 * hold the token, the executor identity and the masking key, and minus the notification
 * channels' secrets (Slack token, Teams URL, webhook URL and key). Shell executors narrow it
 * further.
 */
export function executorEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => !k.startsWith("INPUT_") && !isChannelSecretName(k)),
  );
}

function runUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = env;
  if (!server || !repo || !runId) return undefined;
  return `${server}/${repo}/actions/runs/${runId}`;
}
