import { adaptiveCardText, visibleBlock, visibleText } from "../presentation/escape.ts";
import { eventSentence, type NotificationCard, type NotificationEvent } from "./event.ts";
import { fitEscaped } from "./fit.ts";

/**
 * The Microsoft Teams message for one event: an Adaptive Card posted to an incoming webhook or
 * a Workflows URL (these cannot edit a message, so each event is a new card). Built only from
 * the masked card. TextBlocks and Facts are Markdown in Teams: untrusted text goes through
 * adaptiveCardText; the params are a RichTextBlock TextRun, which is never Markdown, through
 * visibleBlock. Interlock's own words are the only formatting.
 */

/** The Adaptive Card version Teams renders for webhooks and Workflows. */
export const ADAPTIVE_CARD_VERSION = "1.4";

/** What a Teams webhook accepts: a message with one Adaptive Card attachment. */
export interface TeamsMessage {
  readonly type: "message";
  readonly attachments: readonly [
    {
      readonly contentType: "application/vnd.microsoft.card.adaptive";
      readonly contentUrl: null;
      readonly content: AdaptiveCard;
    },
  ];
}

export interface AdaptiveCard {
  readonly type: "AdaptiveCard";
  readonly $schema: string;
  readonly version: string;
  readonly body: readonly Record<string, unknown>[];
  readonly actions?: readonly Record<string, unknown>[];
}

const MAX_FACT = 600;

export function teamsMessage(
  card: NotificationCard,
  event: NotificationEvent,
  state: { readonly state: string; readonly summary: string },
): TeamsMessage {
  const md = (s: string, max = MAX_FACT) => fitEscaped(s, adaptiveCardText, max);
  const who =
    card.onBehalfOf === null
      ? `${card.requester} (${card.requesterKind})`
      : `${card.requester} (${card.requesterKind}) on behalf of ${card.onBehalfOf}`;
  const facts = [
    ["Request", card.id],
    ["State", `${state.state}: ${state.summary}`],
    ["Risk", card.risk],
    ["Resource", card.resource],
    ["Requester", who],
    ["Decision", card.verdict],
    ["Expires", card.expiresAt],
    ["Reason", card.reason],
  ];
  if (card.classification.length > 0) facts.push(["Classes", card.classification.join(", ")]);
  if (card.verdict === "denied") {
    for (const d of card.deny.slice(0, 10)) facts.push(["Denied because", d]);
  } else {
    for (const g of card.groups.slice(0, 10))
      facts.push([`Approvals: ${g.name}`, `${g.min} of ${g.owners.join(", ")}`]);
  }
  const body: Record<string, unknown>[] = [
    {
      type: "TextBlock",
      text: md(`Interlock: ${card.action}`, 200),
      size: "Large",
      weight: "Bolder",
      wrap: true,
    },
    { type: "TextBlock", text: md(`${event.at} ${eventSentence(event)}`, 400), wrap: true },
    {
      type: "FactSet",
      facts: facts.map(([title, value]) => ({ title: md(title!, 120), value: md(value!) })),
    },
    { type: "TextBlock", text: "Parameters (masked)", weight: "Bolder", wrap: true },
    {
      type: "RichTextBlock",
      inlines: [
        {
          type: "TextRun",
          text: fitEscaped(card.params ?? "(no params)", visibleBlock, 3000),
          fontType: "Monospace",
        },
      ],
    },
  ];
  if (card.masks.length > 0) {
    body.push({
      type: "TextBlock",
      text: md(`Masked before anything was written: ${card.masks.slice(0, 8).join("; ")}`, 1000),
      isSubtle: true,
      wrap: true,
    });
  }
  const actions: Record<string, unknown>[] = [];
  if (card.review.url && /^https:\/\//.test(card.review.url)) {
    actions.push({ type: "Action.OpenUrl", title: "Review", url: visibleText(card.review.url) });
  } else {
    for (const c of card.review.commands.slice(0, 3)) {
      body.push({
        type: "TextBlock",
        text: md(`Review: ${c}`, 300),
        fontType: "Monospace",
        wrap: true,
      });
    }
  }
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          type: "AdaptiveCard",
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          version: ADAPTIVE_CARD_VERSION,
          body,
          ...(actions.length > 0 ? { actions } : {}),
        },
      },
    ],
  };
}
