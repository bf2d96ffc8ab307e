import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { parse as parseYaml, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { ROOT } from "./e2e-helpers.ts";
import { workflowDispatchEvent } from "./github-events.ts";
import { BOT, World } from "./github/world.ts";
import { tempDir } from "./helpers.ts";

/**
 * The committed action bundle (dist/) must be exactly what `npm run build:action` makes from
 * the sources, and it must run. (cf. actions/typescript-action's check-dist workflow.)
 */

const exec = promisify(execFile);
const DIST = join(ROOT, "dist");

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const full = join(d, e);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

describe("the action bundle (dist/)", () => {
  it("is up to date with the sources", async () => {
    const fresh = join(tempDir("interlock-dist-"), "dist");
    await exec(process.execPath, [join(ROOT, "scripts", "build-action.mjs"), fresh], {
      cwd: ROOT,
    });
    const stale = "dist/ is stale: run npm run build:action";
    expect(existsSync(DIST), stale).toBe(true);
    expect(files(DIST), stale).toEqual(files(fresh));
    for (const f of files(fresh)) {
      const same = readFileSync(join(DIST, f)).equals(readFileSync(join(fresh, f)));
      expect(same, `${stale} (dist/${f} differs)`).toBe(true);
    }
  });

  it("action.yml runs dist/index.js on node24 and declares exactly the inputs the action reads", () => {
    const action = parseYaml(readFileSync(join(ROOT, "action.yml"), "utf8")) as {
      runs: { using: string; main: string };
      inputs: Record<string, { description: string; default?: string }>;
      outputs: Record<string, { description: string }>;
    };
    expect(action.runs).toEqual({ using: "node24", main: "dist/index.js" });
    const settings = readFileSync(join(ROOT, "src", "action", "settings.ts"), "utf8");
    const read = [...settings.matchAll(/readInput\(env, "([a-z-]+)"\)/g)].map((m) => m[1]);
    expect(Object.keys(action.inputs).sort()).toEqual([...new Set(read)].sort());
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description.length, name).toBeGreaterThan(20);
      // The App's token and slug have no default: there is no GITHUB_TOKEN-only mode.
      if (name === "token" || name === "app-slug") expect(input.default, name).toBeUndefined();
      else expect(input.default, `${name} has a default`).toBeDefined();
    }
    const run = ["run.ts", "notify.ts"]
      .map((f) => readFileSync(join(ROOT, "src", "action", f), "utf8"))
      .join("\n");
    const set = [...run.matchAll(/setOutput\(\s*"([a-z-]+)"/g)].map((m) => m[1]);
    expect(Object.keys(action.outputs).sort()).toEqual([...new Set(set)].sort());
  });

  it("runs: a push to another branch is skipped; workflow_run is refused", async () => {
    const dir = tempDir("interlock-dist-run-");
    const event = join(dir, "event.json");
    writeFileSync(
      event,
      JSON.stringify({
        ref: "refs/heads/feature",
        after: "0".repeat(40),
        deleted: false,
        repository: { full_name: "acme/approvals", default_branch: "main" },
      }),
    );
    const env = {
      PATH: process.env.PATH,
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: "acme/approvals",
      GITHUB_WORKSPACE: dir,
      INPUT_TOKEN: "ghs_unused",
      "INPUT_APP-SLUG": "interlock-app",
    };
    const skip = await exec(process.execPath, [join(DIST, "index.js")], {
      env: { ...env, GITHUB_EVENT_NAME: "push" },
    });
    expect(skip.stdout).toMatch(/nothing to do: push to refs\/heads\/feature/);

    const refused = await exec(process.execPath, [join(DIST, "index.js")], {
      env: { ...env, GITHUB_EVENT_NAME: "workflow_run" },
    }).then(
      () => ({ code: 0, stdout: "" }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/::error::Interlock refuses to run on workflow_run/);
  });

  it("ships the default policies next to the bundle, sources and build matching", async () => {
    const { loadPolicyEngine } = await import("../src/policy/engine.ts");
    const engine = await loadPolicyEngine(join(DIST, "policies"));
    const shipped = await loadPolicyEngine(join(ROOT, "policies"));
    expect(engine.revision).toBe(shipped.revision);
    const d = engine.decide({
      request: {
        action: "db.query",
        resource: "postgres://staging/products",
        params: { query: "select 1" },
        reason: "test",
        requester: { id: "agent:test-bot", kind: "agent" },
      },
      findings: [],
      context: { now: "2026-11-24T10:00:00.000Z", repo: "approvals", requested_ttl_seconds: null },
    });
    expect(d.failed_closed).toBeUndefined();
    expect(d.allow).toBe(true);
  });

  it("files a request over HTTP with the bundled default policies (against the simulator)", async () => {
    const w = await World.create();
    try {
      // The approvals repository's checkout: config only, no policies/ of its own.
      mkdirSync(join(w.repoDir, ".interlock"), { recursive: true });
      writeFileSync(join(w.repoDir, ".interlock", "config.yaml"), stringify(w.config));
      const dir = tempDir("interlock-dist-run-");
      const event = join(dir, "event.json");
      writeFileSync(event, JSON.stringify(workflowDispatchEvent({ sender: "alice" })));
      const output = join(dir, "output");
      const summary = join(dir, "summary.md");
      writeFileSync(output, "");
      writeFileSync(summary, "");
      const request = readFileSync(join(ROOT, "examples", "export-customers.yaml"), "utf8");
      const r = await exec(process.execPath, [join(DIST, "index.js")], {
        env: {
          PATH: process.env.PATH,
          GITHUB_EVENT_NAME: "workflow_dispatch",
          GITHUB_EVENT_PATH: event,
          GITHUB_REPOSITORY: "acme/approvals",
          GITHUB_API_URL: w.sim.url,
          GITHUB_WORKSPACE: w.repoDir,
          GITHUB_OUTPUT: output,
          GITHUB_STEP_SUMMARY: summary,
          INPUT_TOKEN: w.sim.token(BOT),
          "INPUT_APP-SLUG": "interlock-app",
          INPUT_MODE: "auto",
          "INPUT_REPO-DIR": ".",
          INPUT_REQUEST: request,
          "INPUT_MASKING-KEY": "7e".repeat(32),
        },
      });
      expect(r.stdout).toMatch(/default policies/);
      expect(r.stdout).toMatch(/Filed request [0-9A-Z]{26} \(high risk\)/);
      const outputs = readFileSync(output, "utf8");
      const id = /^id<<(.+)\n([0-9A-Z]{26})\n/m.exec(outputs)?.[2];
      expect(id).toBeDefined();
      expect(w.pr(id!).state).toBe("open");
      expect(readFileSync(summary, "utf8")).toMatch(/Request `[0-9A-Z]{26}` filed/);
      expect(readFileSync(summary, "utf8")).not.toContain("jane.doe@example.com");
    } finally {
      await w.close();
    }
  });
});
