import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type { Evaluation } from "../decide.ts";
import { maskText } from "../masking/mask.ts";
import { summarizeMasks } from "../proposal/card.ts";
import type { ParsedRequestFile } from "../proposal/request-file.ts";
import type { EventKind } from "./config.ts";

/**
 * What a notification may say about a request: the masked approval card, read from the request
 * file Interlock recorded (never the sealed original), each free-text field passed through the
 * detectors once more. Channels build their messages from this alone, escaped for their own
 * markup (src/presentation/escape.ts).
 */
export interface NotificationCard {
  readonly id: string;
  readonly action: string;
  readonly resource: string;
  readonly reason: string;
  readonly requester: string;
  readonly requesterKind: string;
  readonly onBehalfOf: string | null;
  readonly risk: string;
  readonly classification: readonly string[];
  readonly verdict: "denied" | "auto-approved" | "needs approval";
  readonly deny: readonly string[];
  readonly groups: readonly {
    readonly name: string;
    readonly owners: readonly string[];
    readonly min: number;
  }[];
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** The masked params as YAML, or null when the request has none. */
  readonly params: string | null;
  /** "email (hash) in /params/to" lines. */
  readonly masks: readonly string[];
  readonly policy: string;
  /** Where a person reviews it: a pull request's URL, or the commands on the local forge. */
  readonly review: { readonly url?: string; readonly commands: readonly string[] };
}

/** One thing that happened to a request, as a channel announces it. */
export interface NotificationEvent {
  /** Stable across runs and machines: a receiver deduplicates by it. */
  readonly id: string;
  readonly kind: EventKind;
  readonly request: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** Who did it: the reviewer (approved, rejected), the requester (filed, withdrawn). */
  readonly actor?: string;
  /** executed: the recorded outcome (succeeded, failed, refused, …). */
  readonly outcome?: string;
  /** approved: false when the gate does not count the approval. */
  readonly counted?: boolean;
}

/** A review as it may be announced: verified signed reviews only. */
export interface AnnouncedReview {
  readonly who: string;
  readonly state: "approved" | "changes_requested";
  readonly at: string;
  /** The commit the review was given on (two approvals of two heads are two events). */
  readonly commit: string;
  /** Whether the gate counts this approval (false: a sponsor's, say); absent when unknown. */
  readonly counted?: boolean;
}

/** Everything notifications know about one request, gathered by an adapter from the forge. */
export interface RequestFacts {
  readonly card: NotificationCard;
  /** The request's state now (pending, approved, rejected, merged, executed, …). */
  readonly state: string;
  /** One sentence: what it waits for, or why it is closed (masked). */
  readonly summary: string;
  readonly denied: boolean;
  readonly reviews: readonly AnnouncedReview[];
  readonly merged?: { readonly at: string };
  readonly executed?: { readonly at: string; readonly outcome: string };
  readonly expired?: { readonly at: string };
  readonly withdrawn?: { readonly at: string; readonly by?: string };
}

/** The stable id of one event: the same request, kind and discriminator give the same id. */
export function eventId(request: string, kind: EventKind, discriminator = ""): string {
  return createHash("sha256")
    .update(`interlock-notification\0${request}\0${kind}\0${discriminator}`)
    .digest("hex")
    .slice(0, 32);
}

/** Every event of a request so far, oldest first. */
export function eventsOf(f: RequestFacts): NotificationEvent[] {
  const id = f.card.id;
  const out: NotificationEvent[] = [];
  const requester = f.card.requester;
  if (f.denied) {
    out.push({
      id: eventId(id, "denied"),
      kind: "denied",
      request: id,
      at: f.card.requestedAt,
      actor: requester,
    });
    return out;
  }
  out.push({
    id: eventId(id, "filed"),
    kind: "filed",
    request: id,
    at: f.card.requestedAt,
    actor: requester,
  });
  for (const r of f.reviews) {
    const kind = r.state === "approved" ? "approved" : "rejected";
    out.push({
      id: eventId(id, kind, `${r.who}\0${r.commit}`),
      kind,
      request: id,
      at: r.at,
      actor: r.who,
      ...(r.counted === undefined ? {} : { counted: r.counted }),
    });
  }
  if (f.merged)
    out.push({ id: eventId(id, "merged"), kind: "merged", request: id, at: f.merged.at });
  if (f.executed) {
    out.push({
      id: eventId(id, "executed"),
      kind: "executed",
      request: id,
      at: f.executed.at,
      outcome: f.executed.outcome,
    });
  }
  if (f.expired)
    out.push({ id: eventId(id, "expired"), kind: "expired", request: id, at: f.expired.at });
  if (f.withdrawn) {
    out.push({
      id: eventId(id, "withdrawn"),
      kind: "withdrawn",
      request: id,
      at: f.withdrawn.at,
      ...(f.withdrawn.by ? { actor: f.withdrawn.by } : {}),
    });
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/**
 * The card of a recorded (masked) request file. `review` says where to review it. Every free
 * text is passed through the detectors again: a second line behind the masking at filing.
 */
export function cardOf(
  record: ParsedRequestFile,
  review: NotificationCard["review"],
): NotificationCard {
  const r = record.request as {
    action?: unknown;
    resource?: unknown;
    reason?: unknown;
    params?: unknown;
    requester?: { id?: unknown; kind?: unknown; on_behalf_of?: unknown };
  };
  const d = record.decision;
  const text = (v: unknown) =>
    maskText(typeof v === "string" ? v : v === undefined ? "" : String(v));
  const masks = summarizeMasks({
    masks: (record as { masks?: Evaluation["masks"] }).masks ?? [],
  } as Pick<Evaluation, "masks"> as Evaluation);
  return {
    id: record.id,
    action: text(r.action ?? "?"),
    resource: text(r.resource),
    reason: text(r.reason),
    requester: text(r.requester?.id ?? "?"),
    requesterKind: text(r.requester?.kind ?? "?"),
    onBehalfOf: r.requester?.on_behalf_of === undefined ? null : text(r.requester.on_behalf_of),
    risk: text(d.risk),
    classification: d.classification.map(text),
    verdict: !d.allow ? "denied" : d.auto_approve ? "auto-approved" : "needs approval",
    deny: d.deny.map(text),
    groups: d.approvals.groups.map((g) => ({
      name: text(g.name),
      owners: g.owners.map(text),
      min: g.min,
    })),
    requestedAt: record.requested_at,
    expiresAt: record.expires_at,
    params:
      r.params === undefined ? null : maskText(stringify(r.params, { lineWidth: 0 }).trimEnd()),
    masks: masks.map(text),
    policy: text(d.revision),
    review,
  };
}

/** The review pointers of a request on the local forge: commands that work as printed. */
export function localReviewCommands(id: string, repoArg?: string): string[] {
  const repo = repoArg ? ` --repo ${repoArg}` : "";
  return [`interlock show ${id}${repo}`, `interlock approve ${id} --as <you>${repo}`];
}

/** How a channel names an event, in a sentence: "approved by dana", "executed: succeeded". */
export function eventSentence(e: NotificationEvent): string {
  switch (e.kind) {
    case "filed":
      return `filed by ${e.actor ?? "?"}`;
    case "denied":
      return "denied by policy";
    case "approved":
      return `approved by ${e.actor ?? "?"}${e.counted === false ? " (does not count)" : ""}`;
    case "rejected":
      return `changes requested by ${e.actor ?? "?"}`;
    case "merged":
      return "merged: approved and waiting for the executor";
    case "executed":
      return `executed: ${e.outcome ?? "?"}`;
    case "expired":
      return "expired before it was approved";
    case "withdrawn":
      return `withdrawn${e.actor ? ` by ${e.actor}` : ""}`;
  }
}
