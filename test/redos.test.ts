/**
 * Every regex the detectors run must be linear-time: recheck (an automaton- and fuzzing-based
 * ReDoS checker) has to report each one "safe". A check that cannot finish counts as a failure.
 * The helper is itself checked against known-vulnerable patterns, so this test can fail.
 */
import { check, type Diagnostics } from "recheck";
import { describe, expect, it } from "vitest";
import { DETECTORS } from "../src/masking/detectors.ts";

/** recheck's verdict on one regex: "safe", "vulnerable" or "unknown" (with the reason). */
async function redosStatus(re: RegExp): Promise<{ status: Diagnostics["status"]; detail: string }> {
  const d = await check(re.source, re.flags, { timeout: 60_000 });
  switch (d.status) {
    case "safe":
      return { status: d.status, detail: `${d.complexity.summary} (${d.checker})` };
    case "vulnerable":
      return { status: d.status, detail: `${d.complexity.summary}; attack: ${d.attack.pattern}` };
    case "unknown":
      return { status: d.status, detail: d.error.kind };
  }
}

const patterns = DETECTORS.flatMap((d) =>
  d.patterns.map((re, i) => ({ name: `${d.type}[${i}] /${re.source}/${re.flags}`, re })),
);

describe("the ReDoS check itself", () => {
  it("reports an exponential pattern as vulnerable", async () => {
    expect((await redosStatus(/^(a+)+$/)).status).toBe("vulnerable");
  });

  it("reports a quadratic scan as vulnerable (an unbounded run retried at each start)", async () => {
    expect((await redosStatus(/\w+@/g)).status).toBe("vulnerable");
  });

  it("reports a simple pattern as safe", async () => {
    expect((await redosStatus(/^[a-z]{1,8}$/)).status).toBe("safe");
  });
});

describe("every detector regex is linear-time", () => {
  it("has patterns to check", () => {
    expect(patterns.length).toBeGreaterThanOrEqual(DETECTORS.length);
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
