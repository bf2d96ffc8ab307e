/**
 * Keywords of the built-in detectors, found by the same pass as the provider rules' keywords
 * (providers/match.ts: one Aho–Corasick automaton, ASCII letters folded to lower case) and
 * reported as one bit per group. Each group is a necessary condition of the scanner it gates:
 * every match of that scanner's regex contains one of the group's words, compared ignoring
 * ASCII case (a regex without the `u` flag folds ASCII only). So a text without any of them
 * cannot give that scanner a match, and the scanner is not run; with one, it runs as before.
 *
 * Plain data, imported by the matcher and by the detectors.
 */
export const KEYWORD_GROUPS = [
  // SECRET_KEYWORD_RE: the names key = value secrets are found by.
  ["pass", "pwd", "secret", "token", "key", "cred", "auth", "bearer", "cookie"],
  // AWS_SECRET_RE starts with "secret".
  ["secret"],
  // JWT_RE: "eyJ".
  ["eyj"],
  // PEM_BEGIN_RE: "… PRIVATE KEY".
  ["private key"],
  // AWS_ACCESS_KEY_RE: "AKIA" or "ASIA".
  ["akia", "asia"],
  // GITHUB_TOKEN_RE: "gh?_" or "github_pat_".
  ["gh", "github_pat_"],
  // SPLIT_GITHUB_PREFIX_RE: "gh[pousr]_".
  ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
  // SLACK_TOKEN_RE: "xox" or the webhook host.
  ["xox", "hooks.slack.com"],
  // STRIPE_KEY_RE: "[rs]k_live_" or "[rs]k_test_".
  ["k_live_", "k_test_"],
  // GOOGLE_API_KEY_RE: "AIza".
  ["aiza"],
  // CLI_PASSWORD_COMMAND_RE: the commands.
  ["mysql", "mariadb", "sshpass", "curl"],
  // SIGNED_URL_PARAM_RE: sig, signature, x-amz-signature, x-goog-signature.
  ["sig"],
  // SIN_CONTEXT_RE.
  ["sin", "social insurance"],
  // BSN_CONTEXT_RE.
  ["bsn", "burgerservicenummer", "sofinummer"],
  // OBFUSCATED_AT_RE: an address's "@" written out.
  ["(at)", "[at]", "{at}", "<at>", " at ", " @ "],
] as const satisfies readonly (readonly string[])[];

/** Bit of each group in TextFeatures.keywords (1 << index in KEYWORD_GROUPS). */
export const KW_CREDENTIAL = 1 << 0;
export const KW_AWS_SECRET = 1 << 1;
export const KW_JWT = 1 << 2;
export const KW_PRIVATE_KEY = 1 << 3;
export const KW_AWS_ACCESS_KEY = 1 << 4;
export const KW_GITHUB = 1 << 5;
export const KW_GITHUB_SPLIT = 1 << 6;
export const KW_SLACK = 1 << 7;
export const KW_STRIPE = 1 << 8;
export const KW_GOOGLE = 1 << 9;
export const KW_CLI = 1 << 10;
export const KW_SIGNED_URL = 1 << 11;
export const KW_SIN = 1 << 12;
export const KW_BSN = 1 << 13;
export const KW_OBFUSCATED_AT = 1 << 14;
/** Every group (texts too long for the pass: everything may occur). */
export const KW_ALL = (1 << KEYWORD_GROUPS.length) - 1;
