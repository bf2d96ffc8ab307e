import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import {
  git,
  loggingExecutor,
  logLines,
  MALLORY,
  Repo,
  requests,
  rule,
  SAM,
  show,
  type Verdict,
  type Who,
} from "./e2e-helpers.ts";

/**
 * Authenticated requesters and verified reviews, attacked through the real CLI against real
 * git: who filed a request is whoever signed it, the sponsor is the one bound in the config,
 * every name of a person is that person, and only verified reviews exist for the gate.
 */

const branchRef = (id: string) => `refs/heads/interlock/${id}`;
const originalRef = (id: string) => `refs/interlock/requests/${id}`;

function approvalOf(v: Verdict, who: string) {
  const a = [...v.approvals].reverse().find((x) => x.who === who);
  if (!a) throw new Error(`no approval by ${who} in ${JSON.stringify(v.approvals)}`);
  return a;
}

function newSshKey(comment: string): string {
  const file = join(tempDir("interlock-id-key-"), "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return file;
}

/** Files a request and returns the CLI's exit code and JSON body (no expectations). */
async function tryFile(repo: Repo, request: object, args: readonly string[]) {
  return repo.json<{ id?: string; error?: { message: string } }>(["request", "-", ...args], {
    stdin: stringify(request),
  });
}

/** A review tag as plain git writes it (signed when a key is given). */
function reviewTag(
  repo: Repo,
  opts: { id: string; name: string; target: string; state: string; who: Who; key?: string },
): void {
  const message = [
    `interlock review: ${opts.state}`,
    "",
    `request: ${opts.id}`,
    `state: ${opts.state}`,
    `commit: ${opts.target}`,
  ].join("\n");
  const sign = opts.key ? ["-c", "gpg.format=ssh", "-c", `user.signingkey=${opts.key}`] : [];
  git(
    repo.dir,
    [
      ...sign,
      "tag",
      opts.key ? "-s" : "-a",
      "-m",
      message,
      `interlock/reviews/${opts.id}/${opts.name}`,
      opts.target,
    ],
    { who: opts.who, date: repo.clock.tick() },
  );
}

/** Replaces the filed commit of a proposal (branch and baseline) with `commit`. */
function replaceFiledCommit(repo: Repo, id: string, commit: string): void {
  git(repo.dir, ["update-ref", branchRef(id), commit]);
  git(repo.dir, ["update-ref", originalRef(id), commit]);
}

describe("authenticated requesters", () => {
  it("as the requester, leaving out on_behalf_of: the sponsor bound in the config is filled in and excluded", async () => {
    const repo = await Repo.init();
    const request = requests.export();
    const filed = await repo.request({
      ...request,
      requester: { id: "agent:etl-bot", kind: "agent" },
    });
    const record = parseYaml(show(repo.dir, branchRef(filed.id), filed.path)!) as {
      request: { requester: Record<string, string> };
    };
    expect(record.request.requester).toEqual({
      id: "agent:etl-bot",
      kind: "agent",
      on_behalf_of: "alice",
    });
    await repo.approve(filed.id, "alice");
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(approvalOf(verdict, "alice")).toMatchObject({ counted: false });
    expect(approvalOf(verdict, "alice").why).toMatch(/alice is the agent's sponsor/);
  });

  it("as the requester, naming another sponsor: refused with exit 2 and the reason", async () => {
    const repo = await Repo.init();
    const r = await tryFile(
      repo,
      requests.export({ requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "pat" } }),
      ["--as", "agent:etl-bot"],
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /agent:etl-bot's sponsor is alice \(bound in the configuration\), but the request names pat/,
    );
    expect(git(repo.dir, ["branch", "--list", "interlock/*"])).toBe("");
  });

  it("as the requester, spelling its sponsor by e-mail in other case: the sponsor still cannot approve", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(
      requests.export({
        requester: { id: "AGENT:ETL-BOT", kind: "agent", on_behalf_of: "Alice@ACME.example" },
      }),
      { as: "agent:etl-bot" },
    );
    await repo.approve(filed.id, "alice");
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(approvalOf(verdict, "alice")).toMatchObject({ counted: false });
    expect(rule(verdict, "signed-request")).toMatchObject({ ok: true });
  });

  it("as the requester, filing under another agent's name: refused", async () => {
    const repo = await Repo.init();
    const request = requests.export({
      requester: { id: "agent:catalogue-bot", kind: "agent", on_behalf_of: "alice" },
    });
    const r = await tryFile(repo, request, ["--as", "agent:etl-bot"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /the request names requester agent:catalogue-bot, but it is filed \(signed\) by agent:etl-bot/,
    );
  });

  it("as the requester, signing with its own key under another agent's name: the gate refuses", async () => {
    const repo = await Repo.init();
    const request = requests.export({
      requester: { id: "agent:catalogue-bot", kind: "agent", on_behalf_of: "alice" },
    });
    const r = await tryFile(repo, request, [
      "--as",
      "agent:catalogue-bot",
      "--key",
      repo.keyFile("agent:etl-bot"),
    ]);
    expect(r.code).toBe(0);
    await repo.approve(r.body.id!, "dana");
    const { code, verdict } = await repo.gate(r.body.id!);
    expect(code).toBe(4);
    expect(rule(verdict, "signed-request")).toMatchObject({ ok: false });
    expect(rule(verdict, "signed-request").detail).toMatch(
      /names requester agent:catalogue-bot, but it is filed \(signed\) by agent:etl-bot/,
    );
    expect((await repo.merge(r.body.id!)).code).toBe(4);
  });

  it("as a person, filing as an agent to approve it themselves: refused", async () => {
    const repo = await Repo.init();
    // dana would be an eligible data steward for her own export if she could pose as the bot.
    const asBot = await tryFile(repo, requests.export(), ["--as", "dana"]);
    expect(asBot.code).toBe(2);
    expect(asBot.stderr).toMatch(
      /names requester agent:etl-bot, but it is filed \(signed\) by dana/,
    );

    const posing = requests.export({ requester: { id: "dana", kind: "agent" } });
    const asAgentKind = await tryFile(repo, posing, ["--as", "dana"]);
    expect(asAgentKind.code).toBe(2);
    expect(asAgentKind.stderr).toMatch(/dana is a person and cannot file as an agent/);

    // With dana's key under the bot's name, the signature names dana: the gate refuses.
    const forged = await tryFile(repo, requests.export(), [
      "--as",
      "agent:etl-bot",
      "--key",
      repo.keyFile("dana"),
    ]);
    expect(forged.code).toBe(0);
    await repo.approve(forged.body.id!, "dana");
    const { code, verdict } = await repo.gate(forged.body.id!);
    expect(code).toBe(4);
    expect(rule(verdict, "signed-request").detail).toMatch(/filed \(signed\) by dana/);

    // Filing honestly as herself, her approval is the requester's and does not count.
    const own = await repo.request(requests.export({ requester: { id: "dana", kind: "human" } }));
    await repo.approve(own.id, "dana");
    const mine = await repo.gate(own.id);
    expect(mine.code).toBe(4);
    expect(approvalOf(mine.verdict, "dana").why).toMatch(/dana is the requester/);
  });

  it("as a repository writer, an unsigned proposal: the gate, merge and execute refuse it", async () => {
    const repo = await Repo.init();
    const log = join(tempDir("interlock-id-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(log));
    const filed = await repo.request(requests.export());
    const signed = repo.rev(branchRef(filed.id));
    expect(git(repo.dir, ["cat-file", "commit", signed])).toMatch(
      /^gpgsig -----BEGIN SSH SIGNATURE-----/m,
    );
    // The same tree and parent, without the signature.
    const tree = git(repo.dir, ["rev-parse", `${signed}^{tree}`]);
    const parent = git(repo.dir, ["rev-parse", `${signed}^`]);
    const unsigned = git(repo.dir, ["commit-tree", tree, "-p", parent, "-m", "Filed"], {
      who: { name: "agent:etl-bot", email: "etl-bot@requesters.interlock.invalid" },
      date: repo.clock.tick(),
    });
    replaceFiledCommit(repo, filed.id, unsigned);
    await repo.approve(filed.id, "dana");
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(rule(verdict, "signed-request")).toEqual({
      rule: "signed-request",
      ok: false,
      detail:
        "the request is not authenticated: the proposal's commit is not signed; file it again, signed with the requester's key",
    });
    expect((await repo.merge(filed.id)).code).toBe(4);
    // Merged by hand anyway: the executor refuses.
    git(repo.dir, ["merge", "--no-ff", "-q", "-m", "merge", `interlock/${filed.id}`], {
      who: MALLORY,
      date: repo.clock.tick(),
    });
    const executed = await repo.execute();
    expect(executed.reports[0]).toMatchObject({ status: "refused" });
    expect(executed.reports[0]!.detail).toMatch(/not signed by its requester/);
    expect(logLines(log)).toEqual([]);
  });

  it("as a repository writer, a proposal signed with a key nobody configured: the gate refuses", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const signed = repo.rev(branchRef(filed.id));
    const tree = git(repo.dir, ["rev-parse", `${signed}^{tree}`]);
    const parent = git(repo.dir, ["rev-parse", `${signed}^`]);
    const key = newSshKey("mallory@example.test");
    const forged = git(
      repo.dir,
      [
        "-c",
        "gpg.format=ssh",
        "-c",
        `user.signingkey=${key}`,
        "commit-tree",
        "-S",
        tree,
        "-p",
        parent,
        "-m",
        "Filed",
      ],
      { who: MALLORY, date: repo.clock.tick() },
    );
    replaceFiledCommit(repo, filed.id, forged);
    await repo.approve(filed.id, "dana");
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(rule(verdict, "signed-request").detail).toMatch(
      /signature is by no configured person or agent \(signed by SHA256:\S+ which is not an allowed key for agent:etl-bot\)/,
    );
  });

  it("the request signature is plain git's: git verify-commit accepts it with the config's keys", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const signers = join(tempDir("interlock-id-signers-"), "allowed_signers");
    const config = parseYaml(readFileSync(join(repo.dir, ".interlock", "config.yaml"), "utf8")) as {
      agents: Record<string, { signing_key: string }>;
    };
    execFileSync("sh", [
      "-c",
      `printf '%s\\n' "$1" > "$2"`,
      "sh",
      `etl-bot@requesters.interlock.invalid namespaces="git" ${config.agents["agent:etl-bot"]!.signing_key}`,
      signers,
    ]);
    const out = execFileSync(
      "git",
      [
        "-C",
        repo.dir,
        "-c",
        `gpg.ssh.allowedSignersFile=${signers}`,
        "verify-commit",
        "--raw",
        repo.rev(branchRef(filed.id)),
      ],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null" },
      },
    );
    expect(out).toBe("");
  });
});

describe("only verified reviews exist for the gate", () => {
  it("as a repository writer, a forged unsigned approval naming sam after sam's signed rejection", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const r = await repo.cli(["reject", filed.id, "--as", "sam"]);
    expect(r.code).toBe(0);
    await repo.approve(filed.id, "dana");
    reviewTag(repo, {
      id: filed.id,
      name: "sam-forged",
      target: repo.rev(branchRef(filed.id)),
      state: "approved",
      who: SAM,
    });
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(rule(verdict, "no-rejection")).toMatchObject({ ok: false });
    expect(rule(verdict, "no-rejection").detail).toMatch(/changes requested by sam/);
    expect(approvalOf(verdict, "sam").why).toBe("ignored: the review is not signed");
    expect(verdict.summary).toMatch(
      /ignored 1 unverified review \(sam: the review is not signed\)/,
    );
    expect((await repo.merge(filed.id)).code).toBe(4);
  });

  it("as a repository writer, an approval naming sam signed by another key, after sam's rejection", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    expect((await repo.cli(["reject", filed.id, "--as", "sam"])).code).toBe(0);
    await repo.approve(filed.id, "dana");
    reviewTag(repo, {
      id: filed.id,
      name: "sam-other-key",
      target: repo.rev(branchRef(filed.id)),
      state: "approved",
      who: SAM,
      key: newSshKey("mallory@example.test"),
    });
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(rule(verdict, "no-rejection")).toMatchObject({ ok: false });
    expect(approvalOf(verdict, "sam").why).toMatch(
      /^ignored: signed by SHA256:\S+ which is not an allowed key for sam$/,
    );
  });

  it("as a repository writer, sam's genuine approval of an old head does not lift sam's rejection", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const base = repo.rev("main");
    expect((await repo.cli(["reject", filed.id, "--as", "sam"])).code).toBe(0);
    await repo.approve(filed.id, "dana");
    // A real approval by sam, with sam's key, but of another commit (and given later).
    reviewTag(repo, {
      id: filed.id,
      name: "sam-old-head",
      target: base,
      state: "approved",
      who: SAM,
      key: repo.keyFile("sam"),
    });
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(4);
    expect(rule(verdict, "no-rejection")).toMatchObject({ ok: false });
    expect(approvalOf(verdict, "sam").why).toMatch(
      /does not lift sam's request for changes .*only an approval of the current head does/,
    );
    // sam approving the current head does lift it.
    await repo.approve(filed.id, "sam");
    const after = await repo.gate(filed.id);
    expect(rule(after.verdict, "no-rejection")).toMatchObject({ ok: true });
    expect(after.code).toBe(0);
  });
});

describe("keys outside the repository", () => {
  it("as a repository writer, after init and a full lifecycle, no private key is in the working tree or .git", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    await repo.approve(filed.id, "dana");
    expect((await repo.merge(filed.id)).code).toBe(0);
    expect((await repo.execute()).reports[0]).toMatchObject({ status: "succeeded" });
    expect((await repo.audit(true)).code).toBe(0);

    // What must never be readable by a writer: every private key and the masking key.
    const secrets: string[] = ["OPENSSH PRIVATE KEY", "AGE-SECRET-KEY-"];
    const keys = join(repo.repoHome, "keys");
    const principals = readdirSync(keys).filter((f) => !f.endsWith(".pub"));
    expect(principals.sort()).toEqual(
      [
        "agent:catalogue-bot",
        "agent:deploy-bot",
        "agent:etl-bot",
        "alice",
        "dana",
        "pat",
        "riley",
        "sam",
      ].sort(),
    );
    for (const p of principals) {
      const body = readFileSync(join(keys, p), "utf8").split("\n").slice(1, -2);
      secrets.push(...body.filter((l) => l.length >= 40));
    }
    const mask = readFileSync(join(repo.repoHome, "mask.key"), "utf8").trim();
    expect(mask).toMatch(/^[0-9a-f]{64}$/);
    secrets.push(mask);

    // Every file of the working tree and of .git, as bytes.
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(repo.dir);
    expect(files.some((f) => f.includes(`${join(".git", "objects")}`))).toBe(true);
    const leaks: string[] = [];
    for (const f of files) {
      const text = readFileSync(f).toString("latin1");
      for (const s of secrets) if (text.includes(s)) leaks.push(`${f}: ${s.slice(0, 20)}…`);
    }
    // And every object, decompressed (loose and packed).
    const objects = execFileSync(
      "git",
      ["-C", repo.dir, "cat-file", "--batch-all-objects", "--batch", "--unordered"],
      { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null" } },
    ).toString("latin1");
    expect(objects.length).toBeGreaterThan(1000);
    for (const s of secrets)
      if (objects.includes(s)) leaks.push(`a git object: ${s.slice(0, 20)}…`);
    expect(leaks).toEqual([]);
  });
});

describe("self-grant through aliases and groups (the real policy)", () => {
  const grant = (requester: Record<string, string>, principal: string) => ({
    action: "iam.grant",
    resource: "aws://staging/iam",
    params: { principal, role: "AdministratorAccess" },
    reason: "Finish the rollout",
    requester,
  });
  const etl = { id: "agent:etl-bot", kind: "agent" };
  const deploy = { id: "agent:deploy-bot", kind: "agent" };

  it.each([
    [
      "as the requester, granting its own cloud identity",
      etl,
      "serviceAccount:etl-bot@acme-data.iam.example",
    ],
    ["as the requester, granting itself without its kind prefix", etl, "ETL-BOT"],
    [
      "as the sponsor, granting themselves by e-mail through the agent",
      etl,
      "user:Alice@ACME.example",
    ],
    ["as the sponsor, granting a group they belong to", deploy, "group:platform"],
    ["as the sponsor, granting their team by its owner handle", deploy, "@acme/platform"],
  ])("%s: denied as a self-grant", async (_name, requester, principal) => {
    const repo = await sharedRepo();
    const r = await tryFile(repo, grant(requester, principal), ["--as", requester.id]);
    expect(r.code).toBe(3);
    const body = r.body as unknown as { denied: boolean; decision: { deny: string[] } };
    expect(body.denied).toBe(true);
    expect(body.decision.deny.join("\n")).toMatch(/^self-grant: /m);
  });

  it("a grant to someone who is neither is allowed (the rule is not a blanket denial)", async () => {
    const repo = await sharedRepo();
    const r = await tryFile(repo, grant(etl, "user:bob@acme.example"), ["--as", etl.id]);
    expect(r.code).toBe(0);
  });
});

let shared: Promise<Repo> | undefined;
/** One repository for the policy cases: each only files a request. */
function sharedRepo(): Promise<Repo> {
  shared ??= Repo.init();
  return shared;
}

describe("keys are never read from the repository", () => {
  it("as a repository writer, a key file planted in the working tree is refused, not used", async () => {
    const repo = await Repo.init();
    const planted = join(repo.dir, ".interlock", "keys", "dana");
    execFileSync("mkdir", ["-p", join(repo.dir, ".interlock", "keys")]);
    execFileSync("cp", [repo.keyFile("dana"), planted]);
    const filed = await repo.request(requests.export());
    const r = await repo.cli(["approve", filed.id, "--as", "dana", "--key", planted]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dana's private key must not live inside the approvals repository/);
    const q = await tryFile(repo, requests.export(), ["--as", "agent:etl-bot", "--key", planted]);
    expect(q.code).toBe(2);
  });
});

describe("a person under any of their names", () => {
  it("approves as dana when named by e-mail, and the sponsor by e-mail is still the sponsor", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const r = await repo.cli(["approve", filed.id, "--as", "Dana@ACME.example"]);
    expect(r.code).toBe(0);
    const s = await repo.cli(["approve", filed.id, "--as", "alice@acme.example"]);
    expect(s.stdout).toMatch(
      /alice approved .*\n {2}✗ does not count: alice is the agent's sponsor/,
    );
    const { code, verdict } = await repo.gate(filed.id);
    expect(code).toBe(0);
    expect(approvalOf(verdict, "dana")).toMatchObject({ counted: true });
  });
});
