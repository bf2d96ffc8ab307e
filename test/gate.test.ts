import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseConfig } from "../src/config/config.ts";
import { directoryOf } from "../src/identity/directory.ts";
import { parseCodeowners } from "../src/gate/codeowners.ts";
import { AUTO_APPROVED_DETAIL, evaluateGate, renderVerdict } from "../src/gate/gate.ts";
import type {
  GateApproval,
  GateReview,
  GateRuleId,
  GateRuleResult,
  GateSnapshot,
  GateVerdict,
} from "../src/gate/snapshot.ts";

// A proposal for a prod export by an agent that alice runs. The approvals repository's people:
// dana and erin (data-stewards), sam (security), pat (platform). alice, the sponsor, is also a
// data steward, so only the sponsor rule can stop her approval from counting.

const HEAD = "def5678901234567890123456789012345678901";
const OLD = "abc1234567890123456789012345678901234567";
const PATH = "requests/db.export/01JD3XK7ZQ8V5W2N4M6P9R1T0S.yaml";
const NOW = new Date("2026-11-24T10:00:00.000Z");
const HOUR = 3_600_000;
const DIGEST = "sha256:5d41402abc4b2a76b9719d911017c592";

type Overrides = {
  [K in keyof GateSnapshot]?: K extends "request" | "proposal"
    ? Partial<GateSnapshot[K]>
    : GateSnapshot[K];
};

function snapshot(over: Overrides = {}): GateSnapshot {
  const base: GateSnapshot = {
    now: NOW,
    request: {
      id: "01JD3XK7ZQ8V5W2N4M6P9R1T0S",
      path: PATH,
      requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
      authentication: { verified: true, signer: "agent:etl-bot", detail: "signed" },
      decision: {
        allow: true,
        deny: [],
        auto_approve: false,
        risk: "critical",
        approvals: {
          groups: [
            { name: "data-stewards", owners: ["@acme/data-stewards"], min: 1 },
            { name: "security", owners: ["@acme/security"], min: 1 },
          ],
        },
      },
      expiresAt: new Date(NOW.getTime() + 20 * HOUR),
      recordedDigest: DIGEST,
      actualDigest: DIGEST,
    },
    proposal: {
      author: "interlock-app[bot]",
      headCommit: HEAD,
      changedFiles: [{ path: PATH, status: "added" }],
      committers: ["interlock-app[bot]"],
    },
    reviews: [],
    teams: {
      "@acme/data-stewards": ["dana", "erin", "alice"],
      "@acme/security": ["sam"],
      "@acme/platform": ["pat"],
    },
    codeowners: null,
  };
  return {
    ...base,
    ...over,
    request: { ...base.request, ...over.request },
    proposal: { ...base.proposal, ...over.proposal },
  };
}

let clock = 0;
/** A verified approval on the head commit by someone with write access, unless overridden. */
function review(who: string, over: Partial<GateReview> = {}): GateReview {
  clock += 1;
  return {
    who,
    state: "approved",
    commit: HEAD,
    at: new Date(NOW.getTime() - HOUR + clock * 60_000),
    isBot: false,
    verified: true,
    canApprove: true,
    ...over,
  };
}

function rule(v: GateVerdict, id: GateRuleId): GateRuleResult {
  const r = v.rules.find((x) => x.rule === id);
  if (!r) throw new Error(`no rule ${id}`);
  return r;
}

function approvalsOf(v: GateVerdict, who: string): GateApproval[] {
  return v.approvals.filter((a) => a.who === who);
}

function approvalOf(v: GateVerdict, who: string): GateApproval {
  const all = approvalsOf(v, who);
  const last = all.at(-1);
  if (!last) throw new Error(`no approval entry for ${who}`);
  return last;
}

function failing(v: GateVerdict): GateRuleId[] {
  return v.rules.filter((r) => !r.ok).map((r) => r.rule);
}

/** The verdict is unsatisfied, and exactly these rules are why. */
function expectBlockedBy(v: GateVerdict, rules: GateRuleId[]): void {
  expect(v.satisfied).toBe(false);
  expect(failing(v).sort()).toEqual([...rules].sort());
}

const approvedByDanaAndSam = [review("dana"), review("sam")];

describe("evaluateGate: attempts to bypass the approval rules", () => {
  it("does not count the requester approving its own request", () => {
    const v = evaluateGate(
      snapshot({
        request: { requester: { id: "user:dana", kind: "human" } },
        reviews: approvedByDanaAndSam,
      }),
    );
    expectBlockedBy(v, ["groups", "distinct-approvers"]);
    expect(approvalOf(v, "dana")).toMatchObject({ counted: false });
    expect(approvalOf(v, "dana").why).toContain("dana is the requester (user:dana)");
  });

  it.each(["alice", "Alice", "user:alice", "@alice", "ALICE "])(
    "does not count the sponsor (on_behalf_of) approving as %j",
    (who) => {
      const v = evaluateGate(snapshot({ reviews: [review(who), review("sam")] }));
      expectBlockedBy(v, ["groups", "distinct-approvers"]);
      expect(approvalOf(v, who).counted).toBe(false);
      expect(approvalOf(v, who).why).toContain("is the agent's sponsor (on_behalf_of)");
    },
  );

  it("does not count the sponsor when the request names the sponsor with a prefix and capitals", () => {
    const v = evaluateGate(
      snapshot({
        request: { requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "User:Alice" } },
        reviews: [review("alice"), review("sam")],
      }),
    );
    expectBlockedBy(v, ["groups", "distinct-approvers"]);
  });

  it("does not count the proposal's author", () => {
    const v = evaluateGate(
      snapshot({ proposal: { author: "dana" }, reviews: approvedByDanaAndSam }),
    );
    expectBlockedBy(v, ["groups", "distinct-approvers"]);
    expect(approvalOf(v, "dana").why).toContain("dana opened the proposal");
  });

  it("does not count someone who pushed a commit to the proposal", () => {
    const v = evaluateGate(
      snapshot({
        proposal: { committers: ["interlock-app[bot]", "Erin"] },
        reviews: [review("erin"), review("sam")],
      }),
    );
    expectBlockedBy(v, ["groups", "distinct-approvers"]);
    expect(approvalOf(v, "erin").why).toContain("erin pushed a commit to the proposal");
  });

  it("does not count a bot flagged by the forge", () => {
    const v = evaluateGate(
      snapshot({
        teams: { ...snapshot().teams, "@acme/data-stewards": ["ci-helper"] },
        reviews: [review("ci-helper", { isBot: true }), review("sam")],
      }),
    );
    expectBlockedBy(v, ["groups", "distinct-approvers"]);
    expect(approvalOf(v, "ci-helper").why).toContain("is a bot or app");
  });

  it("does not count an app named like a bot (github-actions[bot]) even when not flagged", () => {
    const v = evaluateGate(
      snapshot({
        teams: { ...snapshot().teams, "@acme/data-stewards": ["github-actions[bot]"] },
        reviews: [review("github-actions[bot]"), review("sam")],
      }),
    );
    expectBlockedBy(v, ["groups", "distinct-approvers"]);
    expect(approvalOf(v, "github-actions[bot]").why).toContain("bots never count");
  });

  it("does not count an approval from someone in no required group, and says which groups", () => {
    const v = evaluateGate(snapshot({ reviews: [review("pat"), review("sam")] }));
    expectBlockedBy(v, ["groups"]);
    expect(approvalOf(v, "pat")).toEqual({
      who: "pat",
      counted: false,
      why: "not a member of any required group (data-stewards: @acme/data-stewards; security: @acme/security)",
    });
  });

  it("does not treat a prefixed identity (evil:dana) as the team member dana", () => {
    const v = evaluateGate(snapshot({ reviews: [review("evil:dana"), review("sam")] }));
    expectBlockedBy(v, ["groups"]);
    expect(approvalOf(v, "evil:dana").why).toContain("not a member of any required group");
  });

  it("does not count an approval whose signature is not verified, and says why", () => {
    const v = evaluateGate(
      snapshot({
        reviews: [
          review("dana", {
            verified: false,
            unverifiedReason: "signed by a key not in the allowed signers",
          }),
          review("sam"),
        ],
      }),
    );
    expectBlockedBy(v, ["groups"]);
    expect(approvalOf(v, "dana").why).toBe("ignored: signed by a key not in the allowed signers");
  });

  it("does not count an approval from someone without write access", () => {
    const v = evaluateGate(
      snapshot({ reviews: [review("dana", { canApprove: false }), review("sam")] }),
    );
    expectBlockedBy(v, ["groups", "distinct-approvers"]);
    expect(approvalOf(v, "dana").why).toContain("has no write access");
  });

  it("counts one person once, however often and under whatever spelling they approve", () => {
    const v = evaluateGate(
      snapshot({
        request: {
          decision: {
            ...snapshot().request.decision,
            approvals: {
              groups: [{ name: "data-stewards", owners: ["@acme/data-stewards"], min: 2 }],
            },
          },
        },
        reviews: [review("dana"), review("Dana"), review("@dana")],
      }),
    );
    expectBlockedBy(v, ["groups"]);
    expect(rule(v, "groups").detail).toContain("data-stewards: 1 of 2");
    expect(v.approvals.filter((a) => a.counted)).toHaveLength(1);
    expect(approvalsOf(v, "dana")[0]?.why).toContain("superseded by dana's later review");
  });

  it("does not let one person in two groups satisfy a request that needs both", () => {
    const v = evaluateGate(
      snapshot({
        teams: { ...snapshot().teams, "@acme/security": ["sam", "dana"] },
        reviews: [review("dana")],
      }),
    );
    expectBlockedBy(v, ["groups"]);
    expect(v.approvals.filter((a) => a.counted)).toHaveLength(1);
    expect(rule(v, "groups").detail).toContain("already counted for");
  });

  it("does not count an approval given before a new commit was pushed", () => {
    const v = evaluateGate(snapshot({ reviews: [review("dana", { commit: OLD }), review("sam")] }));
    expectBlockedBy(v, ["groups", "fresh-approvals"]);
    expect(approvalOf(v, "dana")).toMatchObject({ counted: false });
    expect(approvalOf(v, "dana").why).toContain(
      "given on abc1234, but the proposal is now at def5678",
    );
  });

  it("treats a later request for changes as withdrawing an earlier approval", () => {
    const v = evaluateGate(
      snapshot({
        reviews: [
          review("dana"),
          review("sam"),
          review("erin"),
          review("dana", { state: "changes_requested" }),
        ],
      }),
    );
    expectBlockedBy(v, ["no-rejection"]);
    const [first, last] = approvalsOf(v, "dana");
    expect(first).toMatchObject({ counted: false });
    expect(first?.why).toContain("superseded by dana's later review (requested changes");
    expect(last?.why).toContain("blocks the gate");
  });

  it("blocks on a request for changes from an eligible reviewer, and names them", () => {
    const v = evaluateGate(
      snapshot({
        reviews: [...approvedByDanaAndSam, review("erin", { state: "changes_requested" })],
      }),
    );
    expectBlockedBy(v, ["no-rejection"]);
    expect(rule(v, "no-rejection").detail).toContain("changes requested by erin");
    expect(v.summary).toContain("erin requested changes");
  });

  it("keeps blocking on a request for changes given on an older commit", () => {
    const v = evaluateGate(
      snapshot({
        reviews: [
          ...approvedByDanaAndSam,
          review("erin", { state: "changes_requested", commit: OLD }),
        ],
      }),
    );
    expectBlockedBy(v, ["no-rejection"]);
  });

  it.each([
    ["policies/interlock/catalogue.json", "policy"],
    ["CODEOWNERS", "code owners"],
    [".github/CODEOWNERS", "code owners"],
    [".github/workflows/interlock.yml", "workflow"],
    [".interlock/config.yaml", "Interlock config"],
    ["requests/iam.grant/01JD3XK7ZQ8V5W2N4M6P9R1T0T.yaml", "another request"],
    ["README.md", "modified"],
  ])("fails a proposal that also changes %s", (other, label) => {
    const v = evaluateGate(
      snapshot({
        proposal: {
          changedFiles: [
            { path: PATH, status: "added" },
            { path: other, status: "modified" },
          ],
        },
        reviews: approvedByDanaAndSam,
      }),
    );
    expectBlockedBy(v, ["single-file"]);
    expect(rule(v, "single-file").detail).toContain(`it also changes ${other} (modified`);
    expect(rule(v, "single-file").detail).toContain(label);
    expect(v.summary).toContain(`the proposal also changes ${other}`);
  });

  it.each(["modified", "removed", "renamed"] as const)(
    "fails a proposal whose request file is %s rather than added",
    (status) => {
      const v = evaluateGate(
        snapshot({
          proposal: { changedFiles: [{ path: PATH, status }] },
          reviews: approvedByDanaAndSam,
        }),
      );
      expectBlockedBy(v, ["single-file"]);
      expect(rule(v, "single-file").detail).toContain(
        `is ${status}, but a proposal may only add it`,
      );
    },
  );

  it("fails a proposal that adds a different file than the request it claims", () => {
    const v = evaluateGate(
      snapshot({
        proposal: { changedFiles: [{ path: "requests/db.export/other.yaml", status: "added" }] },
        reviews: approvedByDanaAndSam,
      }),
    );
    expectBlockedBy(v, ["single-file"]);
    expect(rule(v, "single-file").detail).toContain(`does not add the request file ${PATH}`);
  });

  it("fails a proposal that changes nothing", () => {
    const v = evaluateGate(
      snapshot({ proposal: { changedFiles: [] }, reviews: approvedByDanaAndSam }),
    );
    expectBlockedBy(v, ["single-file"]);
  });

  it("fails when the request file's digest differs from the one the policy evaluated", () => {
    const v = evaluateGate(
      snapshot({ request: { actualDigest: "sha256:0000" }, reviews: approvedByDanaAndSam }),
    );
    expectBlockedBy(v, ["untampered"]);
    expect(rule(v, "untampered").detail).toContain("changed after the policy evaluated it");
  });

  it("fails closed when the digests are missing", () => {
    const v = evaluateGate(
      snapshot({
        request: { actualDigest: "", recordedDigest: "" },
        reviews: approvedByDanaAndSam,
      }),
    );
    expectBlockedBy(v, ["untampered"]);
  });

  it("fails an expired request, including at the exact moment of expiry", () => {
    const late = evaluateGate(
      snapshot({
        request: { expiresAt: new Date(NOW.getTime() - 2 * HOUR) },
        reviews: approvedByDanaAndSam,
      }),
    );
    expectBlockedBy(late, ["not-expired"]);
    expect(rule(late, "not-expired").detail).toBe(
      "expired at 2026-11-24T08:00:00.000Z (2h ago); file a new request",
    );
    const exact = evaluateGate(
      snapshot({ request: { expiresAt: NOW }, reviews: approvedByDanaAndSam }),
    );
    expectBlockedBy(exact, ["not-expired"]);
  });

  it("fails closed on an invalid expiry time", () => {
    const v = evaluateGate(
      snapshot({ request: { expiresAt: new Date("not a date") }, reviews: approvedByDanaAndSam }),
    );
    expectBlockedBy(v, ["not-expired"]);
  });

  it("fails a denied decision and lists the deny reasons", () => {
    const v = evaluateGate(
      snapshot({
        request: {
          decision: {
            ...snapshot().request.decision,
            allow: false,
            deny: ["destination outside the allow-list", "self-grant"],
          },
        },
        reviews: approvedByDanaAndSam,
      }),
    );
    expectBlockedBy(v, ["decision"]);
    expect(rule(v, "decision").detail).toBe(
      "the policy denied it: destination outside the allow-list; self-grant",
    );
  });

  it("requires the CODEOWNERS owners of the request path even when the groups are met", () => {
    const v = evaluateGate(
      snapshot({
        request: {
          decision: {
            ...snapshot().request.decision,
            approvals: {
              groups: [{ name: "data-stewards", owners: ["@acme/data-stewards"], min: 1 }],
            },
          },
        },
        codeowners: parseCodeowners("* @acme/platform\nrequests/** @acme/security\n"),
        reviews: [review("dana")],
      }),
    );
    expectBlockedBy(v, ["codeowners"]);
    expect(rule(v, "groups").ok).toBe(true);
    expect(rule(v, "codeowners").detail).toContain("needs an approval from one of @acme/security");
    expect(rule(v, "codeowners").detail).toContain("CODEOWNERS line 2");
  });

  it("fails closed when the base branch's CODEOWNERS has errors, naming the line", () => {
    const v = evaluateGate(
      snapshot({
        codeowners: {
          rules: [],
          errors: [{ line: 3, message: "owner 'acme' is not a valid owner" }],
        },
        reviews: approvedByDanaAndSam,
      }),
    );
    expectBlockedBy(v, ["codeowners"]);
    expect(rule(v, "codeowners").detail).toContain("line 3: owner 'acme' is not a valid owner");
  });

  it("fails closed for a group whose team is unknown", () => {
    const v = evaluateGate(
      snapshot({ teams: { "@acme/data-stewards": ["dana"] }, reviews: approvedByDanaAndSam }),
    );
    expectBlockedBy(v, ["groups"]);
    expect(rule(v, "groups").detail).toContain("no members are known for @acme/security");
  });

  it("fails a decision that names no group and does not auto-approve", () => {
    const v = evaluateGate(
      snapshot({
        request: { decision: { ...snapshot().request.decision, approvals: { groups: [] } } },
        reviews: approvedByDanaAndSam,
      }),
    );
    expectBlockedBy(v, ["groups"]);
  });

  it("still checks the decision, the files and the digest of an auto-approved request", () => {
    const auto = { ...snapshot().request.decision, auto_approve: true };
    const extra = evaluateGate(
      snapshot({
        request: { decision: auto },
        proposal: {
          changedFiles: [
            { path: PATH, status: "added" },
            { path: ".interlock/config.yaml", status: "modified" },
          ],
        },
      }),
    );
    expectBlockedBy(extra, ["single-file"]);
    expect(extra.autoApproved).toBe(true);
    const tampered = evaluateGate(
      snapshot({ request: { decision: auto, actualDigest: "sha256:0" } }),
    );
    expectBlockedBy(tampered, ["untampered"]);
    const denied = evaluateGate(
      snapshot({ request: { decision: { ...auto, allow: false, deny: ["nope"] } } }),
    );
    expectBlockedBy(denied, ["decision", "groups"]);
    expect(denied.autoApproved).toBe(false);
    const expired = evaluateGate(snapshot({ request: { decision: auto, expiresAt: NOW } }));
    expectBlockedBy(expired, ["not-expired"]);
  });
});

describe("evaluateGate: what does count", () => {
  it("is satisfied by one distinct, fresh, verified approver per group", () => {
    const v = evaluateGate(snapshot({ reviews: approvedByDanaAndSam }));
    expect(failing(v)).toEqual([]);
    expect(v.satisfied).toBe(true);
    expect(v.autoApproved).toBe(false);
    expect(v.rules.map((r) => r.rule)).toEqual([
      "decision",
      "signed-request",
      "not-expired",
      "not-withdrawn",
      "groups",
      "codeowners",
      "distinct-approvers",
      "fresh-approvals",
      "no-rejection",
      "single-file",
      "untampered",
    ]);
    expect(v.approvals).toEqual([
      { who: "dana", counted: true, why: "counted for data-stewards", groups: ["data-stewards"] },
      { who: "sam", counted: true, why: "counted for security", groups: ["security"] },
    ]);
    expect(rule(v, "codeowners").detail).toBe(`no CODEOWNERS rule covers ${PATH}`);
    expect(v.summary).toBe("Satisfied: data-stewards 1 of 1 (dana); security 1 of 1 (sam).");
  });

  it("matches people to groups so the order of approvals does not matter", () => {
    // sam is in both groups and approves first; dana can only count for data-stewards.
    const v = evaluateGate(
      snapshot({
        teams: { ...snapshot().teams, "@acme/data-stewards": ["dana", "sam"] },
        reviews: [review("sam"), review("dana")],
      }),
    );
    expect(failing(v)).toEqual([]);
    expect(approvalOf(v, "sam").groups).toEqual(["security"]);
    expect(approvalOf(v, "dana").groups).toEqual(["data-stewards"]);
  });

  it("counts an approval given again on the new head after a push", () => {
    const v = evaluateGate(
      snapshot({ reviews: [review("dana", { commit: OLD }), review("dana"), review("sam")] }),
    );
    expect(failing(v)).toEqual([]);
  });

  it("counts an approval that follows the same person's request for changes", () => {
    const v = evaluateGate(
      snapshot({
        reviews: [review("dana", { state: "changes_requested" }), review("dana"), review("sam")],
      }),
    );
    expect(failing(v)).toEqual([]);
    expect(approvalsOf(v, "dana")[0]?.why).toContain("superseded by dana's later review (approved");
  });

  it("orders reviews by time, not by the order the forge listed them", () => {
    const early = review("dana", { at: new Date(NOW.getTime() - 5 * HOUR) });
    const rejection = review("dana", {
      state: "changes_requested",
      at: new Date(NOW.getTime() - 9 * HOUR),
    });
    const v = evaluateGate(snapshot({ reviews: [early, review("sam"), rejection] }));
    expect(failing(v)).toEqual([]);
  });

  it("keeps an approval standing when the same person comments afterwards", () => {
    const v = evaluateGate(
      snapshot({ reviews: [...approvedByDanaAndSam, review("dana", { state: "commented" })] }),
    );
    expect(failing(v)).toEqual([]);
    expect(approvalOf(v, "dana").why).toContain("left a comment");
  });

  it("does not block on a request for changes from the requester itself", () => {
    const v = evaluateGate(
      snapshot({
        request: { requester: { id: "user:carol", kind: "human" } },
        reviews: [...approvedByDanaAndSam, review("Carol", { state: "changes_requested" })],
      }),
    );
    expect(failing(v)).toEqual([]);
    expect(approvalOf(v, "Carol").why).toContain("does not block because Carol is the requester");
  });

  it("does not let a stray bot or stale approval block an otherwise approved proposal", () => {
    const v = evaluateGate(
      snapshot({
        reviews: [
          review("renovate[bot]"),
          review("erin", { commit: OLD }),
          ...approvedByDanaAndSam,
        ],
      }),
    );
    expect(failing(v)).toEqual([]);
    expect(rule(v, "distinct-approvers").detail).toContain(
      "ignored 1 approval: renovate[bot] is a bot",
    );
    expect(rule(v, "fresh-approvals").detail).toContain("ignored 1 stale approval");
  });

  it("is satisfied by a code owner on the matching CODEOWNERS line", () => {
    const v = evaluateGate(
      snapshot({
        codeowners: parseCodeowners("requests/** @acme/security\n"),
        reviews: approvedByDanaAndSam,
      }),
    );
    expect(failing(v)).toEqual([]);
    expect(rule(v, "codeowners").detail).toContain("code owner sam approved");
    expect(approvalOf(v, "sam").why).toContain("as a code owner");
  });

  it("counts a code owner who is in no required group as a code owner", () => {
    const v = evaluateGate(
      snapshot({
        codeowners: parseCodeowners("requests/** @pat\n"),
        reviews: [...approvedByDanaAndSam, review("pat")],
      }),
    );
    expect(failing(v)).toEqual([]);
    expect(approvalOf(v, "pat")).toEqual({
      who: "pat",
      counted: true,
      why: `counted as a code owner of ${PATH} (CODEOWNERS line 1)`,
    });
  });

  it("satisfies rules 2–5 for an auto-approved request and records it", () => {
    const v = evaluateGate(
      snapshot({
        request: { decision: { ...snapshot().request.decision, auto_approve: true } },
        reviews: [review("erin", { state: "changes_requested" })],
      }),
    );
    expect(v.satisfied).toBe(true);
    expect(v.autoApproved).toBe(true);
    for (const id of [
      "groups",
      "codeowners",
      "distinct-approvers",
      "fresh-approvals",
      "no-rejection",
    ] as const) {
      expect(rule(v, id)).toEqual({ rule: id, ok: true, detail: AUTO_APPROVED_DETAIL });
    }
    expect(v.summary).toBe("Satisfied: auto-approved by policy (recorded).");
  });

  it("does not read or change the snapshot beyond evaluating it", () => {
    const s = snapshot({ reviews: [review("sam"), review("dana", { commit: OLD })] });
    const before = JSON.stringify(s);
    const first = evaluateGate(s);
    expect(JSON.stringify(s)).toBe(before);
    expect(evaluateGate(s)).toEqual(first);
  });
});

describe("explaining the verdict", () => {
  const sponsorOnly = () => evaluateGate(snapshot({ reviews: [review("alice"), review("sam")] }));

  it("says in one sentence what is missing and why an approval did not count", () => {
    expect(sponsorOnly().summary).toBe(
      "Not satisfied: data-stewards has 0 of 1 required approvals; 1 approval did not count (alice is the agent's sponsor).",
    );
  });

  it("explains the discounted sponsor approval in the approvals list", () => {
    expect(approvalOf(sponsorOnly(), "alice")).toEqual({
      who: "alice",
      counted: false,
      why: "alice is the agent's sponsor (on_behalf_of), and the human behind a request cannot approve it",
    });
  });

  it("renders every rule and every approval for a terminal, with the sponsor's reason", () => {
    const text = renderVerdict(sponsorOnly());
    expect(text).toContain("Gate: NOT SATISFIED");
    expect(text).toContain("1 approval did not count (alice is the agent's sponsor)");
    expect(text).toMatch(
      /✗ groups\s+data-stewards: 0 of 1 required approvals from @acme\/data-stewards/,
    );
    expect(text).toMatch(/✗ alice\s+not counted: alice is the agent's sponsor \(on_behalf_of\)/);
    expect(text).toMatch(/✓ sam\s+counted for security/);
    for (const r of sponsorOnly().rules) expect(text).toContain(r.rule);
  });

  it("renders a proposal with no reviews yet", () => {
    const v = evaluateGate(snapshot());
    expect(v.summary).toBe(
      "Not satisfied: data-stewards has 0 of 1 required approvals; security has 0 of 1 required approvals.",
    );
    expect(renderVerdict(v)).toContain("(no reviews yet)");
  });

  it("explains a stale approval with short commit ids in the summary", () => {
    const v = evaluateGate(snapshot({ reviews: [review("dana", { commit: OLD }), review("sam")] }));
    expect(v.summary).toBe(
      "Not satisfied: data-stewards has 0 of 1 required approvals; 1 approval did not count (dana's approval was given on abc1234, but the proposal is now at def5678).",
    );
  });
});

describe("only verified reviews exist, and identities resolve through the directory", () => {
  const directory = directoryOf(
    parseConfig(
      stringify({
        version: 1,
        org: "acme",
        people: {
          alice: { name: "Alice", email: "alice@acme.example", aliases: ["github:alice-gh"] },
          dana: { name: "Dana", email: "dana@acme.example" },
          sam: { name: "Sam", email: "sam@acme.example" },
        },
        agents: {
          "agent:etl-bot": {
            signing_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + "A".repeat(43),
            sponsor: "alice",
          },
        },
        teams: { "data-stewards": ["dana", "alice"], security: ["sam"] },
        executors: { recipients: ["age1" + "q".repeat(58)], actions: {} },
      }),
    ),
  );

  it("as a repository writer: an unverified approval after a verified rejection does not lift it", () => {
    const v = evaluateGate(
      snapshot({
        reviews: [
          review("sam", { state: "changes_requested" }),
          review("dana"),
          review("sam", { verified: false, unverifiedReason: "the review is not signed" }),
        ],
      }),
    );
    expect(rule(v, "no-rejection").ok).toBe(false);
    expect(v.approvals.at(-1)).toEqual({
      who: "sam",
      counted: false,
      why: "ignored: the review is not signed",
    });
  });

  it("as a repository writer: an approval of another commit after a rejection does not lift it", () => {
    const v = evaluateGate(
      snapshot({
        reviews: [
          review("sam", { state: "changes_requested" }),
          review("dana"),
          review("sam", { commit: OLD }),
        ],
      }),
    );
    expect(rule(v, "no-rejection").ok).toBe(false);
  });

  it("as the sponsor: approving under another name (an alias only the config knows) does not count", () => {
    const v = evaluateGate(
      snapshot({
        identities: directory,
        request: { requester: { id: "agent:etl-bot", kind: "agent" } },
        reviews: [review("github:alice-gh"), review("sam")],
      }),
    );
    expect(v.satisfied).toBe(false);
    expect(approvalOf(v, "github:alice-gh").why).toMatch(
      /is the agent's sponsor \(bound to agent:etl-bot in the configuration\)/,
    );
  });

  it("as the requester: an unsigned request fails the signed-request rule, even when auto-approved", () => {
    const v = evaluateGate(
      snapshot({
        request: {
          authentication: { verified: false, reason: "the proposal's commit is not signed" },
          decision: { ...snapshot().request.decision, auto_approve: true },
        },
      }),
    );
    expect(v.satisfied).toBe(false);
    expect(rule(v, "signed-request").detail).toMatch(/the proposal's commit is not signed/);
  });
});
