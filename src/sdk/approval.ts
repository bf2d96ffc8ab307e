import { InterlockError } from "../errors.ts";
import { isRequestId } from "../forge/refs.ts";
import type { RequestState } from "../lifecycle/status.ts";
import { maskText } from "../masking/mask.ts";
import type { RecordedResult } from "../notify/local.ts";

/**
 * The agent's side of Interlock: ask, then learn the outcome. `requestApproval` files a request
 * and returns a handle; `decision()` waits, for a bounded time, until the request is decided:
 * approved (and, by default, executed, with its masked result), rejected (with the reviewers'
 * reasons, so the agent can revise), denied (with the policy's reasons), expired or withdrawn.
 * A wait that runs out is a result too ("waiting"), never an exception, and any process can
 * pick the request up again by its id (`resumeApproval`).
 *
 * The handle talks to a backend: the local forge (src/sdk/local.ts), or any implementation of
 * ApprovalBackend. Everything it returns is masked: the request as recorded, the reasons as the
 * policy and the reviewers wrote them after the detectors ran, the result as the executor
 * recorded it.
 */

/** Where a request stands: the lifecycle's states (src/lifecycle/status.ts). */
export type ApprovalState = RequestState;

/** The recorded (masked) result of running an approved request. */
export interface ExecutionResult {
  /** succeeded, failed, refused, … as the executor recorded it. */
  readonly outcome: string;
  readonly finishedAt: string | null;
  readonly output: string | null;
  readonly error: string | null;
  readonly exitCode: number | null;
  readonly httpStatus: number | null;
}

/** A reviewer's rejection and what they wrote (masked). */
export interface Rejection {
  readonly reviewer: string;
  readonly note: string | null;
  readonly at: string;
}

/** A request's state now, as a backend reports it. */
export interface ApprovalStatus {
  readonly id: string;
  readonly state: ApprovalState;
  /** One sentence: what it waits for, or why it is closed. */
  readonly summary: string;
  readonly action: string;
  readonly risk: string;
  readonly requester: string;
  readonly requestedAt: string | null;
  readonly expiresAt: string | null;
  /** The policy's reasons (denied). */
  readonly denyReasons: readonly string[];
  /** Verified rejections not since withdrawn by a later approval of the same reviewer. */
  readonly rejections: readonly Rejection[];
  /** Verified approvals that counted. */
  readonly approvers: readonly string[];
  /** People who could still approve (open requests). */
  readonly reviewers: readonly string[];
  readonly execution: ExecutionResult | null;
  readonly withdrawnBy: string | null;
  /** Where to review it (a PR URL), when the forge has one. */
  readonly url: string | null;
}

/** What a decision resolves to. */
export type ApprovalDecision =
  | {
      readonly status: "approved";
      readonly id: string;
      readonly approvers: readonly string[];
      /** The executed result; null when waiting only `until: "approved"`, or not run yet. */
      readonly execution: ExecutionResult | null;
    }
  | { readonly status: "rejected"; readonly id: string; readonly reasons: readonly Rejection[] }
  | { readonly status: "denied"; readonly id: string; readonly reasons: readonly string[] }
  | { readonly status: "expired"; readonly id: string; readonly expiredAt: string | null }
  | { readonly status: "withdrawn"; readonly id: string; readonly by: string | null };

/** A wait that ran out before a decision: where the request stands; wait again by its id. */
export interface StillWaiting {
  readonly status: "waiting";
  readonly id: string;
  readonly state: ApprovalState;
  readonly summary: string;
  readonly reviewers: readonly string[];
}

export type WaitResult = ApprovalDecision | StillWaiting;

/** What a request as filed says back. */
export interface Filed {
  readonly id: string;
  readonly denied: boolean;
  readonly denyReasons: readonly string[];
  readonly url: string | null;
}

/** What the SDK needs of a forge. */
export interface ApprovalBackend {
  /** Files a request (any shape: it is validated); a denial is filed as evidence and returned. */
  file(request: unknown): Promise<Filed>;
  status(id: string): Promise<ApprovalStatus>;
  /** Withdraws the request, signed by its requester. */
  withdraw(id: string, reason?: string): Promise<void>;
  /** The requests this requester filed, oldest first. */
  list(): Promise<ApprovalStatus[]>;
  /** Called after each wait (the local forge sweeps notifications there). Never throws. */
  afterWait?(): Promise<void>;
}

export interface WaitOptions {
  /** How long to wait at most (default 0: look once). Capped at 24 h. */
  readonly timeoutMs?: number;
  /** Between looks (default 2 s). */
  readonly pollMs?: number;
  /**
   * "executed" (default): an approved request resolves once it has run, with its result.
   * "approved": as soon as the gate holds (merged or not).
   */
  readonly until?: "approved" | "executed";
  readonly signal?: AbortSignal;
}

export interface ApprovalHandle {
  readonly id: string;
  /** Whether the policy denied it at once (then decision() resolves to denied). */
  readonly denied: boolean;
  status(): Promise<ApprovalStatus>;
  decision(options?: WaitOptions): Promise<WaitResult>;
  withdraw(reason?: string): Promise<void>;
}

export interface SdkClock {
  readonly now: () => Date;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const MAX_WAIT_MS = 24 * 3600 * 1000;
const DEFAULT_POLL_MS = 2000;

const realClock: SdkClock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** Files `request` through `backend` and returns its handle. */
export async function fileAndHandle(
  backend: ApprovalBackend,
  request: unknown,
  clock: SdkClock = realClock,
): Promise<ApprovalHandle> {
  const filed = await backend.file(request);
  return handleFor(backend, filed.id, clock, filed.denied);
}

/** A handle for a request filed earlier (by this process or another), by its id. */
export function handleFor(
  backend: ApprovalBackend,
  id: string,
  clock: SdkClock = realClock,
  denied = false,
): ApprovalHandle {
  if (!isRequestId(id)) {
    throw new InterlockError("usage", `'${id.slice(0, 40)}' is not a request id`, {
      hint: "Request ids are 26-character ULIDs, as returned when the request was filed.",
    });
  }
  return {
    id,
    denied,
    status: () => backend.status(id),
    withdraw: (reason) => backend.withdraw(id, reason),
    decision: (options = {}) => waitForDecision(backend, id, options, clock),
  };
}

/** Polls until a decision or the time runs out. */
export async function waitForDecision(
  backend: ApprovalBackend,
  id: string,
  options: WaitOptions,
  clock: SdkClock = realClock,
): Promise<WaitResult> {
  const timeout = Math.min(Math.max(0, options.timeoutMs ?? 0), MAX_WAIT_MS);
  const poll = Math.max(50, options.pollMs ?? DEFAULT_POLL_MS);
  const until = options.until ?? "executed";
  const deadline = clock.now().getTime() + timeout;
  try {
    for (;;) {
      const s = await backend.status(id);
      const decided = decisionOf(s, until);
      if (decided) return decided;
      const left = deadline - clock.now().getTime();
      if (left <= 0 || options.signal?.aborted) {
        return {
          status: "waiting",
          id,
          state: s.state,
          summary: s.summary,
          reviewers: s.reviewers,
        };
      }
      await clock.sleep(Math.min(poll, left), options.signal);
    }
  } finally {
    await backend.afterWait?.();
  }
}

/** The decision a status amounts to, if any. One rule for the SDK and the MCP server. */
export function decisionOf(
  s: ApprovalStatus,
  until: "approved" | "executed" = "executed",
): ApprovalDecision | undefined {
  switch (s.state) {
    case "denied":
      return { status: "denied", id: s.id, reasons: s.denyReasons };
    case "rejected":
      return { status: "rejected", id: s.id, reasons: s.rejections };
    case "expired":
      return { status: "expired", id: s.id, expiredAt: s.expiresAt };
    case "withdrawn":
      return { status: "withdrawn", id: s.id, by: s.withdrawnBy };
    case "executed":
      return { status: "approved", id: s.id, approvers: s.approvers, execution: s.execution };
    case "approved":
    case "merged":
      return until === "approved"
        ? { status: "approved", id: s.id, approvers: s.approvers, execution: null }
        : undefined;
    default:
      return undefined;
  }
}

/** The executor's recorded result as the SDK reports it. */
export function executionOf(result: RecordedResult): ExecutionResult {
  return {
    outcome: result.outcome,
    finishedAt: result.finished_at,
    output: result.output,
    error: result.error,
    exitCode: result.exit_code,
    httpStatus: result.http_status,
  };
}

/**
 * The rejections that stand: each reviewer's latest verified review, when it asks for changes
 * (a later approval by the same person withdraws it). Notes masked. One rule for every forge.
 */
export function standingRejections(
  reviews: readonly {
    readonly who: string;
    readonly state: string;
    readonly at: Date;
    readonly note?: string | undefined;
  }[],
): Rejection[] {
  const latest = new Map<string, (typeof reviews)[number]>();
  for (const r of [...reviews].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    latest.set(r.who.toLowerCase(), r);
  }
  return [...latest.values()]
    .filter((r) => r.state === "changes_requested")
    .map((r) => ({
      reviewer: r.who,
      note: r.note ? maskText(r.note) : null,
      at: r.at.toISOString(),
    }));
}
