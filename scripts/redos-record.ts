/**
 * `npm run redos:record [-- <rule name>...]`: runs recheck's exact automaton checker, with no
 * practical time limit, on the detector regexes it cannot decide within the ReDoS test's budget,
 * and records its verdicts in test/fixtures/redos-exact.json.
 *
 * A few generated provider rules (long bounded runs such as `[a-zA-Z0-9+/]{250,}`, or three
 * UUIDs in a row) take the exact checker minutes each. The test then had two bad choices:
 * spend those minutes on every run (most of `npm test`'s wall time), or fall back to fuzzing,
 * whose verdict on such patterns depends on the machine's load. A recorded verdict is keyed by
 * the pattern's exact source and flags and by recheck's version: the test uses it only for
 * that very pattern under that very checker, so a changed pattern or a recheck upgrade is
 * checked afresh (and, if it is slow again, recorded again with this script).
 *
 * Without arguments, every pattern whose exact check does not finish in 60 s is recorded
 * (about an hour of CPU on 2 cores, most of it for a handful of patterns). With rule names,
 * only those are checked and their entries replaced.
 *
 * `--budget <seconds>` bounds the exact check. A pattern it cannot decide within the budget is
 * recorded as "undecided": the test then skips the exact checker (which would spend its whole
 * minute for nothing) and goes straight to recheck's default checker, as it did after the
 * minute. jwt-base64 and 1password-service-account-token did not finish in 50 minutes (and
 * 6.5 GB) of the exact checker; they are recorded undecided with a 10-minute budget.
 */
import { writeFileSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { check } from "recheck";
import { redosPatterns, type RecordedVerdict } from "./redos-patterns.ts";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "test", "fixtures", "redos-exact.json");
const RECHECK = (createRequire(import.meta.url)("recheck/package.json") as { version: string })
  .version;

const args = process.argv.slice(2);
const budgetAt = args.indexOf("--budget");
const budgetMs = budgetAt >= 0 ? Number(args[budgetAt + 1]) * 1000 : null;
if (budgetMs !== null && !(budgetMs > 0)) throw new Error("--budget takes a number of seconds");
const names = args.filter((_, i) => budgetAt < 0 || (i !== budgetAt && i !== budgetAt + 1));
/** This run's verdicts, by pattern name. */
const fresh = new Map<string, RecordedVerdict>();

for (const { name, re } of redosPatterns()) {
  if (names.length > 0 && !names.includes(name)) continue;
  const started = Date.now();
  if (names.length === 0) {
    const quick = await check(re.source, re.flags, { timeout: 60_000, checker: "automaton" });
    if (quick.status !== "unknown" || quick.error.kind !== "timeout") continue;
  }
  process.stderr.write(
    `${name}: exact check ${budgetMs === null ? "without a time limit" : `for at most ${budgetMs / 1000} s`}...\n`,
  );
  const d = await check(re.source, re.flags, { timeout: budgetMs, checker: "automaton" });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (d.status === "unknown" && d.error.kind !== "timeout") {
    process.stderr.write(`${name}: recheck could not decide (${d.error.kind})\n`);
    continue;
  }
  const verdict =
    d.status === "unknown"
      ? {
          status: "undecided" as const,
          complexity: `the exact checker did not finish in ${seconds} s`,
        }
      : { status: d.status, complexity: d.complexity.summary };
  fresh.set(name, {
    name,
    source: re.source,
    flags: re.flags,
    recheck: RECHECK,
    ...verdict,
    seconds,
  });
  process.stderr.write(`${name}: ${verdict.status} (${verdict.complexity}) in ${seconds} s\n`);
}

// The file is read only now: several recordings of single rules may run side by side.
const kept: RecordedVerdict[] = existsSync(OUT)
  ? (JSON.parse(readFileSync(OUT, "utf8")) as RecordedVerdict[]).filter((r) => !fresh.has(r.name))
  : [];
const out = [...kept, ...fresh.values()].sort((a, b) => a.name.localeCompare(b.name));
writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
process.stderr.write(`${out.length} recorded verdicts in ${OUT}\n`);
