import { readdirSync as readdir, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "./cli-io.ts";
import { tempDir, writeTree } from "./helpers.ts";

const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);
const exportYaml = readFileSync(fixture("export.yaml"), "utf8");
const PLANTED = ["jane.doe@example.com", "202-555-0143", "analytics-team@example.org"];

describe("interlock evaluate", () => {
  it("prints a readable, masked approval card and exits 0 when allowed", async () => {
    const r = await run(["evaluate", fixture("export.yaml")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Interlock approval card: db.export");
    expect(r.stdout).toContain("ALLOWED, needs approval");
    expect(r.stdout).toMatch(/data-stewards: 1 of @acme\/data-stewards/);
    for (const p of PLANTED) expect(r.stdout).not.toContain(p);
    expect(r.stdout).toMatch(/email = '\[email:[0-9a-f]{12}\]'/);
  });

  it("prints the documented JSON with --json", async () => {
    const r = await run(["evaluate", "--json", fixture("export.yaml")]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      decision: Record<string, unknown>;
      request: Record<string, unknown>;
    };
    expect(out.decision).toMatchObject({
      allow: true,
      risk: expect.any(String),
      auto_approve: false,
    });
    expect(out.decision.classification).toContain("pii");
    expect(out.decision.revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(out.request.action).toBe("db.export");
    for (const p of PLANTED) expect(r.stdout).not.toContain(p);
  });

  it("auto-approves a read-only query outside production", async () => {
    const r = await run(["evaluate", "--json", fixture("query-staging.json")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).decision).toMatchObject({
      allow: true,
      auto_approve: true,
      risk: "low",
    });
  });

  it("reads the request from stdin with -", async () => {
    const r = await run(["evaluate", "--json", "-"], { stdin: exportYaml });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).request.action).toBe("db.export");
  });

  it("exits 3 with the reasons when the policy denies", async () => {
    const grant = exportYaml
      .replace("db.export", "iam.grant")
      .replace(/params:[\s\S]*?reason:/, "params:\n  principal: alice\n  role: admin\nreason:");
    const r = await run(["evaluate", "-"], { stdin: grant });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("DENIED");
  });

  it("exits 2 with the field and line for invalid input, and writes nothing", async () => {
    const dir = tempDir();
    const r = await run(["evaluate", "--repo", dir, "-"], { stdin: exportYaml + "reasn: typo\n" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/reasn, line 14: unknown key/);
    expect(r.stdout).toBe("");
    expect(readdir(dir)).toEqual([]);
  });

  it("--json errors are JSON on stdout, and still masked", async () => {
    const r = await run(["evaluate", "--json", "-"], {
      stdin: `action: db.query\nresource: x\nreason: y\nrequester: {id: a, kind: agent}\n"jane.doe@example.com": 1\n`,
    });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toContain("jane.doe@example.com");
    expect(JSON.parse(r.stdout).error.code).toBe("request.invalid");
  });

  it("exits 2 for a missing file and for usage errors", async () => {
    expect((await run(["evaluate", "no-such-file.yaml"])).code).toBe(2);
    expect((await run(["evaluate"])).code).toBe(2);
    expect((await run(["evaluate", "--frobnicate", "x"])).code).toBe(2);
    expect((await run(["frobnicate"])).code).toBe(2);
  });

  it("fails closed (exit 3) when the repository's policies are not built", async () => {
    const repo = writeTree({ "policies/interlock/x.rego": "package interlock\n" });
    const r = await run(["evaluate", "--repo", repo, fixture("export.yaml")]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/no compiled policy/);
    expect(r.stdout).toMatch(/interlock policy build/);
  });
});

describe("interlock evaluate --batch", () => {
  it("evaluates one request per line, one JSON result per line, in one process", async () => {
    const req = JSON.parse(readFileSync(fixture("query-staging.json"), "utf8"));
    const lines = [
      JSON.stringify(req),
      "",
      JSON.stringify({ ...req, resource: "postgres://prod/products" }),
      "{not json",
      JSON.stringify({
        ...req,
        action: "iam.grant",
        params: { principal: "agent:catalogue-bot", role: "admin" },
      }),
    ].join("\n");
    const r = await run(["evaluate", "--batch", "-"], { stdin: lines });
    const results = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(results.map((x) => x.line)).toEqual([1, 3, 4, 5]);
    expect(results[0].decision).toMatchObject({ allow: true, auto_approve: true });
    expect(results[1].decision).toMatchObject({ allow: true, auto_approve: false });
    expect(results[2].error.code).toBe("request.invalid");
    expect(results[3].decision.allow).toBe(false);
    expect(r.code).toBe(2);
  });

  it("exits 0 when every line was valid, denials included", async () => {
    const req = JSON.parse(readFileSync(fixture("query-staging.json"), "utf8"));
    const r = await run(["evaluate", "--batch", "-"], { stdin: JSON.stringify(req) + "\n" });
    expect(r.code).toBe(0);
  });
});

describe("--help never acts", () => {
  it("prints help and changes nothing for every command, whatever else is on the line", async () => {
    const dir = tempDir("interlock-help-");
    const commands = [
      ["init", join(dir, "repo")],
      ["request", "examples/export-customers.yaml", "--as", "agent:etl-bot"],
      ["approve", "01JXXXXXXXXXXXXXXXXXXXXXXX", "--as", "dana"],
      ["reject", "01JXXXXXXXXXXXXXXXXXXXXXXX", "--as", "dana"],
      ["merge", "01JXXXXXXXXXXXXXXXXXXXXXXX"],
      ["execute"],
      ["propose-change", "CODEOWNERS"],
      ["demo"],
      ["gate", "01JXXXXXXXXXXXXXXXXXXXXXXX"],
      ["audit", "--verify"],
    ];
    for (const args of commands) {
      for (const flag of ["--help", "-h"]) {
        const r = await run([...args, flag, "--repo", dir]);
        expect(r.code, args.join(" ")).toBe(0);
        expect(r.stdout.startsWith(`Usage: interlock ${args[0]} `)).toBe(true);
      }
    }
    expect(readdir(dir)).toEqual([]);
  });
});
