import { createHmac } from "node:crypto";
import type { MaskStrategy } from "./types.ts";

/** What a placeholder says the hidden value was: a detector type, or "value" for a whole field. */
export type MaskLabel = string;

/** Strongest first: when two rules cover one value, the stronger strategy wins. */
const STRENGTH: Record<MaskStrategy, number> = { drop: 4, redact: 3, hash: 2, partial: 1 };

export function stronger(a: MaskStrategy, b: MaskStrategy): MaskStrategy {
  return STRENGTH[a] >= STRENGTH[b] ? a : b;
}

/** Hex characters kept from the HMAC: 48 bits, enough to tell values apart in one repository. */
export const HASH_TOKEN_HEX = 12;

/**
 * The placeholder that replaces a sensitive string. `drop` has no placeholder: the caller
 * removes the field.
 *   redact  → [email]
 *   partial → [payment_card …4242]  (a short tail of letters and digits; nothing for short values)
 *   hash    → [email:5d41402abc4b]  (keyed HMAC-SHA256: stable for one repository's key, so
 *             reviewers can see that two requests name the same customer, but not who)
 */
export function placeholder(
  strategy: Exclude<MaskStrategy, "drop">,
  label: MaskLabel,
  original: string,
  hmacKey: Uint8Array,
): string {
  switch (strategy) {
    case "redact":
      return `[${label}]`;
    case "hash":
      return `[${label}:${hashToken(label, original, hmacKey)}]`;
    case "partial": {
      const tail = partialTail(original);
      return tail === "" ? `[${label}]` : `[${label} …${tail}]`;
    }
  }
}

export function hashToken(label: MaskLabel, original: string, hmacKey: Uint8Array): string {
  return createHmac("sha256", hmacKey)
    .update(`${label}\0${original}`)
    .digest("hex")
    .slice(0, HASH_TOKEN_HEX);
}

/**
 * The tail a `partial` mask keeps: at most 4 letters or digits, and never more than a quarter
 * of them, so a short value shows nothing and a card number shows its last four.
 */
export function partialTail(original: string): string {
  const alnum = original.replace(/[^0-9A-Za-z]/g, "");
  const keep = Math.min(4, Math.floor(alnum.length / 4));
  return keep === 0 ? "" : alnum.slice(alnum.length - keep);
}
