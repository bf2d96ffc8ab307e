import { stringify } from "yaml";
import type { InterlockConfig } from "../config/config.ts";
import { executorFor, runExecutor, type ExecutionOutcome } from "../execution/executors.ts";
import type { Forge, MergedRequest } from "../forge/forge.ts";
import { collectSnapshot } from "../gate/collect.ts";
import { evaluateGate } from "../gate/gate.ts";
import { maskText } from "../masking/mask.ts";
import { commitText } from "../presentation/escape.ts";
import { unseal } from "../masking/seal.ts";
import { decideMaskAndScrub, type DecideContext } from "../decide.ts";
import type { Scrubber } from "../masking/scrub.ts";
import { canonicalJson } from "../request/canonical.ts";
import { validateRequestValue } from "../request/parse.ts";
import type { Request } from "../request/schema.ts";

/** Where the result of request <id> is recorded on the default branch. */
export const resultPath = (id: string) => `results/${id}.yaml`;

export type ExecutionStatus =
  | "succeeded" // the executor ran and reported success
  | "failed" // it ran and failed (recorded; a person decides whether to retry)
  | "refused" // the evidence did not hold: never run
  | "claimed" // claimed but no result yet: running elsewhere, or crashed; never re-run silently
  | "no-executor" // nothing configured for the action: left for a later run
  | "busy"; // another executor holds the claim right now

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
  /** Request ids a person asked to retry although they were claimed before. */
  readonly retry?: readonly string[];
  readonly onProgress?: (msg: string) => void;
}

/**
 * Runs every merged, not yet executed request exactly once. For each: re-check the evidence
 * from history (never trust "merged"), claim it atomically, unseal and verify the params, run
 * the executor, and record the masked result on the default branch.
 */
export async function executeMerged(deps: ExecuteDeps): Promise<ExecutionReport[]> {
  const { forge } = deps;
  const reports: ExecutionReport[] = [];
  for (const m of await forge.mergedRequests()) {
    if ((await forge.readDefault(resultPath(m.id))) !== undefined) continue;
    const report = await executeOne(m, deps);
    if (report) reports.push(report);
  }
  return reports;
}

async function executeOne(
  m: MergedRequest,
  deps: ExecuteDeps,
): Promise<ExecutionReport | undefined> {
  const { forge } = deps;
  const action = m.path.split("/")[1] ?? "?";
  if (await forge.isClaimed(m.id)) {
    if (!deps.retry?.includes(m.id)) {
      return {
        id: m.id,
        action,
        status: "claimed",
        detail:
          "claimed by an executor that has not recorded a result: it is running now, or it crashed " +
          "(perhaps after running the action). It is not re-run automatically. If it stays like this, " +
          `check whether the action happened, then run 'interlock execute --retry ${m.id}'.`,
      };
    }
    await forge.releaseClaim(m.id);
  }

  const executor = executorFor(deps.config.executors.actions, action);
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

  const checked = await checkEvidence(m, deps);
  const base = {
    interlock: 1,
    id: m.id,
    request: m.path,
    merge_commit: m.mergeCommit,
    approvers: "refusal" in checked ? [] : checked.approvers,
  };
  if ("refusal" in checked) {
    const reason = checked.refusal;
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
      attempt: deps.retry?.includes(m.id) ? 2 : 1,
    },
    { repoDir: deps.repoDir, env: deps.env, now: deps.now, clean },
  );
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
  if (await deps.forge.isWithdrawn(m.id)) {
    return { refusal: "its requester withdrew it; a withdrawn request never runs" };
  }
  const evidence = await deps.forge.evidence(m);
  if ("refused" in evidence) return { refusal: evidence.refused };
  const collected = await collectSnapshot(evidence, m.mergedAt, m.path);
  if (!collected.ok) return { refusal: collected.reason };
  const verdict = evaluateGate(collected.snapshot);
  if (!verdict.satisfied)
    return { refusal: `the gate did not hold at the merge: ${verdict.summary}` };
  const { record: file } = collected;
  if (deps.now().getTime() >= new Date(file.expires_at).getTime()) {
    return { refusal: `the request expired at ${file.expires_at}, before it was executed` };
  }
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
  const { evaluation: again, scrubber } = decideMaskAndScrub(original, {
    ...deps.decide,
    now: new Date(file.requested_at),
  });
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
    ...collected.snapshot,
    request: { ...collected.snapshot.request, decision: again.decision },
  });
  if (!recheck.satisfied) {
    return {
      refusal: `the gate does not hold for the decision the policy gives the sealed original: ${recheck.summary}`,
    };
  }
  return {
    original,
    approvers: verdict.approvals.filter((a) => a.counted).map((a) => a.who),
    scrubber,
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
