import { parse as parseYaml } from "yaml";
import type { LocalRepo } from "../cli/local.ts";
import type { LocalForge } from "../forge/local/local-forge.ts";
import type { ForgeReview } from "../forge/forge.ts";
import { currentWithdrawal } from "../lifecycle/withdraw.ts";
import { resultPath } from "../forge/refs.ts";
import { requestStatuses, type RequestStatus } from "../lifecycle/status.ts";
import {
  configAt,
  evidenceAtMerge,
  mergeFromCommit,
  newEvidenceCache,
} from "../evidence/evidence.ts";
import { maskText } from "../masking/mask.ts";
import { sweepNotifications, type SweepReport, type Transports } from "./deliver.ts";
import { cardOf, localReviewCommands, type AnnouncedReview, type RequestFacts } from "./event.ts";
import { outboxDir, type DeliveryRecord } from "./outbox.ts";
import type { NotificationsConfig } from "./config.ts";

/**
 * Notifications on the local forge: the facts of every request, read from the repository
 * (request state from the lifecycle's one implementation, src/lifecycle/status.ts), and the
 * sweep every command runs after its own work.
 */

/** A request's recorded result on the default branch: its outcome and when it finished. */
export interface RecordedResult {
  readonly outcome: string;
  readonly finished_at: string | null;
  readonly output: string | null;
  readonly error: string | null;
  readonly exit_code: number | null;
  readonly http_status: number | null;
  /** Who the executor judged had approved it (the approvals that counted at the merge). */
  readonly approvers: readonly string[];
}

/** Reads results/<id>.yaml (masked when it was written; masked again here). */
export async function recordedResult(
  forge: Pick<LocalForge, "readDefault">,
  id: string,
): Promise<RecordedResult | undefined> {
  const text = await forge.readDefault(resultPath(id));
  if (text === undefined) return undefined;
  let v: Record<string, unknown>;
  try {
    v = (parseYaml(text, { maxAliasCount: 0 }) ?? {}) as Record<string, unknown>;
  } catch {
    return {
      outcome: "unreadable",
      finished_at: null,
      output: null,
      error: null,
      exit_code: null,
      http_status: null,
      approvers: [],
    };
  }
  const str = (x: unknown) => (typeof x === "string" ? maskText(x) : null);
  const num = (x: unknown) => (typeof x === "number" ? x : null);
  return {
    outcome: str(v.outcome) ?? "unknown",
    finished_at: str(v.finished_at) ?? str(v.executed_at) ?? null,
    output: str(v.output),
    error: str(v.error) ?? str(v.reason),
    exit_code: num(v.exit_code),
    http_status: num(v.http_status),
    approvers: Array.isArray(v.approvers)
      ? v.approvers.filter((a): a is string => typeof a === "string").map(maskText)
      : [],
  };
}

/**
 * The verified, signed reviews of a request (open or merged); unverified ones are never
 * announced or reported (anyone can write a tag).
 */
export async function verifiedReviews(forge: LocalForge, id: string): Promise<ForgeReview[]> {
  let ctx = await forge.proposal(id);
  if (ctx === undefined) {
    const m = (await forge.mergedRequests()).find((x) => x.id === id);
    if (m !== undefined) {
      const ev = await forge.evidence(m);
      if (!("refused" in ev)) ctx = ev;
    }
  }
  if (ctx === undefined) return [];
  return (await ctx.reviews()).filter(
    (r) => r.verified && !r.isBot && (r.state === "approved" || r.state === "changes_requested"),
  );
}

/**
 * Who approved so that it counted: the gate's verdict now for an open request, the gate's
 * verdict on the proposal as it was merged for a merged one (never merely who signed an
 * approval: a sponsor's signed approval is recorded and does not count).
 */
export async function countedApprovers(forge: LocalForge, s: RequestStatus): Promise<string[]> {
  if (s.verdict) return s.verdict.approvals.filter((a) => a.counted).map((a) => a.who);
  const m = (await forge.mergedRequests()).find((x) => x.id === s.id);
  if (m === undefined) return [];
  const source = forge.evidenceSource();
  try {
    const merge = await mergeFromCommit(source.reader, m);
    if ("refused" in merge) return [];
    const ev = await evidenceAtMerge(source.reader, merge, { now: m.mergedAt });
    return ev.ok ? ev.approvers : [];
  } finally {
    source.close();
  }
}

/** What notifications know of each request with a readable record. */
export async function localFacts(
  forge: LocalForge,
  statuses: readonly RequestStatus[],
  repoArg?: string,
): Promise<RequestFacts[]> {
  const merged = new Map((await forge.mergedRequests()).map((m) => [m.id, m]));
  const out: RequestFacts[] = [];
  for (const s of statuses) {
    if (s.record === undefined) continue;
    const counted =
      s.state === "denied"
        ? []
        : s.verdict || merged.has(s.id)
          ? await countedApprovers(forge, s)
          : [];
    const reviews: AnnouncedReview[] =
      s.state === "denied"
        ? []
        : (await verifiedReviews(forge, s.id)).map((r) => ({
            who: r.who,
            state: r.state as AnnouncedReview["state"],
            at: r.at.toISOString(),
            commit: r.commit,
            ...(r.state === "approved" && (s.verdict || merged.has(s.id))
              ? { counted: counted.includes(r.who) }
              : {}),
          }));
    const result =
      s.state === "executed" || s.state === "invalid"
        ? await recordedResult(forge, s.id)
        : undefined;
    // "merged" announces an approved merge: never for one the gate did not hold at (shown
    // invalid) or that the executor refused.
    const m = s.state === "invalid" || result?.outcome === "refused" ? undefined : merged.get(s.id);
    const withdrawal =
      s.state === "withdrawn" ? (await currentWithdrawal(forge, s.id)).withdrawal : undefined;
    out.push({
      card: cardOf(s.record, { commands: localReviewCommands(s.id, repoArg) }),
      state: s.state,
      summary: maskText(s.missing),
      denied: s.state === "denied",
      reviews,
      ...(m ? { merged: { at: m.mergedAt.toISOString() } } : {}),
      ...(result
        ? {
            executed: {
              at: result.finished_at ?? m?.mergedAt.toISOString() ?? s.record.requested_at,
              outcome: result.outcome,
            },
          }
        : {}),
      ...(s.state === "expired" && s.expires_at ? { expired: { at: s.expires_at } } : {}),
      ...(withdrawal ? { withdrawn: { at: withdrawal.at.toISOString(), by: withdrawal.by } } : {}),
    });
  }
  return out;
}

/**
 * The notifications the default branch configures, read only where the trust chain holds: the
 * config is a trust input like any other, so a writer's plain commit to it neither silences
 * nor redirects anything (it breaks the chain, and nothing is sent until the chain holds).
 * Undefined when it configures none.
 */
async function trustedNotifications(forge: LocalForge): Promise<NotificationsConfig | undefined> {
  const source = forge.evidenceSource();
  try {
    const tip = await source.reader.commit(`refs/heads/${forge.defaultBranch}`);
    if (tip === undefined) return undefined;
    const trust = await source.trust?.();
    const untrusted = trust === undefined ? undefined : trust.brokenAt(tip.oid);
    if (untrusted !== undefined) {
      throw new Error(
        `the configuration on ${forge.defaultBranch} is not trusted (${untrusted}): nothing is sent until the trust chain holds`,
      );
    }
    const config = await configAt(source.reader, tip.oid, newEvidenceCache());
    if (config instanceof Error) throw config;
    const n = config.notifications;
    return n === undefined || n.routes.length === 0 ? undefined : n;
  } finally {
    source.close();
  }
}

/**
 * The sweep of a local approvals repository; undefined when it configures no notifications.
 * Never throws: a failure is returned as an undelivered record with its reason.
 */
export async function sweepLocal(
  local: Pick<LocalRepo, "forge" | "home">,
  o: {
    now: () => Date;
    env: NodeJS.ProcessEnv;
    budgetMs?: number;
    transports?: Transports;
    repoArg?: string;
  },
): Promise<SweepReport | undefined> {
  try {
    const config = await trustedNotifications(local.forge);
    if (config === undefined) return undefined;
    const statuses = await requestStatuses(local.forge, o.now());
    const facts = await localFacts(local.forge, statuses, o.repoArg);
    return await sweepNotifications({
      config,
      facts,
      dir: outboxDir(local),
      env: o.env,
      now: o.now,
      ...(o.budgetMs === undefined ? {} : { budgetMs: o.budgetMs }),
      ...(o.transports ? { transports: o.transports } : {}),
    });
  } catch (err) {
    const at = o.now().toISOString();
    const failure: DeliveryRecord = {
      event: "-",
      kind: "filed",
      request: "-",
      channel: "-",
      channel_type: "webhook",
      recipient: "-",
      status: "retrying",
      attempts: 0,
      occurred_at: at,
      error: maskText(`the sweep failed: ${(err as Error)?.message ?? String(err)}`),
    };
    return { locked: false, delivered: [], undelivered: [failure], deferred: 0, unconfigured: [] };
  }
}
