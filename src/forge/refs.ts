/**
 * Names and identities every forge uses for Interlock's objects in an approvals repository, so
 * that a request filed through one forge reads the same through another and through the audit.
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

/** The identity a requester's proposal commit is authored as. */
export function requesterIdentity(id: string): GitIdentity {
  const slug =
    id
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "requester";
  return { name: id, email: `${slug}@requesters.interlock.invalid` };
}

/** A requester's signed withdrawal of <id>: withdrawals/<id>.yaml on the default branch. */
export const WITHDRAWALS_DIR = "withdrawals/";

export function withdrawalPath(id: string): string {
  return `${WITHDRAWALS_DIR}${id}.yaml`;
}
