import { InterlockError } from "../errors.ts";
import { fileAs, openLocalRepo, type LocalRepo } from "../cli/local.ts";
import { currentWithdrawal, withdrawRequest } from "../lifecycle/withdraw.ts";
import { requestStatuses, type RequestStatus } from "../lifecycle/status.ts";
import { maskText } from "../masking/mask.ts";
import { countedApprovers, recordedResult, sweepLocal, verifiedReviews } from "../notify/local.ts";
import {
  executionOf,
  fileAndHandle,
  handleFor,
  standingRejections,
  type ApprovalBackend,
  type ApprovalHandle,
  type ApprovalStatus,
  type SdkClock,
} from "./approval.ts";

/** Where and as whom an agent asks. */
export interface ApprovalOptions {
  /** The approvals repository (a local forge checkout). */
  readonly repo: string;
  /** Who files: an agent ("agent:etl-bot") or a person, as configured; signs with their key. */
  readonly as: string;
  /** The private signing key (default: the principal's key in the Interlock home). */
  readonly keyFile?: string;
  /** The environment (Interlock home, notification secrets); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Base directory for relative paths; default process.cwd(). */
  readonly cwd?: string;
  /** The clock (tests); default the real one. */
  readonly clock?: SdkClock;
}

/**
 * Files a request with the policy, masking, sealing and a signed proposal, exactly as
 * `interlock request` does, and returns a handle to wait for the decision.
 *
 *   const handle = await requestApproval({ action, resource, reason, params }, { repo, as });
 *   const outcome = await handle.decision({ timeoutMs: 60_000 });
 *
 * The request's `requester` may be left out: it is the principal named by `as`.
 */
export async function requestApproval(
  request: unknown,
  options: ApprovalOptions,
): Promise<ApprovalHandle> {
  return fileAndHandle(await localBackend(options), request, options.clock);
}

/** A handle for a request filed earlier, by its id: wait on it again from any process. */
export async function resumeApproval(
  id: string,
  options: ApprovalOptions,
): Promise<ApprovalHandle> {
  return handleFor(await localBackend(options), id, options.clock);
}

/** The local forge as the SDK's backend. */
export async function localBackend(options: ApprovalOptions): Promise<ApprovalBackend> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const now = () => options.clock?.now() ?? new Date();
  const local = await openLocalRepo(options.repo, cwd, env);
  const as = options.as;
  const sweep = async () => {
    await sweepLocal(local, { now, env, repoArg: options.repo });
  };
  return {
    async file(request) {
      const filed = await fileAs(local, request, { as, keyFlag: options.keyFile, cwd, now: now() });
      await sweep();
      return {
        id: filed.id,
        denied: filed.denied,
        denyReasons: filed.evaluation.decision.deny,
        url: filed.url ?? null,
      };
    },
    async status(id) {
      const s = (await requestStatuses(local.forge, now(), id)).find((x) => x.id === id);
      if (s === undefined) {
        throw new InterlockError("usage", `no request ${id} in this repository`, {
          hint: "Use the id returned when the request was filed.",
        });
      }
      // A requester follows its own requests only: another's reviews, reasons and results are
      // not theirs to read (reviewers use 'interlock show').
      if (s.requester !== as) {
        throw new InterlockError("usage", `request ${id} was not filed by ${as}`, {
          hint: `Follow the requests ${as} filed (list_my_requests); a reviewer reads any request with 'interlock show ${id}'.`,
        });
      }
      return approvalStatus(local, s);
    },
    async withdraw(id, reason) {
      await withdrawRequest(local, {
        id,
        as,
        ...(options.keyFile ? { keyFlag: options.keyFile } : {}),
        ...(reason ? { reason } : {}),
        cwd,
        now: now(),
      });
      await sweep();
    },
    async list() {
      const all = await requestStatuses(local.forge, now());
      const mine = all.filter((s) => s.requester === as);
      return Promise.all(mine.map((s) => approvalStatus(local, s)));
    },
    afterWait: sweep,
  };
}

/** A lifecycle status as the SDK reports it: reviews, reasons and results added, all masked. */
async function approvalStatus(local: LocalRepo, s: RequestStatus): Promise<ApprovalStatus> {
  const forge = local.forge;
  const reviews = s.state === "denied" ? [] : await verifiedReviews(forge, s.id);
  const rejections = standingRejections(reviews);
  const approvers = await countedApprovers(forge, s);
  const result =
    s.state === "executed" || s.state === "invalid" ? await recordedResult(forge, s.id) : undefined;
  const withdrawal =
    s.state === "withdrawn" ? (await currentWithdrawal(forge, s.id)).withdrawal : undefined;
  return {
    id: s.id,
    state: s.state,
    summary: maskText(s.missing),
    action: s.action,
    risk: s.risk,
    requester: s.requester,
    requestedAt: s.requested_at,
    expiresAt: s.expires_at,
    denyReasons: s.record?.decision.deny ?? [],
    rejections,
    approvers,
    reviewers: s.reviewers,
    execution: result ? executionOf(result) : null,
    withdrawnBy: withdrawal?.by ?? null,
    url: null,
  };
}
