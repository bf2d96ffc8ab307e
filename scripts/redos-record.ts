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
const recorded: RecordedVerdict[] = existsSync(OUT)
  ? (JSON.parse(readFileSync(OUT, "utf8")) as RecordedVerdict[])
  : [];
const byName = new Map(recorded.map((r) => [r.name, r]));
const fresh = new Set<string>();

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
  if (d.status === "unknown") {
    process.stderr.write(`${name}: recheck could not decide (${d.error.kind})\n`);
    if (d.error.kind !== "timeout") continue;
    fresh.add(name);
    byName.set(name, {
      name,
      source: re.source,
      flags: re.flags,
      recheck: RECHECK,
      status: "undecided",
      complexity: `the exact checker did not finish in ${seconds} s`,
      seconds,
    });
    continue;
  }
  fresh.add(name);
  byName.set(name, {
    name,
    source: re.source,
    flags: re.flags,
    recheck: RECHECK,
    status: d.status,
    complexity: d.complexity.summary,
    seconds,
  });
  process.stderr.write(`${name}: ${d.status} (${d.complexity.summary}) in ${seconds} s\n`);
}

// Read again: several recordings of single rules may run side by side.
const current: RecordedVerdict[] = existsSync(OUT)
  ? (JSON.parse(readFileSync(OUT, "utf8")) as RecordedVerdict[])
  : [];
for (const r of current) if (!fresh.has(r.name)) byName.set(r.name, r);
const out = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
process.stderr.write(`${out.length} recorded verdicts in ${OUT}\n`);
