import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { Readable } from "node:stream";
import type { CliIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";
import { run } from "./cli-io.ts";
import { loadConfig } from "../src/config/config.ts";
import { LocalForge } from "../src/forge/local/local-forge.ts";
import { parseSshPrivateKey } from "../src/forge/local/sshsig.ts";
import { withdrawalFile } from "../src/forge/local/withdrawal.ts";
import { requestStatuses } from "../src/lifecycle/status.ts";
import { eventsOf } from "../src/notify/event.ts";
import { localFacts } from "../src/notify/local.ts";
import { git, homeEnv, Repo, requests, ROOT, rule } from "./e2e-helpers.ts";

/**
 * Writes withdrawals/<id>.yaml on main in a commit signed with `signer`'s key from the test's
 * home, as a writer holding that key could (bypassing the CLI's own checks).
 */
async function signedWithdrawal(repo: Repo, id: string, signer: string): Promise<string> {
  const forge = new LocalForge(repo.dir, loadConfig(repo.dir), { home: repo.home });
  const file = repo.keyFile(signer);
  const at = new Date(repo.clock.tick());
  return forge.recordWithdrawal({
    id,
    by: "agent:etl-bot",
    content: withdrawalFile({ id, by: "agent:etl-bot", at }),
    message: `Withdraw request ${id}`,
    signingKey: parseSshPrivateKey(readFileSync(file, "utf8"), file),
    date: at,
  });
}

/** Withdrawal, list and show, and the CLI's papercuts, on a real approvals repository. */

interface Listed {
  requests: { id: string; state: string; missing: string; reviewers: string[] }[];
}

describe("withdraw", () => {
  it("as the requester: a withdrawn request can never be merged, and list shows it withdrawn", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.export());
    const w = await repo.cli(["withdraw", id, "--as", "agent:etl-bot", "--reason", "not needed"]);
    expect(w.code, w.stderr).toBe(0);
    await repo.approve(id, "dana");
    const g = await repo.gate(id);
    expect(g.code).toBe(4);
    expect(rule(g.verdict, "not-withdrawn")).toMatchObject({ ok: false });
    expect((await repo.merge(id)).code).toBe(4);
    const audit = await repo.audit(false);
    expect(audit.records.find((r) => r.id === id)?.status).toBe("withdrawn");
    const all = await repo.json<Listed>(["list", "--all"]);
    expect(all.body.requests.find((r) => r.id === id)?.state).toBe("withdrawn");
    const open = await repo.json<Listed>(["list"]);
    expect(open.body.requests.map((r) => r.id)).not.toContain(id);
    const shown = await repo.cli(["show", id]);
    expect(shown.stdout).toContain("State: withdrawn");
    expect(shown.stdout).toContain(`added withdrawals/${id}.yaml`);
  }, 60_000);

  it("as a reviewer or anyone else: withdrawing someone else's request is refused", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.export());
    const r = await repo.cli(["withdraw", id, "--as", "dana"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("only the requester who filed");
    // Claiming to be the requester while signing with another key records nothing that counts.
    const forged = await repo.cli([
      "withdraw",
      id,
      "--as",
      "agent:etl-bot",
      "--key",
      repo.keyFile("dana"),
    ]);
    expect(forged.code).toBe(2);
    expect(forged.stderr).toContain("not agent:etl-bot's configured signing key");
    expect(rule((await repo.gate(id)).verdict, "not-withdrawn").ok).toBe(true);
  }, 60_000);

  it("as a repository writer: an unsigned withdrawal file on main withdraws nothing", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.export());
    const path = join(repo.dir, "withdrawals");
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, `${id}.yaml`), `request: ${id}\nwithdrawn_by: agent:etl-bot\n`);
    git(repo.dir, ["add", `withdrawals/${id}.yaml`]);
    git(repo.dir, ["commit", "-q", "-m", "withdraw"]);
    expect(rule((await repo.gate(id)).verdict, "not-withdrawn").ok).toBe(true);
  }, 60_000);

  it("as a repository writer with another agent's key: the withdrawal is reported and ignored", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.query(11));
    await signedWithdrawal(repo, id, "agent:etl-bot");
    // An agent's own key signs withdrawals of its own requests only: catalogue-bot filed it.
    const g = await repo.gate(id);
    expect(g.code).toBe(0);
    expect(rule(g.verdict, "not-withdrawn").detail).toMatch(
      /ignored: it is signed by agent:etl-bot, not by agent:catalogue-bot/,
    );
    expect((await repo.merge(id)).code).toBe(0);
    const audit = await repo.audit();
    expect(audit.problems).toEqual([]);
    expect(audit.records.find((r) => r.id === id)?.status).not.toBe("withdrawn");
  }, 60_000);

  it("as the sponsor: withdrawing the agent's request is refused, and a sponsor-signed record is ignored", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.export());
    const r = await repo.cli(["withdraw", id, "--as", "alice"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("only the requester who filed");
    await signedWithdrawal(repo, id, "alice");
    const notWithdrawn = rule((await repo.gate(id)).verdict, "not-withdrawn");
    expect(notWithdrawn.ok).toBe(true);
    expect(notWithdrawn.detail).toMatch(/signed by alice, not by agent:etl-bot/);
    const listed = await repo.json<Listed>(["list"]);
    expect(listed.body.requests.find((x) => x.id === id)?.state).toBe("pending");
  }, 60_000);

  it("as a repository writer: deleting the withdrawal file in a later commit does not undo it", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.query(12));
    expect((await repo.cli(["withdraw", id, "--as", "agent:catalogue-bot"])).code).toBe(0);
    git(repo.dir, ["rm", "-q", `withdrawals/${id}.yaml`]);
    git(repo.dir, ["commit", "-q", "-m", "tidy up"]);
    expect(rule((await repo.gate(id)).verdict, "not-withdrawn").ok).toBe(false);
    expect((await repo.merge(id)).code).toBe(4);
  }, 60_000);

  it("as a repository writer: a merge that moves the withdrawal off main's first-parent line does not undo it", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.query(14));
    expect((await repo.cli(["withdraw", id, "--as", "agent:catalogue-bot"])).code).toBe(0);
    // No rewrite: main moves forward to a merge whose first parent is the commit before the
    // withdrawal and whose second parent is the withdrawal. Along the first parents the
    // withdrawal file is added by the writer's unsigned merge; the same file is also added by
    // an unsigned commit on the first-parent side, so the merge is TREESAME to both parents.
    const withdrawal = git(repo.dir, ["rev-parse", "HEAD"]).trim();
    git(repo.dir, ["reset", "-q", "--hard", "HEAD~1"]);
    git(repo.dir, ["checkout", "-q", withdrawal, "--", `withdrawals/${id}.yaml`]);
    git(repo.dir, ["commit", "-q", "-m", "copy"], { date: repo.clock.tick() });
    git(repo.dir, ["merge", "-q", "--no-ff", "-m", "Merge", withdrawal], {
      date: repo.clock.tick(),
    });
    expect(git(repo.dir, ["merge-base", "--is-ancestor", withdrawal, "HEAD"]).trim()).toBe("");
    expect(rule((await repo.gate(id)).verdict, "not-withdrawn").ok).toBe(false);
    expect((await repo.merge(id)).code).toBe(4);
    const audit = await repo.audit(false);
    expect(audit.records.find((r) => r.id === id)?.status).toBe("withdrawn");
  }, 60_000);

  it("as a repository writer: erasing a withdrawal from history after the executor saw it never lets it run", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.query(13));
    expect((await repo.cli(["withdraw", id, "--as", "agent:catalogue-bot"])).code).toBe(0);
    // The executor and the auditor see the withdrawal (journal; signed checkpoint).
    expect((await repo.execute()).code).toBe(0);
    const cp = await repo.cli(["audit", "--verify", "--checkpoint"]);
    expect(cp.code, cp.stdout + cp.stderr).toBe(0);
    // The writer rewinds main past the withdrawal; the gate cannot see it any more.
    git(repo.dir, ["reset", "-q", "--hard", "HEAD~1"]);
    expect(rule((await repo.gate(id)).verdict, "not-withdrawn").ok).toBe(true);
    expect((await repo.merge(id)).code).toBe(0);
    const ex = await repo.execute();
    const report = ex.reports.find((x) => x.id === id);
    expect(report?.status).toBe("refused");
    expect(report?.detail).toMatch(/journal records that its requester withdrew/);
    const audit = await repo.audit();
    expect(audit.problems.join("\n")).toMatch(/history was rewritten/);
  }, 60_000);

  it("as the requester: withdrawn after the merge, the executor refuses to run it", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.query(7));
    expect((await repo.merge(id)).code).toBe(0);
    const w = await repo.cli(["withdraw", id, "--as", "agent:catalogue-bot"]);
    expect(w.code, w.stderr).toBe(0);
    const ex = await repo.execute();
    expect(ex.reports.find((r) => r.id === id)).toMatchObject({ status: "refused" });
    expect(ex.reports.find((r) => r.id === id)?.detail).toMatch(/withdrew/);
  }, 60_000);
});

describe("list and show", () => {
  it("a reviewer sees what waits for them, and reads the masked card before signing", async () => {
    const repo = await Repo.init();
    const { id } = await repo.request(requests.export());
    const mine = await repo.json<Listed>(["list", "--for", "dana"]);
    expect(mine.body.requests.map((r) => r.id)).toEqual([id]);
    const notMine = await repo.json<Listed>(["list", "--for", "alice"]);
    expect(notMine.body.requests).toEqual([]);
    const show = await repo.cli(["show", id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("db.export");
    expect(show.stdout).not.toContain("jane.doe@example.com");
    expect(show.stdout).toContain("State: pending");
    // Its history: the proposal's commit that added the request file.
    expect(show.stdout).toMatch(new RegExp(`added requests/db\\.export/${id}\\.yaml`));
  }, 60_000);

  it("expired and rejected requests are listed as such, not pending", async () => {
    const repo = await Repo.init();
    const { id: rejected } = await repo.request(requests.export());
    const rj = await repo.cli(["reject", rejected, "--as", "dana"]);
    expect(rj.code, rj.stderr).toBe(0);
    const { id: expiring } = await repo.request(requests.export({ ttl: "1h" }));
    const later = new Date(repo.clock.tick(2 * 3600));
    const listed = await repo.json<Listed>(["list", "--all"], { now: later });
    const state = (id: string) => listed.body.requests.find((r) => r.id === id)?.state;
    expect(state(expiring)).toBe("expired");
    // The first request (24h) is still within its time, with an outstanding rejection.
    expect(state(rejected)).toBe("rejected");
    // Expired is closed: not in the default list, and closed in the audit too.
    const open = await repo.json<Listed>(["list"], { now: later });
    expect(open.body.requests.map((r) => r.id)).toEqual([rejected]);
    const audit = await repo.audit(false, { now: later });
    expect(audit.records.find((r) => r.id === expiring)?.status).toBe("expired");
    // The rejection stands until the same reviewer approves the current head.
    await repo.approve(rejected, "dana", { now: later });
    const after = await repo.json<Listed>(["list"], { now: later });
    expect(after.body.requests.find((r) => r.id === rejected)?.state).not.toBe("rejected");
  }, 60_000);
});

describe("papercuts", () => {
  it("execute --retry of an unknown id exits 2 with a reason", async () => {
    const repo = await Repo.init();
    const r = await repo.cli(["execute", "--retry", "01J00000000000000000000000"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no merged request has that id");
  }, 60_000);

  it("approve after the merge names no placeholder, and every Next: hint keeps --repo", async () => {
    const repo = await Repo.init();
    const filed = await repo.cli(["request", "-", "--as", "agent:catalogue-bot"], {
      stdin: stringify(requests.query(3)),
    });
    expect(filed.stdout).toMatch(new RegExp(`Next: interlock gate \\S+ --repo ${repo.dir}`));
    const id = /Filed request (\S+)/.exec(filed.stdout)![1]!;
    const merged = await repo.merge(id);
    expect(merged.stdout).toContain(`Next: interlock execute --repo ${repo.dir}`);
    const late = await repo.cli(["approve", id, "--as", "dana"]);
    expect(late.code).toBe(2);
    expect(late.stderr).not.toContain("<action>");
  }, 60_000);

  it("as the requester: ttl 0s is refused (exit 2), not silently the maximum", async () => {
    const r = await run(["evaluate", "-"], {
      stdin: stringify({ ...requests.query(1), ttl: "0s" }),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ttl/);
  });

  it("audit | head -1: a reader that stops early is no crash, exit 0", async () => {
    const repo = await Repo.init();
    for (let n = 0; n < 3; n++) await repo.request(requests.query(n));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [join(ROOT, "bin", "interlock.js"), "audit", "--repo", repo.dir],
        { env: homeEnv(repo.home), stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdout.once("data", () => child.stdout.destroy());
      child.on("close", (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).not.toContain("EPIPE");
    expect(r.code).toBe(0);
  }, 60_000);
});

describe("progress", () => {
  /** Runs interlock in-process with stderr (and stdout) claiming to be a terminal, or not. */
  async function onTerminal(repo: Repo, argv: string[], tty: boolean) {
    let stdout = "";
    let stderr = "";
    const io: CliIO = {
      stdout: { write: (s: string) => (stdout += s), isTTY: tty },
      stderr: { write: (s: string) => (stderr += s), isTTY: tty },
      stdin: Readable.from([""]),
      env: homeEnv(repo.home),
      cwd: repo.dir,
      now: () => new Date(repo.clock.tick()),
    };
    const code = await main([...argv, "--repo", repo.dir], io);
    return { code, stdout, stderr };
  }

  it("execute and audit count on a terminal's stderr, never in --json or into a pipe", async () => {
    const repo = await Repo.init();
    const a = await repo.request(requests.query(21));
    const b = await repo.request(requests.query(22));
    for (const id of [a.id, b.id]) expect((await repo.merge(id)).code).toBe(0);
    const ex = await onTerminal(repo, ["execute"], true);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stderr).toContain("execute: 2/2");
    const audit = await onTerminal(repo, ["audit"], true);
    expect(audit.stderr).toContain("audit: 2/2");
    expect(audit.stdout).not.toContain("audit: ");
    for (const [argv, tty] of [
      [["audit", "--json"], true],
      [["audit"], false],
      [["execute", "--json"], true],
      [["execute"], false],
    ] as const) {
      const r = await onTerminal(repo, [...argv], tty);
      expect(r.stderr, argv.join(" ")).toBe("");
    }
  }, 60_000);
});

describe("pipes", () => {
  it("as the requester: 'request … | head -c1' files the request and exits 0", async () => {
    const repo = await Repo.init();
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [join(ROOT, "bin", "interlock.js"), "request", "-", "--as", "agent:catalogue-bot"],
        { cwd: repo.dir, env: homeEnv(repo.home), stdio: ["pipe", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdout.once("data", () => child.stdout.destroy());
      child.on("close", (code) => resolve({ code, stderr }));
      child.stdin.end(stringify(requests.query(31)));
    });
    expect(r.stderr).not.toContain("EPIPE");
    expect(r.code).toBe(0);
    const branches = git(repo.dir, [
      "for-each-ref",
      "--format=%(refname)",
      "refs/heads/interlock/",
    ]);
    expect(branches.split("\n").filter(Boolean)).toHaveLength(1);
  }, 60_000);
});

describe("list and show tell the truth about merges", () => {
  it("as a repository writer: a request file committed straight to main is not shown merged", async () => {
    const repo = await Repo.init();
    const { id, path } = await repo.request(requests.export());
    const text = git(repo.dir, ["show", `refs/heads/interlock/${id}:${path}`]);
    mkdirSync(join(repo.dir, path, ".."), { recursive: true });
    writeFileSync(join(repo.dir, path), text + "\n");
    const date = repo.clock.tick();
    git(repo.dir, ["add", path], { date });
    git(repo.dir, ["commit", "-q", "-m", "Add a request"], { date });
    const all = await repo.json<Listed>(["list", "--all"]);
    const listed = all.body.requests.find((r) => r.id === id);
    expect(listed?.state).not.toBe("merged");
    expect(listed?.missing).toMatch(/the gate did not hold at the merge/);
    const shown = await repo.cli(["show", id]);
    expect(shown.stdout).not.toContain("State: merged");
    // Nor does a notification announce it "merged: approved and waiting for the executor".
    const forge = new LocalForge(repo.dir, loadConfig(repo.dir), { home: repo.home });
    const facts = await localFacts(
      forge,
      await requestStatuses(forge, new Date(repo.clock.tick())),
    );
    const events = eventsOf(facts.find((f) => f.card.id === id)!);
    expect(events.map((e) => e.kind)).not.toContain("merged");
    // Refused by the executor, it is not shown "executed" either.
    expect((await repo.execute()).code).toBe(1);
    const after = await repo.json<Listed>(["list", "--all"]);
    const refused = after.body.requests.find((r) => r.id === id);
    expect(refused?.state).not.toBe("executed");
    expect(refused?.missing).toMatch(/refused by the executor, never run/);
  }, 60_000);
});
