import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InterlockError } from "../src/errors.ts";
import { buildPolicies } from "../src/policy/build.ts";
import { loadPolicyEngine } from "../src/policy/engine.ts";
import { sha256 } from "../src/request/canonical.ts";
import { opa, SAMPLE_INPUT, VALID_DECISION_REGO, writeTree } from "./helpers.ts";

async function built(rego: string): Promise<string> {
  const dir = writeTree({ "p.rego": `package interlock\n\n${rego}\n` });
  await buildPolicies(dir, { opa: opa() });
  return dir;
}

describe("policy engine", () => {
  it("evaluates a compiled policy in-process and stamps the revision", async () => {
    const dir = await built(`decision := ${VALID_DECISION_REGO}`);
    const engine = await loadPolicyEngine(dir);
    const d = engine.decide(SAMPLE_INPUT);
    expect(d.allow).toBe(true);
    expect(d.failed_closed).toBeUndefined();
    const manifest = JSON.parse(readFileSync(join(dir, "dist", "manifest.json"), "utf8"));
    expect(d.revision).toBe(manifest.revision);
    expect(manifest.wasm_digest).toBe(sha256(readFileSync(join(dir, "dist", "policy.wasm"))));
  });

  it("sees the request, findings and context", async () => {
    const dir = await built(
      `decision := object.union(${VALID_DECISION_REGO}, {"why": [input.request.action, input.context.repo]})`,
    );
    const d = (await loadPolicyEngine(dir)).decide(SAMPLE_INPUT);
    expect(d.why).toEqual(["db.query", "test"]);
  });

  describe("fails closed", () => {
    it("when there is no compiled policy", async () => {
      const dir = writeTree({ "p.rego": "package interlock\n" });
      const d = (await loadPolicyEngine(dir)).decide(SAMPLE_INPUT);
      expect(d.allow).toBe(false);
      expect(d.failed_closed?.stage).toBe("load");
      expect(d.deny[0]).toMatch(/no compiled policy/);
      expect(d.failed_closed?.hint).toMatch(/interlock policy build/);
    });

    it("when the Wasm file is corrupt (digest no longer matches the manifest)", async () => {
      const dir = await built(`decision := ${VALID_DECISION_REGO}`);
      const wasmPath = join(dir, "dist", "policy.wasm");
      const bytes = readFileSync(wasmPath);
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
      writeFileSync(wasmPath, bytes);
      const d = (await loadPolicyEngine(dir)).decide(SAMPLE_INPUT);
      expect(d.allow).toBe(false);
      expect(d.deny[0]).toMatch(/does not match its manifest/);
    });

    it("when the Wasm is not a valid module even though the manifest agrees", async () => {
      const dir = await built(`decision := ${VALID_DECISION_REGO}`);
      const wasmPath = join(dir, "dist", "policy.wasm");
      const garbage = Buffer.from("\0asm this is not webassembly");
      writeFileSync(wasmPath, garbage);
      const manifestPath = join(dir, "dist", "manifest.json");
      const m = JSON.parse(readFileSync(manifestPath, "utf8"));
      writeFileSync(manifestPath, JSON.stringify({ ...m, wasm_digest: sha256(garbage) }));
      const d = (await loadPolicyEngine(dir)).decide(SAMPLE_INPUT);
      expect(d.allow).toBe(false);
      expect(d.failed_closed?.stage).toBe("load");
      expect(d.deny[0]).toMatch(/could not be loaded/);
    });

    it("when the Rego sources changed after the build (stale bundle)", async () => {
      const dir = await built(`decision := ${VALID_DECISION_REGO}`);
      writeFileSync(join(dir, "p.rego"), `package interlock\n\ndecision := {"allow": false}\n`);
      const d = (await loadPolicyEngine(dir)).decide(SAMPLE_INPUT);
      expect(d.allow).toBe(false);
      expect(d.deny[0]).toMatch(/stale/);
    });

    it("when the policy raises an error while evaluating", async () => {
      const dir = await built(
        `decision := ${VALID_DECISION_REGO} if input.request.action\n` +
          `decision := {"other": 1} if input.request.reason`,
      );
      const d = (await loadPolicyEngine(dir)).decide(SAMPLE_INPUT);
      expect(d.allow).toBe(false);
      expect(d.failed_closed?.stage).toBe("evaluate");
      expect(d.deny[0]).toMatch(/raised an error/);
    });

    it("when the policy gives no decision for the input", async () => {
      const dir = await built(
        `decision := ${VALID_DECISION_REGO} if input.request.action == "never"`,
      );
      const d = (await loadPolicyEngine(dir)).decide(SAMPLE_INPUT);
      expect(d.allow).toBe(false);
      expect(d.deny[0]).toMatch(/no decision/);
    });

    it.each([
      ["a wrong type", `{"allow": "yes"}`],
      ["an unknown key", `object.union(${VALID_DECISION_REGO}, {"sneaky": true})`],
      ["allow true with deny reasons", `object.union(${VALID_DECISION_REGO}, {"deny": ["no"]})`],
      ["an unknown risk", `object.union(${VALID_DECISION_REGO}, {"risk": "spicy"})`],
      [
        "a bad mask strategy",
        `object.union(${VALID_DECISION_REGO}, {"mask": [{"path": "/params", "strategy": "rot13"}]})`,
      ],
      [
        "no approvers for a non-auto-approved request",
        `object.union(${VALID_DECISION_REGO}, {"approvals": {"groups": []}})`,
      ],
      ["a string", `"allow"`],
    ])("when the policy returns garbage: %s", async (_name, rego) => {
      const dir = await built(`decision := ${rego}`);
      const d = (await loadPolicyEngine(dir)).decide(SAMPLE_INPUT);
      expect(d.allow).toBe(false);
      expect(d.failed_closed?.stage).toBe("validate");
      expect(d.deny[0]).toMatch(/not a valid decision/);
    });
  });

  it("rejects at build time a builtin the Node host cannot run", async () => {
    const dir = writeTree({
      "p.rego": `package interlock\n\ndecision := {"t": time.now_ns()}\n`,
    });
    const err = await buildPolicies(dir, { opa: opa() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterlockError);
    expect((err as InterlockError).code).toBe("policy.build_failed");
    expect((err as Error).message).toMatch(/undefined function time\.now_ns/);
  });

  it("rejects at build time http.send, which must never run inside a decision", async () => {
    const dir = writeTree({
      "p.rego": `package interlock\n\ndecision := http.send({"method": "get", "url": "http://127.0.0.1:9"})\n`,
    });
    await expect(buildPolicies(dir, { opa: opa() })).rejects.toThrow(
      /undefined function http\.send/,
    );
  });
});
