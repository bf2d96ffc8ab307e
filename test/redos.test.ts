/**
 * Every regex the detectors run must be linear-time: recheck (an automaton- and fuzzing-based
 * ReDoS checker) has to report each one "safe". A check that cannot finish counts as a failure.
 * The helper is itself checked against known-vulnerable patterns, so this test can fail.
 *
 * This covers the generated provider rules too (hundreds of them), so the exact automaton
 * checker runs first: it decides most patterns in well under a second. It gets a minute, not
 * less: a few generated patterns with long bounded runs take it seconds, more on a loaded
 * machine, and falling back to fuzzing on a timeout made the verdict depend on the load (the
 * fuzzer once called a linear pattern cubic). Patterns it does not support (lookbehind) or
 * cannot finish in a minute go to recheck's default checker (automaton or fuzzing), which must
 * then report "safe".
 */
import { check, type Diagnostics } from "recheck";
import { describe, expect, it } from "vitest";
import { detectionRegexes } from "../src/masking/detectors.ts";
import { BLOCK_YAML_PATTERNS } from "../src/request/block-yaml.ts";
import { YAML_SUBSET_PATTERNS } from "../src/proposal/yaml-subset.ts";

/** recheck's verdict on one regex: "safe", "vulnerable" or "unknown" (with the reason). */
async function redosStatus(re: RegExp): Promise<{ status: Diagnostics["status"]; detail: string }> {
  const exact = await check(re.source, re.flags, { timeout: 60_000, checker: "automaton" });
  const d =
    exact.status === "unknown" ? await check(re.source, re.flags, { timeout: 50_000 }) : exact;
  switch (d.status) {
    case "safe":
      return { status: d.status, detail: `${d.complexity.summary} (${d.checker})` };
    case "vulnerable":
      return { status: d.status, detail: `${d.complexity.summary}; attack: ${d.attack.pattern}` };
    case "unknown":
      return { status: d.status, detail: d.error.kind };
  }
}

const patterns = [
  ...detectionRegexes(),
  ...BLOCK_YAML_PATTERNS.map((re) => ({ name: `block-yaml /${re.source}/`, re })),
  ...YAML_SUBSET_PATTERNS.map((re) => ({ name: `yaml-subset /${re.source}/`, re })),
];

describe("the ReDoS check itself", () => {
  it("reports an exponential pattern as vulnerable", async () => {
    expect((await redosStatus(/^(a+)+$/)).status).toBe("vulnerable");
  });

  it("reports a quadratic scan as vulnerable (an unbounded run retried at each start)", async () => {
    expect((await redosStatus(/\w+@/g)).status).toBe("vulnerable");
    expect((await redosStatus(/(?<!x)\w+@/g)).status).toBe("vulnerable");
  });

  it("reports a simple pattern as safe", async () => {
    expect((await redosStatus(/^[a-z]{1,8}$/)).status).toBe("safe");
  });

  it("accepts a bounded run retried at each start (linear: at most 66 steps per start)", async () => {
    expect((await redosStatus(/\bSG\.[a-z0-9._-]{66}/g)).status).toBe("safe");
  });
});

describe("every detector regex is linear-time", () => {
  it("has patterns to check, the generated provider rules among them", () => {
    expect(patterns.length).toBeGreaterThan(200);
    expect(patterns.some((p) => p.name === "gitlab-pat")).toBe(true);
  });

  it.each(patterns)(
    "$name",
    async ({ re }) => {
      const { status, detail } = await redosStatus(re);
      expect(status, detail).toBe("safe");
    },
    120_000,
  );
});
