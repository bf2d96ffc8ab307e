import {
  EMPTY_DIRECTORY,
  excludedFromApproving,
  isBotPrincipal,
  principalKey,
  spellingKey,
  type IdentityDirectory,
} from "../identity/directory.ts";
import { REQUESTS_DIR, RESULTS_DIR } from "../forge/refs.ts";
import { terminalText } from "../presentation/escape.ts";
import { ownersFor, type Codeowners, type CodeownersRule } from "./codeowners.ts";
import {
  GATE_RULES,
  GONE_COMMIT,
  type GateApproval,
  type GateApprovalGroup,
  type GateRequester,
  type GateReview,
  type GateRuleId,
  type GateSnapshot,
  type GateVerdict,
} from "./snapshot.ts";

/**
 * The approval gate (docs/gate.md) as a pure function of a snapshot. Every rule is evaluated and
 * reported, never short-circuited: a reviewer wants the whole picture, and the verdict is data
 * that explains itself (which rules hold, which approvals counted, and why others did not).
 *
 * Fail closed throughout: an unknown team has no members, a CODEOWNERS with errors blocks, an
 * invalid expiry has expired, an empty digest is not a match.
 */

/** The detail of every rule that `auto_approve: true` satisfies (rules 2–5). */
export const AUTO_APPROVED_DETAIL = "auto-approved by policy (recorded)";

const AUTO_APPROVED_RULES: ReadonlySet<GateRuleId> = new Set([
  "groups",
  "codeowners",
  "distinct-approvers",
  "fresh-approvals",
  "no-rejection",
]);

export function evaluateGate(s: GateSnapshot): GateVerdict {
  const autoApproved = s.request.decision.allow && s.request.decision.auto_approve;
  const owners = ownerResolver(s.teams);
  const reviews = assessReviews(s);

  // The approvals that may count: latest review of an eligible person, given on the head.
  const candidates = reviews
    .filter(isCandidate)
    .map((a) => ({ person: a.person, who: a.review.who }));
  const groups = countGroups(s.request.decision.approvals.groups, candidates, owners);
  const codeowners = checkCodeowners(s.codeowners, s.request.path, candidates, owners);
  const requirementsMet = groups.ok && codeowners.ok;

  const computed: Record<GateRuleId, RuleOutcome> = {
    decision: checkDecision(s),
    "signed-request": checkAuthentication(s),
    "not-expired": checkExpiry(s.now, s.request.expiresAt),
    "not-withdrawn": s.request.withdrawn
      ? {
          ok: false,
          detail: "the requester withdrew it; it can never be merged or run",
          headline: "the requester withdrew it",
        }
      : {
          ok: true,
          detail:
            s.request.ignoredWithdrawals && s.request.ignoredWithdrawals.length > 0
              ? `not withdrawn (${s.request.ignoredWithdrawals.join("; ")})`
              : "not withdrawn",
        },
    groups: withUnreadableTeams(
      groups,
      s.request.decision.approvals.groups.flatMap((g) => g.owners),
      s,
    ),
    codeowners: withUnreadableTeams(
      codeowners,
      (s.codeowners === null ? undefined : ownersFor(s.codeowners, s.request.path))?.owners ?? [],
      s,
    ),
    "distinct-approvers": checkDistinct(reviews, requirementsMet),
    "fresh-approvals": checkFresh(reviews, requirementsMet, s.proposal.headCommit),
    "no-rejection": checkRejections(reviews),
    "single-file": checkSingleFile(s),
    untampered: checkDigest(s.request.recordedDigest, s.request.actualDigest),
  };
  const outcomes = GATE_RULES.map((rule) =>
    autoApproved && AUTO_APPROVED_RULES.has(rule)
      ? { rule, ok: true, detail: AUTO_APPROVED_DETAIL }
      : {
          rule,
          ok: computed[rule].ok,
          detail: computed[rule].detail,
          headline: computed[rule].headline,
        },
  );

  const approvals = reviews.map((a) =>
    describeReview(a, {
      groups,
      codeowners,
      requiredGroups: s.request.decision.approvals.groups,
      path: s.request.path,
      autoApproved,
    }),
  );
  const satisfied = outcomes.every((o) => o.ok);
  const ignored = reviews.filter((a) => a.kind === "unverified");
  return {
    satisfied,
    rules: outcomes.map(({ rule, ok, detail }) => ({ rule, ok, detail })),
    approvals,
    autoApproved,
    summary: summarise(satisfied, autoApproved, outcomes, groups, reviews, approvals, ignored),
  };
}

/**
 * An unmet rule whose owners include teams the forge could not read says so, with what to
 * grant: "0 of 1" alone would send a reviewer looking for approvals that cannot count.
 */
function withUnreadableTeams<T extends RuleOutcome>(
  outcome: T,
  owners: readonly string[],
  s: GateSnapshot,
): T {
  const unreadable = s.unreadable?.teams;
  if (outcome.ok || unreadable === undefined) return outcome;
  const keys = new Set(owners.map(spellingKey));
  const notes = Object.entries(unreadable)
    .filter(([handle]) => keys.has(spellingKey(handle)))
    .map(([handle, why]) => `${handle} could not be read: ${why}`);
  if (notes.length === 0) return outcome;
  return { ...outcome, detail: `${outcome.detail}; ${notes.join("; ")}` };
}

/** A rule's result plus, when it fails, the short phrase the summary sentence uses. */
interface RuleOutcome {
  readonly ok: boolean;
  readonly detail: string;
  /** Phrase for the summary when not ok; absent when the summary covers it another way. */
  readonly headline?: string;
}

// ---------------------------------------------------------------------------------------------
// Identities

/** The directory a snapshot is judged with (an empty one when the forge knows nobody). */
function directoryOf(s: GateSnapshot): IdentityDirectory {
  return s.identities ?? EMPTY_DIRECTORY;
}

function shortSha(commit: string): string {
  if (commit === GONE_COMMIT) return "a commit that no longer exists";
  return commit.slice(0, 7);
}

/** "agent's sponsor", "pipeline's sponsor", "requester's sponsor" for a human requester. */
function sponsorOf(requester: GateRequester): string {
  return requester.kind === "human" ? "the requester's sponsor" : `the ${requester.kind}'s sponsor`;
}

/** Who the members of an owner handle are, and whether the handle is known at all. */
type OwnerResolver = (owner: string) => { readonly members: ReadonlySet<string>; known: boolean };

/**
 * Resolves owner handles through the snapshot's teams. A handle listed in `teams` is its
 * members; an unlisted "@org/team" has no members (unknown, fail closed); an unlisted "@user"
 * or e-mail is that one person.
 */
function ownerResolver(teams: GateSnapshot["teams"]): OwnerResolver {
  const index = new Map<string, Set<string>>();
  for (const [handle, members] of Object.entries(teams)) {
    const key = spellingKey(handle);
    const set = index.get(key) ?? new Set<string>();
    for (const m of members) set.add(spellingKey(m));
    index.set(key, set);
  }
  return (owner) => {
    const key = spellingKey(owner);
    const members = index.get(key);
    if (members) return { members, known: true };
    if (key.includes("/")) return { members: new Set(), known: false };
    return { members: new Set([key]), known: true };
  };
}

function isMemberOfAny(c: Candidate, owners: readonly string[], resolve: OwnerResolver): boolean {
  const handle = spellingKey(c.who);
  return owners.some((o) => resolve(o).members.has(handle));
}

// ---------------------------------------------------------------------------------------------
// Reviews: which one of each person's reviews matters, and what disqualifies it

/** Why an approval does not count, long for the approval's `why`, short for the summary. */
interface Reason {
  readonly long: string;
  readonly short: string;
}

/** One review, classified. Only a person's latest approval or rejection is considered. */
type Assessed =
  | { readonly kind: "superseded"; readonly review: GateReview; readonly by: GateReview }
  | { readonly kind: "unverified"; readonly review: GateReview; readonly reason: string }
  | { readonly kind: "comment"; readonly review: GateReview }
  | { readonly kind: "dismissed"; readonly review: GateReview }
  | {
      readonly kind: "rejection";
      readonly review: GateReview;
      /** Empty when the reviewer is eligible, i.e. the rejection blocks. */
      readonly ineligible: readonly Reason[];
    }
  | {
      readonly kind: "approval";
      readonly review: GateReview;
      readonly person: string;
      readonly ineligible: readonly Reason[];
      readonly stale: Reason | null;
    };

type AssessedApproval = Extract<Assessed, { kind: "approval" }>;

/** An approval that may count: eligible reviewer, given on the head commit. */
function isCandidate(a: Assessed): a is AssessedApproval {
  return a.kind === "approval" && a.ineligible.length === 0 && a.stale === null;
}

/**
 * Orders reviews by time and classifies each. Only verified reviews exist for the gate: an
 * unverified record is reported and ignored, and never supersedes anything. A person's latest
 * verified approval, rejection or dismissal supersedes their earlier ones, except that a
 * rejection stands until the same person approves the current head (an approval of an older
 * commit does not lift it); comments neither supersede nor are superseded.
 */
function assessReviews(s: GateSnapshot): Assessed[] {
  const dir = directoryOf(s);
  const ordered = s.reviews
    .map((review, index) => ({ review, index }))
    .sort((a, b) => timeOf(a.review.at) - timeOf(b.review.at) || a.index - b.index)
    .map((x) => x.review);
  const head = s.proposal.headCommit;
  const reviews = ordered.map((r) => standingRejection(r, s));

  const latest = new Map<string, GateReview>();
  for (const r of reviews) {
    if (r.state === "commented" || !r.verified) continue;
    const person = principalKey(dir, r.who);
    const prior = latest.get(person);
    if (prior?.state === "changes_requested" && r.state === "approved" && r.commit !== head) {
      continue;
    }
    latest.set(person, r);
  }

  return reviews.map((review): Assessed => {
    if (!review.verified) {
      const reason = review.unverifiedReason ?? "the forge could not verify who gave it";
      return { kind: "unverified", review, reason };
    }
    const person = principalKey(dir, review.who);
    if (review.state === "commented") return { kind: "comment", review };
    const last = latest.get(person);
    if (last !== undefined && last !== review) return { kind: "superseded", review, by: last };
    if (review.state === "dismissed") return { kind: "dismissed", review };
    const ineligible = disqualifications(review, s);
    if (review.state === "changes_requested") return { kind: "rejection", review, ineligible };
    const stale = review.commit === head ? null : staleReason(review, head);
    return { kind: "approval", review, person, ineligible, stale };
  });
}

/**
 * A dismissed rejection still stands when whoever dismissed it could not have approved the
 * request (the same disqualifications as an approval: requester, sponsor, author, pusher, bot),
 * or when the forge could not say who dismissed what: dismissing a reviewer's objection is a
 * way to approve.
 */
function standingRejection(r: GateReview, s: GateSnapshot): GateReview {
  if (r.state !== "dismissed" || r.dismissal === undefined) return r;
  const { by, byBot, was } = r.dismissal;
  if (was !== undefined && was !== "changes_requested") return r;
  if (by !== undefined) {
    const asDismisser: GateReview = { ...r, who: by, isBot: byBot, canApprove: true };
    if (disqualifications(asDismisser, s).length === 0) return r;
  }
  return { ...r, state: "changes_requested" };
}

function timeOf(d: Date): number {
  const t = d.getTime();
  return Number.isFinite(t) ? t : 0;
}

/** Everything about the reviewer that stops their approval from counting (rule distinct-approvers, docs/gate.md). */
function disqualifications(review: GateReview, s: GateSnapshot): Reason[] {
  const dir = directoryOf(s);
  const who = review.who;
  const person = principalKey(dir, who);
  const { requester } = s.request;
  const reasons: Reason[] = [];
  for (const e of excludedFromApproving(dir, requester)) {
    if (e.key !== person) continue;
    if (e.role === "requester") {
      reasons.push({
        long: `${who} is the requester (${e.source}), and nobody approves their own request`,
        short: `${who} is the requester`,
      });
    } else {
      reasons.push({
        long: `${who} is ${sponsorOf(requester)} (${e.source}), and the human behind a request cannot approve it`,
        short: `${who} is ${sponsorOf(requester)}`,
      });
    }
  }
  if (principalKey(dir, s.proposal.author) === person) {
    reasons.push({
      long: `${who} opened the proposal, and an author cannot approve their own proposal`,
      short: `${who} opened the proposal`,
    });
  }
  if (s.proposal.committers.some((c) => principalKey(dir, c) === person)) {
    reasons.push({
      long: `${who} pushed a commit to the proposal, so the approval would cover their own change`,
      short: `${who} pushed a commit to the proposal`,
    });
  }
  if (s.unreadable?.pushers !== undefined) {
    reasons.push({
      long: `who pushed to the proposal is unknown: ${s.unreadable.pushers}`,
      short: "the proposal's pushers are unknown",
    });
  }
  if (review.isBot || isBotPrincipal(dir, who)) {
    reasons.push({
      long: `${who} is a bot or app, and bots never count (nor do agents)`,
      short: `${who} is a bot`,
    });
  }
  if (!review.canApprove) {
    reasons.push({ long: `${who} has no write access`, short: `${who} has no write access` });
  }
  return reasons;
}

function staleReason(review: GateReview, head: string): Reason {
  const given = `given on ${shortSha(review.commit)}, but the proposal is now at ${shortSha(head)}`;
  return {
    long: `${given}; approve again on the current head`,
    short: `${review.who}'s approval was ${given}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Rule 1: decision and expiry

function checkDecision(s: GateSnapshot): RuleOutcome {
  const d = s.request.decision;
  if (d.allow && d.deny.length === 0) {
    return { ok: true, detail: `the policy allows it (risk ${d.risk})` };
  }
  const reasons = d.deny.length > 0 ? d.deny.join("; ") : "no reason given";
  if (d.allow) {
    // Cannot happen with a validated decision; if it does, the deny reasons win.
    const detail = `the decision both allows it and lists deny reasons (${reasons}), so it is treated as denied`;
    return { ok: false, detail, headline: "the policy decision is inconsistent" };
  }
  return {
    ok: false,
    detail: `the policy denied it: ${reasons}`,
    headline: `the policy denied it (${reasons})`,
  };
}

/** The request must be filed by who it says: the forge verified its signature. */
function checkAuthentication(s: GateSnapshot): RuleOutcome {
  const a = s.request.authentication;
  if (a.verified) return { ok: true, detail: a.detail };
  return {
    ok: false,
    detail: `the request is not authenticated: ${a.reason}; file it again, signed with the requester's key`,
    headline: "the request is not signed by its requester",
  };
}

function checkExpiry(now: Date, expiresAt: Date): RuleOutcome {
  const left = expiresAt.getTime() - now.getTime();
  if (!Number.isFinite(left)) {
    const detail =
      "the expiry time or the current time is missing or invalid, so it counts as expired";
    return { ok: false, detail, headline: "its expiry time is invalid" };
  }
  const at = expiresAt.toISOString();
  if (left > 0) return { ok: true, detail: `expires at ${at} (in ${duration(left)})` };
  return {
    ok: false,
    detail: `expired at ${at} (${duration(-left)} ago); file a new request`,
    headline: `the request expired at ${at}`,
  };
}

/** "2d 3h", "3h 20m", "5m", "less than a minute". */
function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return m > 0 ? `${m}m` : "less than a minute";
}

// ---------------------------------------------------------------------------------------------
// Rule 2: approval groups

/** An approval that may count, by the person behind it (see principalKey) and their login. */
interface Candidate {
  readonly person: string;
  readonly who: string;
}

interface GroupsOutcome extends RuleOutcome {
  /** person → the group they counted for. */
  readonly assigned: ReadonlyMap<string, string>;
  /** "data-stewards 1 of 1 (dana)" per group, for the summary of a satisfied gate. */
  readonly tallies: readonly string[];
}

/**
 * Each group's `min` must be met by distinct people who are members of its owners. One person
 * counts once: across groups too, so a person in two groups cannot alone satisfy a request
 * that needs two groups (the four-eyes intent of "critical requests need two distinct groups").
 * People are matched to groups by maximum bipartite matching, so the order of approvals never
 * decides whether the groups can be met.
 */
function countGroups(
  groups: readonly GateApprovalGroup[],
  candidates: readonly Candidate[],
  resolve: OwnerResolver,
): GroupsOutcome {
  if (groups.length === 0) {
    return {
      ok: false,
      detail:
        "the decision names no approval group and is not auto-approved, so no approval can satisfy it",
      headline: "the decision names no approval group",
      assigned: new Map(),
      tallies: [],
    };
  }
  const assigned = assignToGroups(groups, candidates, resolve);
  const whoOf = new Map(candidates.map((c) => [c.person, c.who]));
  const parts: string[] = [];
  const unmet: string[] = [];
  const tallies: string[] = [];
  for (const g of groups) {
    const need = required(g);
    const counted = [...assigned].filter(([, name]) => name === g.name).map(([p]) => whoOf.get(p));
    const tally = `${counted.length} of ${need}`;
    tallies.push(`${g.name} ${tally} (${counted.join(", ")})`);
    if (counted.length >= need) {
      parts.push(`${g.name}: ${tally} (${counted.join(", ")})`);
      continue;
    }
    unmet.push(`${g.name} has ${counted.length} of ${need} required approvals`);
    const notes = [`${g.name}: ${tally} required approvals from ${g.owners.join(", ")}`];
    if (counted.length > 0) notes.push(`counted ${counted.join(", ")}`);
    const elsewhere = candidates.filter(
      (c) => assigned.has(c.person) && assigned.get(c.person) !== g.name,
    );
    for (const c of elsewhere.filter((c) => isMemberOfAny(c, g.owners, resolve))) {
      notes.push(`${c.who} already counted for ${assigned.get(c.person)} (one person counts once)`);
    }
    for (const o of g.owners.filter((o) => !resolve(o).known)) {
      notes.push(`no members are known for ${o}`);
    }
    parts.push(notes.join(", "));
  }
  const detail = parts.join("; ");
  if (unmet.length === 0) return { ok: true, detail, assigned, tallies };
  return { ok: false, detail, headline: unmet.join("; "), assigned, tallies };
}

/** A group's minimum, never below one (a group that needs nobody would be vacuous). */
function required(g: GateApprovalGroup): number {
  return Number.isFinite(g.min) ? Math.max(1, Math.ceil(g.min)) : Number.POSITIVE_INFINITY;
}

/**
 * Assigns each candidate to at most one group: first a maximum matching of people to the
 * groups' required seats (augmenting paths), then anyone left over who is a member of some
 * group counts for the first such group, beyond its minimum.
 */
function assignToGroups(
  groups: readonly GateApprovalGroup[],
  candidates: readonly Candidate[],
  resolve: OwnerResolver,
): Map<string, string> {
  const seats: { group: string; owners: readonly string[]; holder?: Candidate }[] = [];
  for (const g of groups) {
    const n = Math.min(required(g), candidates.length);
    for (let i = 0; i < n; i++) seats.push({ group: g.name, owners: g.owners });
  }
  // Seat a person, moving earlier holders to other seats they qualify for if need be.
  const seat = (person: Candidate, visited: Set<number>): boolean => {
    for (const [i, s] of seats.entries()) {
      if (visited.has(i) || !isMemberOfAny(person, s.owners, resolve)) continue;
      visited.add(i);
      if (s.holder === undefined || seat(s.holder, visited)) {
        s.holder = person;
        return true;
      }
    }
    return false;
  };
  for (const c of candidates) seat(c, new Set());

  const assigned = new Map<string, string>();
  for (const s of seats) if (s.holder !== undefined) assigned.set(s.holder.person, s.group);
  for (const c of candidates) {
    if (assigned.has(c.person)) continue;
    const g = groups.find((g) => isMemberOfAny(c, g.owners, resolve));
    if (g) assigned.set(c.person, g.name);
  }
  return assigned;
}

// ---------------------------------------------------------------------------------------------
// Rule 2: CODEOWNERS of the base branch

interface CodeownersOutcome extends RuleOutcome {
  /** The line that covers the request path, if it names owners. */
  readonly line: CodeownersRule | null;
  /** People among the candidates who are owners on that line. */
  readonly approvers: ReadonlySet<string>;
}

/** GitHub semantics: the last matching line wins, and any one owner on it satisfies it. */
function checkCodeowners(
  codeowners: Codeowners | null,
  path: string,
  candidates: readonly Candidate[],
  resolve: OwnerResolver,
): CodeownersOutcome {
  const none = { line: null, approvers: new Set<string>() };
  if (codeowners !== null && codeowners.errors.length > 0) {
    const where = codeowners.errors
      .map((e) => (e.line > 0 ? `line ${e.line}: ${e.message}` : e.message))
      .join("; ");
    return {
      ok: false,
      detail: `the base branch's CODEOWNERS has errors (${where}), so Interlock fails closed until it is fixed`,
      headline: "CODEOWNERS on the base branch has errors",
      ...none,
    };
  }
  const rule = codeowners === null ? undefined : ownersFor(codeowners, path);
  if (rule === undefined) return { ok: true, detail: `no CODEOWNERS rule covers ${path}`, ...none };
  const line = `CODEOWNERS line ${rule.line}: ${rule.pattern}`;
  if (rule.owners.length === 0) {
    return { ok: true, detail: `${line} leaves ${path} without owners`, ...none };
  }
  const owners = rule.owners.join(", ");
  const found = candidates.filter((c) => isMemberOfAny(c, rule.owners, resolve));
  const approvers = new Set(found.map((c) => c.person));
  if (found.length > 0) {
    const names = found.map((c) => c.who).join(", ");
    return {
      ok: true,
      detail: `code owner ${names} approved (${line} ${owners})`,
      line: rule,
      approvers,
    };
  }
  return {
    ok: false,
    detail: `needs an approval from one of ${owners} (${line}); none has counted yet`,
    headline: `CODEOWNERS needs an approval from one of ${owners}`,
    line: rule,
    approvers,
  };
}

// ---------------------------------------------------------------------------------------------
// Rules 3–5: distinct, fresh, no rejection

/**
 * Disqualified approvals are simply not counted; the rule fails when approvals are still
 * missing and some were disqualified, so a stray bot approval cannot block a proposal that is
 * otherwise approved.
 */
function checkDistinct(reviews: readonly Assessed[], requirementsMet: boolean): RuleOutcome {
  const ignored = reviews.filter(
    (a): a is AssessedApproval => a.kind === "approval" && a.ineligible.length > 0,
  );
  if (ignored.length === 0) {
    return {
      ok: true,
      detail:
        "no approval came from the requester, its sponsor, the proposal's author, a committer, a bot or one without write access",
    };
  }
  const why = ignored.map((a) => a.ineligible.map((r) => r.short).join(", ")).join("; ");
  const n = count(ignored.length, "approval");
  if (requirementsMet) return { ok: true, detail: `ignored ${n}: ${why}` };
  return { ok: false, detail: `${n} did not count: ${why}` };
}

/** Like distinct-approvers: stale approvals fail the rule only while approvals are missing. */
function checkFresh(
  reviews: readonly Assessed[],
  requirementsMet: boolean,
  head: string,
): RuleOutcome {
  const stale = reviews.filter(
    (a): a is AssessedApproval =>
      a.kind === "approval" && a.stale !== null && a.ineligible.length === 0,
  );
  if (stale.length === 0) {
    return {
      ok: true,
      detail: `no approval was given on a commit other than the head ${shortSha(head)}`,
    };
  }
  const why = stale.map((a) => a.stale?.short).join("; ");
  const n = count(stale.length, "stale approval");
  if (requirementsMet) return { ok: true, detail: `ignored ${n}: ${why}` };
  return { ok: false, detail: `${n} did not count: ${why}; approve again on ${shortSha(head)}` };
}

/**
 * A person's latest "changes requested" blocks while it stands, whatever commit it was given
 * on — unless the reviewer could not have approved either (the requester, a bot, …).
 */
function checkRejections(reviews: readonly Assessed[]): RuleOutcome {
  const rejections = reviews.filter((a) => a.kind === "rejection");
  const blocking = rejections.filter((a) => a.ineligible.length === 0);
  const ignored = rejections.filter((a) => a.ineligible.length > 0);
  const ignoredNote =
    ignored.length > 0
      ? ` (ignored ${count(ignored.length, "rejection")}: ${ignored.map((a) => a.ineligible.map((r) => r.short).join(", ")).join("; ")})`
      : "";
  if (blocking.length === 0) {
    return { ok: true, detail: `no outstanding request for changes${ignoredNote}` };
  }
  const names = blocking.map((a) => `${a.review.who} (on ${shortSha(a.review.commit)})`).join(", ");
  const whoNames = blocking.map((a) => a.review.who).join(", ");
  return {
    ok: false,
    detail: `changes requested by ${names} and not withdrawn: it blocks until they approve or the review is dismissed${ignoredNote}`,
    headline: `${whoNames} requested changes`,
  };
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

// ---------------------------------------------------------------------------------------------
// Rules 6–7: what the proposal changes, and whether the request file is the one evaluated

/** What a path is, when it is one of the files that must never ride along with a request. */
function sensitiveKind(path: string): string | null {
  if (/^(?:\.github\/|docs\/)?CODEOWNERS$/.test(path)) return "code owners";
  if (path.startsWith("policies/")) return "policy";
  if (path.startsWith(".interlock/")) return "Interlock config";
  if (path.startsWith(".github/workflows/") || path.startsWith(".github/actions/"))
    return "workflow";
  if (path.startsWith(".github/")) return "GitHub config";
  if (path.startsWith(REQUESTS_DIR)) return "another request";
  if (path.startsWith(RESULTS_DIR)) return "execution result";
  return null;
}

/** Exactly one change: the request file, added. Anything else is named as the reason. */
function checkSingleFile(s: GateSnapshot): RuleOutcome {
  const path = s.request.path;
  const mine = s.proposal.changedFiles.filter((f) => f.path === path);
  const others = s.proposal.changedFiles.filter((f) => f.path !== path);
  const problems: string[] = [];
  const headlines: string[] = [];
  if (mine.length === 0) {
    problems.push(`it does not add the request file ${path}`);
    headlines.push("the proposal does not add the request file");
  }
  for (const f of mine.filter((f) => f.status !== "added")) {
    problems.push(`the request file ${path} is ${f.status}, but a proposal may only add it`);
    headlines.push(`the request file is ${f.status}, not added`);
  }
  if (others.length > 0) {
    const listed = others.map((f) => {
      const kind = sensitiveKind(f.path);
      return kind === null ? `${f.path} (${f.status})` : `${f.path} (${f.status}, ${kind})`;
    });
    problems.push(`it also changes ${listed.join(", ")}`);
    headlines.push(`the proposal also changes ${others.map((f) => f.path).join(", ")}`);
  }
  if (problems.length === 0) {
    return { ok: true, detail: `the proposal only adds the request file ${path}` };
  }
  return {
    ok: false,
    detail: `${problems.join("; ")}; a proposal must add exactly one request file and change nothing else`,
    headline: headlines.join("; "),
  };
}

function checkDigest(recorded: string, actual: string): RuleOutcome {
  if (recorded === "" || actual === "") {
    return {
      ok: false,
      detail: "a digest is missing, so Interlock cannot tell whether the request file was changed",
      headline: "the request file's digest is missing",
    };
  }
  if (recorded === actual) {
    return {
      ok: true,
      detail: `the request file matches the digest the policy evaluated (${recorded})`,
    };
  }
  return {
    ok: false,
    detail: `the request file was changed after the policy evaluated it: recorded ${recorded}, now ${actual}`,
    headline: "the request file was changed after the policy evaluated it",
  };
}

// ---------------------------------------------------------------------------------------------
// The approvals list and the summary

interface ReviewContext {
  readonly groups: GroupsOutcome;
  readonly codeowners: CodeownersOutcome;
  readonly requiredGroups: readonly GateApprovalGroup[];
  readonly path: string;
  readonly autoApproved: boolean;
}

/** One entry per review: counted or not, and why, in a reviewer's words. */
function describeReview(a: Assessed, ctx: ReviewContext): GateApproval {
  const who = a.review.who;
  switch (a.kind) {
    case "unverified":
      return { who, counted: false, why: `ignored: ${a.reason}` };
    case "superseded":
      if (a.by.state === "changes_requested" && timeOf(a.by.at) <= timeOf(a.review.at)) {
        return {
          who,
          counted: false,
          why: `given on ${shortSha(a.review.commit)}, which is not the current head, so it does not lift ${who}'s request for changes (on ${shortSha(a.by.commit)}): only an approval of the current head does`,
        };
      }
      return {
        who,
        counted: false,
        why: `superseded by ${who}'s later review (${stateWords(a.by.state)} on ${shortSha(a.by.commit)}); only a person's latest review counts`,
      };
    case "comment":
      return { who, counted: false, why: "left a comment, which neither approves nor rejects" };
    case "dismissed":
      return {
        who,
        counted: false,
        why: "the review was dismissed, so it neither approves nor rejects",
      };
    case "rejection":
      return { who, counted: false, why: rejectionWhy(a, ctx.autoApproved) };
    case "approval":
      return describeApproval(a, ctx);
  }
}

function stateWords(state: GateReview["state"]): string {
  switch (state) {
    case "approved":
      return "approved";
    case "changes_requested":
      return "requested changes";
    case "commented":
      return "commented";
    case "dismissed":
      return "dismissed";
  }
}

function rejectionWhy(a: Extract<Assessed, { kind: "rejection" }>, autoApproved: boolean): string {
  const on = `requested changes on ${shortSha(a.review.commit)}`;
  if (a.ineligible.length > 0) {
    return `${on}, which does not block because ${a.ineligible.map((r) => r.long).join("; ")}`;
  }
  if (autoApproved)
    return `${on}; the policy auto-approved the request, so it does not block (recorded)`;
  return `${on}; this blocks the gate until ${a.review.who} approves or the review is dismissed`;
}

function describeApproval(a: AssessedApproval, ctx: ReviewContext): GateApproval {
  const who = a.review.who;
  const reasons = [...a.ineligible.map((r) => r.long), ...(a.stale ? [a.stale.long] : [])];
  if (reasons.length > 0) return { who, counted: false, why: reasons.join("; ") };

  // Eligible and fresh: it counts if it fills a group seat or the CODEOWNERS line.
  const group = ctx.groups.assigned.get(a.person);
  const owner = ctx.codeowners.approvers.has(a.person) ? ctx.codeowners.line : null;
  const asOwner = owner ? `as a code owner of ${ctx.path} (CODEOWNERS line ${owner.line})` : null;
  if (group !== undefined) {
    const why = asOwner ? `counted for ${group} and ${asOwner}` : `counted for ${group}`;
    return { who, counted: true, why, groups: [group] };
  }
  if (asOwner) return { who, counted: true, why: `counted ${asOwner}` };
  return { who, counted: false, why: notAMemberWhy(ctx) };
}

/** "not a member of any required group (data-stewards: @acme/data-stewards)". */
function notAMemberWhy(ctx: ReviewContext): string {
  const groups = ctx.requiredGroups.map((g) => `${g.name}: ${g.owners.join(", ")}`).join("; ");
  const rule = ctx.codeowners.line;
  const owners = rule ? `, nor a code owner of ${ctx.path} (${rule.owners.join(", ")})` : "";
  return `not a member of any required group (${groups || "none required"})${owners}`;
}

/**
 * One sentence: what holds or what is missing first, then the approvals that did not count,
 * e.g. "Not satisfied: data-stewards has 0 of 1 required approvals; 1 approval did not count
 * (alice is the agent's sponsor)."
 */
function summarise(
  satisfied: boolean,
  autoApproved: boolean,
  outcomes: readonly (RuleOutcome & { rule: GateRuleId })[],
  groups: GroupsOutcome,
  reviews: readonly Assessed[],
  approvals: readonly GateApproval[],
  unverified: readonly Assessed[],
): string {
  const notCounted = reviews.flatMap((a, i) => {
    if (a.kind !== "approval" || approvals[i]?.counted) return [];
    const reasons = [...a.ineligible, ...(a.stale ? [a.stale] : [])].map((r) => r.short);
    return [
      reasons.length > 0 ? reasons.join(", ") : `${a.review.who} is not in any required group`,
    ];
  });
  const ignored =
    notCounted.length > 0 && !autoApproved
      ? [`${count(notCounted.length, "approval")} did not count (${notCounted.join("; ")})`]
      : [];
  if (unverified.length > 0) {
    const whose = unverified
      .map((a) => (a.kind === "unverified" ? `${a.review.who}: ${a.reason}` : ""))
      .join("; ");
    ignored.push(`ignored ${count(unverified.length, "unverified review")} (${whose})`);
  }

  if (satisfied) {
    const held = autoApproved ? [AUTO_APPROVED_DETAIL] : groups.tallies;
    return `Satisfied: ${[...held, ...ignored].join("; ")}.`;
  }
  const missing = outcomes.flatMap((o) => (!o.ok && o.headline ? [o.headline] : []));
  return `Not satisfied: ${[...missing, ...ignored].join("; ")}.`;
}

// ---------------------------------------------------------------------------------------------
// Rendering for a terminal

/**
 * The verdict as plain text for a reviewer at a terminal: the summary, each rule with its
 * detail, then every review and whether it counted.
 *
 *   Gate: NOT SATISFIED
 *   Not satisfied: data-stewards has 0 of 1 required approvals; …
 *
 *   Rules
 *     ✓ decision            the policy allows it (risk high)
 *     ✗ groups              data-stewards: 0 of 1 required approvals from @acme/data-stewards
 *   Approvals
 *     ✗ alice               alice is the agent's sponsor (on_behalf_of), …
 */
export function renderVerdict(v: GateVerdict): string {
  const mark = (ok: boolean) => (ok ? "✓" : "✗");
  const t = terminalText; // names, reasons and details may quote request or reviewer text
  const width = Math.max(
    ...v.rules.map((r) => r.rule.length),
    ...v.approvals.map((a) => a.who.length),
  );
  const lines = [
    `Gate: ${v.satisfied ? "SATISFIED" : "NOT SATISFIED"}${v.autoApproved ? " (auto-approved by policy)" : ""}`,
    t(v.summary),
    "",
    "Rules",
    ...v.rules.map((r) => `  ${mark(r.ok)} ${t(r.rule).padEnd(width)}  ${t(r.detail)}`),
    "",
    "Approvals",
  ];
  if (v.approvals.length === 0) lines.push("  (no reviews yet)");
  for (const a of v.approvals) {
    const why = a.counted ? a.why : `not counted: ${a.why}`;
    lines.push(`  ${mark(a.counted)} ${t(a.who).padEnd(width)}  ${t(why)}`);
  }
  return lines.join("\n") + "\n";
}
