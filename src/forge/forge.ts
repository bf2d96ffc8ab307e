import type { IdentityDirectory } from "../identity/directory.ts";
import type { RequesterFields } from "../identity/requester.ts";
import type {
  ChangeStatus,
  GateReview,
  RequestAuthentication,
  Unreadable,
} from "../gate/snapshot.ts";
import type { SshSigningKey } from "./local/sshsig.ts";
import type { EvidenceSource } from "../evidence/reader.ts";
import type { PolicyAtBase } from "../evidence/evidence.ts";
import type { InterlockConfig } from "../config/config.ts";

/**
 * The forge: where proposals live and reviews are given (the embedded local Git forge, or
 * GitHub). Lifecycle, gate, execution and audit code talk only to these interfaces, never to
 * child processes or Octokit, so each forge is a second implementation, not a fork of the logic.
 */

/** A review as the forge knows it, before the gate judges it (the gate's own review type). */
export type ForgeReview = GateReview;

/**
 * Read access to one proposal at one head commit (cf. policy-bot's pull.Context). Everything
 * the gate needs comes from here; implementations may cache within one evaluation.
 */
export interface ProposalContext {
  readonly id: string;
  /** The commit the gate is evaluated on. */
  readonly headCommit: string;
  /** The base branch commit the proposal is compared with (merge base). */
  readonly baseCommit: string;
  /** Who opened the proposal. */
  author(): Promise<string>;
  /** Everyone who authored or pushed a commit to the proposal. */
  committers(): Promise<string[]>;
  changedFiles(): Promise<{ path: string; status: ChangeStatus }[]>;
  reviews(): Promise<ForgeReview[]>;
  /** A file at the head commit. */
  readHead(path: string): Promise<string | undefined>;
  /** The request file as Interlock originally wrote it (the tamper baseline). */
  readOriginal(path: string): Promise<string | undefined>;
  /** CODEOWNERS text of the base branch (first found of GitHub's locations), or undefined. */
  codeowners(): Promise<string | undefined>;
  /** Members of every owner handle the forge knows ("@acme/security" → ["sam"]). */
  teams(): Promise<Record<string, string[]>>;
  /**
   * What the forge was refused while answering committers() and teams() (GitHub: 403/404),
   * with why; the gate fails closed on each. Absent on a forge that is never refused.
   */
  unreadable?(): Promise<Unreadable>;
  /** Who is who (people, agents, aliases, sponsors); absent when the forge knows nobody. */
  identities?(): Promise<IdentityDirectory>;
  /**
   * Who filed the request, as the forge verifies it, bound to the requester fields the request
   * declares (the local forge: the SSH signature on the proposal's commit). Absent on a forge
   * that authenticates the filer another way (GitHub: the App and the dispatching user).
   */
  authenticate?(declared: RequesterFields): Promise<AuthenticatedRequester>;
  /**
   * The trust inputs and the filing time, for forges judged through their proposal context
   * (GitHub) rather than an evidence source: the configuration and the policy as committed at
   * the base, and when Interlock filed the request as the forge vouches for it. A context
   * without them is never judged satisfied (the evidence check refuses, saying which is missing).
   */
  config?(): Promise<InterlockConfig | undefined>;
  policy?(): Promise<PolicyAtBase>;
  filedAt?(): Promise<{ readonly at: Date } | { readonly unknown: string }>;
}

/** A forge's answer to "who filed it": the verified requester fields when verified. */
export type AuthenticatedRequester = RequestAuthentication & {
  readonly requester?: RequesterFields;
};

export interface NewProposal {
  readonly id: string;
  readonly path: string;
  readonly content: string;
  readonly title: string;
  readonly body: string;
  /** Who the proposal's commit is by: the requester. */
  readonly requester: { readonly id: string };
  /** The requester's key: the local forge signs the proposal's commit with it. */
  readonly signingKey?: SshSigningKey;
  readonly date: Date;
}

export interface OpenedProposal {
  readonly id: string;
  readonly branch: string;
  readonly head: string;
  /** Where a person reviews it (a PR URL on GitHub). */
  readonly url?: string;
}

/** A request file that reached the default branch, with the commit that brought it. */
export interface MergedRequest {
  readonly id: string;
  readonly path: string;
  /** The commit on the default branch that added the request file. */
  readonly mergeCommit: string;
  readonly mergedAt: Date;
  /**
   * Set when the forge cannot yet tell how the file got there (GitHub: no merged pull request
   * found, which right after a merge may be its index lagging). The executor neither runs nor
   * refuses it, and reports it as pending with this sentence.
   */
  readonly pending?: string;
  /**
   * What the forge saw in the same calls that listed the request (GitHub): no result on the
   * default branch yet, and whether a claim existed. The executor does not ask again; the claim
   * itself, which fails when a claim exists, still decides who runs it.
   */
  readonly listed?: { readonly hasResult: false; readonly claimed: boolean };
}

export interface Forge {
  readonly kind: "local" | "github";
  readonly defaultBranch: string;
  openProposal(p: NewProposal): Promise<OpenedProposal>;
  /** Records a denied request on the default branch: denials are audit evidence. */
  recordDenial(p: {
    id: string;
    path: string;
    content: string;
    message: string;
    date: Date;
  }): Promise<string>;
  /** The open proposal for a request id, at its current head; undefined if there is none. */
  proposal(id: string): Promise<ProposalContext | undefined>;
  /** Merges the proposal if its head is still `head` (the commit the gate was evaluated on). */
  merge(id: string, head: string, message: string, date: Date): Promise<string>;
  /** Request files on the default branch, oldest first. */
  mergedRequests(): Promise<MergedRequest[]>;
  /**
   * Committed objects for the one evidence check (src/evidence), where the forge provides it
   * (the local forge). The gate, merge, the executor and the audit then judge by it alone.
   */
  evidenceSource?(): EvidenceSource;
  /** The proposal as it was when `m` was merged, for re-checking the evidence before executing. */
  evidence(m: MergedRequest): Promise<ProposalContext | { refused: string }>;
  /** Ids of every request whose result was ever added to the default branch (even if deleted). */
  recordedResults?(): Promise<ReadonlySet<string>>;
  /**
   * Ids of requests whose withdrawal file (withdrawals/<id>.yaml) was ever added on the default
   * branch, verified or not (the executor verifies each with the one withdrawal rule and keeps
   * the verified ones in its journal, so erasing a withdrawal later cannot make it run).
   */
  withdrawalCandidates?(): Promise<ReadonlySet<string>>;
  /** Creates the claim for a request; false if it exists already (someone else has it). */
  claim(id: string, date: Date): Promise<boolean>;
  /** Whether a claim exists. */
  isClaimed(id: string): Promise<boolean>;
  /** Removes a claim, for an explicit retry by a person. */
  releaseClaim(id: string): Promise<void>;
  /** Reads a file on the default branch. */
  readDefault(path: string): Promise<string | undefined>;
  /** Adds files to the default branch in one commit (results, denials). */
  commitToDefault(
    files: { path: string; content: string }[],
    message: string,
    date: Date,
  ): Promise<string>;
}
