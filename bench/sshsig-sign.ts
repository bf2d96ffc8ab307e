/**
 * In-process SSH signatures for the history generator, through Interlock's own signer
 * (parseSshPrivateKey), so 100,000 approval tags do not need 100,000 ssh-keygen processes.
 * ed25519 signatures are deterministic, so the result is byte-identical to ssh-keygen's.
 */
import { readFileSync } from "node:fs";
import { parseSshPrivateKey } from "../src/forge/local/sshsig.ts";

export interface SshSigner {
  /** "ssh-ed25519 AAAA…" */
  readonly publicKey: string;
  /** The armored signature over `message` for `namespace`. */
  sign(message: Uint8Array | string, namespace?: string): string;
}

/** Reads an unencrypted OpenSSH private key (ed25519 in the generated histories). */
export function loadEd25519Signer(file: string): SshSigner {
  const key = parseSshPrivateKey(readFileSync(file, "utf8"), file);
  return {
    publicKey: key.publicKey,
    sign: (message, namespace = "git") => key.sign(message, namespace),
  };
}
