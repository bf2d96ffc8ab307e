import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PACKAGE_NAME } from "../src/policy/toolchain.ts";
import { EXAMPLES, ROOT } from "./e2e-helpers.ts";
import { tempDir } from "./helpers.ts";

/**
 * The package as a user gets it: packed by `npm pack` from a copy of the checkout (so its
 * `prepare` build runs as it does before a publish), installed from the tarball into an empty
 * project without the network (every dependency is in npm's cache after `npm ci`), imported
 * from plain ESM JavaScript, and its `interlock` command run from there.
 *
 * INTERLOCK_TEST_NODE=<path to node> runs the installed package with another Node (.ci/run
 * uses it for Node 24).
 */

const exec = promisify(execFile);
const node = process.env.INTERLOCK_TEST_NODE || process.execPath;

/** What `prepare` and `npm pack` need from the checkout (no tests, no Action bundle). */
const SOURCES = [
  "package.json",
  "package-lock.json",
  "README.md",
  "tsconfig.json",
  "tsconfig.build.json",
  "bin",
  "scripts",
  "src",
  "policies",
];

const npmEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
});

async function packCheckout(): Promise<{ tarball: string; files: string[] }> {
  const copy = tempDir("interlock-pack-src-");
  for (const entry of SOURCES) cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");
  const out = tempDir("interlock-pack-out-");
  const { stdout } = await exec("npm", ["pack", "--json", "--pack-destination", out], {
    cwd: copy,
    env: npmEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
  // Only the JSON report: npm prints the `prepare` build's output to stdout too.
  const [info] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as {
    filename: string;
    files: { path: string }[];
  }[];
  return { tarball: join(out, info!.filename), files: info!.files.map((f) => f.path) };
}

interface LockEntry {
  readonly version?: string;
  readonly dev?: boolean;
  readonly [k: string]: unknown;
}

/**
 * Installs the tarball into an empty project without the network. `npm install <tarball>`
 * would need the registry's metadata to resolve version ranges; npm's cache holds the
 * packages' tarballs (from `npm ci`), so the project gets a lockfile pinning the versions this
 * checkout's lockfile pins (its runtime entries), and `npm ci --offline` installs from the cache.
 */
function installOffline(project: string, tarball: string): void {
  const ours = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const self = ours.packages[""]!;
  const dependencies = { [PACKAGE_NAME]: `file:${tarball}` };
  const packages: Record<string, unknown> = {
    "": { name: "app", dependencies },
    [`node_modules/${PACKAGE_NAME}`]: {
      version: self.version,
      resolved: `file:${tarball}`,
      integrity: `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`,
      dependencies: self.dependencies,
      bin: self.bin,
      engines: self.engines,
    },
  };
  for (const [path, entry] of Object.entries(ours.packages)) {
    if (path.startsWith("node_modules/") && !entry.dev) packages[path] = entry;
  }
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module", dependencies }),
  );
  writeFileSync(
    join(project, "package-lock.json"),
    JSON.stringify({ name: "app", lockfileVersion: 3, requires: true, packages }),
  );
  execFileSync("npm", ["ci", "--offline"], { cwd: project, env: npmEnv(), stdio: "pipe" });
}

describe("the npm package", () => {
  it("installs from its tarball into an empty project; plain ESM imports the library, and the installed interlock runs the demo", async () => {
    const { tarball, files } = await packCheckout();

    // Compiled code and declarations, the shipped policies with their built Wasm; no
    // TypeScript sources, no tests, no Action bundle.
    expect(files).toEqual(
      expect.arrayContaining([
        "bin/interlock.js",
        "lib/index.js",
        "lib/cli/main.js",
        "lib/types/index.d.ts",
        "policies/dist/policy.wasm",
        "policies/dist/manifest.json",
        "src/policy/capabilities.json",
      ]),
    );
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => /^(test|dist|bench)\//.test(f))).toEqual([]);

    const project = tempDir("interlock-pack-app-");
    installOffline(project, tarball);
    const installed = join(project, "node_modules", PACKAGE_NAME);
    // Nothing of TypeScript is needed at run time.
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).not.toContain("tsx");

    writeFileSync(
      join(project, "app.mjs"),
      `import { readFileSync } from "node:fs";
import { decideAndMask, defaultPoliciesDir, loadPolicyEngine, parseRequest } from "${PACKAGE_NAME}";
const engine = await loadPolicyEngine(defaultPoliciesDir());
const request = parseRequest(readFileSync(process.argv[2], "utf8"), { source: "example" });
const ev = decideAndMask(request, { engine, now: new Date(), repo: "app", hmacKey: new Uint8Array(32) });
process.stdout.write(JSON.stringify({ policies: defaultPoliciesDir(), allow: ev.decision.allow, risk: ev.decision.risk, masked: JSON.stringify(ev.request).includes("jane.doe@example.com") === false }));
`,
    );
    const lib = await exec(node, ["app.mjs", join(EXAMPLES, "export-customers.yaml")], {
      cwd: project,
    });
    const result = JSON.parse(lib.stdout) as Record<string, unknown>;
    // The default policies are read from the installed package, not from this checkout.
    expect(result.policies).toBe(join(installed, "policies"));
    expect(result).toMatchObject({ allow: true, risk: "high", masked: true });

    const bin = join(project, "node_modules", ".bin", "interlock");
    const help = await exec(node, [bin, "--help"], { cwd: project });
    expect(help.stdout).toContain("Usage: interlock <command>");
    const demo = await exec(node, [bin, "demo"], { cwd: project, maxBuffer: 16 * 1024 * 1024 });
    expect(demo.stdout).toContain("Gate: SATISFIED");
    // Slack's client, loaded lazily from the command's bundle, delivered (the demo fails if not).
    expect(demo.stdout).toMatch(/updated in place 5 times/);
    expect(demo.stdout).toMatch(/Verified: 2 requests/);
  }, 240_000);
});
