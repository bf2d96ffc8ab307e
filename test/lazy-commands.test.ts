import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./e2e-helpers.ts";

/**
 * The built command (lib/cli/, made by the test setup) loads a command's code only when that
 * command runs: what `interlock --help` loads, and what each command loads before it runs, is
 * read here from the files' static imports. esbuild marks each bundled package's code with a
 * `// node_modules/<package>/…` comment, which names what a file holds.
 */

const CLI = join(ROOT, "lib", "cli");

/** Every file the module graph from `entry` loads before its code runs (static imports). */
function staticClosure(entry: string): { files: string[]; bytes: number; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  let bytes = 0;
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    bytes += text.length;
    for (const m of text.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) {
      packages.add(m[1]!);
    }
    for (const m of text.matchAll(/^import\s[^;]*?from\s*"([^"]+)"|^import\s*"([^"]+)"/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith(".")) walk(resolve(dirname(file), spec));
      else if (!spec.startsWith("node:")) packages.add(spec);
    }
  };
  walk(entry);
  return { files: [...seen], bytes, packages };
}

function commandChunk(name: string): string {
  const file = readdirSync(join(CLI, "chunks")).find((f) => f.startsWith(`${name}-`));
  if (!file) throw new Error(`no chunk for ${name} in lib/cli/chunks`);
  return join(CLI, "chunks", file);
}

describe("the command loads lazily", () => {
  it("--help loads the command table and nothing of any dependency", () => {
    const help = staticClosure(join(CLI, "main.js"));
    expect([...help.packages]).toEqual([]);
    expect(help.bytes).toBeLessThan(64 * 1024);
  });

  it("evaluate loads the policy engine and the detectors, not Octokit, age or the forge", () => {
    const evaluate = staticClosure(commandChunk("evaluate"));
    expect([...evaluate.packages]).toEqual(
      expect.arrayContaining(["@open-policy-agent/opa-wasm", "zod", "yaml", "libphonenumber-js"]),
    );
    for (const heavy of ["@octokit/rest", "@octokit/core", "age-encryption"]) {
      expect(evaluate.packages.has(heavy), heavy).toBe(false);
    }
    // The GitHub commands do load Octokit (so the check above can fail).
    expect(staticClosure(commandChunk("doctor")).packages.has("@octokit/rest")).toBe(true);
  });

  it("PostgreSQL's parser is loaded on first use, by no command before it runs", () => {
    for (const name of ["evaluate", "lifecycle", "review-commands", "audit"]) {
      expect(staticClosure(commandChunk(name)).packages.has("libpg-query"), name).toBe(false);
    }
  });
});
