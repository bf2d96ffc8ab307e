/** One provider-token rule generated from gitleaks' rule file (see scripts/gen-provider-rules.mjs). */
export interface GeneratedRule {
  /** gitleaks rule id, e.g. "gitlab-pat". */
  readonly id: string;
  /** Finding type reported for a match, e.g. "gitlab_token". */
  readonly type: string;
  /** Candidate regex, without flags (compiled with "gd" by the matcher). */
  readonly regex: RegExp;
  /** Lower-case keywords; at least one must occur in the lower-cased text (none: always run). */
  readonly keywords: readonly string[];
  /** Minimum Shannon entropy (bits per character) of the secret; 0: no minimum. */
  readonly entropy: number;
  /** Capture group that is the secret: -1 the first that matched, 0 the whole match. */
  readonly group: number;
  /** A secret matching one of these is not reported. */
  readonly allow: readonly RegExp[];
  /** A whole match matching one of these is not reported. */
  readonly allowMatch: readonly RegExp[];
  /** A secret containing one of these (lower-case) is not reported. */
  readonly stopwords: readonly string[];
}
