import { resolvePrincipal, samePrincipal, type IdentityDirectory } from "./directory.ts";

/** The requester fields of a request (docs/request.md). */
export interface RequesterFields {
  readonly id: string;
  readonly kind: "agent" | "human" | "pipeline";
  readonly on_behalf_of?: string;
}

export type RequesterBinding =
  | { readonly ok: true; readonly requester: RequesterFields }
  | { readonly ok: false; readonly reason: string };

/**
 * Binds a request's requester to whoever signs it. The signer is the requester: the declared
 * id must name the signer (any of its spellings), and is written as the signer's configured
 * id; an agent's sponsor is the one bound in the configuration (filled in when the request
 * leaves it out, refused when it names someone else); a person files as themselves, kind
 * "human", never as an agent or a pipeline, and on behalf of nobody else.
 */
export function bindRequester(
  dir: IdentityDirectory,
  signer: string,
  declared: RequesterFields,
): RequesterBinding {
  const who = resolvePrincipal(dir, signer);
  if (who === undefined) {
    return { ok: false, reason: `${signer} is neither a person nor an agent in the configuration` };
  }
  if (!samePrincipal(dir, declared.id, who.id)) {
    return {
      ok: false,
      reason: `the request names requester ${declared.id}, but it is filed (signed) by ${who.id}: the requester is whoever signs it`,
    };
  }
  if (who.kind === "person") {
    if (declared.kind !== "human") {
      return {
        ok: false,
        reason: `${who.id} is a person and cannot file as ${declared.kind === "agent" ? "an agent" : "a pipeline"}: set requester.kind to human`,
      };
    }
    if (declared.on_behalf_of !== undefined && !samePrincipal(dir, declared.on_behalf_of, who.id)) {
      return {
        ok: false,
        reason: `${who.id} files as a person, on behalf of nobody else: remove on_behalf_of (${declared.on_behalf_of})`,
      };
    }
    return { ok: true, requester: { id: who.id, kind: "human" } };
  }
  if (declared.kind === "human") {
    return {
      ok: false,
      reason: `${who.id} is an agent: set requester.kind to agent (or pipeline)`,
    };
  }
  const sponsor = who.sponsor;
  if (sponsor === undefined) {
    return { ok: false, reason: `${who.id} has no sponsor in the configuration` };
  }
  if (declared.on_behalf_of !== undefined && !samePrincipal(dir, declared.on_behalf_of, sponsor)) {
    return {
      ok: false,
      reason: `${who.id}'s sponsor is ${sponsor} (bound in the configuration), but the request names ${declared.on_behalf_of}: an agent does not choose its sponsor`,
    };
  }
  return { ok: true, requester: { id: who.id, kind: declared.kind, on_behalf_of: sponsor } };
}
