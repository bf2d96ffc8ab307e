import type { ContextBlock, KnownBlock, RichTextBlock, SectionBlock } from "@slack/types";
import { slackBlock, slackMrkdwnText, slackText } from "../presentation/escape.ts";
import { eventSentence, type NotificationCard, type NotificationEvent } from "./event.ts";
import { fitEscaped } from "./fit.ts";

/**
 * The Slack message of one request: a Block Kit message posted once (chat.postMessage) and
 * updated in place (chat.update) as the request moves. Built only from the masked card.
 *
 * Untrusted text (anything the requester or the policy wrote) goes where Slack applies no
 * markup — plain_text objects, rich text elements — through slackText/slackBlock, or, inside
 * mrkdwn, as a code span through slackMrkdwnText. Interlock's own words are the only mrkdwn.
 */

/** Block Kit limits (docs.slack.dev/reference/block-kit): checked by the builder and tests. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 2000,
  /** The message's fallback text: Slack truncates past 40,000; we stay well under. */
  fallbackText: 3000,
  /** A rich text block's content: kept under a section's limit. */
  preformatted: 3000,
} as const;

export interface SlackMessage {
  /** Notification and fallback text (no mrkdwn: the message is posted with mrkdwn false). */
  readonly text: string;
  readonly blocks: KnownBlock[];
}

const ICON: Record<string, string> = {
  filed: ":large_yellow_circle:",
  denied: ":no_entry:",
  approved: ":white_check_mark:",
  rejected: ":x:",
  merged: ":twisted_rightwards_arrows:",
  executed: ":gear:",
  expired: ":hourglass:",
  withdrawn: ":leftwards_arrow_with_hook:",
};

/** The message for a request, given every event so far (oldest first) and its state now. */
export function slackMessage(
  card: NotificationCard,
  events: readonly NotificationEvent[],
  state: { readonly state: string; readonly summary: string },
): SlackMessage {
  const latest = events[events.length - 1];
  const code = (s: string, max: number) => fitEscaped(s, slackMrkdwnText, max);
  const plain = (s: string, max: number) => fitEscaped(s, slackText, max);
  const blocks: KnownBlock[] = [];
  blocks.push({
    type: "header",
    text: {
      type: "plain_text",
      text: plain(`Interlock: ${card.action}`, SLACK_LIMITS.headerText),
      emoji: false,
    },
  });
  const stateLine =
    `${latest ? (ICON[latest.kind] ?? "") + " " : ""}*${slackText(state.state)}*` +
    (latest ? ` (${code(eventSentence(latest), 300)})` : "") +
    `\n${code(state.summary, 1200)}`;
  blocks.push(section(stateLine));
  const who =
    card.onBehalfOf === null
      ? `${card.requester} (${card.requesterKind})`
      : `${card.requester} (${card.requesterKind}) on behalf of ${card.onBehalfOf}`;
  const fields: [string, string][] = [
    ["Request", card.id],
    ["Risk", card.risk],
    ["Resource", card.resource],
    ["Requester", who],
    ["Decision", card.verdict],
    ["Expires", card.expiresAt],
  ];
  if (card.classification.length > 0) fields.push(["Classes", card.classification.join(", ")]);
  blocks.push({
    type: "section",
    fields: fields.slice(0, SLACK_LIMITS.sectionFields).map(([label, value]) => ({
      type: "mrkdwn",
      text: `*${label}*\n${code(value, 600)}`,
      verbatim: true,
    })),
  });
  blocks.push(section(`*Reason*\n${code(card.reason, SLACK_LIMITS.sectionText - 20)}`));
  if (card.verdict === "denied" && card.deny.length > 0) {
    blocks.push(
      section(
        `*Denied because*\n${card.deny
          .slice(0, 10)
          .map((d) => `• ${code(d, 250)}`)
          .join("\n")}`,
      ),
    );
  } else if (card.groups.length > 0) {
    const lines = card.groups
      .slice(0, 10)
      .map((g) => `• ${code(g.name, 100)}: ${g.min} of ${code(g.owners.join(", "), 150)}`);
    blocks.push(
      section(`*Approvals needed* (not the requester or its sponsor)\n${lines.join("\n")}`),
    );
  }
  blocks.push(preformatted(card.params === null ? "(no params)" : `params:\n${card.params}`));
  if (card.masks.length > 0) {
    blocks.push(
      context([`Masked before anything was written: ${card.masks.slice(0, 8).join("; ")}`]),
    );
  }
  const review = card.review.url
    ? [`Review: ${card.review.url}`]
    : card.review.commands.map((c) => `Review: ${c}`);
  blocks.push(context(review.slice(0, 3)));
  const history = events
    .slice(-SLACK_LIMITS.contextElements)
    .map((e) => `${e.at} ${eventSentence(e)}`);
  if (history.length > 0) blocks.push(context(history));
  return {
    // The notification's text: no free text of the request (the resource, the reason), only
    // what has a fixed shape (the id, the action, the risk, configured names).
    text: plain(
      `Interlock ${card.id}: ${card.action} (${card.risk}): ${latest ? eventSentence(latest) : state.state}`,
      SLACK_LIMITS.fallbackText,
    ),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
}

/** A section of Interlock's own mrkdwn (untrusted parts already escaped by the caller). */
function section(text: string): SectionBlock {
  return {
    type: "section",
    text: { type: "mrkdwn", text: text.slice(0, SLACK_LIMITS.sectionText), verbatim: true },
  };
}

/** A context block of untrusted lines, each a plain_text element. */
function context(lines: readonly string[]): ContextBlock {
  return {
    type: "context",
    elements: lines.slice(0, SLACK_LIMITS.contextElements).map((l) => ({
      type: "plain_text",
      text: fitEscaped(l, slackText, SLACK_LIMITS.contextText),
      emoji: false,
    })),
  };
}

/** Untrusted multi-line text, preformatted: rich text elements carry no markup at all. */
function preformatted(text: string): RichTextBlock {
  return {
    type: "rich_text",
    elements: [
      {
        type: "rich_text_preformatted",
        elements: [{ type: "text", text: fitEscaped(text, slackBlock, SLACK_LIMITS.preformatted) }],
      },
    ],
  };
}
