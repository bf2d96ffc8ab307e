import type { InterlockConfig } from "../config/config.ts";
import type { Withdrawal } from "../forge/local/withdrawal.ts";
import { directoryOf } from "../identity/directory.ts";
import type { Codeowners } from "../gate/codeowners.ts";
import { evaluateGate } from "../gate/gate.ts";
import type {
  GateProposal,
  GateReview,
  GateRuleId,
  GateSnapshot,
  GateVerdict,
  RequestAuthentication,
  Unreadable,
} from "../gate/snapshot.ts";
import type { ParsedRequestFile } from "../proposal/request-file.ts";
import type { RequesterFields } from "../identity/requester.ts";
import { sha256 } from "../request/canonical.ts";
import type { PolicyAtBase, RequestFileParse } from "./evidence.ts";
import { filingTime } from "./time.ts";

/**
 * The one rule for "the evidence at merge", free of I/O: every forge gathers the facts its own
 * way (the local forge from committed Git objects and signed tags, GitHub from its API and the
 * App's records) and this function alone judges them. So the gate, `merge`, the executor and
 * the audit apply the same rules on every forge: the request as filed is the record; what
 * landed must be byte-identical to it; expiry is the filing time plus the decision's TTL, never
 * a stored field; the decision must come from the policy committed at the merge's base; a
 * deleted review blocks; and the gate's rules decide the rest.
 */

/** A file's bytes, with its object id when the forge knows it. */
export interface FileBytes {
  readonly oid?: string;
  readonly content: Buffer;
}

/** A request file: its bytes and what the one parser makes of them. */
export interface RequestFileFact {
  readonly blob: FileBytes;
  readonly parse: RequestFileParse;
}

export interface EvidenceFacts {
  readonly id: string;
  /** The request file's path. */
  readonly path: string;
  /** The default-branch commit every trust input was read at (for messages). */
  readonly base: string;
  /** When it merged (or is merging): the gate is judged then. */
  readonly at: Date;
  /** The configuration committed at the base. */
  readonly config: InterlockConfig;
  readonly codeowners: Codeowners | null;
  /** The policy committed at the base. */
  readonly policy: PolicyAtBase;
  /** The request file as Interlock filed it (the baseline); absent when nothing vouches for one. */
  readonly original?: RequestFileFact;
  /** The request file as it landed (the merge) or stands (the proposal head). */
  readonly landed?: RequestFileFact;
  /**
   * When Interlock filed it, as the forge vouches for it (local: the signed baseline commit's
   * time; GitHub: the time of the commit the App filed it with), or why that is unknown.
   */
  readonly filed: { readonly at: Date } | { readonly unknown: string };
  /** Who filed it, as the forge verified it. */
  readonly authentication: RequestAuthentication & { readonly requester?: RequesterFields };
  readonly proposal: GateProposal;
  /** Reviews given until `at`. */
  readonly reviews: readonly GateReview[];
  readonly teams: Readonly<Record<string, readonly string[]>>;
  /** The requester's verified withdrawal, when one counts. */
  readonly withdrawal?: Withdrawal;
  readonly ignoredWithdrawals: readonly string[];
  /** Reviews that a signed review shows existed and that are gone now. */
  readonly deletedReviews: readonly string[];
  /** What the forge was refused while gathering (GitHub: 403/404). */
  readonly unreadable?: Unreadable;
}

/** What the evidence shows about one merge: a verdict that explains itself, or a refusal. */
export type EvidenceVerdict =
  | {
      readonly ok: true;
      /** The gate held and every evidence check passed. */
      readonly satisfied: boolean;
      /** The gate verdict, with the evidence checks folded into its rules. */
      readonly verdict: GateVerdict;
      readonly snapshot: GateSnapshot;
      /** The request file as Interlock filed it (the baseline), else as it landed. */
      readonly record: ParsedRequestFile;
      readonly path: string;
      readonly config: InterlockConfig;
      /** The filing time (the baseline commit's time as recorded by Interlock). */
      readonly filedAt: Date;
      /** filedAt + the decision's TTL: the only expiry Interlock trusts. */
      readonly expiresAt: Date;
      readonly policy: PolicyAtBase;
      readonly approvers: string[];
      /** The requester's verified withdrawal, when one counts: the request never passes. */
      readonly withdrawal?: Withdrawal;
      /** Withdrawal records that did not verify: reported, never counted. */
      readonly ignoredWithdrawals: readonly string[];
    }
  | { readonly ok: false; readonly reason: string };

/** Judges gathered facts: the only place the evidence rules are written. */
export function judgeEvidence(f: EvidenceFacts, now: Date): EvidenceVerdict {
  const original = f.original && "record" in f.original.parse ? f.original.parse : undefined;
  const landed = f.landed && "record" in f.landed.parse ? f.landed.parse : undefined;
  const trusted = original ?? landed;
  if (trusted === undefined) {
    const why =
      f.landed && "error" in f.landed.parse ? f.landed.parse.error : "the request file is missing";
    return { ok: false, reason: `cannot read the request file ${f.path}: ${why}` };
  }
  const record = trusted.record;
  const declared = record.request.requester;
  const auth = f.authentication;
  const time =
    "at" in f.filed
      ? filingTime(f.filed.at, record, now)
      : {
          filedAt: new Date(0),
          expiresAt: new Date(0),
          problems: [`when ${f.id} was filed is not known (${f.filed.unknown})`],
        };
  const snapshot: GateSnapshot = {
    now: f.at,
    request: {
      id: f.id,
      path: f.path,
      requester: auth.verified && auth.requester ? auth.requester : declared,
      authentication: auth.verified
        ? { verified: true, signer: auth.signer, detail: auth.detail }
        : { verified: false, reason: auth.reason },
      decision: record.decision,
      expiresAt: time.expiresAt,
      ...(f.withdrawal ? { withdrawn: true } : {}),
      ...(f.ignoredWithdrawals.length > 0 ? { ignoredWithdrawals: f.ignoredWithdrawals } : {}),
      // What Interlock filed; "" when nothing vouches for a filing, which never matches.
      recordedDigest: original ? original.record.digest : "",
      // Byte-identical to what Interlock filed, or it is not the filed request.
      actualDigest: landedDigest(f, record.digest),
    },
    proposal: f.proposal,
    reviews: f.reviews,
    teams: f.teams,
    codeowners: f.codeowners,
    identities: directoryOf(f.config),
    ...(f.unreadable && (f.unreadable.pushers !== undefined || f.unreadable.teams !== undefined)
      ? { unreadable: f.unreadable }
      : {}),
  };
  let verdict = evaluateGate(snapshot);
  const base7 = f.base.slice(0, 7);
  if (record.decision.revision !== f.policy.revision) {
    verdict = refuse(
      verdict,
      "decision",
      `the decision was made by policy ${short(record.decision.revision)}, but the policy ` +
        `committed at ${base7} is ${short(f.policy.revision)}: the request was decided by a policy ` +
        "that is not the repository's (re-file it under the committed policy)",
    );
  }
  for (const problem of time.problems) verdict = refuse(verdict, "not-expired", problem);
  if (f.deletedReviews.length > 0) {
    verdict = refuse(
      verdict,
      "no-rejection",
      `a review of ${f.id} was deleted (${[...new Set(f.deletedReviews)].join(", ")}, which is no longer ` +
        "in the repository): what it said cannot be known, so the request cannot pass; restore " +
        "the review tag or file the request again",
    );
  }
  return {
    ok: true,
    satisfied: verdict.satisfied,
    verdict,
    snapshot,
    record,
    path: f.path,
    config: f.config,
    filedAt: time.filedAt,
    expiresAt: time.expiresAt,
    policy: f.policy,
    approvers: verdict.approvals.filter((a) => a.counted).map((a) => a.who),
    ...(f.withdrawal ? { withdrawal: f.withdrawal } : {}),
    ignoredWithdrawals: f.ignoredWithdrawals,
  };
}

/**
 * The digest of what landed, as the gate compares it with the recorded one: the recorded digest
 * only when the landed bytes are exactly the bytes Interlock filed; otherwise the digest over
 * the landed content (or over its bytes, when only formatting or comments changed).
 */
function landedDigest(f: EvidenceFacts, recorded: string): string {
  const landed = f.landed?.blob;
  if (landed === undefined) return "missing where it landed";
  const original = f.original?.blob;
  if (
    original !== undefined &&
    ((original.oid !== undefined && landed.oid === original.oid) ||
      original.content.equals(landed.content))
  ) {
    return recorded;
  }
  const parsed = f.landed!.parse;
  if ("record" in parsed && parsed.actualDigest !== recorded) return parsed.actualDigest;
  return sha256(landed.content);
}

/** Folds an evidence problem into the gate verdict's rule `rule`. */
function refuse(v: GateVerdict, rule: GateRuleId, detail: string): GateVerdict {
  const rules = v.rules.map((r) =>
    r.rule === rule ? { rule, ok: false, detail: r.ok ? detail : `${r.detail}; ${detail}` } : r,
  );
  return {
    ...v,
    satisfied: false,
    autoApproved: false,
    rules,
    summary: v.satisfied ? `Not satisfied: ${detail}` : v.summary,
  };
}

function short(s: string): string {
  return s.replace(/^sha256:/, "").slice(0, 12);
}
