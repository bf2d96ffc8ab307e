import { visibleBlock, visibleText } from "../presentation/escape.ts";
import type { NotificationCard, NotificationEvent } from "./event.ts";

/**
 * "Your API": one JSON event per state change, posted to a receiver and signed with the same
 * scheme as the http executor (src/execution/http.ts, documented in docs/notifications.md):
 *
 *   X-Interlock-Event: <kind>                 X-Interlock-Event-Id: <stable event id>
 *   X-Interlock-Timestamp: <unix seconds>
 *   X-Interlock-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * A retried delivery carries the same event id: the receiver deduplicates by it. Values are the
 * masked card's, with invisible characters shown escaped (visibleText): JSON is the payload's
 * only syntax, and a consumer that renders a value in its own markup escapes it for that markup.
 */
export const WEBHOOK_FORMAT_VERSION = 1;

export interface WebhookEvent {
  readonly interlock: typeof WEBHOOK_FORMAT_VERSION;
  readonly id: string;
  readonly type: `request.${NotificationEvent["kind"]}`;
  readonly occurred_at: string;
  readonly actor: string | null;
  readonly outcome: string | null;
  /** approved: whether the gate counts the approval (false: a sponsor's, say); else null. */
  readonly counted: boolean | null;
  readonly request: Record<string, unknown>;
}

export function webhookEvent(
  card: NotificationCard,
  event: NotificationEvent,
  state: { readonly state: string; readonly summary: string },
): WebhookEvent {
  const t = visibleText;
  return {
    interlock: WEBHOOK_FORMAT_VERSION,
    id: event.id,
    type: `request.${event.kind}`,
    occurred_at: event.at,
    actor: event.actor === undefined ? null : t(event.actor),
    outcome: event.outcome === undefined ? null : t(event.outcome),
    counted: event.counted ?? null,
    request: {
      id: card.id,
      state: t(state.state),
      summary: t(state.summary),
      action: t(card.action),
      resource: t(card.resource),
      reason: t(card.reason),
      requester: {
        id: t(card.requester),
        kind: t(card.requesterKind),
        on_behalf_of: card.onBehalfOf === null ? null : t(card.onBehalfOf),
      },
      risk: t(card.risk),
      classification: card.classification.map(t),
      decision: card.verdict,
      deny: card.deny.map(t),
      approvals: card.groups.map((g) => ({ name: t(g.name), owners: g.owners.map(t), min: g.min })),
      requested_at: card.requestedAt,
      expires_at: card.expiresAt,
      params_yaml: card.params === null ? null : visibleBlock(card.params),
      masks: card.masks.map(t),
      policy: t(card.policy),
      review: { url: card.review.url ?? null, commands: card.review.commands.map(t) },
    },
  };
}
