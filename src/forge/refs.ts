/**
 * The layout of an approvals repository: the names every forge, the gate, the executor and the
 * audit use for Interlock's files, branches and refs, and the request id they all carry, so that
 * a request filed through one forge reads the same through another and through the audit. The
 * one place these are spelled (docs/repository.md describes the same layout for people).
 */

/** Who a commit or tag is by. */
export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

/** The identity Interlock commits as. */
export const INTERLOCK_IDENTITY: GitIdentity = { name: "Interlock", email: "interlock@localhost" };

/** A proposal is the branch interlock/<id>. */
export const BRANCH_PREFIX = "interlock/";
/** What Interlock filed for <id> (the tamper baseline): refs/interlock/requests/<id>. */
export const ORIGINAL_REF_PREFIX = "refs/interlock/requests/";
/** An executor's claim on <id>: refs/interlock/claims/<id>, created only if absent. */
export const CLAIM_REF_PREFIX = "refs/interlock/claims/";

/** The characters of a request id: a ULID (26 of Crockford's base32, upper case). */
export const REQUEST_ID_SOURCE = "[0-9A-HJKMNP-TV-Z]{26}";
/** A whole request id. */
export const REQUEST_ID = new RegExp(`^${REQUEST_ID_SOURCE}$`);

export function isRequestId(s: string): boolean {
  return REQUEST_ID.test(s);
}

/** Interlock's configuration (people, teams, executors), a path inside the repository. */
export const CONFIG_PATH = ".interlock/config.yaml";

/** Filed requests: requests/<action>/<id>.yaml, on the proposal branch and, once merged, main. */
export const REQUESTS_DIR = "requests/";
/** Denied requests, recorded as evidence on the default branch: denials/<id>.yaml. */
export const DENIALS_DIR = "denials/";
/** Execution results on the default branch: results/<id>.yaml. */
export const RESULTS_DIR = "results/";
/** A requester's signed withdrawal of <id>: withdrawals/<id>.yaml on the default branch. */
export const WITHDRAWALS_DIR = "withdrawals/";
/**
 * A GitHub executor's claim on <id>: claims/<id>.yaml on the protected default branch, created
 * only where none exists (the local forge claims with CLAIM_REF_PREFIX).
 */
export const CLAIMS_DIR = "claims/";

export function claimPath(id: string): string {
  return `${CLAIMS_DIR}${id}.yaml`;
}

export function requestPath(action: string, id: string): string {
  return `${REQUESTS_DIR}${action}/${id}.yaml`;
}

export function denialPath(id: string): string {
  return `${DENIALS_DIR}${id}.yaml`;
}

export function resultPath(id: string): string {
  return `${RESULTS_DIR}${id}.yaml`;
}

export function withdrawalPath(id: string): string {
  return `${WITHDRAWALS_DIR}${id}.yaml`;
}

const REQUEST_PATH = new RegExp(`^${REQUESTS_DIR}[^/]+/(${REQUEST_ID_SOURCE})\\.yaml$`);
const FLAT_PATH = (dir: string) => new RegExp(`^${dir}(${REQUEST_ID_SOURCE})\\.yaml$`);
const DENIAL_PATH = FLAT_PATH(DENIALS_DIR);
const RESULT_PATH = FLAT_PATH(RESULTS_DIR);
const WITHDRAWAL_PATH = FLAT_PATH(WITHDRAWALS_DIR);

/** The id of requests/<action>/<id>.yaml; undefined for any other path. */
export function idOfRequestPath(path: string): string | undefined {
  return REQUEST_PATH.exec(path)?.[1];
}

/** The id of denials/<id>.yaml; undefined for any other path. */
export function idOfDenialPath(path: string): string | undefined {
  return DENIAL_PATH.exec(path)?.[1];
}

/** The id of results/<id>.yaml; undefined for any other path. */
export function idOfResultPath(path: string): string | undefined {
  return RESULT_PATH.exec(path)?.[1];
}

/** The id of withdrawals/<id>.yaml; undefined for any other path. */
export function idOfWithdrawalPath(path: string): string | undefined {
  return WITHDRAWAL_PATH.exec(path)?.[1];
}

/** The proposal branch of request <id>: interlock/<id>. */
export function proposalBranch(id: string): string {
  return `${BRANCH_PREFIX}${id}`;
}

/** The id of a proposal branch name (interlock/<id>); undefined for any other branch. */
export function idOfProposalBranch(branch: string): string | undefined {
  return new RegExp(`^${BRANCH_PREFIX}(${REQUEST_ID_SOURCE})$`).exec(branch)?.[1];
}

/** The identity a requester's proposal commit is authored as. */
export function requesterIdentity(id: string): GitIdentity {
  const slug =
    id
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "requester";
  return { name: id, email: `${slug}@requesters.interlock.invalid` };
}

/**
 * A correlation token: what the SDK sends with a dispatch to recognise its request afterwards.
 * Random, not secret; restricted to letters, digits, `_` and `-` so that echoing it can carry
 * no markup.
 */
export const CORRELATION_RE = /^[A-Za-z0-9_-]{16,64}$/;

/** The line that echoes a caller's correlation token (fileRequest's `correlation`). */
export const CORRELATION_TRAILER = "Interlock-Correlation";
