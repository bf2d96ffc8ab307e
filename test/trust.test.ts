import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import { git, logLines, loggingExecutor, MALLORY, Repo, requests } from "./e2e-helpers.ts";

/**
 * The trust root: config, CODEOWNERS and policies change on main only through governance
 * changes approved by a majority of the previous revision's admins, verified as a chain back
 * to the initial commit that the executor and the auditor pinned.
 */

type Config = {
  people: Record<string, Record<string, unknown>>;
  teams: Record<string, string[]>;
  admins: string[];
};

function editConfig(repo: Repo, edit: (c: Config) => void): void {
  const path = join(repo.dir, ".interlock", "config.yaml");
  const config = parseYaml(readFileSync(path, "utf8")) as Config;
  edit(config);
  writeFileSync(path, stringify(config, { lineWidth: 0 }));
}

function malloryKey(): string {
  const key = join(tempDir("interlock-e2e-key-"), "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "mallory", "-f", key]);
  return readFileSync(`${key}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
}

const addMallory = (pub: string) => (c: Config) => {
  c.people.mallory = { name: "Mallory", email: MALLORY.email, signing_key: pub, bot: false };
  c.teams["data-stewards"] = [...(c.teams["data-stewards"] ?? []), "mallory"];
};

async function loggingRepo(): Promise<{ repo: Repo; log: string }> {
  const repo = await Repo.init();
  const log = join(tempDir("interlock-e2e-log-"), "runs.log");
  await repo.setExecutor("db.export", loggingExecutor(log)); // a governance change
  return { repo, log };
}

describe("a trust root", () => {
  it("a governance change approved by a majority of the admins lands and is trusted", async () => {
    const { repo } = await loggingRepo();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "dana");
    expect((await repo.merge(filed.id)).code).toBe(0);
    expect((await repo.execute()).reports).toEqual([
      expect.objectContaining({ id: filed.id, status: "succeeded" }),
    ]);
    const audit = await repo.audit(true);
    expect(audit.problems).toEqual([]);
  });

  it("as a repository writer, a plain commit on main that makes me a data steward makes gate, executor and audit refuse, naming it", async () => {
    const { repo, log } = await loggingRepo();
    const filed = await repo.request(requests.export());
    editConfig(repo, addMallory(malloryKey()));
    git(repo.dir, ["commit", "-q", "-am", "Add a data steward"], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    const bad = repo.rev("main");

    const gate = await repo.cli(["gate", filed.id]);
    expect(gate.code).not.toBe(0);
    expect(gate.stderr).toContain(`trust chain is broken at ${bad.slice(0, 12)}`);

    // dana's signed approval is recorded (the gate it prints refuses, as above).
    expect((await repo.cli(["approve", filed.id, "--as", "dana"])).stderr).toMatch(/broken/);
    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "Merge", `interlock/${filed.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    const executed = await repo.execute();
    expect(executed.reports).toEqual([expect.objectContaining({ status: "refused" })]);
    expect(executed.reports[0]!.detail).toContain(`broken at ${bad.slice(0, 12)}`);
    expect(logLines(log)).toEqual([]);

    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.findings).toContainEqual(
      expect.objectContaining({
        commit: bad,
        problem: expect.stringMatching(/trust chain is broken/),
      }),
    );
  });

  it("as a repository writer, a governance change approved by one admin does not land, and landing it by hand breaks the chain", async () => {
    const { repo, log } = await loggingRepo();
    editConfig(repo, addMallory(malloryKey()));
    const proposed = await repo.json<{ id: string; branch: string }>([
      "propose-change",
      ".interlock/config.yaml",
    ]);
    expect(proposed.code).toBe(0);
    await repo.approve(proposed.body.id, "sam");
    const merged = await repo.cli(["merge", proposed.body.id]);
    expect(merged.code).not.toBe(0);
    expect(merged.stdout).toMatch(/1 of the 2 verified admin approvals/);
    // A non-admin cannot approve it at all.
    await expect(repo.approve(proposed.body.id, "dana")).rejects.toThrow(/not an admin/);

    git(repo.dir, ["checkout", "-q", "--", ".interlock/config.yaml"]);
    git(
      repo.dir,
      [
        "merge",
        "--no-ff",
        "-q",
        "-m",
        `Merge\n\nInterlock-Governance: ${proposed.body.id}`,
        proposed.body.branch,
      ],
      { who: MALLORY, date: repo.clock.tick() },
    );
    const filed = await repo.request(requests.export());
    const gate = await repo.cli(["gate", filed.id]);
    expect(gate.code).not.toBe(0);
    expect(gate.stderr).toMatch(/trust chain is broken at [0-9a-f]{12}: .*1 of the 2/);
    expect(logLines(log)).toEqual([]);
  });

  it("as a repository writer, a history rebuilt from a new root that names me admin is refused by gate and audit", async () => {
    const { repo } = await loggingRepo();
    const filed = await repo.request(requests.export());
    editConfig(repo, (c) => {
      addMallory(malloryKey())(c);
      c.admins = ["mallory"];
    });
    git(repo.dir, ["add", "-A"]);
    const tree = git(repo.dir, ["write-tree"]);
    const root = git(repo.dir, ["commit-tree", tree, "-m", "Initialise"], { who: MALLORY });
    git(repo.dir, ["update-ref", "refs/heads/main", root]);
    git(repo.dir, ["reset", "-q", "--hard"]);
    const gate = await repo.cli(["gate", filed.id]);
    expect(gate.code).not.toBe(0);
    expect(gate.stderr).toMatch(/trust root this machine has not pinned/);
    const audit = await repo.audit(true);
    expect(audit.code).toBe(1);
    expect(audit.problems.join("\n")).toMatch(/not pinned/);
  });
});
