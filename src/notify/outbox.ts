import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { NOTIFICATIONS_SUBDIR } from "../settings/home.ts";
import { EVENT_KINDS } from "./config.ts";

/**
 * The record of every notification delivery, kept in the approvals repository's directory of
 * the Interlock home (never in Git: delivering costs no forge write): which event went to which
 * channel, when, after how many attempts, and the id of each request's Slack message so that it
 * is updated in place. One JSON file, replaced atomically; one sweep at a time holds the lock.
 */

export const OUTBOX_FILE = "deliveries.json";
export const LOCK_FILE = "sweep.lock";
/** A lock older than this is from a sweep that died: it is taken over. */
export const STALE_LOCK_MS = 120_000;

const deliverySchema = z.strictObject({
  event: z.string(),
  kind: z.enum(EVENT_KINDS),
  request: z.string(),
  channel: z.string(),
  channel_type: z.enum(["slack", "teams", "webhook"]),
  /** Where it went, without secrets: a Slack channel id, a URL's host. */
  recipient: z.string(),
  status: z.enum(["delivered", "retrying", "failed", "skipped"]),
  attempts: z.number().int().min(0),
  occurred_at: z.string(),
  first_attempt_at: z.string().optional(),
  last_attempt_at: z.string().optional(),
  next_attempt_at: z.string().optional(),
  delivered_at: z.string().optional(),
  error: z.string().optional(),
});
export type DeliveryRecord = z.infer<typeof deliverySchema>;

const outboxSchema = z.strictObject({
  version: z.literal(1),
  created_at: z.string(),
  /** By `<event id>/<channel name>`. */
  deliveries: z.record(z.string(), deliverySchema),
  /** Each request's Slack message, by `<channel name>/<request id>`. */
  slack: z.record(z.string(), z.strictObject({ channel: z.string(), ts: z.string() })),
});
export type OutboxState = z.infer<typeof outboxSchema>;

export const deliveryKey = (event: string, channel: string) => `${event}/${channel}`;
export const slackKey = (channel: string, request: string) => `${channel}/${request}`;

/** The outbox in `dir`, or a new empty one. A damaged file is set aside, never trusted half. */
export function readOutbox(dir: string, now: Date): OutboxState {
  const file = join(dir, OUTBOX_FILE);
  const fresh: OutboxState = {
    version: 1,
    created_at: now.toISOString(),
    deliveries: {},
    slack: {},
  };
  if (!existsSync(file)) return fresh;
  try {
    return outboxSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    renameSync(file, `${file}.damaged-${now.getTime()}`);
    return fresh;
  }
}

export function writeOutbox(dir: string, state: OutboxState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, OUTBOX_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Takes the sweep lock; undefined when another sweep holds it (then this one does nothing:
 * never wait). Returns the release function.
 */
export function tryLock(dir: string, now: Date): (() => void) | undefined {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeFileSync(fd, `${process.pid} ${now.toISOString()}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue;
      }
      if (age < STALE_LOCK_MS) return undefined;
      rmSync(file, { force: true });
    }
  }
  return undefined;
}

/** Where a repository's deliveries are recorded: its directory of the Interlock home. */
export function outboxDir(local: { readonly home: string }): string {
  return join(local.home, NOTIFICATIONS_SUBDIR);
}

/** Deliveries of one request, oldest first (for `show`). */
export function deliveriesOf(outbox: OutboxState, request: string): DeliveryRecord[] {
  return Object.values(outbox.deliveries)
    .filter((d) => d.request === request)
    .sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0));
}

/** The recorded deliveries of one request of a local repository (for `show`), oldest first. */
export function localDeliveries(
  local: { readonly home: string },
  id: string,
  now: Date,
): DeliveryRecord[] {
  return deliveriesOf(readOutbox(outboxDir(local), now), id);
}
