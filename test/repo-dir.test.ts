import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findRepoDir } from "../src/cli/repository.ts";

// findRepoDir asks git only when a `.git` exists in the directory or above it; these pin that
// the shortcut gives git's answer on both sides.
describe("the approvals repository around a directory", () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "interlock-repo-dir-")));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("is the directory itself when no working tree is around it", async () => {
    const dir = join(root, "plain", "a", "b");
    mkdirSync(dir, { recursive: true });
    expect(await findRepoDir(undefined, dir)).toBe(dir);
    expect(await findRepoDir("a", join(root, "plain"))).toBe(join(root, "plain", "a"));
  });

  it("is the top of the working tree from a nested subdirectory", async () => {
    const repo = join(root, "repo");
    mkdirSync(join(repo, "x", "y"), { recursive: true });
    execFileSync("git", ["init", "-q", repo]);
    expect(await findRepoDir(undefined, join(repo, "x", "y"))).toBe(repo);
    expect(await findRepoDir("x/y", repo)).toBe(repo);
  });
});
