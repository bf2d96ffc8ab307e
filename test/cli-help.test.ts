import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, lstatSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { COMMANDS } from "../src/cli/commands.ts";
import { run } from "./cli-io.ts";
import { git, homeEnv, Repo, requests, ROOT } from "./e2e-helpers.ts";
import { tempDir } from "./helpers.ts";

/**
 * `interlock <command> --help` prints usage and never acts. Generated from the command table:
 * every command, with --help or -h alone and among other arguments (an id, --as, a request
 * file, an unknown flag), in an approvals repository and in an empty directory; afterwards
 * every ref, every file under the repository (.git/config included), the Interlock home and
 * the temporary directory are exactly as before.
 */

/** Every file under `dir` (symlinks as their target text) with a hash of its content. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out[`${p}/`] = "dir";
        walk(p);
      } else {
        out[p] = createHash("sha256").update(readFileSync(p)).digest("hex") + ` ${st.mode}`;
      }
    }
  };
  walk(dir);
  return out;
}

describe("--help never acts (generated from the command table)", () => {
  let repo: Repo;
  let id: string;
  let empty: string;
  let requestFile: string;
  let tmp: string;
  let savedTmp: string | undefined;

  beforeAll(async () => {
    repo = await Repo.init();
    id = (await repo.request(requests.export())).id;
    empty = tempDir("interlock-help-empty-");
    const files = tempDir("interlock-help-files-");
    requestFile = join(files, "request.yaml");
    writeFileSync(requestFile, stringify(requests.export()));
    // Every temporary directory a command could make goes here, so "none made" is checkable
    // on a machine where other processes use the shared temporary directory.
    tmp = tempDir("interlock-help-tmp-");
    savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
  }, 60_000);

  afterAll(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  const state = () => ({
    refs: git(repo.dir, ["for-each-ref", "--format=%(objectname) %(refname)"]),
    status: git(repo.dir, ["status", "--porcelain", "--ignored"]),
    repo: tree(repo.dir),
    home: tree(repo.home),
    empty: tree(empty),
    tmp: tree(tmp),
  });

  const variants = (name: string): string[][] => {
    const v: string[][] = [
      ["--help"],
      ["-h"],
      [id, "--help"],
      [id, "--as", "dana", "-h"],
      ["--as", "agent:etl-bot", requestFile, "--help"],
      [requestFile, "--json", "--help"],
      ["--help", "--no-such-flag"],
      ["--repo", repo.dir, "--help", id],
    ];
    if (name === "policy") v.push(["build", "--help"], ["test", "-h"]);
    if (name === "execute") v.push(["--retry", id, "--help"]);
    if (name === "evaluate") v.push(["--batch", requestFile, "--help"]);
    if (name === "init") v.push([join(empty, "new-repo"), "--help"]);
    return v;
  };

  for (const spec of COMMANDS) {
    it(`as the requester or a reviewer: '${spec.name} --help' prints usage and changes nothing`, async () => {
      const before = state();
      for (const args of variants(spec.name)) {
        for (const cwd of [repo.dir, empty]) {
          const r = await run([spec.name, ...args], {
            cwd,
            env: { ...homeEnv(repo.home), TMPDIR: tmp },
            stdin: stringify(requests.export()),
          });
          expect(r.code, `${spec.name} ${args.join(" ")}: ${r.stderr}`).toBe(0);
          expect(r.stdout).toContain(`Usage: interlock ${spec.name}`);
          expect(r.stderr).toBe("");
        }
      }
      expect(state()).toEqual(before);
    });
  }

  it("the installed command too: 'demo', 'init', 'execute' and 'request' with --help do nothing", () => {
    const before = state();
    for (const args of [
      ["demo", "--help"],
      ["init", join(empty, "x"), "-h"],
      ["execute", "--help"],
      ["request", requestFile, "--as", "agent:etl-bot", "--help"],
    ]) {
      const out = execFileSync(process.execPath, [join(ROOT, "bin", "interlock.js"), ...args], {
        cwd: repo.dir,
        env: { ...homeEnv(repo.home), TMPDIR: tmp },
        encoding: "utf8",
      });
      expect(out).toContain(`Usage: interlock ${args[0]}`);
    }
    // tsx (the TypeScript loader the bin uses until the package ships compiled code) keeps
    // its compile cache in the temporary directory; that is the loader, not Interlock.
    const after = state();
    after.tmp = Object.fromEntries(
      Object.entries(after.tmp).filter(([p]) => !p.slice(tmp.length).startsWith("/tsx-")),
    );
    expect(after).toEqual(before);
  }, 60_000);

  it("'interlock --help' lists every command of the table", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const spec of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${spec.name}\\b`, "m"));
    const help = await run(["help", "gate"]);
    expect(help.stdout).toContain("Usage: interlock gate <id>");
  });

  it("--version prints the package's version", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const r = await run(["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it("an unknown flag is a usage error (exit 2) with a suggestion and the usage line", async () => {
    const r = await run(["gate", id, "--rep", repo.dir], { cwd: empty });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--rep'");
    expect(r.stderr).toContain("Did you mean --repo?");
    expect(r.stderr).toContain("usage: interlock gate <id>");
    const cmd = await run(["aprove", id]);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("Did you mean 'interlock approve'?");
  });

  it("usage errors exit 2 and print the command's usage line", async () => {
    for (const argv of [["gate"], ["approve", id, id], ["merge", "not-an-id"], ["show"]]) {
      const r = await run(argv, { cwd: repo.dir, env: homeEnv(repo.home) });
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toContain(`usage: interlock ${argv[0]} `);
    }
  });

  it("a subdirectory keeps working: the repository is found from anywhere inside it", async () => {
    const sub = join(repo.dir, "requests", "deep");
    mkdirSync(sub, { recursive: true });
    const r = await run(["gate", id, "--json"], { cwd: sub, env: homeEnv(repo.home) });
    expect(r.stderr).not.toContain("not a Git repository");
    expect([0, 4]).toContain(r.code);
    expect(JSON.parse(r.stdout)).toHaveProperty("rules");
  });
});
