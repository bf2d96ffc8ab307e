import { parse as parseYaml } from "yaml";
import { ownerMembers } from "../config/config.ts";
import type { LocalForge } from "../forge/local/local-forge.ts";
import { InterlockError } from "../errors.ts";
import {
  evidenceAtMerge,
  mergeFromCommit,
  newEvidenceCache,
  withdrawalNow,
} from "../evidence/evidence.ts";
import {
  denialPath,
  DENIALS_DIR,
  idOfDenialPath,
  idOfResultPath,
  ORIGINAL_REF_PREFIX,
  RESULTS_DIR,
  resultPath,
} from "../forge/refs.ts";
import { checkGate, type GateResult, type SharedEvidence } from "./gate-check.ts";
import type { GateVerdict } from "../gate/snapshot.ts";
import { directoryOf, resolvePrincipal } from "../identity/directory.ts";
import { recordOf, type ParsedRequestFile } from "../proposal/request-file.ts";

/** Where a request stands. Closed states: expired, withdrawn, merged, executed, denied, invalid. */
export const REQUEST_STATES = [
  "pending",
  "approved",
  "rejected",
  "expired",
  "withdrawn",
  "merged",
  "executed",
  "denied",
  "invalid",
] as const;

export type RequestState = (typeof REQUEST_STATES)[number];

/**
 * The states `interlock list` shows by default: what a person may still act on. Expired and
 * withdrawn requests are closed (`--all` or `--state` shows them).
 */
export const OPEN_STATES: readonly RequestState[] = ["pending", "approved", "rejected"];

/** One request as a reviewer sees it in a list (only masked, recorded values). */
export interface RequestStatus {
  readonly id: string;
  readonly state: RequestState;
  readonly action: string;
  readonly risk: string;
  readonly requester: string;
  readonly on_behalf_of: string | null;
  readonly requested_at: string | null;
  readonly expires_at: string | null;
  /** What the request waits for, or why it is closed. */
  readonly missing: string;
  /** People who could still give a counting approval (open requests only). */
  readonly reviewers: readonly string[];
  /** The recorded request file (masked), when it could be read. */
  readonly record?: ParsedRequestFile;
  /** The gate's verdict now (open requests) . */
  readonly verdict?: GateVerdict;
}

/**
 * The state of every request the local forge knows (filed proposals, merged requests and
 * denials), oldest id first. Open proposals are judged by the gate through the one evidence
 * check (exactly as `gate` and `merge` judge them); withdrawals by the one withdrawal rule.
 */
export async function requestStatuses(
  forge: LocalForge,
  now: Date,
  only?: string,
): Promise<RequestStatus[]> {
  const git = forge.git;
  const main = `refs/heads/${forge.defaultBranch}`;
  const filed = (
    (await git.tryRaw(["for-each-ref", "--format=%(refname)", ORIGINAL_REF_PREFIX])) ?? ""
  )
    .split("\n")
    .filter(Boolean)
    .map((r) => r.slice(ORIGINAL_REF_PREFIX.length))
    .filter((id) => only === undefined || id === only);
  const ids = (dir: string, idOf: (path: string) => string | undefined) =>
    git
      .listFiles(main, dir)
      .then((files) =>
        files
          .map(idOf)
          .filter((x): x is string => x !== undefined && (only === undefined || x === only)),
      );
  const results = new Set(await ids(RESULTS_DIR, idOfResultPath));
  const denials = await ids(DENIALS_DIR, idOfDenialPath);
  const merged = new Map(
    (await forge.mergedRequests())
      .filter((m) => only === undefined || m.id === only)
      .map((m) => [m.id, m]),
  );
  const out: RequestStatus[] = [];
  for (const id of denials) {
    const record = recordOf(await forge.readDefault(denialPath(id)));
    out.push(
      status(id, "denied", record, `denied by policy: ${record?.decision.deny.join("; ") ?? "?"}`),
    );
  }
  const source = forge.evidenceSource();
  try {
    const shared: SharedEvidence = {
      source,
      trust: await source.trust?.(),
      cache: newEvidenceCache(),
    };
    for (const [id, m] of merged) {
      const record = recordOf(await forge.readDefault(m.path));
      if (results.has(id)) {
        const refusal = executorRefusal(await forge.readDefault(resultPath(id)));
        out.push(
          refusal === undefined
            ? status(id, "executed", record, "executed; see its result")
            : status(id, "invalid", record, `refused by the executor, never run: ${refusal}`),
        );
      } else if ((await withdrawalNow(source.reader, id, main, shared.cache)).withdrawal)
        out.push(status(id, "withdrawn", record, "withdrawn by its requester after the merge"));
      else {
        // "Merged" is never trusted: a request file committed straight to the default branch,
        // or merged without the gate, is not shown as waiting for the executor (which refuses it).
        const refusal = await refusedAtMerge(shared, m, now);
        out.push(
          refusal === undefined
            ? status(id, "merged", record, "merged; waits for the executor")
            : status(id, "invalid", record, `merged, but ${refusal}; the executor refuses it`),
        );
      }
    }
    for (const id of filed) {
      if (merged.has(id)) continue;
      out.push(await openStatus(forge, id, now, shared));
    }
  } finally {
    source.close();
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The executor's recorded refusal in a result file, when it refused (never ran) the request. */
function executorRefusal(text: string | undefined): string | undefined {
  let v: { outcome?: unknown; reason?: unknown; error?: unknown } | null;
  try {
    v = text === undefined ? null : (parseYaml(text, { maxAliasCount: 0 }) as typeof v);
  } catch {
    return "its result cannot be read";
  }
  if (v?.outcome !== "refused") return undefined;
  const why = typeof v.reason === "string" ? v.reason : v.error;
  return typeof why === "string" ? why : "no reason recorded";
}

/**
 * Why a merged request would be refused, as the executor judges it with the one evidence check
 * (the gate at the merge, from committed history); undefined when the gate held.
 */
async function refusedAtMerge(
  shared: SharedEvidence,
  m: { readonly id: string; readonly path: string; readonly mergeCommit: string },
  now: Date,
): Promise<string | undefined> {
  const merge = await mergeFromCommit(shared.source.reader, m);
  if ("refused" in merge) return merge.refused;
  const ev = await evidenceAtMerge(shared.source.reader, merge, {
    now,
    ...(shared.cache ? { cache: shared.cache } : {}),
    ...(shared.trust ? { trust: shared.trust } : {}),
  });
  if (!ev.ok) return ev.reason;
  return ev.satisfied ? undefined : `the gate did not hold at the merge: ${ev.verdict.summary}`;
}

/**
 * Where an open proposal stands, from the gate's verdict on it now: one rule for every forge
 * (the local lifecycle, and the SDK over GitHub).
 */
export function openStateOf(verdict: GateVerdict): RequestState {
  const failed = new Set(verdict.rules.filter((r) => !r.ok).map((r) => r.rule));
  return failed.has("not-withdrawn")
    ? "withdrawn"
    : failed.has("not-expired")
      ? "expired"
      : failed.has("no-rejection")
        ? "rejected"
        : verdict.satisfied
          ? "approved"
          : "pending";
}

/** One open proposal, judged by the gate now (the one evidence check). */
async function openStatus(
  forge: LocalForge,
  id: string,
  now: Date,
  shared: SharedEvidence,
): Promise<RequestStatus> {
  let gate: GateResult;
  try {
    gate = await checkGate(forge, id, now, shared);
  } catch (err) {
    if (err instanceof InterlockError && err.code !== "config.invalid") {
      return status(id, "invalid", undefined, err.message);
    }
    throw err;
  }
  const { verdict } = gate;
  const { record, snapshot } = gate.collected;
  const state = openStateOf(verdict);
  // The only expiry Interlock trusts: the filing time plus the decision's TTL.
  const expiresAt = snapshot.request.expiresAt.toISOString();
  const missing =
    state === "withdrawn"
      ? "withdrawn by its requester"
      : state === "expired"
        ? `expired at ${expiresAt}; it can no longer be approved`
        : state === "approved"
          ? "nothing: the gate holds, it can be merged"
          : verdict.summary;
  const open = state === "pending" || state === "rejected";
  const reviewers = open ? eligibleReviewers(forge, record, verdict) : [];
  return {
    ...status(id, state, record, missing),
    expires_at: expiresAt,
    reviewers,
    verdict,
  };
}

/**
 * People who could still give an approval that counts: named by a group of the decision that
 * still needs approvals (directly or through a team), not the requester or its sponsor, and
 * not already counted.
 */
function eligibleReviewers(
  forge: LocalForge,
  record: ParsedRequestFile,
  verdict: GateVerdict,
): string[] {
  const teams = ownerMembers(forge.config);
  const dir = directoryOf(forge.config);
  const idOf = (who: string) => resolvePrincipal(dir, who)?.id ?? who;
  const requester = record.request.requester as { id?: string; on_behalf_of?: string } | undefined;
  const excluded = new Set(
    [requester?.id, requester?.on_behalf_of].filter((x): x is string => !!x).map(idOf),
  );
  const counted = new Set(verdict.approvals.filter((a) => a.counted).map((a) => idOf(a.who)));
  const people = new Set<string>();
  for (const g of record.decision.approvals.groups) {
    for (const owner of g.owners) {
      const key = owner.toLowerCase();
      const members = teams[key] ?? [owner.replace(/^@/, "")];
      for (const m of members) people.add(idOf(m));
    }
  }
  return [...people]
    .filter((p) => forge.config.people[p] !== undefined && !forge.config.people[p]!.bot)
    .filter((p) => !excluded.has(p) && !counted.has(p))
    .sort();
}

function status(
  id: string,
  state: RequestState,
  record: ParsedRequestFile | undefined,
  missing: string,
): RequestStatus {
  const r = record?.request as
    { action?: string; requester?: { id?: string; on_behalf_of?: string } } | undefined;
  return {
    id,
    state,
    action: String(r?.action ?? "?"),
    risk: record?.decision.risk ?? "?",
    requester: String(r?.requester?.id ?? "?"),
    on_behalf_of: r?.requester?.on_behalf_of ?? null,
    requested_at: record?.requested_at ?? null,
    expires_at: record?.expires_at ?? null,
    missing,
    reviewers: [],
    ...(record ? { record } : {}),
  };
}
