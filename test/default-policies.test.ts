import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DIST_DIR, defaultPoliciesDir, sourceDigest } from "../src/policy/bundle.ts";
import { buildPolicies, testPolicies } from "../src/policy/build.ts";
import { opa, tempDir } from "./helpers.ts";

const policies = defaultPoliciesDir();

describe("the default policy set", () => {
  it("passes its Rego unit tests (opa test)", async () => {
    const r = await testPolicies(policies, { opa: opa() });
    expect(r.output).toMatch(/PASS: \d+\/\d+/);
    expect(r.passed).toBe(true);
  });

  it("ships a compiled bundle that is exactly what the Rego sources build to", async () => {
    const out = tempDir();
    const rebuilt = await buildPolicies(policies, { opa: opa(), outDir: out });
    const shipped = JSON.parse(readFileSync(join(policies, DIST_DIR, "manifest.json"), "utf8"));
    expect(
      readFileSync(join(out, "policy.wasm")).equals(
        readFileSync(join(policies, DIST_DIR, "policy.wasm")),
      ),
    ).toBe(true);
    expect(readFileSync(join(out, "data.json"), "utf8")).toBe(
      readFileSync(join(policies, DIST_DIR, "data.json"), "utf8"),
    );
    expect(shipped).toEqual(rebuilt);
    expect(shipped.source_digest).toBe(sourceDigest(policies));
  });
});
