import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InterlockConfig } from "../config/config.ts";
import type { Forge } from "../forge/forge.ts";
import { requestPath } from "../forge/refs.ts";
import type { FiledRequest } from "../lifecycle/file-request.ts";
import type { ExecutionReport } from "../lifecycle/execute.ts";
import { maskText } from "../masking/mask.ts";
import { recordOf } from "../proposal/request-file.ts";
import { sweepNotifications, type Transports } from "../notify/deliver.ts";
import {
  cardOf,
  type AnnouncedReview,
  type NotificationEvent,
  type RequestFacts,
} from "../notify/event.ts";
import type { GateResult } from "../lifecycle/gate-check.ts";
import { openStateOf } from "../lifecycle/status.ts";
import { recordedResult } from "../notify/local.ts";
import type { ActionCore } from "./run.ts";

/**
 * Notifications from the GitHub Action (docs/github.md, docs/notifications.md). A workflow run
 * keeps nothing between runs, and recording deliveries on GitHub would cost writes, so each run
 * announces only what it caused itself: the request run `filed` or `denied`, the execute run
 * `merged` and `executed` for each request it ran. Nothing is announced twice, because each of
 * those happens once: a request is filed once, executed at most once. A request's Slack
 * message is found again in Slack by its metadata and updated in place. What was delivered is
 * in the step's log, its summary and its `notified` output.
 *
 * Never throws and never fails the step: the action's own work is done before this runs.
 */
export async function announce(o: {
  readonly config: InterlockConfig;
  /** Gathered only when notifications are configured (it may read the forge). */
  readonly facts: () => RequestFacts[] | Promise<RequestFacts[]>;
  /** The events this run caused: only those are announced. */
  readonly only: (e: NotificationEvent) => boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  readonly core: ActionCore;
  readonly transports?: Transports;
}): Promise<void> {
  const n = o.config.notifications;
  if (n === undefined || n.routes.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), "interlock-outbox-"));
  try {
    const facts = await o.facts();
    if (facts.length === 0) return;
    const report = await sweepNotifications({
      config: n,
      facts,
      dir,
      env: o.env,
      now: o.now,
      only: o.only,
      ...(o.transports ? { transports: o.transports } : {}),
    });
    const lines: string[] = [];
    for (const d of report.delivered) {
      lines.push(`Told ${d.channel} (${d.recipient}): ${d.kind} of ${d.request}.`);
      o.core.info(lines.at(-1)!);
    }
    for (const d of report.undelivered) {
      o.core.warning(
        `Could not tell ${d.channel} (${d.recipient}) that ${d.request} was ${d.kind}: ${d.error ?? "?"}`,
      );
    }
    if (report.unconfigured.length > 0) {
      o.core.warning(
        `Not told (their secrets are not in this job's environment): ${report.unconfigured.join(", ")}. ` +
          "Pass them to the Interlock step as env (docs/notifications.md).",
      );
    }
    o.core.setOutput(
      "notified",
      JSON.stringify([...report.delivered, ...report.undelivered].map(publicRecord)),
    );
    if (lines.length > 0)
      await o.core.summary(`\n**Notified**\n\n${lines.map((l) => `- ${l}`).join("\n")}\n`);
  } catch (err) {
    o.core.warning(maskText(`Notifications failed: ${(err as Error)?.message ?? String(err)}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function publicRecord(d: {
  event: string;
  kind: string;
  request: string;
  channel: string;
  recipient: string;
  status: string;
  attempts: number;
  error?: string | undefined;
}) {
  return {
    event: d.event,
    kind: d.kind,
    request: d.request,
    channel: d.channel,
    recipient: d.recipient,
    status: d.status,
    attempts: d.attempts,
    ...(d.error ? { error: d.error } : {}),
  };
}

/** Where a reviewer looks at request `id` on GitHub: its pull request, or the search for it. */
function reviewUrl(env: NodeJS.ProcessEnv, id: string, url?: string): string | undefined {
  if (url) return url;
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo } = env;
  if (!server || !repo) return undefined;
  return `${server}/${repo}/pulls?q=${encodeURIComponent(`is:pr head:interlock/${id}`)}`;
}

/** What a request run announces: the request as filed (masked), denied or waiting for reviews. */
export function filedFacts(filed: FiledRequest, env: NodeJS.ProcessEnv): RequestFacts[] {
  const record = recordOf(filed.content);
  if (record === undefined) return [];
  const url = reviewUrl(env, filed.id, filed.url);
  const deny = filed.evaluation.decision.deny;
  return [
    {
      card: cardOf(record, { ...(url ? { url } : {}), commands: [] }),
      state: filed.denied ? "denied" : "pending",
      summary: maskText(
        filed.denied ? `denied by policy: ${deny.join("; ")}` : "waits for its reviewers",
      ),
      denied: filed.denied,
      reviews: [],
    },
  ];
}

/** What an execute run announces: each request it ran (or refused), as recorded on the default branch. */
export async function executedFacts(
  reports: readonly ExecutionReport[],
  forge: Pick<Forge, "readDefault">,
  env: NodeJS.ProcessEnv,
  now: Date,
): Promise<RequestFacts[]> {
  const out: RequestFacts[] = [];
  for (const r of reports) {
    if (r.status !== "succeeded" && r.status !== "failed" && r.status !== "refused") continue;
    const record = await forge
      .readDefault(requestPath(r.action, r.id))
      .then(recordOf, () => undefined);
    if (record === undefined) continue;
    const url = reviewUrl(env, r.id);
    const at = now.toISOString();
    // The approvals the executor counted (its result records them): the Slack message, rebuilt
    // from these facts, keeps saying who approved.
    const result = await recordedResult(forge, r.id).catch(() => undefined);
    const reviews: AnnouncedReview[] = (result?.approvers ?? []).map((who) => ({
      who,
      state: "approved",
      at: record.requested_at,
      commit: "",
      counted: true,
    }));
    out.push({
      card: cardOf(record, { ...(url ? { url } : {}), commands: [] }),
      state: r.status === "refused" ? "invalid" : "executed",
      summary: maskText(r.detail),
      denied: false,
      reviews,
      // "merged" announces an approved merge: never one the executor refused.
      ...(r.status === "refused" ? {} : { merged: { at } }),
      executed: { at, outcome: r.status },
    });
  }
  return out;
}

/**
 * What a gate run announces after a relayed review: the request's verified reviews (the
 * Slack message shows them all), of which only the named reviewer's latest is due.
 */
export function reviewedFacts(
  gate: GateResult,
  env: NodeJS.ProcessEnv,
  url?: string,
): RequestFacts {
  const { verdict } = gate;
  const counted = new Set(
    verdict.approvals.filter((a) => a.counted).map((a) => a.who.toLowerCase()),
  );
  const reviews: AnnouncedReview[] = gate.collected.snapshot.reviews
    .filter(
      (r) => r.verified && !r.isBot && (r.state === "approved" || r.state === "changes_requested"),
    )
    .map((r) => ({
      who: r.who,
      state: r.state as AnnouncedReview["state"],
      at: r.at.toISOString(),
      commit: r.commit,
      ...(r.state === "approved" ? { counted: counted.has(r.who.toLowerCase()) } : {}),
    }));
  const review = reviewUrl(env, gate.collected.record.id, url);
  return {
    card: cardOf(gate.collected.record, { ...(review ? { url: review } : {}), commands: [] }),
    state: openStateOf(verdict),
    summary: maskText(verdict.summary),
    denied: false,
    reviews,
  };
}

/** The event of `reviewer`'s latest verified review among a request's facts, if it is one to announce. */
export function latestReviewEvent(
  f: RequestFacts,
  reviewer: string,
): (e: NotificationEvent) => boolean {
  const mine = f.reviews
    .filter((r) => r.who.toLowerCase() === reviewer.toLowerCase())
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .at(-1);
  return (e) =>
    mine !== undefined &&
    (e.kind === "approved" || e.kind === "rejected") &&
    e.actor === mine.who &&
    e.at === mine.at;
}
