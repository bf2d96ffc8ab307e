import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Git } from "../src/forge/local/git.ts";
import {
  commitOnRef,
  git,
  loggingExecutor,
  logLines,
  Repo,
  requests,
  SAM,
  show,
  type AuditRecord,
  type Filed,
} from "./e2e-helpers.ts";
import { tempDir } from "./helpers.ts";

/**
 * As a repository writer: on the local forge, whoever can run `interlock request` can write
 * `.git/` (config and what it includes, hooks, info/grafts, shallow, refs/replace). Nothing
 * written there may run a program in an Interlock process (approve, merge, execute, audit run
 * with other people's keys and rights), or change what Interlock reads from history.
 */

/** Every hook git knows (githooks(5)), each of which would append its name to the marker. */
const HOOKS = [
  "applypatch-msg",
  "pre-applypatch",
  "post-applypatch",
  "pre-commit",
  "pre-merge-commit",
  "prepare-commit-msg",
  "commit-msg",
  "post-commit",
  "pre-rebase",
  "post-checkout",
  "post-merge",
  "pre-push",
  "pre-receive",
  "update",
  "proc-receive",
  "post-receive",
  "post-update",
  "reference-transaction",
  "push-to-checkout",
  "pre-auto-gc",
  "post-rewrite",
  "sendemail-validate",
  "fsmonitor-watchman",
  "p4-changelist",
  "p4-prepare-changelist",
  "p4-post-changelist",
  "p4-pre-submit",
  "post-index-change",
];

/** The attacker's tools: a program that records that it ran, and hooks that do the same. */
function arsenal(): { dir: string; marker: string; evil: string; hooks: string } {
  const dir = tempDir("interlock-attacker-");
  const marker = join(dir, "ran.log");
  const evil = join(dir, "evil.sh");
  // Records the call, then behaves well enough not to be noticed: signs when asked to sign
  // (as gpg.ssh.program), and passes content through (as a filter, pager or textconv).
  writeFileSync(
    evil,
    `#!/bin/sh\necho "program $*" >> '${marker}'\ncase "$1" in -Y) exec ssh-keygen "$@";; esac\nexec cat\n`,
  );
  chmodSync(evil, 0o755);
  const hooks = join(dir, "hooks");
  mkdirSync(hooks);
  for (const h of HOOKS) writeHook(hooks, h, marker);
  return { dir, marker, evil, hooks };
}

function writeHook(dir: string, name: string, marker: string): void {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho "hook ${name}" >> '${marker}'\nexit 0\n`);
  chmodSync(file, 0o755);
}

/** Repository config naming the attacker's program everywhere git could run one. */
function hostileConfig(evil: string): string {
  return `
[core]
\tfsmonitor = ${evil}
\tpager = ${evil}
\teditor = ${evil}
\tsshCommand = ${evil}
\taskPass = ${evil}
\tgitProxy = ${evil}
[sequence]
\teditor = ${evil}
[commit]
\tgpgSign = true
[tag]
\tgpgSign = true
\tforceSignAnnotated = true
[gpg]
\tprogram = ${evil}
[gpg "ssh"]
\tprogram = ${evil}
\tdefaultKeyCommand = ${evil}
[gpg "x509"]
\tprogram = ${evil}
[filter "evil"]
\tclean = ${evil}
\tsmudge = ${evil}
\tprocess = ${evil}
[diff "evil"]
\ttextconv = ${evil}
\tcommand = ${evil}
[merge "evil"]
\tdriver = ${evil}
[diff]
\texternal = ${evil}
[pager]
\tlog = ${evil}
\tdiff = ${evil}
\ttag = ${evil}
\tcat-file = ${evil}
[credential]
\thelper = !${evil}
[gc]
\tauto = 1
\tautoDetach = false
[alias]
\tlog = !${evil}
\tcat-file = !${evil}
\tupdate-ref = !${evil}
\tcommit-tree = !${evil}
\thash-object = !${evil}
\ttag = !${evil}
\tmktag = !${evil}
`;
}

function ranNothing(marker: string, step: string): void {
  const ran = existsSync(marker) ? readFileSync(marker, "utf8") : "";
  expect(ran, `after ${step}, the attacker's programs ran`).toBe("");
}

/** What a record says, without what depends on when the audit ran. */
const essence = (r: AuditRecord) => ({
  id: r.id,
  status: r.status,
  decision: r.decision,
  approvers: r.approvers,
  outcome: r.outcome,
  problems: r.problems ?? [],
});

describe("as a repository writer, git cannot be turned against Interlock", () => {
  it("a hostile .git/config, what it includes, .gitattributes and .git/hooks run nothing in the whole lifecycle", async () => {
    const repo = await Repo.init();
    const runs = join(tempDir("interlock-e2e-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(runs));
    const { dir, marker, evil } = arsenal();
    // A committed .gitattributes that sends every file through the attacker's drivers.
    const date = repo.clock.tick();
    writeFileSync(join(repo.dir, ".gitattributes"), "* filter=evil diff=evil merge=evil\n");
    git(repo.dir, ["add", ".gitattributes"], { date });
    git(repo.dir, ["commit", "-q", "-m", "Attributes"], { date, who: SAM });
    // Then the hooks, .git/info/attributes, and the config with an include and an includeIf.
    for (const h of HOOKS) writeHook(join(repo.dir, ".git", "hooks"), h, marker);
    writeFileSync(join(repo.dir, ".git", "info", "attributes"), "* filter=evil diff=evil\n");
    const included = join(dir, "included.config");
    const conditional = join(dir, "conditional.config");
    const elsewhere = join(dir, "elsewhere");
    mkdirSync(elsewhere);
    writeFileSync(included, hostileConfig(evil));
    writeFileSync(conditional, `[diff]\n\texternal = ${evil}\n[core]\n\tfsmonitor = ${evil}\n`);
    writeFileSync(
      join(repo.dir, ".git", "config"),
      readFileSync(join(repo.dir, ".git", "config"), "utf8") +
        `[include]\n\tpath = ${included}\n[includeIf "gitdir:/"]\n\tpath = ${conditional}\n` +
        // Checkouts would write wherever core.worktree points (say, the victim's home).
        `[core]\n\tworktree = ${elsewhere}\n` +
        hostileConfig(evil),
    );
    // The attack is live: plain git in this repository runs the attacker's programs.
    git(repo.dir, ["update-ref", "refs/heads/probe", "HEAD"]);
    expect(readFileSync(marker, "utf8")).toMatch(/hook reference-transaction/);
    git(repo.dir, ["update-ref", "-d", "refs/heads/probe"]);
    writeFileSync(marker, "");

    const filed = await repo.request(requests.export());
    ranNothing(marker, "request");
    expect((await repo.gate(filed.id)).code).toBe(4);
    ranNothing(marker, "gate");
    await repo.approve(filed.id, "dana");
    ranNothing(marker, "approve");
    expect((await repo.gate(filed.id)).code).toBe(0);
    const merged = await repo.merge(filed.id);
    expect(merged.code, merged.stderr).toBe(0);
    ranNothing(marker, "merge");
    const executed = await repo.execute();
    expect(executed.reports).toEqual([expect.objectContaining({ status: "succeeded" })]);
    ranNothing(marker, "execute");
    const audit = await repo.audit(true);
    expect(audit.problems).toEqual([]);
    expect(audit.code).toBe(0);
    ranNothing(marker, "audit --verify");
    expect(logLines(runs)).toEqual([filed.id]);
    // The working tree was brought up to date without the attacker's smudge filter.
    expect(readFileSync(join(repo.dir, filed.path), "utf8")).toBe(
      await new Git(repo.dir).readFile("refs/heads/main", filed.path),
    );
    ranNothing(marker, "reading the working tree");
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it("a promisor remote's upload-pack never runs when a ref names a missing object", async () => {
    const repo = await Repo.init();
    const filed = await repo.request(requests.export());
    const { marker, evil } = arsenal();
    // A partial clone's promisor remote: git fetches a missing object from it on demand,
    // running the remote's upload-pack (or ssh) command from the repository's config.
    git(repo.dir, ["config", "core.repositoryformatversion", "1"]);
    git(repo.dir, ["config", "extensions.partialClone", "origin"]);
    git(repo.dir, ["config", "remote.origin.url", tempDir("interlock-remote-")]);
    git(repo.dir, ["config", "remote.origin.promisor", "true"]);
    git(repo.dir, ["config", "remote.origin.uploadpack", evil]);
    git(repo.dir, ["config", "core.sshCommand", evil]);
    const tags = join(repo.dir, ".git", "refs", "tags", "interlock", "reviews", filed.id);
    mkdirSync(tags, { recursive: true });
    writeFileSync(join(tags, "mallory"), `${"1234567890".repeat(4)}\n`);
    await repo.gate(filed.id);
    await repo.approve(filed.id, "dana").catch(() => undefined);
    await repo.audit(true);
    ranNothing(marker, "gate, approve and audit");
  });

  it("replace objects, grafts, the shallow file and core.hooksPath change nothing Interlock runs or audits", async () => {
    const repo = await Repo.init();
    const runs = join(tempDir("interlock-e2e-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(runs));
    const TRUE_DESTINATION = "s3://analytics-exports/churn/2026-11/";
    const ATTACKER_DESTINATION = "s3://analytics-exports/mallory-copy/";
    const approved = await repo.request(requests.export());
    // A second request, never approved, that says what the attacker wants run instead.
    const wanted = await repo.request(
      requests.export({
        params: { query: "select id, plan from customers", destination: ATTACKER_DESTINATION },
      }),
    );
    await repo.approve(approved.id, "dana");
    expect((await repo.merge(approved.id)).code).toBe(0);
    const merge = repo.rev("refs/heads/main");

    const { dir, marker, hooks } = arsenal();
    const included = join(dir, "included.config");
    writeFileSync(included, `[core]\n\thooksPath = ${hooks}\n`);
    git(repo.dir, ["config", "include.path", included]);

    // Replace the approved request file with the unapproved one, renamed to the approved id:
    // the file and its baseline (refs/interlock/original/…) share the blob, so both change.
    const blob = git(repo.dir, ["rev-parse", `${merge}:${approved.path}`]);
    const forged = show(repo.dir, `refs/heads/interlock/${wanted.id}`, wanted.path)!.replace(
      `id: ${wanted.id}`,
      `id: ${approved.id}`,
    );
    const forgedBlob = git(repo.dir, ["hash-object", "-w", "--stdin"], { input: forged });
    git(repo.dir, ["replace", blob, forgedBlob]);
    writeFileSync(marker, "");
    // The attack is live: plain git now reads the forged request at the merge.
    expect(show(repo.dir, merge, approved.path)).toContain(ATTACKER_DESTINATION);

    const executed = await repo.execute();
    expect(executed.reports).toEqual([
      expect.objectContaining({ id: approved.id, status: "succeeded" }),
    ]);
    const received = readFileSync(`${runs}.stdin`, "utf8");
    expect(received).toContain(TRUE_DESTINATION);
    expect(received).not.toContain(ATTACKER_DESTINATION);
    ranNothing(marker, "execute");
    const before = await repo.audit(true);
    expect(before.problems).toEqual([]);
    expect(before.code).toBe(0);

    // Grafts and a shallow file that cut the merge out of main's history, and a replaced
    // commit (the result's commit, claiming another parent): the audit sees the true history.
    const tip = repo.rev("refs/heads/main");
    const beforeMerge = repo.rev(`${merge}^1`);
    writeFileSync(join(repo.dir, ".git", "info", "grafts"), `${tip} ${beforeMerge}\n`);
    writeFileSync(join(repo.dir, ".git", "shallow"), `${merge}\n`);
    git(repo.dir, ["update-ref", "refs/attacker/scratch", beforeMerge]);
    const fakeResult = commitOnRef(repo.dir, "refs/attacker/scratch", {
      [`results/${approved.id}.yaml`]: "outcome: refused\n",
    });
    git(repo.dir, ["replace", "-f", tip, fakeResult]);
    expect(git(repo.dir, ["rev-list", "--count", "refs/heads/main"])).not.toBe(
      git(repo.dir, ["--no-replace-objects", "rev-list", "--count", "refs/heads/main"], {
        env: { GIT_GRAFT_FILE: "/dev/null/x", GIT_SHALLOW_FILE: "/dev/null/x" },
      }),
    );
    writeFileSync(marker, "");
    const after = await repo.audit(true);
    expect(after.problems).toEqual([]);
    expect(after.code).toBe(0);
    expect(after.records.map(essence)).toEqual(before.records.map(essence));
    // And Interlock's own reads see the true objects.
    const ours = new Git(repo.dir);
    expect(await ours.readFile(merge, approved.path)).not.toContain(ATTACKER_DESTINATION);
    expect((await ours.raw(["rev-list", "--count", "refs/heads/main"])).trim()).toBe(
      git(repo.dir, ["--no-replace-objects", "rev-list", "--count", "refs/heads/main"], {
        env: { GIT_GRAFT_FILE: "/dev/null/x", GIT_SHALLOW_FILE: "/dev/null/x" },
      }),
    );
    ranNothing(marker, "audit --verify");
    expect(logLines(runs)).toEqual([approved.id]);
  });
});

describe("as a repository writer, a forged object in .git/objects is never read as true", () => {
  it("the executor and the audit refuse a request file whose blob was overwritten in place", async () => {
    const repo = await Repo.init();
    const runs = join(tempDir("interlock-e2e-log-"), "runs.log");
    await repo.setExecutor("db.export", loggingExecutor(runs));
    const approved = await repo.request(requests.export());
    const wanted = await repo.request(
      requests.export({
        params: {
          query: "select id, plan from customers",
          destination: "s3://analytics-exports/mallory-copy/",
        },
      }),
    );
    await repo.approve(approved.id, "dana");
    expect((await repo.merge(approved.id)).code).toBe(0);
    // git does not re-hash what it reads: overwrite the loose object of the approved file.
    const blob = git(repo.dir, ["rev-parse", `refs/heads/main:${approved.path}`]);
    const forged = Buffer.from(
      show(repo.dir, `refs/heads/interlock/${wanted.id}`, wanted.path)!.replace(
        `id: ${wanted.id}`,
        `id: ${approved.id}`,
      ),
    );
    const file = join(repo.dir, ".git", "objects", blob.slice(0, 2), blob.slice(2));
    chmodSync(file, 0o644);
    writeFileSync(
      file,
      deflateSync(Buffer.concat([Buffer.from(`blob ${forged.length}\0`), forged])),
    );
    expect(show(repo.dir, "refs/heads/main", approved.path)).toContain("mallory-copy");

    const executed = await repo.cli(["execute", "--json"]);
    expect(executed.code).not.toBe(0);
    expect(executed.stdout + executed.stderr).toMatch(
      new RegExp(`object ${blob} in the repository does not match its id`),
    );
    expect(logLines(runs)).toEqual([]);
    const audit = await repo.audit(true);
    expect(audit.code).not.toBe(0);
  });
});

describe("as the requester, text reaches git through stdin, never argv", () => {
  it("files a request just under the documented 1 MiB limit", async () => {
    const repo = await Repo.init();
    // Plain text with no detector findings, ~1000 KB in all (argv failed at ~130 KB), as JSON.
    const comment = "Count the products on each shelf. ".repeat(29_000);
    const request = requests.query();
    const text = JSON.stringify({ ...request, params: { ...request.params, comment } });
    expect(text.length).toBeGreaterThan(980_000);
    expect(text.length).toBeLessThan(1024 * 1024);
    const r = await repo.json<Filed>(["request", "-"], { stdin: text });
    expect(r.code, r.stderr).toBe(0);
    const filed = r.body;
    expect(filed.branch).toBe(`interlock/${filed.id}`);
    const head = `refs/heads/interlock/${filed.id}`;
    const ours = new Git(repo.dir);
    const message = await ours.raw(["log", "-1", "--format=%B", head]);
    expect(message.length).toBeGreaterThan(980_000);
    expect(await ours.readFile(head, filed.path)).toContain(comment.slice(0, 1000));
  });
});

describe("the objects Interlock writes in-process", () => {
  it("are the objects git's own plumbing writes, and git fsck --strict finds nothing", async () => {
    const dir = tempDir("interlock-objects-");
    git(dir, ["init", "-q", "-b", "main"]);
    const ours = new Git(dir);
    const who = (name: string, email: string) => ({ name, email });
    const names = [
      "agent:etl-bot",
      " .,;:Mallory <evil@x>\n'\"\\",
      "élodie\u202e",
      "a\tb",
      "..x..",
    ];
    let parent: string | undefined;
    for (const [i, name] of names.entries()) {
      const date = new Date(Date.UTC(2026, 10, 24, 10, 0, i));
      const files = [
        { path: `requests/db.export/${i}.yaml`, content: `n: ${i}\n` },
        { path: "requests/db.export-x", content: "sorts after the directory db.export/\n" },
        { path: `a/b/c/é${i}`, content: "" },
      ];
      const commit: string = await ours.commitFiles({
        base: parent,
        parents: parent ? [parent] : [],
        files,
        message: `Message ${i}\n\nwith a body`,
        author: who(name, `${name}@example.test`),
        committer: who("Interlock", "interlock@localhost"),
        date,
      });
      // The same commit through git: an index, write-tree and commit-tree.
      const env = { GIT_INDEX_FILE: join(dir, `index-${i}`) };
      git(dir, ["read-tree", parent ?? "--empty"], { env });
      for (const f of files) {
        const blob = git(dir, ["hash-object", "-w", "--stdin"], { input: f.content });
        git(dir, ["update-index", "--add", "--cacheinfo", `100644,${blob},${f.path}`], { env });
      }
      const tree = git(dir, ["write-tree"], { env });
      const stamp = `${date.getTime() / 1000} +0000`;
      const theirs = git(dir, ["commit-tree", tree, ...(parent ? ["-p", parent] : [])], {
        input: `Message ${i}\n\nwith a body\n`,
        env: {
          GIT_AUTHOR_NAME: name,
          GIT_AUTHOR_EMAIL: `${name}@example.test`,
          GIT_AUTHOR_DATE: stamp,
          GIT_COMMITTER_NAME: "Interlock",
          GIT_COMMITTER_EMAIL: "interlock@localhost",
          GIT_COMMITTER_DATE: stamp,
        },
      });
      expect(commit, JSON.stringify(name)).toBe(theirs);
      parent = commit;
    }
    git(dir, ["update-ref", "refs/heads/main", parent!]);
    expect(git(dir, ["fsck", "--strict", "--no-dangling"])).toBe("");
  });

  it("refuses paths that are not plain repository paths", async () => {
    const dir = tempDir("interlock-objects-");
    git(dir, ["init", "-q", "-b", "main"]);
    const ours = new Git(dir);
    const base = {
      base: undefined,
      parents: [],
      message: "m",
      author: { name: "A", email: "a@x" },
      committer: { name: "A", email: "a@x" },
      date: new Date(0),
    };
    for (const path of ["../x", "a//b", ".git/config", "a/.GIT/hooks/x", "/abs", "a/./b"]) {
      await expect(ours.commitFiles({ ...base, files: [{ path, content: "" }] })).rejects.toThrow(
        /cannot write the path/,
      );
    }
  });
});

describe("creating refs", () => {
  it("creates all of them or none, and never moves one that exists", async () => {
    const dir = tempDir("interlock-refs-");
    git(dir, ["init", "-q", "-b", "main"]);
    git(dir, ["commit", "-q", "--allow-empty", "-m", "one"]);
    const head = git(dir, ["rev-parse", "HEAD"]);
    const ours = new Git(dir);
    git(dir, ["update-ref", "refs/interlock/requests/B", head]);
    const both = (id: string) => [
      { ref: `refs/heads/interlock/${id}`, oid: head },
      { ref: `refs/interlock/requests/${id}`, oid: head },
    ];
    expect(await ours.createRefs(both("A"))).toBe(true);
    expect(await ours.createRefs(both("A"))).toBe(false);
    // A baseline planted first: the branch is not created either.
    expect(await ours.createRefs(both("B"))).toBe(false);
    expect(await ours.revParse("refs/heads/interlock/B")).toBeUndefined();
    expect(await ours.createRefs([{ ref: "refs/heads/x y", oid: head }])).toBe(false);

    // One long-lived git update-ref runs the transactions: it starts again after a refused
    // one, takes callers one at a time (of two racing for C exactly one wins), and sees a
    // ref another process created while it was running.
    const racing = await Promise.all([
      ours.createRefs(both("C")),
      ours.createRefs(both("C")),
      ours.createRefs(both("D")),
    ]);
    expect(racing.filter(Boolean)).toHaveLength(2);
    expect(racing[2]).toBe(true);
    git(dir, ["update-ref", "refs/interlock/requests/F", head]);
    expect(await ours.createRefs(both("F"))).toBe(false);
    expect(await ours.revParse("refs/heads/interlock/F")).toBeUndefined();
    expect(await ours.createRefs(both("G"))).toBe(true);
  });
});
