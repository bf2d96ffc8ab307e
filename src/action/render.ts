import type { Evaluation } from "../decide.ts";
import type { GateVerdict } from "../gate/snapshot.ts";
import type { ExecutionReport } from "../lifecycle/execute.ts";
import type { FiledRequest } from "../lifecycle/file-request.ts";
import { maskText } from "../masking/mask.ts";
import { markdownCodeBlock, markdownIdentifier, markdownText } from "../presentation/escape.ts";
import { renderCard } from "../proposal/card.ts";

/**
 * Markdown for GitHub: the gate as a check run and job summary, a filed request, execution
 * outcomes. Built only from already-masked data (verdicts, evaluations, reports), and every
 * free-text part is escaped so that a reviewer login or a policy sentence cannot inject
 * Markdown, HTML or mentions into the check run, the summary or a comment.
 */

/** Untrusted text in a Markdown paragraph or table cell (see presentation/escape.ts). */
const md = markdownText;

/** An id, path, branch or action: a code span when it has the shape Interlock gives it. */
const id = markdownIdentifier;

/** A forge's https URL as it is (GitHub links it); anything else escaped. */
const link = (url: string) => (/^https:\/\/[\w.-]+(?:\/[\w.~%/-]*)?$/.test(url) ? url : md(url));

const mark = (ok: boolean) => (ok ? "✅" : "❌");

/** The gate verdict: summary, rules, approvals. Used for the check run and the job summary. */
export function renderVerdictMarkdown(
  v: GateVerdict,
  ctx: { readonly id: string; readonly head?: string },
): string {
  const status = v.satisfied
    ? `✅ **Satisfied**${v.autoApproved ? " (auto-approved by policy)" : ""}`
    : "❌ **Not satisfied**";
  const lines = [
    `### Interlock gate for request ${id(ctx.id)}`,
    "",
    `${status}: ${md(v.summary)}`,
    "",
    ...(ctx.head ? [`Evaluated on head \`${ctx.head.slice(0, 12)}\`.`, ""] : []),
    "| | Rule | Detail |",
    "|---|---|---|",
    ...v.rules.map((r) => `| ${mark(r.ok)} | ${md(r.rule)} | ${md(r.detail)} |`),
    "",
    "#### Approvals",
    "",
  ];
  if (v.approvals.length === 0) lines.push("No reviews yet.");
  else {
    lines.push("| | Reviewer | Why |", "|---|---|---|");
    for (const a of v.approvals) {
      const why = a.counted
        ? `${md(a.why)}${a.groups?.length ? ` (for ${a.groups.map(md).join(", ")})` : ""}`
        : `not counted: ${md(a.why)}`;
      lines.push(`| ${mark(a.counted)} | ${md(a.who)} | ${why} |`);
    }
  }
  return lines.join("\n") + "\n";
}

/** A filed (or denied) request, for the job summary of the request step. */
export function renderFiledMarkdown(filed: FiledRequest, requestedAt: Date): string {
  const d = filed.evaluation.decision;
  const head = filed.denied
    ? `### ⛔ Request ${id(filed.id)} denied by policy\n\nRecorded as evidence in ${id(filed.path)}.`
    : `### Request ${id(filed.id)} filed\n\n${
        filed.url ? `Proposal: ${link(filed.url)}` : `Branch ${id(filed.branch ?? "?")}`
      }, file ${id(filed.path)}. ${d.auto_approve ? "Auto-approved by policy." : "Waiting for approvals."}`;
  return `${head}\n\n${cardBlock(filed.evaluation, requestedAt)}\n`;
}

/** The (masked) approval card as a code block. */
export function cardBlock(ev: Evaluation, requestedAt?: Date): string {
  return markdownCodeBlock(renderCard(ev, requestedAt ? { requestedAt } : {}), "text");
}

const STATUS_MARK: Record<string, string> = {
  succeeded: "✅",
  failed: "❌",
  refused: "⛔",
  claimed: "⏳",
  "no-executor": "❔",
  busy: "⏳",
  pending: "⏳",
};

/** All execution reports of one run, for the job summary. */
export function renderReportsMarkdown(reports: readonly ExecutionReport[]): string {
  if (reports.length === 0) {
    return "### Interlock execution\n\nNothing to execute: every merged request has a result.\n";
  }
  return [
    "### Interlock execution",
    "",
    "| | Request | Action | Status | Detail |",
    "|---|---|---|---|---|",
    ...reports.map(
      (r) =>
        `| ${STATUS_MARK[r.status] ?? "•"} | ${id(r.id)} | ${id(r.action)} | ${r.status} | ${md(maskText(r.detail))} |`,
    ),
    "",
  ].join("\n");
}

/** One execution outcome, as a comment on the request's pull request. */
export function renderReportComment(r: ExecutionReport, runUrl?: string): string {
  const what: Record<string, string> = {
    succeeded: "was executed successfully",
    failed: "was executed and **failed**",
    refused: "was **refused**: the evidence did not hold, so it was not run",
    claimed: "is claimed by an executor that has not recorded a result",
    "no-executor": "has no executor configured yet",
    busy: "is being executed by another run",
    pending: "is waiting until GitHub shows the pull request it was merged through",
  };
  return [
    `${STATUS_MARK[r.status] ?? "•"} Interlock: request ${id(r.id)} (${id(r.action)}) ${what[r.status] ?? r.status}.`,
    "",
    md(maskText(r.detail)),
    ...(runUrl ? ["", `[Workflow run](${runUrl})`] : []),
    "",
  ].join("\n");
}
