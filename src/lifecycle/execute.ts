import { stringify } from "yaml";
import type { InterlockConfig } from "../config/config.ts";
import { executorFor, runExecutor, type ExecutionOutcome } from "../execution/executors.ts";
import {
  configAt,
  evidenceAtMerge,
  mergeFromCommit,
  newEvidenceCache,
  withdrawalNow,
  type EvidenceCache,
  type PolicyAtBase,
} from "../evidence/evidence.ts";
import type { ExecutionJournal } from "../execution/journal.ts";
import type { TrustChain } from "../trust/chain.ts";
import type { EvidenceSource } from "../evidence/reader.ts";
import type { Forge, MergedRequest } from "../forge/forge.ts";
import { resultPath } from "../forge/refs.ts";
import { contextEvidence } from "../gate/collect.ts";
import { evaluateGate } from "../gate/gate.ts";
import { maskText } from "../masking/mask.ts";
import { commitText } from "../presentation/escape.ts";
import { unseal } from "../masking/seal.ts";
import { decideMaskAndScrub, type DecideContext } from "../decide.ts";
import type { Scrubber } from "../masking/scrub.ts";
import { directoryOf } from "../identity/directory.ts";
import { failClosed } from "../policy/decision.ts";
import { policyEngineFromBundle, type PolicyEngine } from "../policy/engine.ts";
import { canonicalJson } from "../request/canonical.ts";
import { validateRequestValue } from "../request/parse.ts";
import type { Request } from "../request/schema.ts";
import type { ParsedRequestFile } from "../proposal/request-file.ts";
import type { GateSnapshot } from "../gate/snapshot.ts";

/** Where the result of request <id> is recorded on the default branch. */

export type ExecutionStatus =
  | "succeeded" // the executor ran and reported success
  | "failed" // it ran and failed (recorded; a person decides whether to retry)
  | "refused" // the evidence did not hold: never run
  | "claimed" // claimed but no result yet: running elsewhere, or crashed; never re-run silently
  | "no-executor" // nothing configured for the action: left for a later run
  | "busy" // another executor holds the claim right now
  | "pending"; // the forge cannot yet tell how it was merged: looked at again next run

export interface ExecutionReport {
  readonly id: string;
  readonly action: string;
  readonly status: ExecutionStatus;
  readonly detail: string;
}

export interface ExecuteDeps {
  readonly forge: Forge;
  readonly config: InterlockConfig;
  readonly repoDir: string;
  /** The executor's age identities (AGE-SECRET-KEY-1…). */
  readonly identities: readonly string[];
  /** The policy and masking key, to decide and mask the sealed original again. */
  readonly decide: Omit<DecideContext, "now">;
  readonly now: () => Date;
  readonly env: NodeJS.ProcessEnv;
  /**
   * The executor's own journal outside the repository (required for the local forge): a
   * request it ever claimed never runs again, whatever is deleted from the repository.
   */
  readonly journal?: ExecutionJournal;
  /** Request ids a person asked to retry although they were claimed before. */
  readonly retry?: readonly string[];
  readonly onProgress?: (msg: string) => void;
  /** How many of the merged requests were looked at, of how many (for a progress count). */
  readonly onCount?: (done: number, total: number) => void;
}

/**
 * Runs every merged, not yet executed request exactly once. For each: re-check the evidence
 * from history (never trust "merged"), claim it atomically, unseal and verify the params, run
 * the executor, and record the masked result on the default branch.
 */
export async function executeMerged(deps: ExecuteDeps): Promise<ExecutionReport[]> {
  const { forge } = deps;
  const reports: ExecutionReport[] = [];
  const run: RunState = {
    source: forge.evidenceSource?.(),
    engines: new Map(),
    cache: newEvidenceCache(),
    everRecorded: (await forge.recordedResults?.()) ?? new Set(),
    trust: undefined,
  };
  run.trust = await run.source?.trust?.();
  try {
    await journalWithdrawals(deps, run);
    const merged = await forge.mergedRequests();
    for (const [i, m] of merged.entries()) {
      deps.onCount?.(i, merged.length);
      if (!m.listed && (await forge.readDefault(resultPath(m.id))) !== undefined) continue;
      const report = await executeOne(m, deps, run);
      if (report) reports.push(report);
    }
    if (merged.length > 0) deps.onCount?.(merged.length, merged.length);
  } finally {
    run.source?.close();
  }
  return reports;
}

/**
 * At most once, even against a writer who erases a withdrawal: every verified withdrawal the
 * executor sees on the default branch (the one withdrawal rule, with the keys committed there
 * while the trust chain holds) goes into its journal, and a journalled withdrawal is never run.
 */
async function journalWithdrawals(deps: ExecuteDeps, run: RunState): Promise<void> {
  const { forge, journal } = deps;
  if (journal === undefined || run.source === undefined || !forge.withdrawalCandidates) return;
  const candidates = [...(await forge.withdrawalCandidates())].filter(
    (id) => journal.state(id)?.withdrawn === undefined,
  );
  if (candidates.length === 0) return;
  const tip = await run.source.reader.commit(`refs/heads/${forge.defaultBranch}`);
  if (tip === undefined || (run.trust && run.trust.brokenAt(tip.oid) !== undefined)) return;
  for (const id of candidates) {
    const w = await withdrawalNow(run.source.reader, id, tip.oid, run.cache);
    if (w.withdrawal) {
      journal.append({
        at: deps.now().toISOString(),
        id,
        event: "withdrawn",
        commit: w.withdrawal.commit,
      });
    }
  }
}

/** What one `execute` run shares across requests: the evidence reader, policies by revision. */
interface RunState {
  readonly source: EvidenceSource | undefined;
  readonly engines: Map<string, Promise<PolicyEngine>>;
  readonly cache: EvidenceCache;
  /** Requests whose result was ever added to the default branch (even if deleted since). */
  readonly everRecorded: ReadonlySet<string>;
  /** The verified trust chain of the default branch. */
  trust: TrustChain | undefined;
}

async function executeOne(
  m: MergedRequest,
  deps: ExecuteDeps,
  run: RunState,
): Promise<ExecutionReport | undefined> {
  const { forge, journal } = deps;
  const action = m.path.split("/")[1] ?? "?";
  const retry = deps.retry?.includes(m.id) ?? false;
  const refused = (detail: string): ExecutionReport => ({
    id: m.id,
    action,
    status: "refused",
    detail,
  });
  // Not known yet how it reached the default branch: neither run nor refused (nothing recorded).
  if (m.pending !== undefined) return { id: m.id, action, status: "pending", detail: m.pending };
  // At most once: what this executor's journal or the repository's history ever recorded.
  const journalled = journal?.state(m.id);
  if (journalled?.result) {
    return refused(
      `this executor's journal records that it ran ${m.id} at ${journalled.result.at} ` +
        `(${journalled.result.outcome}), but its result is gone from ${forge.defaultBranch}: the result or ` +
        "the history was deleted. It is never run again; check the repository's integrity (interlock audit --verify).",
    );
  }
  if (journalled?.withdrawn) {
    return refused(
      `this executor's journal records that its requester withdrew ${m.id} (commit ` +
        `${journalled.withdrawn.commit.slice(0, 7)}, seen ${journalled.withdrawn.at}): a withdrawn ` +
        "request never runs, even if the withdrawal is gone from the repository now",
    );
  }
  if (run.everRecorded.has(m.id)) {
    return refused(
      `a result for ${m.id} was recorded on ${forge.defaultBranch} and deleted later: it is never run again`,
    );
  }
  const claimedInRepo = m.listed?.claimed ?? (await forge.isClaimed(m.id));
  if ((claimedInRepo || journalled?.claimedAt) && !retry) {
    const where = journalled?.claimedAt
      ? `this executor's journal records a claim at ${journalled.claimedAt} without a result`
      : "claimed by an executor that has not recorded a result";
    return {
      id: m.id,
      action,
      status: "claimed",
      detail:
        `${where}: it is running now, or it crashed (perhaps after running the action). It is not ` +
        "re-run automatically. If it stays like this, check whether the action happened, then run " +
        `'interlock execute --retry ${m.id}'.`,
    };
  }
  const retried = retry && (claimedInRepo || journalled?.claimedAt !== undefined);
  if (retried) {
    journal?.append({ at: deps.now().toISOString(), id: m.id, event: "retry" });
    if (claimedInRepo) await forge.releaseClaim(m.id);
  }

  // The executor that runs the action is the one configured as committed at the merge's base.
  let actions = deps.config.executors.actions;
  if (run.source) {
    const merge = await mergeFromCommit(run.source.reader, m);
    const committed =
      "refused" in merge ? undefined : await configAt(run.source.reader, merge.base, run.cache);
    actions = committed && !(committed instanceof Error) ? committed.executors.actions : {};
  }
  const executor = executorFor(actions, action);
  if (executor === undefined) {
    return {
      id: m.id,
      action,
      status: "no-executor",
      detail: `no executor is configured for ${action}; add one under executors.actions in .interlock/config.yaml`,
    };
  }

  // Claim first: exactly one executor gets past this line for each request, and only it
  // spends time on the evidence (the others move on at once).
  if (!(await forge.claim(m.id, deps.now()))) {
    return { id: m.id, action, status: "busy", detail: "another executor claimed it first" };
  }
  // Durably in the journal before anything runs.
  journal?.append({
    at: deps.now().toISOString(),
    id: m.id,
    event: "claim",
    merge_commit: m.mergeCommit,
  });

  const checked = run.source
    ? await checkCommittedEvidence(m, deps, run)
    : await checkEvidence(m, deps);
  const base = {
    interlock: 1,
    id: m.id,
    request: m.path,
    merge_commit: m.mergeCommit,
    approvers: "refusal" in checked ? [] : checked.approvers,
    ...(retried ? { retried: true } : {}),
  };
  if ("refusal" in checked) {
    const reason = checked.refusal;
    journal?.append({
      at: deps.now().toISOString(),
      id: m.id,
      event: "result",
      outcome: "refused",
    });
    await record(
      deps,
      m,
      { ...base, outcome: "refused", reason: maskText(reason) },
      `Refuse ${m.id}: ${commitText(reason)}`,
    );
    return { id: m.id, action, status: "refused", detail: reason };
  }

  // Everything written about this request from here on is cleaned: every value masked in the
  // request (the scrubber, encodings included), then whatever the detectors still find.
  const clean = cleaner(checked.scrubber);
  deps.onProgress?.(`running ${action} (${m.id}) with the ${executor.config.type} executor…`);
  const outcome: ExecutionOutcome = await runExecutor(
    executor.config,
    {
      requestId: m.id,
      action,
      resource: checked.original.resource,
      params: checked.original.params ?? null,
      attempt: retried ? 2 : 1,
    },
    { repoDir: deps.repoDir, env: deps.env, now: deps.now, clean },
  );
  journal?.append({
    at: deps.now().toISOString(),
    id: m.id,
    event: "result",
    outcome: outcome.status,
  });
  const result = {
    ...base,
    executor: { key: executor.key, type: executor.config.type },
    outcome: outcome.status,
    ...maskedOutcome(outcome, clean),
  };
  await record(deps, m, result, `Result of ${m.id}: ${outcome.status}`);
  return {
    id: m.id,
    action,
    status: outcome.ok ? "succeeded" : "failed",
    detail: outcome.ok
      ? `ran in ${outcome.duration_ms} ms`
      : clean(outcome.error ?? outcome.status),
  };
}

type Evidence =
  { refusal: string } | { original: Request; approvers: string[]; scrubber: Scrubber };

/**
 * Never trust "merged": re-check everything from history before running. The gate must have
 * held at the merge; the request must not have expired; the sealed original must open with our
 * identity, match its digest, and, decided and masked again now, give exactly the masked
 * request in the file and a decision whose gate also holds. So neither a file edited inside a
 * merge nor a request forged straight onto the default branch with a made-up decision (even
 * with its own baseline) can run.
 */
async function checkEvidence(m: MergedRequest, deps: ExecuteDeps): Promise<Evidence> {
  const evidence = await deps.forge.evidence(m);
  if ("refused" in evidence) return { refusal: evidence.refused };
  const ev = await contextEvidence(evidence, m.mergedAt, deps.now(), m.path);
  if (!ev.ok) return { refusal: ev.reason };
  if (!ev.satisfied)
    return { refusal: `the gate did not hold at the merge: ${ev.verdict.summary}` };
  if (deps.now().getTime() >= ev.expiresAt.getTime()) {
    return { refusal: expiredBeforeRun(ev) };
  }
  // The policy this executor decides with must be the one committed at the merge's base (the
  // revision the decision was checked against), or deciding again proves nothing.
  const engine = deps.decide.engine.revision;
  if (engine !== ev.policy.revision) {
    return {
      refusal:
        `this executor's policy is ${shortRevision(engine)}, but the policy committed at the base ` +
        `of the merge is ${shortRevision(ev.policy.revision)}: run the executor on the merge it ` +
        "executes, with the policy built from the committed sources",
    };
  }
  const checked = await reDecideSealed(ev.record, ev.snapshot, deps, {
    ...deps.decide,
    now: ev.filedAt,
    identities: directoryOf(ev.config),
  });
  if ("refusal" in checked) return checked;
  return { ...checked, approvers: ev.approvers };
}

function expiredBeforeRun(ev: {
  expiresAt: Date;
  filedAt: Date;
  record: { decision: { ttl_seconds: number } };
}): string {
  return `the request expired at ${ev.expiresAt.toISOString()} (filed at ${ev.filedAt.toISOString()}, TTL ${ev.record.decision.ttl_seconds} s), before it was executed`;
}

function shortRevision(s: string): string {
  return s.replace(/^sha256:/, "").slice(0, 12);
}

/**
 * Never trust "merged": the one evidence check (src/evidence) re-judges the merge from
 * committed history, with config, CODEOWNERS and policy as committed at the merge's base; the
 * request must not have expired (filing time + TTL, never a stored expiry); and the sealed
 * original, decided again by the policy committed at the base and masked again, must give
 * exactly the masked request in the file and a decision whose gate also holds.
 */
async function checkCommittedEvidence(
  m: MergedRequest,
  deps: ExecuteDeps,
  run: RunState,
): Promise<Evidence> {
  const { source, engines } = run;
  if (source === undefined) return { refusal: "no evidence source" };
  const merge = await mergeFromCommit(source.reader, m);
  if ("refused" in merge) return { refusal: merge.refused };
  const ev = await evidenceAtMerge(source.reader, merge, {
    now: deps.now(),
    cache: run.cache,
    ...(run.trust ? { trust: run.trust } : {}),
  });
  if (!ev.ok) return { refusal: ev.reason };
  if (!ev.satisfied)
    return { refusal: `the gate did not hold at the merge: ${ev.verdict.summary}` };
  if (deps.now().getTime() >= ev.expiresAt.getTime()) {
    return { refusal: expiredBeforeRun(ev) };
  }
  // Decided again as at filing, by the policy and with the identities committed at the base.
  const checked = await reDecideSealed(ev.record, ev.snapshot, deps, {
    ...deps.decide,
    engine: await engineFor(ev.policy, engines),
    now: ev.filedAt,
    identities: directoryOf(ev.config),
  });
  if ("refusal" in checked) return checked;
  return { ...checked, approvers: ev.approvers };
}

/**
 * The sealed original must open with the executor's identity, and, decided and masked again,
 * give exactly the masked request in the file and a decision whose gate also holds: so neither a
 * file edited inside a merge nor a request forged with a made-up decision can run.
 */
async function reDecideSealed(
  file: ParsedRequestFile,
  snapshot: GateSnapshot,
  deps: ExecuteDeps,
  decide: DecideContext,
): Promise<{ refusal: string } | { original: Request; scrubber: Scrubber }> {
  if (file.sealed === null) return { refusal: "the request file has no sealed original" };
  let original: Request;
  try {
    original = validateRequestValue(
      await unseal(file.sealed, deps.identities),
      "the sealed original",
    );
  } catch (err) {
    return { refusal: (err as Error).message };
  }
  const { evaluation: again, scrubber } = decideMaskAndScrub(original, decide);
  if (canonicalJson(again.request) !== canonicalJson(file.request)) {
    return {
      refusal:
        "the request file does not match its sealed original (the masked request differs): it was edited " +
        "or forged, or the repository's masking key changed since it was filed",
    };
  }
  if (!again.decision.allow) {
    return { refusal: `the policy denies the sealed original: ${again.decision.deny.join("; ")}` };
  }
  const recheck = evaluateGate({
    ...snapshot,
    request: { ...snapshot.request, decision: again.decision },
  });
  if (!recheck.satisfied) {
    return {
      refusal: `the gate does not hold for the decision the policy gives the sealed original: ${recheck.summary}`,
    };
  }
  return { original, scrubber };
}

/** The policy engine of a committed bundle, loaded once per revision. */
function engineFor(
  policy: PolicyAtBase,
  engines: Map<string, Promise<PolicyEngine>>,
): Promise<PolicyEngine> {
  let engine = engines.get(policy.revision);
  if (engine === undefined) {
    engine =
      policy.files === undefined
        ? Promise.resolve(failedPolicy(policy.revision))
        : policyEngineFromBundle(policy.files);
    engines.set(policy.revision, engine);
  }
  return engine;
}

function failedPolicy(revision: string): PolicyEngine {
  return {
    revision,
    executableParams: () => [],
    sql: null,
    decide: () =>
      failClosed(
        "load",
        "the policy bundle committed at the merge's base is incomplete (policies/dist)",
        "Commit the whole built bundle (policy.wasm, data.json, manifest.json) through a governance change.",
        revision,
      ),
  };
}

/** Scrubs a request's masked values (encodings too), then masks what the detectors find. */
function cleaner(scrubber: Scrubber): (text: string) => string {
  return (text) => maskText(scrubber.scrub(text));
}

/**
 * Executor output may echo params: it is cleaned like everything else before it is written
 * (the executor already cleaned it before cutting it to size; this is the second line).
 */
function maskedOutcome(
  o: ExecutionOutcome,
  clean: (text: string) => string,
): Record<string, unknown> {
  return {
    started_at: o.started_at,
    finished_at: o.finished_at,
    duration_ms: o.duration_ms,
    ...(o.exit_code === undefined ? {} : { exit_code: o.exit_code }),
    ...(o.http_status === undefined ? {} : { http_status: o.http_status }),
    output: clean(o.output),
    ...(o.error === undefined ? {} : { error: clean(o.error) }),
  };
}

async function record(
  deps: ExecuteDeps,
  m: MergedRequest,
  result: Record<string, unknown>,
  subject: string,
) {
  const content = "# Interlock execution result (masked).\n" + stringify(result, { lineWidth: 0 });
  // The subject is one line already (untrusted parts went through commitText): no CR or LF
  // can start a line that reads as a trailer.
  const message = `${commitText(subject).slice(0, 200)}\n\nInterlock-Result: ${m.id}\nInterlock-Outcome: ${String(result.outcome)}`;
  await deps.forge.commitToDefault(
    [{ path: resultPath(m.id), content }],
    maskText(message),
    deps.now(),
  );
}
