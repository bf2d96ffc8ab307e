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
 *
 * A handful of generated rules take the exact checker minutes (microsoft-teams-webhook: 140 s
 * on this machine). Their verdicts are recorded by `npm run redos:record` in
 * test/fixtures/redos-exact.json, keyed by the pattern's exact source and flags and recheck's
 * version, and used here for that very pattern only: a changed pattern, or another recheck,
 * is checked afresh. Before, each of them spent the automaton's full minute and then went to
 * the fuzzer anyway: three of the suite's minutes. Patterns the exact checker could not decide
 * in the recorder's budget (minutes, not the test's one) are recorded "undecided": they go
 * straight to recheck's default checker, which must report "safe", as they did after the minute.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { check, type Diagnostics } from "recheck";
import { describe, expect, it } from "vitest";
import { redosPatterns, type RecordedVerdict } from "../scripts/redos-patterns.ts";

const RECHECK = (createRequire(import.meta.url)("recheck/package.json") as { version: string })
  .version;
const RECORDED = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "redos-exact.json"), "utf8"),
) as RecordedVerdict[];

/** The exact checker's recorded verdict on this very pattern under this recheck, if any. */
function recorded(name: string, re: RegExp): RecordedVerdict | undefined {
  return RECORDED.find(
    (r) =>
      r.name === name && r.source === re.source && r.flags === re.flags && r.recheck === RECHECK,
  );
}

/** recheck's verdict on one regex: "safe", "vulnerable" or "unknown" (with the reason). */
async function redosStatus(
  re: RegExp,
  o: { skipExact?: boolean } = {},
): Promise<{ status: Diagnostics["status"]; detail: string }> {
  const exact = o.skipExact
    ? undefined
    : await check(re.source, re.flags, { timeout: 60_000, checker: "automaton" });
  const d =
    exact === undefined || exact.status === "unknown"
      ? await check(re.source, re.flags, { timeout: 50_000 })
      : exact;
  switch (d.status) {
    case "safe":
      return { status: d.status, detail: `${d.complexity.summary} (${d.checker})` };
    case "vulnerable":
      return { status: d.status, detail: `${d.complexity.summary}; attack: ${d.attack.pattern}` };
    case "unknown":
      return { status: d.status, detail: d.error.kind };
  }
}

const patterns = redosPatterns();

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

  it("uses every recorded verdict: each names a current pattern, its source and this recheck", () => {
    const stale = RECORDED.filter(
      (r) => !patterns.some(({ name, re }) => recorded(name, re) === r),
    ).map((r) => r.name);
    expect(stale, "re-record with: npm run redos:record -- <name>").toEqual([]);
  });

  it.each(patterns)(
    "$name",
    async ({ name, re }) => {
      const known = recorded(name, re);
      const { status, detail } =
        known === undefined
          ? await redosStatus(re)
          : known.status === "undecided"
            ? await redosStatus(re, { skipExact: true })
            : { status: known.status, detail: `${known.complexity} (automaton, recorded)` };
      expect(status, detail).toBe("safe");
    },
    120_000,
  );
});
