import { EXTRA_TYPES } from "./providers/extra-rules.ts";
import { PROVIDER_TYPES } from "./providers/gitleaks-rules.generated.ts";

/** What a detector found: personal data, or a secret (credentials, keys, tokens). */
export type FindingKind = "pii" | "secret";

/** Stable names of the built-in detectors. Policies and mask strategies refer to these. */
export const FINDING_TYPES = [
  "email",
  "phone",
  "payment_card",
  "iban",
  "us_ssn",
  "uk_nino",
  "ca_sin",
  "nl_bsn",
  "in_aadhaar",
  "us_itin",
  "uk_nhs",
  "crypto_wallet",
  "ip_address",
  "jwt",
  "private_key",
  "aws_access_key",
  "aws_secret_key",
  "github_token",
  "slack_token",
  "stripe_key",
  "google_api_key",
  "generic_secret",
  // A base64/hex/URL-encoded payload beyond the decoding bounds that still decodes to text.
  "encoded",
  // Provider token families generated from gitleaks' rules ("<family>_token").
  ...PROVIDER_TYPES,
  // Provider token types of the hand-maintained rules (providers/extra-rules.ts).
  ...EXTRA_TYPES,
] as const;
export type FindingType = (typeof FINDING_TYPES)[number];

/** A detector hit inside one string: [start, end) in UTF-16 code units. */
export interface Span {
  readonly type: FindingType;
  readonly kind: FindingKind;
  readonly start: number;
  readonly end: number;
}

/**
 * A finding located in a request: where (JSON Pointer), whether in an object key or a value,
 * and the span inside that string. Never carries the matched text, so findings can be
 * logged, shown to the policy and written down without leaking what they point at.
 */
export interface Finding extends Span {
  readonly path: string;
  readonly in: "key" | "value";
}

export const MASK_STRATEGIES = ["redact", "partial", "hash", "drop"] as const;
export type MaskStrategy = (typeof MASK_STRATEGIES)[number];
