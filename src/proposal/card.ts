import { stringify } from "yaml";
import type { Evaluation } from "../decide.ts";
import {
  markdownCodeBlock,
  markdownIdentifier,
  markdownText,
  terminalBlock,
  terminalText,
} from "../presentation/escape.ts";

/** Options for rendering an approval card. */
export interface CardOptions {
  /** ANSI colour for a terminal. */
  readonly color?: boolean;
  /** When the request was filed (for the expiry line); omitted for a dry evaluation. */
  readonly requestedAt?: Date;
}

/** The masked request as the cards read it (masking may have dropped any field). */
type CardRequest = {
  action?: string;
  resource?: string;
  reason?: string;
  requester?: { id?: string; kind?: string; on_behalf_of?: string };
  params?: unknown;
};

const RISK_COLOR: Record<string, string> = {
  low: "\x1b[32m",
  medium: "\x1b[33m",
  high: "\x1b[31m",
  critical: "\x1b[1;31m",
};

/**
 * The approval card: what a reviewer reads before approving. Built only from an Evaluation,
 * which is already masked, so the card cannot show what masking removed. Every piece of text a
 * requester or a policy wrote goes through terminalText/terminalBlock: no escape sequence,
 * carriage return or bidi control can rewrite or reorder the card.
 */
export function renderCard(ev: Evaluation, opts: CardOptions = {}): string {
  const c = (code: string, s: string) => (opts.color ? `${code}${s}\x1b[0m` : s);
  const bold = (s: string) => c("\x1b[1m", s);
  const dim = (s: string) => c("\x1b[2m", s);
  const d = ev.decision;
  const r = ev.request as CardRequest;
  const lines: string[] = [];
  const field = (label: string, value: string) => lines.push(`  ${dim(label.padEnd(12))}${value}`);
  const t = (s: string | undefined) => terminalText(String(s ?? "?"));

  lines.push(bold(`Interlock approval card: ${t(r.action)}`));
  lines.push("");
  const verdict = !d.allow
    ? c("\x1b[1;31m", "DENIED")
    : d.auto_approve
      ? c("\x1b[1;32m", "ALLOWED, auto-approved")
      : c("\x1b[1;33m", "ALLOWED, needs approval");
  field("decision", verdict);
  field("risk", c(RISK_COLOR[d.risk] ?? "", d.risk.toUpperCase()));
  field("classes", d.classification.length ? d.classification.map(t).join(", ") : "none");
  field("resource", t(r.resource));
  const who = r.requester;
  field(
    "requester",
    `${t(who?.id)} (${t(who?.kind)})${who?.on_behalf_of ? `, on behalf of ${t(who.on_behalf_of)}` : ""}`,
  );
  field("reason", t(r.reason ?? ""));
  const expiry = opts.requestedAt
    ? `${new Date(opts.requestedAt.getTime() + d.ttl_seconds * 1000).toISOString()} (${humanDuration(d.ttl_seconds)})`
    : humanDuration(d.ttl_seconds);
  if (d.allow) field("expires", expiry);

  if (!d.allow) {
    lines.push("", bold("Denied because"));
    for (const reason of d.deny) lines.push(`  ✗ ${t(reason)}`);
    if (d.failed_closed) lines.push(`  ${dim("next:")} ${t(d.failed_closed.hint)}`);
  } else if (d.auto_approve) {
    lines.push("", bold("Approvals"), "  none needed: the policy auto-approves this request");
  } else {
    lines.push(
      "",
      bold("Approvals needed (each group, from people other than the requester and sponsor)"),
    );
    for (const g of d.approvals.groups) {
      lines.push(`  • ${t(g.name)}: ${g.min} of ${g.owners.map(t).join(", ")}`);
    }
  }

  if (d.why.length > 0) {
    lines.push("", bold("Why"));
    for (const w of d.why) lines.push(`  - ${t(w)}`);
  }

  lines.push("", bold("Parameters (masked)"));
  const params =
    r.params === undefined ? "(none)" : stringify(r.params, { lineWidth: 0 }).trimEnd();
  lines.push(...terminalBlock(params, "  "));

  if (ev.masks.length > 0) {
    lines.push("", bold("Masked before anything was written"));
    for (const m of summarizeMasks(ev)) lines.push(`  ${t(m)}`);
  }
  lines.push("", dim(`policy ${t(d.revision)}`));
  return lines.join("\n") + "\n";
}

/** "2 × email (hash) in /params/query" lines, grouped. */
export function summarizeMasks(ev: Evaluation): string[] {
  const groups = new Map<string, number>();
  for (const m of ev.masks) {
    const place = m.in === "key" ? `key ${m.path}` : m.path;
    const why =
      m.reason === "policy" ? "" : m.reason === "default" ? ", by default" : ", safety net";
    const label = `${m.type} (${m.strategy}${why}) in ${place}`;
    groups.set(label, (groups.get(label) ?? 0) + 1);
  }
  return [...groups].map(([label, n]) => (n > 1 ? `${n} × ${label}` : label));
}

export function humanDuration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/**
 * The approval card as Markdown, for a pull request body and check-run summaries. Built from
 * the same masked Evaluation as the terminal card. Request and policy text goes through
 * markdownText (cells, headings, list items) or markdownCodeBlock (params): every character
 * stays visible as text, and none can add or end a cell, row, heading, comment or HTML block.
 */
export function renderCardMarkdown(ev: Evaluation, opts: CardOptions = {}): string {
  const d = ev.decision;
  const r = ev.request as CardRequest;
  const t = (s: string | undefined) => markdownText(String(s ?? "?"));
  const verdict = !d.allow
    ? "⛔ **Denied**"
    : d.auto_approve
      ? "✅ **Auto-approved**"
      : "🟡 **Needs approval**";
  const lines: string[] = [];
  lines.push(`### Interlock approval card: ${markdownIdentifier(String(r.action ?? "?"))}`, "");
  lines.push("| | |", "|---|---|");
  lines.push(`| Decision | ${verdict} |`);
  lines.push(`| Risk | **${t(d.risk)}** |`);
  lines.push(
    `| Classification | ${d.classification.length ? d.classification.map(t).join(", ") : "none"} |`,
  );
  lines.push(`| Resource | ${t(r.resource)} |`);
  const who = r.requester;
  lines.push(
    `| Requester | ${t(who?.id)} (${t(who?.kind)})${who?.on_behalf_of ? ` on behalf of ${t(who.on_behalf_of)}` : ""} |`,
  );
  lines.push(`| Reason | ${t(r.reason ?? "")} |`);
  if (d.allow) {
    const expiry = opts.requestedAt
      ? new Date(opts.requestedAt.getTime() + d.ttl_seconds * 1000).toISOString()
      : humanDuration(d.ttl_seconds);
    lines.push(`| Expires | ${expiry} |`);
  }
  lines.push(`| Policy | ${t(d.revision)} |`, "");
  if (!d.allow) {
    lines.push("#### Denied because", "", ...d.deny.map((x) => `- ${t(x)}`), "");
  } else if (!d.auto_approve) {
    lines.push(
      "#### Approvals needed",
      "",
      "People other than the requester and its sponsor, one group each:",
      "",
    );
    for (const g of d.approvals.groups)
      lines.push(`- **${t(g.name)}**: ${g.min} of ${g.owners.map(t).join(", ")}`);
    lines.push("");
  }
  if (d.why.length > 0)
    lines.push(
      "<details><summary>Why</summary>",
      "",
      ...d.why.map((w) => `- ${t(w)}`),
      "",
      "</details>",
      "",
    );
  lines.push("#### Parameters (masked)", "");
  lines.push(
    // Under a `params:` key, so that every line of request text is indented: the card is also
    // the proposal's commit message, where a line at the margin could read as a trailer.
    markdownCodeBlock(
      r.params === undefined ? "params: none" : stringify({ params: r.params }, { lineWidth: 0 }),
      "yaml",
    ),
    "",
  );
  if (ev.masks.length > 0) {
    lines.push(
      "Masked before anything was written:",
      "",
      ...summarizeMasks(ev).map((m) => `- ${t(m)}`),
      "",
    );
  }
  return lines.join("\n");
}
