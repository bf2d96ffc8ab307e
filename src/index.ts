/** Interlock as a library: parse, decide, mask, seal, render. The CLI is a thin shell over this. */
export {
  decideAndMask,
  type DecideContext,
  type Evaluation,
  type FindingRecord,
} from "./decide.ts";
export { EXIT, InterlockError, type ErrorCode, type Problem } from "./errors.ts";
export { maskDocument, maskText, type AppliedMask, type MaskRule } from "./masking/mask.ts";
export { scan } from "./masking/scan.ts";
export { newAgeIdentity, seal, unseal, type SealedParams } from "./masking/seal.ts";
export type { Finding, FindingKind, FindingType, MaskStrategy } from "./masking/types.ts";
export { policiesDirFor, defaultPoliciesDir } from "./policy/bundle.ts";
export { buildPolicies, testPolicies } from "./policy/build.ts";
export type { Decision, PolicyDecision, Risk } from "./policy/decision.ts";
export { loadPolicyEngine, type PolicyEngine, type PolicyInput } from "./policy/engine.ts";
export { renderCard } from "./proposal/card.ts";
export { parseRequest, validateRequestValue } from "./request/parse.ts";
export type { Request, Requester } from "./request/schema.ts";
export { canonicalJson, digestOf } from "./request/canonical.ts";
