import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { attackInputs, deepInputs } from "../bench/attack-inputs.ts";
import { decideAndMask, MAX_POLICY_FINDINGS, type DecideContext } from "../src/decide.ts";
import { InterlockError } from "../src/errors.ts";
import { defaultPoliciesDir } from "../src/policy/bundle.ts";
import { loadPolicyEngine } from "../src/policy/engine.ts";
import {
  DEFAULT_MAX_REQUEST_BYTES,
  MAX_DEPTH,
  MAX_PATH_LENGTH,
  MAX_PROBLEMS,
  parseRequest,
} from "../src/request/parse.ts";
import { tempDir } from "./helpers.ts";

/**
 * Resource exhaustion: parse → decide → mask must take time linear in the request's size,
 * whatever its shape. A 1 MiB request with ~120,000 keys took over 5 minutes (the YAML
 * library's duplicate-key check, OPA's Wasm sort, masking's finding × rule loop, masked-key
 * suffixes). Times are CPU time of this process, so a busy machine does not fail the test;
 * the budgets are far below what any quadratic step needs at this size (minutes) and far
 * above what the linear path takes (well under a second on one core).
 */
const CPU_BUDGET_MS = 5000;
const root = join(import.meta.dirname, "..");

function cpuMs<T>(fn: () => T): { value: T; ms: number } {
  const before = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(before);
  return { value, ms: (used.user + used.system) / 1000 };
}

function refusal(text: string): InterlockError {
  try {
    parseRequest(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InterlockError);
    return err as InterlockError;
  }
  throw new Error("expected the request to be refused");
}

let ctx: DecideContext;
beforeAll(async () => {
  ctx = {
    engine: await loadPolicyEngine(defaultPoliciesDir()),
    now: new Date("2026-11-24T10:00:00.000Z"),
    repo: "approvals",
    hmacKey: new Uint8Array(32).fill(7),
  };
});

describe("as the requester, a request as large as allowed decides in linear time", () => {
  // The first shape is the original report: ~120,000 keys in one mapping, as JSON.
  it.each(attackInputs().map((a) => [`${a.name}, ${a.keys} keys`, a] as const))(
    "%s (1 MiB)",
    (_name, input) => {
      expect(Buffer.byteLength(input.text)).toBeLessThanOrEqual(DEFAULT_MAX_REQUEST_BYTES);
      const { value: ev, ms } = cpuMs(() => decideAndMask(parseRequest(input.text), ctx));
      expect(ms).toBeLessThan(CPU_BUDGET_MS);
      expect(ev.decision.allow).toBe(false); // uncatalogued export without a destination
      // Nothing planted leaks (findings in keys and values are masked).
      expect(JSON.stringify(ev.request)).not.toMatch(/@example\.com/);
      if (ev.findings.length > MAX_POLICY_FINDINGS) {
        // Denied without asking the policy; every finding still masked.
        expect(ev.decision.deny.join(" ")).toMatch(/findings .*the policy decides at most/);
        expect(ev.masks.length).toBe(ev.findings.length);
      }
    },
    60_000,
  );

  it("90,000 unknown top-level keys: refused quickly, listing a few", () => {
    const keys = Array.from({ length: 90_000 }, (_, i) => `"x${i.toString(36)}":1`).join(",");
    const text = `{"action":"db.export","resource":"r","reason":"x","requester":{"id":"a","kind":"agent"},${keys}}`;
    const { value: e, ms } = cpuMs(() => refusal(text));
    expect(ms).toBeLessThan(CPU_BUDGET_MS);
    expect(e.problems.length).toBe(MAX_PROBLEMS);
    expect(e.message).toMatch(/90000 problems \(the first 20 listed\)/);
  }, 60_000);
});

describe("as the requester, over-deep and over-long inputs are refused before they are built", () => {
  it.each(deepInputs(100_000).map((d) => [d.name, d.text] as const))(
    "100,000 levels of %s",
    (_name, text) => {
      const { value: e, ms } = cpuMs(() => refusal(text));
      expect(e.code).toBe("request.invalid");
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(`nested deeper than ${MAX_DEPTH} levels`);
      expect(ms).toBeLessThan(500);
    },
  );

  it.each(deepInputs(MAX_DEPTH + 1).map((d) => [d.name, d.text] as const))(
    "one level too deep in %s",
    (_name, text) => {
      expect(refusal(text).message).toMatch(/nested deeper than 64 levels|malformed/);
    },
  );

  it("accepts exactly the maximum depth", () => {
    const params = "[".repeat(MAX_DEPTH) + "]".repeat(MAX_DEPTH);
    const text = `{"action":"db.export","resource":"r","reason":"x","requester":{"id":"a","kind":"agent"},"params":${params}}`;
    expect(() => parseRequest(text)).not.toThrow();
    const yaml = `action: db.export\nresource: r\nreason: x\nrequester: {id: a, kind: agent}\nparams: ${params}\n`;
    expect(() => parseRequest(yaml)).not.toThrow();
  });

  it("refuses a field whose path is longer than the limit, in JSON and YAML", () => {
    const long = "k".repeat(MAX_PATH_LENGTH);
    const json = `{"action":"db.export","resource":"r","reason":"x","requester":{"id":"a","kind":"agent"},"params":{"${long}":1}}`;
    expect(refusal(json).message).toContain(`longer than ${MAX_PATH_LENGTH} characters`);
    const yaml = `action: db.export\nresource: r\nreason: x\nrequester: {id: a, kind: agent}\nparams:\n  ${long}: 1\n`;
    expect(refusal(yaml).message).toMatch(/longer than 1024 characters|malformed/);
  });
});

describe("as the requester, through the real CLI (exit 2, a clear message)", () => {
  /** `node bin/interlock.js <args>` as a process, optionally fed `stdin`. */
  function cli(
    args: string[],
    stdin?: Buffer,
  ): Promise<{ code: number | null; stderr: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn(process.execPath, [join(root, "bin/interlock.js"), ...args], {
        cwd: root,
        stdio: ["pipe", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stderr, ms: performance.now() - t0 }));
      child.stdin.on("error", () => {}); // the CLI may stop reading early: that is the point
      child.stdin.end(stdin);
    });
  }

  it("refuses a request file over 1 MiB by its size", async () => {
    const dir = tempDir();
    const file = join(dir, "big.json");
    const [flat] = attackInputs(DEFAULT_MAX_REQUEST_BYTES);
    writeFileSync(file, flat!.text + " ".repeat(DEFAULT_MAX_REQUEST_BYTES));
    const r = await cli(["evaluate", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the limit is 1048576 bytes \(1 MiB\)/);
  }, 60_000);

  it("stops reading stdin once it passes 1 MiB", async () => {
    const r = await cli(["evaluate", "-"], Buffer.alloc(8 * DEFAULT_MAX_REQUEST_BYTES, 0x20));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stdin: the request is more than 1048576 bytes/);
  }, 60_000);

  it("refuses nesting deeper than 64 levels", async () => {
    const [bomb] = deepInputs(400_000);
    const r = await cli(["evaluate", "-"], Buffer.from(bomb!.text));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nested deeper than 64 levels/);
  }, 60_000);
});
