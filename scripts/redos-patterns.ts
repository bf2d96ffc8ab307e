/**
 * Every regex the ReDoS test (test/redos.test.ts) checks, by name, and the verdicts recorded
 * for the slowest of them by `npm run redos:record` (scripts/redos-record.ts).
 */
import { detectionRegexes } from "../src/masking/detectors.ts";
import { BLOCK_YAML_PATTERNS } from "../src/request/block-yaml.ts";
import { YAML_SUBSET_PATTERNS } from "../src/proposal/yaml-subset.ts";

export function redosPatterns(): { name: string; re: RegExp }[] {
  return [
    ...detectionRegexes(),
    ...BLOCK_YAML_PATTERNS.map((re) => ({ name: `block-yaml /${re.source}/`, re })),
    ...YAML_SUBSET_PATTERNS.map((re) => ({ name: `yaml-subset /${re.source}/`, re })),
  ];
}

/** The exact (automaton) checker's verdict on one pattern, as recorded. */
export interface RecordedVerdict {
  readonly name: string;
  readonly source: string;
  readonly flags: string;
  readonly recheck: string;
  /** "undecided": the exact checker did not finish within `seconds`. */
  readonly status: "safe" | "vulnerable" | "undecided";
  readonly complexity: string;
  readonly seconds: number;
}
