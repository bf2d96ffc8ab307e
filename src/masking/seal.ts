import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  armor,
  Decrypter,
  Encrypter,
  generateX25519Identity,
  identityToRecipient,
} from "age-encryption";
import { InterlockError } from "../errors.ts";
import { canonicalJson, sha256 } from "../request/canonical.ts";

/**
 * The original, unmasked params, encrypted with age to the executors' recipients, so that only
 * an executor can read them after approval. The digest is salted with a random salt that is
 * itself inside the ciphertext: anyone can see the digest, but nobody without an executor's
 * identity can test a guess (a low-entropy value such as a phone number) against it.
 */
export interface SealedParams {
  readonly format: "age";
  readonly recipients: readonly string[];
  /** ASCII-armored age file (interoperates with the `age` command-line tool). */
  readonly ciphertext: string;
  /** sha256 over salt ‖ canonical JSON of the params. */
  readonly digest: string;
}

/** The plaintext inside the age file. */
interface SealedPayload {
  readonly v: 1;
  readonly salt: string;
  readonly params: unknown;
}

export const AGE_RECIPIENT_PATTERN = /^age1[02-9ac-hj-np-z]{58}$/;

export async function seal(params: unknown, recipients: readonly string[]): Promise<SealedParams> {
  if (recipients.length === 0) {
    throw new InterlockError(
      "seal.failed",
      "no age recipients are configured to seal the params to",
      {
        hint: "Add the executors' age public keys (age1…) under executors.recipients in .interlock/config.yaml.",
      },
    );
  }
  const bad = recipients.filter((r) => !AGE_RECIPIENT_PATTERN.test(r));
  if (bad.length > 0) {
    throw new InterlockError("seal.failed", `not an age X25519 recipient: ${bad.join(", ")}`, {
      hint: "Recipients are age public keys that start with age1 (see age-keygen -y).",
    });
  }
  const salt = randomBytes(16);
  const payload: SealedPayload = { v: 1, salt: salt.toString("base64"), params: params ?? null };
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const encrypted = await e.encrypt(canonicalJson(payload));
  return {
    format: "age",
    recipients: [...recipients],
    ciphertext: armor.encode(encrypted),
    digest: saltedDigest(salt, params ?? null),
  };
}

/**
 * Decrypts sealed params with an executor's identity and checks the digest. Throws when the
 * identity does not fit or the params are not the ones that were sealed.
 */
export async function unseal(
  sealed: SealedParams,
  identities: readonly string[],
): Promise<unknown> {
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  let payload: SealedPayload;
  try {
    const text = await d.decrypt(armor.decode(sealed.ciphertext), "text");
    payload = JSON.parse(text) as SealedPayload;
  } catch (err) {
    throw new InterlockError("seal.failed", `cannot unseal the params: ${(err as Error).message}`, {
      hint: "Use an identity whose recipient is listed in the request file's sealed.recipients.",
    });
  }
  const expected = saltedDigest(Buffer.from(payload.salt, "base64"), payload.params);
  if (!equalDigest(expected, sealed.digest)) {
    throw new InterlockError(
      "seal.failed",
      "the unsealed params do not match the recorded digest",
      {
        hint: "The request file or its ciphertext was altered after the request was filed; do not execute it.",
      },
    );
  }
  return payload.params;
}

export function saltedDigest(salt: Uint8Array, params: unknown): string {
  return sha256(Buffer.concat([salt, Buffer.from(canonicalJson(params), "utf8")]));
}

function equalDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A new executor identity (AGE-SECRET-KEY-1…) and its recipient (age1…). */
export async function newAgeIdentity(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}
