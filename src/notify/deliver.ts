import { signWebhook } from "../execution/http.ts";
import { maskText } from "../masking/mask.ts";
import { channelsFor, type ChannelConfig, type NotificationsConfig } from "./config.ts";
import { eventsOf, type NotificationEvent, type RequestFacts } from "./event.ts";
import {
  deliveryKey,
  readOutbox,
  slackKey,
  tryLock,
  writeOutbox,
  type DeliveryRecord,
  type OutboxState,
} from "./outbox.ts";
import { slackMessage, type SlackMessage } from "./slack.ts";
import { teamsMessage } from "./teams.ts";
import { webhookEvent } from "./webhook.ts";

/**
 * Delivering notifications: a sweep compares every request's events with the outbox and
 * delivers what is due. It never throws into the approval flow and never waits on a lock: the
 * caller (every CLI command on the local forge, `interlock notify`, the MCP server) runs it
 * after its own work and reports what it says. Failures are retried with backoff, within the
 * sweep (short waits) and across sweeps (next_attempt_at); delivery is idempotent by event id,
 * and a request's Slack message is posted once and then updated in place.
 */

/** A failed delivery is retried at most this often in all; then it is recorded as failed. */
export const MAX_ATTEMPTS = 8;
/** Waits within one sweep before the 2nd and 3rd try of a delivery. */
const IN_SWEEP_WAITS_MS = [250, 1000];
/** Events this much older than the outbox (notifications were turned on later) are skipped. */
const BACKLOG_MS = 24 * 3600 * 1000;
const HTTP_TIMEOUT_MS = 5000;

/** A delivery that did not go through: retryable (network, 5xx, 429) or not (a 4xx). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The I/O of delivery, passed in so that tests and other callers can change it. */
export interface Transports {
  /** Posts (no ts) or updates (ts) a request's Slack message; returns where it is. */
  slack(p: {
    token: string;
    apiUrl?: string;
    channel: string;
    ts?: string;
    message: SlackMessage;
    /** The request the message is about: posted as its metadata, so it can be found again. */
    request?: string;
  }): Promise<{ channel: string; ts: string }>;
  /** POSTs a JSON body; resolves on 2xx. */
  post(url: string, body: string, headers: Record<string, string>): Promise<void>;
  /**
   * The Slack message a request already has in `channel` (posted with its metadata by an
   * earlier run), or undefined: how a stateless deliverer (the GitHub Action) updates it in place.
   */
  slackFind?(p: {
    token: string;
    apiUrl?: string;
    channel: string;
    request: string;
  }): Promise<{ channel: string; ts: string } | undefined>;
}

/** The Slack message metadata type that names a request's message (Slack's message metadata). */
export const SLACK_METADATA_TYPE = "interlock_request";

export interface SweepOptions {
  readonly config: NotificationsConfig;
  readonly facts: readonly RequestFacts[];
  /** The outbox directory (<repoHome>/notifications). */
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  /** Stop starting deliveries after this long (default 8 s): a sweep never holds a command up long. */
  readonly budgetMs?: number;
  readonly transports?: Transports;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Only these events are due (default: every event the outbox has not delivered). A
   * deliverer with no outbox of its own (the GitHub Action: a fresh one each run) announces
   * what its run caused, and finds a request's Slack message in Slack (Transports.slackFind).
   */
  readonly only?: (e: NotificationEvent) => boolean;
}

export interface SweepReport {
  /** Another sweep held the lock: this one did nothing. */
  readonly locked: boolean;
  readonly delivered: readonly DeliveryRecord[];
  /** Not delivered this time: will be retried (status retrying) or given up (failed). */
  readonly undelivered: readonly DeliveryRecord[];
  /** Due but left for the next sweep (time budget spent). */
  readonly deferred: number;
  /** Channels whose secrets are not in this machine's environment: left to another machine. */
  readonly unconfigured: readonly string[];
}

/** One sweep. Never throws: a failure of the outbox itself is reported as undelivered. */
export async function sweepNotifications(o: SweepOptions): Promise<SweepReport> {
  const start = Date.now();
  const budget = o.budgetMs ?? 8000;
  const release = tryLock(o.dir, o.now());
  if (release === undefined) {
    return { locked: true, delivered: [], undelivered: [], deferred: 0, unconfigured: [] };
  }
  const transports = o.transports ?? defaultTransports();
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const delivered: DeliveryRecord[] = [];
  const undelivered: DeliveryRecord[] = [];
  let deferred = 0;
  let unconfigured: string[] = [];
  try {
    const outbox = readOutbox(o.dir, o.now());
    // A channel whose secrets this machine does not hold is delivered by another one (the
    // host that runs `interlock notify`): not attempted here, not recorded, not an error.
    unconfigured = Object.entries(o.config.channels)
      .filter(([, c]) => secretNames(c).some((n) => !o.env[n]?.trim()))
      .map(([name]) => name);
    const work = dueWork(o.config, o.facts, outbox, o.now(), new Set(unconfigured), o.only);
    writeOutbox(o.dir, outbox); // skipped backlog recorded
    for (const item of work) {
      if (Date.now() - start > budget) {
        deferred += 1;
        continue;
      }
      const result = await attempt(item, o, transports, outbox, sleep, Date.now() - start);
      for (const key of item.keys) {
        const rec = record(outbox, key, item, result, o.now());
        (rec.status === "delivered" ? delivered : undelivered).push(rec);
      }
      writeOutbox(o.dir, outbox);
    }
  } finally {
    release();
  }
  return { locked: false, delivered, undelivered, deferred, unconfigured };
}

/** The environment variables a channel needs on the machine that delivers to it. */
export function secretNames(c: ChannelConfig): string[] {
  return c.type === "slack"
    ? [c.token_env]
    : c.type === "teams"
      ? [c.url_env]
      : [c.url_env, c.secret_env];
}

/** One delivery to do: a Slack message update may carry several events of one request. */
interface WorkItem {
  readonly channelName: string;
  readonly channel: ChannelConfig;
  readonly facts: RequestFacts;
  /** The request's events so far (the Slack message shows them all). */
  readonly history: readonly NotificationEvent[];
  /** The events this delivery announces (one, except for Slack). */
  readonly events: readonly NotificationEvent[];
  readonly keys: readonly string[];
}

function dueWork(
  config: NotificationsConfig,
  facts: readonly RequestFacts[],
  outbox: OutboxState,
  now: Date,
  skip: ReadonlySet<string>,
  only?: (e: NotificationEvent) => boolean,
): WorkItem[] {
  const items: WorkItem[] = [];
  const slack = new Map<string, { item: WorkItem; events: NotificationEvent[]; keys: string[] }>();
  const since = new Date(outbox.created_at).getTime() - BACKLOG_MS;
  for (const f of facts) {
    const history = eventsOf(f);
    for (const e of history) {
      if (only && !only(e)) continue;
      for (const name of channelsFor(
        config,
        { risk: f.card.risk, groups: f.card.groups },
        e.kind,
      )) {
        if (skip.has(name)) continue;
        const channel = config.channels[name]!;
        const key = deliveryKey(e.id, name);
        const prior = outbox.deliveries[key];
        if (prior && prior.status !== "retrying") continue;
        if (prior?.next_attempt_at && new Date(prior.next_attempt_at) > now) continue;
        if (!prior && new Date(e.at).getTime() < since) {
          outbox.deliveries[key] = {
            ...base(e, name, channel),
            status: "skipped",
            attempts: 0,
            error: "happened before notifications were turned on",
          };
          continue;
        }
        if (channel.type === "slack") {
          const group = `${name}/${f.card.id}`;
          let g = slack.get(group);
          if (!g) {
            g = {
              item: { channelName: name, channel, facts: f, history, events: [], keys: [] },
              events: [],
              keys: [],
            };
            slack.set(group, g);
          }
          g.events.push(e);
          g.keys.push(key);
        } else {
          items.push({ channelName: name, channel, facts: f, history, events: [e], keys: [key] });
        }
      }
    }
  }
  for (const g of slack.values()) items.push({ ...g.item, events: g.events, keys: g.keys });
  return items;
}

type Result =
  | { ok: true; recipient: string }
  | { ok: false; recipient: string; error: string; retryable: boolean };

async function attempt(
  item: WorkItem,
  o: SweepOptions,
  transports: Transports,
  outbox: OutboxState,
  sleep: (ms: number) => Promise<void>,
  spent: number,
): Promise<Result> {
  const state = { state: item.facts.state, summary: item.facts.summary };
  const c = item.channel;
  let recipient = c.type === "slack" ? c.channel : "(not configured)";
  for (let i = 0; ; i++) {
    try {
      if (c.type === "slack") {
        const token = secret(o.env, c.token_env);
        const key = slackKey(item.channelName, item.facts.card.id);
        const apiUrlFind = o.env.INTERLOCK_SLACK_API_URL?.trim() || undefined;
        const existing =
          outbox.slack[key] ??
          (o.only && transports.slackFind
            ? await transports.slackFind({
                token,
                ...(apiUrlFind ? { apiUrl: apiUrlFind } : {}),
                channel: c.channel,
                request: item.facts.card.id,
              })
            : undefined);
        const message = slackMessage(item.facts.card, item.history, state);
        const apiUrl = o.env.INTERLOCK_SLACK_API_URL?.trim() || undefined;
        let where: { channel: string; ts: string };
        try {
          where = await transports.slack({
            token,
            ...(apiUrl ? { apiUrl } : {}),
            channel: existing?.channel ?? c.channel,
            ...(existing ? { ts: existing.ts } : {}),
            message,
            request: item.facts.card.id,
          });
        } catch (err) {
          // The message was deleted in Slack: post a new one rather than never telling again.
          if (!(
            existing &&
            err instanceof DeliveryError &&
            /message_not_found|cant_update_message/.test(err.message)
          ))
            throw err;
          where = await transports.slack({
            token,
            ...(apiUrl ? { apiUrl } : {}),
            channel: c.channel,
            message,
            request: item.facts.card.id,
          });
        }
        outbox.slack[key] = where;
        return { ok: true, recipient: `slack ${where.channel}` };
      }
      const url = secret(o.env, c.url_env);
      recipient = describeUrl(url);
      const event = item.events[0]!;
      if (c.type === "teams") {
        const body = JSON.stringify(teamsMessage(item.facts.card, event, state));
        await transports.post(url, body, { "Content-Type": "application/json" });
        return { ok: true, recipient: `teams ${recipient}` };
      }
      const body = JSON.stringify(webhookEvent(item.facts.card, event, state));
      const key = secret(o.env, c.secret_env);
      const timestamp = Math.floor(o.now().getTime() / 1000);
      await transports.post(url, body, {
        "Content-Type": "application/json",
        "X-Interlock-Event": event.kind,
        "X-Interlock-Event-Id": event.id,
        "X-Interlock-Timestamp": String(timestamp),
        "X-Interlock-Signature": signWebhook(key, timestamp, body),
      });
      return { ok: true, recipient: `webhook ${recipient}` };
    } catch (err) {
      const e =
        err instanceof DeliveryError
          ? err
          : new DeliveryError(String((err as Error)?.message ?? err), true);
      const wait = e.retryAfterMs ?? IN_SWEEP_WAITS_MS[i];
      const budgetLeft = (o.budgetMs ?? 8000) - spent;
      if (!e.retryable || wait === undefined || wait > 2000 || wait > budgetLeft) {
        return {
          ok: false,
          recipient: `${c.type} ${recipient}`,
          error: maskText(e.message),
          retryable: e.retryable,
        };
      }
      await sleep(wait);
    }
  }
}

function secret(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new DeliveryError(`${name} is not set in the environment`, true);
  return v;
}

function base(e: NotificationEvent, channelName: string, c: ChannelConfig) {
  return {
    event: e.id,
    kind: e.kind,
    request: e.request,
    channel: channelName,
    channel_type: c.type,
    recipient: c.type === "slack" ? `slack ${c.channel}` : c.type,
    occurred_at: e.at,
  };
}

function record(
  outbox: OutboxState,
  key: string,
  item: WorkItem,
  r: Result,
  now: Date,
): DeliveryRecord {
  const e = item.events.find((x) => deliveryKey(x.id, item.channelName) === key)!;
  const prior = outbox.deliveries[key];
  const attempts = (prior?.attempts ?? 0) + 1;
  const at = now.toISOString();
  const rec: DeliveryRecord = r.ok
    ? {
        ...base(e, item.channelName, item.channel),
        recipient: r.recipient,
        status: "delivered",
        attempts,
        first_attempt_at: prior?.first_attempt_at ?? at,
        last_attempt_at: at,
        delivered_at: at,
      }
    : {
        ...base(e, item.channelName, item.channel),
        recipient: r.recipient,
        status: r.retryable && attempts < MAX_ATTEMPTS ? "retrying" : "failed",
        attempts,
        first_attempt_at: prior?.first_attempt_at ?? at,
        last_attempt_at: at,
        ...(r.retryable && attempts < MAX_ATTEMPTS
          ? { next_attempt_at: new Date(now.getTime() + backoffMs(attempts)).toISOString() }
          : {}),
        error: r.error,
      };
  outbox.deliveries[key] = rec;
  return rec;
}

/** 30 s, 1 min, 2 min, … up to 1 h between sweeps' attempts. */
export function backoffMs(attempts: number): number {
  return Math.min(30_000 * 2 ** (attempts - 1), 3600_000);
}

/** A URL for messages: origin and path only (a query or a Workflows signature is a secret). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}`;
  } catch {
    return "an invalid URL";
  }
}

type SlackWebApi = typeof import("@slack/web-api");

/**
 * Slack's Web API package, loaded when first used. It is CommonJS: Node's own import gives its
 * exports by name and as `default`; the command's bundle (code splitting) gives only `default`.
 * Both are accepted, and anything else is an error that says so (never a silent retry).
 */
export async function loadSlackWebApi(): Promise<SlackWebApi> {
  const ns = (await import("@slack/web-api")) as SlackWebApi & { default?: SlackWebApi };
  const api = typeof ns.WebClient === "function" ? ns : ns.default;
  if (typeof api?.WebClient !== "function") {
    throw new DeliveryError("cannot load Slack's Web API client (@slack/web-api)", false);
  }
  return api;
}

/** The real transports: Slack's official Web API client (loaded only when used) and fetch. */
export function defaultTransports(): Transports {
  const slackClient = async (token: string, apiUrl: string | undefined) => {
    const { WebClient } = await loadSlackWebApi();
    return new WebClient(token, {
      ...(apiUrl ? { slackApiUrl: apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/` } : {}),
      retryConfig: { retries: 0 },
      timeout: HTTP_TIMEOUT_MS,
      rejectRateLimitedCalls: true,
      logger: silentLogger(),
    });
  };
  return {
    async slackFind({ token, apiUrl, channel, request }) {
      // The channel's recent history, with message metadata (Slack's conversations.history,
      // include_all_metadata; the bot needs channels:history). Not found, or not allowed to
      // read: undefined, and a new message is posted.
      try {
        const client = await slackClient(token, apiUrl);
        const r = await client.conversations.history({
          channel,
          limit: 200,
          include_all_metadata: true,
        });
        const m = (r.messages ?? []).find(
          (x) =>
            x.metadata?.event_type === SLACK_METADATA_TYPE &&
            (x.metadata.event_payload as { request?: unknown } | undefined)?.request === request,
        );
        return m?.ts ? { channel, ts: m.ts } : undefined;
      } catch {
        return undefined;
      }
    },
    async slack({ token, apiUrl, channel, ts, message, request }) {
      const { ErrorCode } = await loadSlackWebApi();
      const client = await slackClient(token, apiUrl);
      try {
        const common = { channel, text: message.text, blocks: message.blocks };
        const r = ts
          ? await client.chat.update({ ...common, ts })
          : await client.chat.postMessage({
              ...common,
              mrkdwn: false,
              unfurl_links: false,
              unfurl_media: false,
              ...(request
                ? { metadata: { event_type: SLACK_METADATA_TYPE, event_payload: { request } } }
                : {}),
            });
        if (!r.ok || typeof r.ts !== "string")
          throw new DeliveryError(`Slack answered ${r.error ?? "without a ts"}`, true);
        return { channel: typeof r.channel === "string" ? r.channel : channel, ts: r.ts };
      } catch (err) {
        if (err instanceof DeliveryError) throw err;
        const e = err as {
          code?: string;
          data?: { error?: string };
          statusCode?: number;
          retryAfter?: number;
        };
        if (e.code === ErrorCode.PlatformError) {
          const code = e.data?.error ?? "error";
          throw new DeliveryError(
            `Slack answered ${code}`,
            /ratelimited|internal_error|fatal_error|service_unavailable|request_timeout/.test(code),
          );
        }
        if (e.code === ErrorCode.RateLimitedError) {
          throw new DeliveryError("Slack rate-limited the call", true, (e.retryAfter ?? 1) * 1000);
        }
        if (e.code === ErrorCode.HTTPError) {
          throw new DeliveryError(
            `Slack answered HTTP ${e.statusCode}`,
            (e.statusCode ?? 500) >= 500,
          );
        }
        throw new DeliveryError(`could not reach Slack: ${(err as Error).message}`, true);
      }
    },
    async post(url, body, headers) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          body,
          headers,
          redirect: "manual",
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        throw new DeliveryError(
          `could not reach ${describeUrl(url)}: ${cause ?? (err as Error).name}`,
          true,
        );
      }
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return;
      const retryAfter = Number(response.headers.get("retry-after"));
      throw new DeliveryError(
        `${describeUrl(url)} answered HTTP ${response.status}`,
        response.status === 429 || response.status >= 500,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    },
  };
}

function silentLogger() {
  const noop = () => {};
  return {
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    setLevel: noop,
    getLevel: () => "error" as never,
    setName: noop,
  };
}
