import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import {
  EXAMPLES,
  git,
  grep,
  listFiles,
  loggingExecutor,
  logLines,
  Repo,
  requests,
  rule,
  show,
  type Filed,
} from "./e2e-helpers.ts";

/**
 * The approval lifecycle end to end, on a real approvals repository made by `interlock init`:
 * real git, real ssh-keygen signatures, the default policies, a real shell executor.
 */

const GATE_RULE_IDS = [
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
];

const EMAIL = "jane.doe@example.com";

describe("the approval lifecycle", () => {
  it("request → gate → approve → merge → execute → result → audit --verify", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-e2e-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(log));

    // 1. An agent files a request: it becomes a proposal, masked.
    const filed = await repo.request(requests.export());
    expect(filed.branch).toBe(`interlock/${filed.id}`);
    expect(filed.path).toBe(`requests/db.export/${filed.id}.yaml`);
    expect(filed.decision.risk).toBe("high");
    expect(filed.decision.approvals.groups.map((g) => g.name)).toEqual(["data-stewards"]);
    const proposed = show(repo.dir, `refs/heads/interlock/${filed.id}`, filed.path);
    expect(proposed).toBeDefined();
    expect(proposed).not.toContain(EMAIL);
    expect(listFiles(repo.dir, "main", "requests/")).toEqual([]);

    // 2. The gate says what is missing.
    const before = await repo.gate(filed.id);
    expect(before.code).toBe(4);
    expect(before.verdict.satisfied).toBe(false);
    expect(rule(before.verdict, "groups")).toMatchObject({ ok: false });
    expect(rule(before.verdict, "groups").detail).toMatch(/data-stewards: 0 of 1/);
    expect(rule(before.verdict, "codeowners").ok).toBe(false);
    expect(before.verdict.approvals).toEqual([]);
    expect(before.verdict.summary).toMatch(/data-stewards has 0 of 1 required approvals/);

    // Merging now is refused.
    const early = await repo.merge(filed.id);
    expect(early.code).toBe(4);
    expect(listFiles(repo.dir, "main", "requests/")).toEqual([]);

    // 3. A data steward approves: the gate holds.
    const approved = await repo.approve(filed.id, "dana");
    expect(approved.stdout).toMatch(/counts/);
    const after = await repo.gate(filed.id);
    expect(after.code).toBe(0);
    expect(after.verdict.satisfied).toBe(true);
    expect(after.verdict.rules.every((r) => r.ok)).toBe(true);
    expect(after.verdict.approvals).toEqual([
      expect.objectContaining({ who: "dana", counted: true }),
    ]);
    expect(after.verdict.approvals[0]!.why).toMatch(/counted for data-stewards/);

    // 4. Merge: the request file lands on main with the evidence in the trailers.
    const merged = await repo.merge(filed.id);
    expect(merged.code, merged.stderr).toBe(0);
    expect(listFiles(repo.dir, "main", "requests/")).toEqual([filed.path]);
    const message = git(repo.dir, ["log", "-1", "--format=%B", "main"]);
    expect(message).toContain(`Interlock-Request: ${filed.id}`);
    expect(message).toContain("Interlock-Approved-By: dana");
    expect(git(repo.dir, ["status", "--porcelain"])).toBe("");

    // 5. Execute: the executor runs once, with the original params; the result is masked.
    const executed = await repo.execute();
    expect(executed.code, executed.stderr).toBe(0);
    expect(executed.reports).toEqual([
      expect.objectContaining({ id: filed.id, action: "db.export", status: "succeeded" }),
    ]);
    expect(logLines(log)).toEqual([filed.id]);
    const received = JSON.parse(readFileSync(`${log}.stdin`, "utf8")) as {
      params: { query: string };
    };
    expect(received.params.query).toContain(EMAIL); // the executor saw the unmasked original

    const resultText = show(repo.dir, "main", `results/${filed.id}.yaml`);
    expect(resultText).toBeDefined();
    expect(resultText).not.toContain(EMAIL);
    const result = parseYaml(resultText!) as Record<string, unknown>;
    expect(result).toMatchObject({
      id: filed.id,
      request: filed.path,
      outcome: "succeeded",
      approvers: ["dana"],
      executor: { key: "db.export", type: "shell" },
    });
    expect(String(result.output)).toContain("analytics-exports"); // echoed, but masked
    // Nothing on main holds the e-mail address.
    expect(grep(repo.dir, EMAIL, "main")).toEqual([]);

    // 6. The audit trail: verified.
    const audit = await repo.audit(true);
    expect(audit.problems).toEqual([]);
    expect(audit.code).toBe(0);
    expect(audit.records).toEqual([
      expect.objectContaining({
        id: filed.id,
        action: "db.export",
        status: "executed",
        decision: "allowed",
        approvers: ["dana"],
        outcome: "succeeded",
        requester: "agent:etl-bot",
        on_behalf_of: "alice",
      }),
    ]);
  });

  it("an auto-approved request merges without reviews, and that is recorded", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.query(1));
    expect(filed.decision.auto_approve).toBe(true);
    const gate = await repo.gate(filed.id);
    expect(gate.code).toBe(0);
    expect(rule(gate.verdict, "groups").detail).toMatch(/auto-approved by policy/);
    expect((await repo.merge(filed.id)).code).toBe(0);
    expect(git(repo.dir, ["log", "-1", "--format=%B", "main"])).toContain(
      "Interlock-Auto-Approved: true",
    );
    const executed = await repo.execute();
    expect(executed.reports).toEqual([
      expect.objectContaining({ id: filed.id, status: "succeeded" }),
    ]);
    const audit = await repo.audit(true);
    expect(audit.code).toBe(0);
    expect(audit.records).toEqual([
      expect.objectContaining({ id: filed.id, decision: "auto-approved", status: "executed" }),
    ]);
  });

  it("a rejection by an eligible reviewer blocks until they approve", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const rejected = await repo.cli(["reject", filed.id, "--as", "dana"]);
    expect(rejected.code).toBe(0);
    const gate = await repo.gate(filed.id);
    expect(gate.code).toBe(4);
    expect(rule(gate.verdict, "no-rejection")).toMatchObject({ ok: false });
    expect(rule(gate.verdict, "no-rejection").detail).toMatch(/changes requested by dana/);
    await repo.approve(filed.id, "dana");
    expect((await repo.gate(filed.id)).code).toBe(0);
  });

  it("a denied request is recorded on main as evidence, never becomes a proposal, and is audited", async () => {
    const repo = await Repo.init();
    const r = await repo.json<Filed>(["request", join(EXAMPLES, "self-grant.yaml")]);
    expect(r.code).toBe(3);
    expect(r.body.denied).toBe(true);
    expect(r.body.decision.allow).toBe(false);
    expect(r.body.path).toBe(`denials/${r.body.id}.yaml`);
    expect(r.body.branch).toBeNull();

    // On main, committed; no branch, no original ref.
    const denial = show(repo.dir, "main", r.body.path);
    expect(denial).toBeDefined();
    const record = parseYaml(denial!) as { decision: { allow: boolean; deny: string[] } };
    expect(record.decision.allow).toBe(false);
    expect(record.decision.deny.length).toBeGreaterThan(0);
    expect(git(repo.dir, ["branch", "--list", `interlock/${r.body.id}`])).toBe("");
    expect(git(repo.dir, ["log", "-1", "--format=%B", "main"])).toContain(
      `Interlock-Denied: ${r.body.id}`,
    );

    // It cannot be approved, gated or merged.
    expect((await repo.cli(["approve", r.body.id, "--as", "sam"])).code).toBe(2);
    expect((await repo.cli(["gate", r.body.id])).code).toBe(2);
    expect((await repo.cli(["merge", r.body.id])).code).toBe(2);

    // Execution ignores it; the audit shows it.
    const executed = await repo.execute();
    expect(executed.reports).toEqual([]);
    const audit = await repo.audit(true);
    expect(audit.code).toBe(0);
    expect(audit.records).toEqual([
      expect.objectContaining({
        id: r.body.id,
        action: "iam.grant",
        decision: "denied",
        status: "denied",
        requester: "agent:deploy-bot",
        merged_at: null,
        executed_at: null,
      }),
    ]);
    const text = await repo.cli(["audit"]);
    expect(text.stdout).toContain(r.body.id);
    expect(text.stdout).toMatch(/denied/);
  });
});

describe("--json output shapes (docs/cli.md)", () => {
  it("request, gate, execute and audit print the documented fields", async () => {
    const repo = await Repo.init();
    const r = await repo.json<Record<string, unknown>>(["request", "-"], {
      stdin: JSON.stringify(requests.export()),
    });
    expect(r.code).toBe(0);
    expect(Object.keys(r.body).sort()).toEqual(["branch", "decision", "denied", "id", "path"]);
    expect(r.body.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const decision = r.body.decision as Record<string, unknown>;
    for (const key of [
      "allow",
      "deny",
      "risk",
      "classification",
      "auto_approve",
      "approvals",
      "mask",
      "ttl_seconds",
      "revision",
    ]) {
      expect(decision, key).toHaveProperty(key);
    }
    const id = String(r.body.id);

    await repo.approve(id, "alice");
    await repo.approve(id, "dana");
    const gate = await repo.json<Record<string, unknown>>(["gate", id]);
    expect(gate.code).toBe(0);
    expect(gate.body).toMatchObject({
      satisfied: true,
      rules: expect.any(Array),
      approvals: expect.any(Array),
    });
    const rules = gate.body.rules as Record<string, unknown>[];
    expect(rules.map((x) => x.rule)).toEqual(GATE_RULE_IDS);
    for (const x of rules) {
      expect(Object.keys(x).sort()).toEqual(["detail", "ok", "rule"]);
      expect(typeof x.ok).toBe("boolean");
      expect(typeof x.detail).toBe("string");
      expect(String(x.detail).length).toBeGreaterThan(0);
    }
    const approvals = gate.body.approvals as Record<string, unknown>[];
    expect(approvals.map((a) => [a.who, a.counted])).toEqual([
      ["alice", false],
      ["dana", true],
    ]);
    for (const a of approvals) {
      expect(typeof a.who).toBe("string");
      expect(typeof a.counted).toBe("boolean");
      expect(typeof a.why).toBe("string");
    }

    expect((await repo.merge(id)).code).toBe(0);
    const exec = await repo.json<{ executed: Record<string, unknown>[] }>(["execute"]);
    expect(exec.body.executed).toEqual([
      { id, action: "db.export", status: "succeeded", detail: expect.any(String) },
    ]);

    const audit = await repo.cli(["audit", "--json"]);
    const lines = audit.stdout.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const key of [
      "id",
      "action",
      "requester",
      "on_behalf_of",
      "risk",
      "decision",
      "approvers",
      "requested_at",
      "merged_at",
      "executed_at",
      "outcome",
      "policy_revision",
    ]) {
      expect(rec, key).toHaveProperty(key);
    }
    // Without --verify the trailers are claims, never facts: labelled, not listed as approvers.
    expect(rec).toMatchObject({
      id,
      approvers: [],
      unverified_approvers: ["dana"],
      risk: "high",
      outcome: "succeeded",
    });
    expect(rec.policy_revision).toBe(decision.revision);
  });
});
