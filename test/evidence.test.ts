import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import {
  commitOnRef,
  git,
  logLines,
  loggingExecutor,
  MALLORY,
  Repo,
  requests,
  show,
} from "./e2e-helpers.ts";

/**
 * "The evidence at merge" is one rule: the gate, merge, the executor and `audit --verify` judge
 * a request by config, CODEOWNERS and policy as committed at the merge's base. These attacks
 * come from a writer of the approvals repository (W) without a reviewer's key.
 */

function newSshKey(comment: string): { key: string; pub: string } {
  const key = join(tempDir("interlock-e2e-key-"), "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key]);
  const pub = readFileSync(`${key}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  return { key, pub };
}

type Config = {
  people: Record<string, Record<string, unknown>>;
  teams: Record<string, string[]>;
  executors: { actions: Record<string, unknown> };
};

/** Mallory with her own key, in data-stewards, written into `config` (a parsed config). */
function withMallory(config: Config, pub: string): Config {
  config.people.mallory = {
    name: "Mallory",
    email: MALLORY.email,
    signing_key: pub,
    bot: false,
  };
  config.teams["data-stewards"] = [...(config.teams["data-stewards"] ?? []), "mallory"];
  return config;
}

function readConfig(repo: Repo): Config {
  return parseYaml(readFileSync(join(repo.dir, ".interlock", "config.yaml"), "utf8")) as Config;
}

function writeConfig(repo: Repo, config: Config): void {
  writeFileSync(join(repo.dir, ".interlock", "config.yaml"), stringify(config, { lineWidth: 0 }));
}

async function loggingRepo(action = "db.export"): Promise<{ repo: Repo; log: string }> {
  const repo = await Repo.init();
  const log = join(tempDir("interlock-e2e-log-"), "runs.log");
  await repo.setExecutor(action, loggingExecutor(log));
  return { repo, log };
}

const sha256 = (s: string) => "sha256:" + createHash("sha256").update(s).digest("hex");

describe("the evidence at merge reads committed trust inputs only", () => {
  it("as a repository writer, an uncommitted config edit naming myself a data steward does not count", async () => {
    const { repo, log } = await loggingRepo();
    const filed = await repo.request(requests.export());
    const mallory = newSshKey("mallory");
    writeConfig(repo, withMallory(readConfig(repo), mallory.pub)); // never committed
    await repo.approve(filed.id, "mallory", { key: mallory.key });

    const gate = await repo.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect((await repo.merge(filed.id)).code).not.toBe(0);

    // Merged by hand anyway: the executor refuses and the audit flags it.
    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${filed.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    const executed = await repo.execute();
    expect(executed.reports).toEqual([expect.objectContaining({ status: "refused" })]);
    expect(logLines(log)).toEqual([]);
    expect((await repo.audit(true)).code).toBe(1);
  });

  it("as a repository writer, an uncommitted policy edit that auto-approves my action does not pass", async () => {
    const { repo, log } = await loggingRepo("infra.apply");
    // Rewrite the working tree's built policy data so that infra.apply is low risk and
    // auto-approved, and fix up the manifest so that the bundle still loads.
    const dist = join(repo.dir, "policies", "dist");
    const data = JSON.parse(readFileSync(join(dist, "data.json"), "utf8")) as {
      interlock: { catalogue: { actions: Record<string, Record<string, unknown>> } };
    };
    Object.assign(data.interlock.catalogue.actions["infra.apply"]!, {
      risk: "low",
      auto_approve_non_production: true,
    });
    const dataJson = JSON.stringify(data);
    writeFileSync(join(dist, "data.json"), dataJson);
    const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8")) as Record<
      string,
      string
    >;
    manifest.data_digest = sha256(dataJson);
    writeFileSync(join(dist, "manifest.json"), JSON.stringify(manifest));

    const filed = await repo.request({
      action: "infra.apply",
      resource: "k8s://staging/web",
      params: { manifest: "replicas: 3" },
      reason: "Scale the staging web tier",
      requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
    });
    expect(filed.decision.auto_approve).toBe(true); // the requester's side was fooled

    const gate = await repo.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(gate.verdict.summary).toMatch(/polic/i);
    expect((await repo.merge(filed.id)).code).not.toBe(0);

    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${filed.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    const executed = await repo.execute();
    expect(executed.reports).toEqual([expect.objectContaining({ status: "refused" })]);
    expect(logLines(log)).toEqual([]);
    expect((await repo.audit(true)).code).toBe(1);
  });

  it("as a repository writer, a config commit on main after my forged merge does not make it valid", async () => {
    const { repo, log } = await loggingRepo();
    const filed = await repo.request(requests.export());
    const mallory = newSshKey("mallory");
    // Mallory signs an approval with her own key (not in the committed config) and merges.
    writeConfig(repo, withMallory(readConfig(repo), mallory.pub));
    await repo.approve(filed.id, "mallory", { key: mallory.key });
    git(repo.dir, ["checkout", "-q", "--", ".interlock/config.yaml"]);
    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${filed.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    // …and only then commits the config that makes her a data steward.
    writeConfig(repo, withMallory(readConfig(repo), mallory.pub));
    git(repo.dir, ["commit", "-q", "-am", "Add a data steward"], {
      who: MALLORY,
      date: repo.clock.tick(),
    });

    const executed = await repo.execute();
    expect(executed.reports).toEqual([expect.objectContaining({ status: "refused" })]);
    expect(logLines(log)).toEqual([]);
    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.problems.join("\n")).toMatch(/merged without a valid gate/);
  });
});

describe("time: expiry is the filing time plus the decision's TTL", () => {
  /** Rewrites the filed request file on the baseline ref and the branch, keeping commit dates. */
  function rewriteFiled(
    repo: Repo,
    id: string,
    path: string,
    edit: (r: Record<string, unknown>) => void,
  ) {
    const base = `refs/interlock/requests/${id}`;
    const record = parseYaml(show(repo.dir, base, path)!) as Record<string, unknown>;
    edit(record);
    // The digest is not a signature: the writer recomputes it (canonical JSON, sorted keys).
    const { digest: _d, ...body } = record;
    const canonical = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(canonical).join(",")}]`
        : v !== null && typeof v === "object"
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
              .join(",")}}`
          : JSON.stringify(v);
    record.digest = sha256(canonical(body));
    const text = stringify(record, { lineWidth: 0 });
    const parent = git(repo.dir, ["rev-parse", `${base}^`]);
    const when = new Date(Number(git(repo.dir, ["log", "-1", "--format=%ct", base])) * 1000);
    git(repo.dir, ["update-ref", base, parent]);
    const commit = commitOnRef(repo.dir, base, { [path]: text }, { date: when, message: "Filed" });
    git(repo.dir, ["update-ref", `refs/heads/interlock/${id}`, commit]);
    return commit;
  }

  it("as a repository writer, a stored expires_at pushed a year ahead is not trusted", async () => {
    const { repo, log } = await loggingRepo();
    const filed = await repo.request(requests.export()); // ttl 24h
    const forged = rewriteFiled(repo, filed.id, filed.path, (r) => {
      r.expires_at = new Date(Date.parse(r.expires_at as string) + 365 * 86400_000).toISOString();
    });
    expect(forged).toBeTruthy();
    await repo.approve(filed.id, "dana");
    repo.clock.tick(25 * 3600); // past the real expiry
    expect((await repo.merge(filed.id)).code).not.toBe(0);
    const gate = await repo.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(gate.verdict.rules.find((r) => r.rule === "not-expired")?.ok).toBe(false);
    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${filed.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    const executed = await repo.execute();
    expect(executed.reports).toEqual([expect.objectContaining({ status: "refused" })]);
    expect(logLines(log)).toEqual([]);
  });

  it("as a repository writer, a filing time later than the verifier's clock is refused", async () => {
    const { repo } = await loggingRepo();
    const filed = await repo.request(requests.export(), {
      now: new Date(repo.clock.now.getTime() + 3600_000),
    });
    await repo.approve(filed.id, "dana", { now: new Date(repo.clock.now.getTime() + 3601_000) });
    const gate = await repo.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    const notExpired = gate.verdict.rules.find((r) => r.rule === "not-expired")!;
    expect(notExpired.ok).toBe(false);
    expect(notExpired.detail).toMatch(/later than this verifier's clock/);
  });
});

describe("the executor and the audit agree", () => {
  it("as a repository writer, every way I merge gives the same verdict from execute and audit --verify", async () => {
    const { repo } = await loggingRepo();
    const mallory = newSshKey("mallory");
    const plainMerge = (id: string) =>
      git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${id}`], {
        who: MALLORY,
        date: repo.clock.tick(),
      });
    const expected: Record<string, "runs" | "refused"> = {};

    // A: approved by the data steward, merged by Interlock.
    const a = await repo.request(requests.export());
    await repo.approve(a.id, "dana");
    expect((await repo.merge(a.id)).code).toBe(0);
    expected[a.id] = "runs";

    // B: no approval, merged by hand.
    const b = await repo.request(requests.export());
    plainMerge(b.id);
    expected[b.id] = "refused";

    // C: approved by Mallory under an uncommitted config edit, merged by hand.
    const c = await repo.request(requests.export());
    writeConfig(repo, withMallory(readConfig(repo), mallory.pub));
    await repo.approve(c.id, "mallory", { key: mallory.key });
    git(repo.dir, ["checkout", "-q", "--", ".interlock/config.yaml"]);
    plainMerge(c.id);
    expected[c.id] = "refused";

    // E: approved properly, then a later plain commit drops dana from the team (breaking
    // the trust chain from there on): it is judged at its base, before the break.
    const e = await repo.request(requests.export());
    await repo.approve(e.id, "dana");
    expect((await repo.merge(e.id)).code).toBe(0);
    const config = readConfig(repo);
    config.teams["data-stewards"] = ["sam"];
    writeConfig(repo, config);
    git(repo.dir, ["commit", "-q", "-am", "Reorganise data stewards"], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    expected[e.id] = "runs";

    // D: approved by Mallory, merged by hand, and only then her config committed.
    const d = await repo.request(requests.export());
    writeConfig(repo, withMallory(readConfig(repo), mallory.pub));
    // (the review is signed; the gate it prints refuses: the chain is broken by E's commit)
    await repo.cli(["approve", d.id, "--as", "mallory", "--key", mallory.key]);
    git(repo.dir, ["checkout", "-q", "--", ".interlock/config.yaml"]);
    plainMerge(d.id);
    writeConfig(repo, withMallory(readConfig(repo), mallory.pub));
    git(repo.dir, ["commit", "-q", "-am", "Add a data steward"], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    expected[d.id] = "refused";

    const audit = await repo.audit(true);
    const executed = await repo.execute();
    for (const [id, want] of Object.entries(expected)) {
      const report = executed.reports.find((r) => r.id === id);
      const record = audit.records.find((r) => r.id === id);
      const auditRefuses = (record?.problems ?? []).length > 0;
      const executorRefuses = report?.status === "refused";
      expect({ id, executorRefuses, auditRefuses }).toEqual({
        id,
        executorRefuses: want === "refused",
        auditRefuses: want === "refused",
      });
    }
  });
});
