import { z } from "zod";

/**
 * Who is told about requests, and through which channel: the `notifications` section of an
 * approvals repository's `.interlock/config.yaml` (a trust input, changed like the rest of the
 * config). Channel secrets — a Slack token, a Teams Workflows URL, a webhook's HMAC key — are
 * never in the config: it names the environment variables that hold them, and those names
 * must be INTERLOCK_ names of their own role (see envName), so that a config cannot point a channel at an unrelated secret of
 * the process (AWS_SECRET_ACCESS_KEY as a "Teams URL" would send it to whoever the URL names).
 */

/** The events a request goes through, in the order they can happen. */
export const EVENT_KINDS = [
  "filed",
  "denied",
  "approved",
  "rejected",
  "merged",
  "executed",
  "expired",
  "withdrawn",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * The environment variable of one role: `INTERLOCK_<ROLE>` or `INTERLOCK_<ROLE>_<SUFFIX>` (for
 * several channels of one kind). Each name only in its own role, so a config cannot cross-wire
 * secrets: the webhook's HMAC key or a GitHub token sent as the Slack bearer token, a Slack
 * token as the Teams URL.
 */
/** The roles of channel secrets (each an INTERLOCK_<ROLE>[_<SUFFIX>] variable). */
export const CHANNEL_SECRET_ROLES = [
  "SLACK_TOKEN",
  "TEAMS_WEBHOOK_URL",
  "WEBHOOK_URL",
  "WEBHOOK_SECRET",
] as const;

/** Whether an environment variable may hold a channel secret (executors never see those). */
export function isChannelSecretName(name: string): boolean {
  return CHANNEL_SECRET_ROLES.some(
    (role) => name === `INTERLOCK_${role}` || name.startsWith(`INTERLOCK_${role}_`),
  );
}

const envName = (role: string) =>
  z
    .string()
    .regex(
      new RegExp(`^INTERLOCK_${role}(?:_[A-Z0-9_]{1,80})?$`),
      `must name an environment variable INTERLOCK_${role} or INTERLOCK_${role}_<SUFFIX> (channel secrets never live in the config, and each variable serves one role)`,
    );

const slackChannel = z.strictObject({
  type: z.literal("slack"),
  /** A Slack channel id (C…, G…) or name; the bot must be a member. */
  channel: z
    .string()
    .regex(/^[#A-Za-z0-9._-]{1,80}$/, "must be a Slack channel id such as C0123ABCD"),
  /** The environment variable holding the bot token (xoxb-…). */
  token_env: envName("SLACK_TOKEN").default("INTERLOCK_SLACK_TOKEN"),
});

const teamsChannel = z.strictObject({
  type: z.literal("teams"),
  /** The environment variable holding the incoming-webhook or Workflows URL (it is a secret). */
  url_env: envName("TEAMS_WEBHOOK_URL").default("INTERLOCK_TEAMS_WEBHOOK_URL"),
});

const webhookChannel = z.strictObject({
  type: z.literal("webhook"),
  /** The environment variable holding the receiver's URL. */
  url_env: envName("WEBHOOK_URL").default("INTERLOCK_WEBHOOK_URL"),
  /** The environment variable holding the HMAC-SHA256 key the body is signed with. */
  secret_env: envName("WEBHOOK_SECRET").default("INTERLOCK_WEBHOOK_SECRET"),
});

export const channelConfigSchema = z.discriminatedUnion("type", [
  slackChannel,
  teamsChannel,
  webhookChannel,
]);
export type ChannelConfig = z.infer<typeof channelConfigSchema>;

const riskLevel = z.enum(["low", "medium", "high", "critical"]);

/** One rule of who is told: the channels, for requests matching every condition given. */
const routeSchema = z.strictObject({
  channels: z.array(z.string()).min(1),
  /**
   * Only requests whose decision asks one of these approval groups (by group name, such as
   * data-stewards, or by an owner handle, such as @acme/security); absent: any request.
   */
  groups: z.array(z.string().min(1)).optional(),
  /** Only requests of these risks; absent: any risk. */
  risk: z.array(riskLevel).optional(),
  /** Only these events; absent: every event. */
  events: z.array(z.enum(EVENT_KINDS)).optional(),
});
export type RouteConfig = z.infer<typeof routeSchema>;

export const notificationsConfigSchema = z
  .strictObject({
    channels: z.record(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/), channelConfigSchema),
    routes: z.array(routeSchema).default([]),
  })
  .superRefine((n, ctx) => {
    n.routes.forEach((r, i) => {
      for (const c of r.channels) {
        if (!(c in n.channels)) {
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "channels"],
            message: `names channel ${c}, which is not under notifications.channels`,
          });
        }
      }
    });
  });
export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;

/** What routing reads of a request: its risk and the approval groups its decision asks. */
export interface RouteSubject {
  readonly risk: string;
  readonly groups: readonly { readonly name: string; readonly owners: readonly string[] }[];
}

/**
 * The channels to tell about one event of one request: every channel of every route whose
 * conditions all hold, each once, in the order the config names them.
 */
export function channelsFor(
  config: NotificationsConfig,
  subject: RouteSubject,
  kind: EventKind,
): string[] {
  const out: string[] = [];
  const asked = new Set(
    subject.groups.flatMap((g) => [g.name, ...g.owners]).map((s) => s.toLowerCase()),
  );
  for (const route of config.routes) {
    if (route.events && !route.events.includes(kind)) continue;
    if (route.risk && !route.risk.includes(subject.risk as z.infer<typeof riskLevel>)) continue;
    if (route.groups && !route.groups.some((g) => asked.has(g.toLowerCase()))) continue;
    for (const c of route.channels) if (!out.includes(c)) out.push(c);
  }
  return out;
}
