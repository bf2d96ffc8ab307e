import type { IdentityDirectory } from "../identity/directory.ts";
import type { Codeowners } from "./codeowners.ts";

/**
 * Everything the gate needs to decide whether a request may be merged, gathered by a forge
 * adapter (local Git, GitHub) at one moment. The gate itself reads nothing else: no clock, no
 * Git, no network, so the same snapshot always gives the same verdict.
 */
export interface GateSnapshot {
  /** The moment the snapshot was taken (for expiry). */
  readonly now: Date;
  readonly request: GateRequest;
  readonly proposal: GateProposal;
  /** Every review on the proposal, in any order (the gate orders them by time). */
  readonly reviews: readonly GateReview[];
  /**
   * Members of each owner handle ("@acme/data-stewards" → ["dana"]); a plain "@user" owner
   * that is not listed here is that user. Identities are compared case-insensitively, with a
   * leading "@" ignored.
   */
  readonly teams: Readonly<Record<string, readonly string[]>>;
  /** CODEOWNERS of the BASE branch (parsed), or null if the repository has none. */
  readonly codeowners: Codeowners | null;
  /**
   * Who is who (people, agents, their aliases and sponsors), from the configuration. Absent:
   * nobody is known, and each spelling is only itself.
   */
  readonly identities?: IdentityDirectory;
}

/**
 * How the forge authenticated who filed the request. On the local forge the proposal's commit
 * is SSH-signed by the requester and verified against the configured keys; the requester the
 * gate excludes is the verified signer, never a field the requester wrote.
 */
export type RequestAuthentication =
  | {
      readonly verified: true;
      /** The principal that filed it (the configured id of the signer). */
      readonly signer: string;
      readonly detail: string;
    }
  | { readonly verified: false; readonly reason: string };

export type RequesterKind = "agent" | "human" | "pipeline";

/** The principal that asked: an agent, a human or a pipeline, possibly for a human sponsor. */
export interface GateRequester {
  readonly id: string;
  readonly kind: RequesterKind;
  /** The human who started the agent (its sponsor), if any. */
  readonly on_behalf_of?: string;
}

/** One approval group of the decision: `min` distinct people from any of `owners`. */
export interface GateApprovalGroup {
  readonly name: string;
  readonly owners: readonly string[];
  readonly min: number;
}

/** The part of the recorded policy decision that the gate reads (a `Decision` fits). */
export interface GateDecision {
  readonly allow: boolean;
  readonly deny: readonly string[];
  readonly auto_approve: boolean;
  readonly risk: string;
  readonly approvals: { readonly groups: readonly GateApprovalGroup[] };
}

/** The request file as recorded on the proposal. */
export interface GateRequest {
  readonly id: string;
  /** Path of the request file in the approvals repository, e.g. "requests/db.export/01J….yaml". */
  readonly path: string;
  readonly requester: GateRequester;
  /** Who filed it, as the forge verified it. */
  readonly authentication: RequestAuthentication;
  readonly decision: GateDecision;
  readonly expiresAt: Date;
  /** True when its requester withdrew it (verified by the forge): it can never be merged. */
  readonly withdrawn?: boolean;
  /** Withdrawal records that did not verify (reported, never counted), with the reason. */
  readonly ignoredWithdrawals?: readonly string[];
  /** Digest stored in the request file when it was filed. */
  readonly recordedDigest: string;
  /** Digest recomputed from the file at the proposal head. */
  readonly actualDigest: string;
}

export type ChangeStatus = "added" | "modified" | "removed" | "renamed";

/** A file the proposal changes, head against merge base. */
export interface GateChangedFile {
  readonly path: string;
  readonly status: ChangeStatus;
}

/** The proposal (a pull request on GitHub, a branch on the local forge). */
export interface GateProposal {
  /** Who opened the proposal (a bot on GitHub). */
  readonly author: string;
  readonly headCommit: string;
  /** Files changed, head against merge base. */
  readonly changedFiles: readonly GateChangedFile[];
  /** Everyone who authored or pushed a commit to it. */
  readonly committers: readonly string[];
}

export type ReviewState = "approved" | "changes_requested" | "commented" | "dismissed";

/** One review as the forge reports it. */
export interface GateReview {
  /** Login or person id. */
  readonly who: string;
  readonly state: ReviewState;
  /** The commit the review was given on. */
  readonly commit: string;
  readonly at: Date;
  /** Bots and apps never count. */
  readonly isBot: boolean;
  /** Signature or identity verified by the forge adapter. */
  readonly verified: boolean;
  /** Why it is not verified, e.g. "signed by a key not in the allowed signers". */
  readonly unverifiedReason?: string;
  /** Has at least write permission (GitHub) / is a configured person (local forge). */
  readonly canApprove: boolean;
}

/** The rule ids of docs/gate.md, in the order they are reported. */
export const GATE_RULES = [
  "decision",
  "signed-request",
  "not-expired",
  "not-withdrawn",
  "groups",
  "codeowners",
  "distinct-approvers",
  "fresh-approvals",
  "no-rejection",
  "single-file",
  "untampered",
] as const;

export type GateRuleId = (typeof GATE_RULES)[number];

/** One rule's outcome, with a sentence that explains it. */
export interface GateRuleResult {
  readonly rule: GateRuleId;
  readonly ok: boolean;
  readonly detail: string;
}

/** One review, counted or not, and why. */
export interface GateApproval {
  readonly who: string;
  readonly counted: boolean;
  readonly why: string;
  /** The approval groups this approval counted for (present when it counted for any). */
  readonly groups?: string[];
}

/** The gate's answer (`gate --json`, docs/gate.md): data that explains itself. */
export interface GateVerdict {
  readonly satisfied: boolean;
  readonly rules: readonly GateRuleResult[];
  readonly approvals: readonly GateApproval[];
  readonly autoApproved: boolean;
  /** One sentence a reviewer reads first. */
  readonly summary: string;
}
