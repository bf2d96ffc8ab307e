/** Interlock as a library: parse, decide, mask, seal, render. The CLI is a thin shell over this. */
export {
  decideAndMask,
  decideMaskAndScrub,
  type DecideContext,
  type Evaluation,
  type FindingRecord,
} from "./decide.ts";
export { EXIT, InterlockError, type ErrorCode, type Problem } from "./errors.ts";
export { maskDocument, maskText, type AppliedMask, type MaskRule } from "./masking/mask.ts";
export { scan, safeKeys, safePointer } from "./masking/scan.ts";
export { createScrubber, type Scrubber, type ScrubValue } from "./masking/scrub.ts";
export {
  adaptiveCardText,
  commitText,
  markdownCodeBlock,
  markdownText,
  slackMrkdwnText,
  slackText,
  terminalText,
  visibleText,
} from "./presentation/escape.ts";
export { newAgeIdentity, seal, unseal, type SealedParams } from "./masking/seal.ts";
export type { Finding, FindingKind, FindingType, MaskStrategy } from "./masking/types.ts";
export { policiesDirFor, defaultPoliciesDir } from "./policy/bundle.ts";
export { buildPolicies, testPolicies } from "./policy/build.ts";
export type { Decision, PolicyDecision, Risk } from "./policy/decision.ts";
export { loadPolicyEngine, type PolicyEngine, type PolicyInput } from "./policy/engine.ts";
export { renderCard, renderCardMarkdown } from "./proposal/card.ts";
export { parseRequest, validateRequestValue } from "./request/parse.ts";
export type { Request, Requester } from "./request/schema.ts";
export { canonicalJson, digestOf } from "./request/canonical.ts";
export { loadConfig, parseConfig, type InterlockConfig } from "./config/config.ts";
export type { Forge, ProposalContext, ForgeReview, MergedRequest } from "./forge/forge.ts";
export { LocalForge } from "./forge/local/local-forge.ts";
export { GitHubForge } from "./forge/github/github-forge.ts";
export { createOctokit } from "./forge/github/octokit.ts";
export { evaluateGate, renderVerdict } from "./gate/gate.ts";
export type { GateSnapshot, GateVerdict } from "./gate/snapshot.ts";
export { parseCodeowners, ownersFor } from "./gate/codeowners.ts";
export { fileRequest, newRequestId, type FiledRequest } from "./lifecycle/file-request.ts";
export { checkGate, mergeRequest } from "./lifecycle/gate-check.ts";
export { executeMerged, type ExecutionReport } from "./lifecycle/execute.ts";
export { recordReview } from "./lifecycle/review.ts";
export { initRepository } from "./lifecycle/init.ts";
export { auditTrail, type AuditRecord } from "./audit/audit.ts";
export { runExecutor, executorFor, type ExecutorConfig } from "./execution/executors.ts";
export { verifyWebhookSignature } from "./execution/http.ts";
export {
  decisionOf,
  fileAndHandle,
  handleFor,
  type ApprovalBackend,
  type ApprovalDecision,
  type ApprovalHandle,
  type ApprovalState,
  type ApprovalStatus,
  type ExecutionResult,
  type Rejection,
  type StillWaiting,
  type WaitOptions,
  type WaitResult,
} from "./sdk/approval.ts";
export {
  localBackend,
  requestApproval,
  resumeApproval,
  type ApprovalOptions,
} from "./sdk/local.ts";
export {
  githubBackend,
  requestApprovalOnGitHub,
  resumeApprovalOnGitHub,
  type GitHubApprovalOptions,
  type GitHubTarget,
} from "./sdk/github.ts";
export { createMcpServer, type McpServerOptions } from "./mcp/server.ts";
export {
  channelsFor,
  notificationsConfigSchema,
  type NotificationsConfig,
} from "./notify/config.ts";
export {
  cardOf,
  eventsOf,
  type NotificationCard,
  type NotificationEvent,
  type RequestFacts,
} from "./notify/event.ts";
export { slackMessage } from "./notify/slack.ts";
export { teamsMessage } from "./notify/teams.ts";
export { webhookEvent } from "./notify/webhook.ts";
export {
  sweepNotifications,
  type SweepOptions,
  type SweepReport,
  type Transports,
} from "./notify/deliver.ts";
