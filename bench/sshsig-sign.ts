/**
 * In-process SSH signatures for the history generator: reads an unencrypted OpenSSH ed25519
 * private key (openssh-key-v1) and makes the armored SSHSIG that `ssh-keygen -Y sign -n git`
 * makes (PROTOCOL.sshsig), so 100,000 approval tags do not need 100,000 ssh-keygen processes.
 * ed25519 signatures are deterministic, so the result is byte-identical to ssh-keygen's.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";

export interface SshSigner {
  /** "ssh-ed25519 AAAA…" */
  readonly publicKey: string;
  /** The armored signature over `message` for `namespace`. */
  sign(message: Uint8Array | string, namespace?: string): string;
}

class Reader {
  #at = 0;
  constructor(readonly buf: Buffer) {}
  uint32(): number {
    const v = this.buf.readUInt32BE(this.#at);
    this.#at += 4;
    return v;
  }
  bytes(): Buffer {
    const n = this.uint32();
    const v = this.buf.subarray(this.#at, this.#at + n);
    if (v.length !== n) throw new Error("truncated OpenSSH key");
    this.#at += n;
    return v;
  }
  text(): string {
    return this.bytes().toString("latin1");
  }
}

const sshString = (data: Buffer | string): Buffer => {
  const body = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
};

/** Parses an unencrypted openssh-key-v1 file holding one ed25519 key. */
export function loadEd25519Signer(file: string): SshSigner {
  const pem = readFileSync(file, "utf8");
  const b64 = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+?)-----END OPENSSH PRIVATE KEY-----/.exec(
    pem,
  )?.[1];
  if (!b64) throw new Error(`${file} is not an OpenSSH private key`);
  const raw = Buffer.from(b64.replace(/\s+/g, ""), "base64");
  const magic = Buffer.from("openssh-key-v1\0", "latin1");
  if (!raw.subarray(0, magic.length).equals(magic)) throw new Error(`${file}: not openssh-key-v1`);
  const r = new Reader(raw.subarray(magic.length));
  const cipher = r.text();
  const kdf = r.text();
  r.bytes(); // kdf options
  if (cipher !== "none" || kdf !== "none") throw new Error(`${file} is encrypted`);
  if (r.uint32() !== 1) throw new Error(`${file}: expected exactly one key`);
  const publicBlob = r.bytes();
  const priv = new Reader(r.bytes());
  if (priv.uint32() !== priv.uint32()) throw new Error(`${file}: check bytes differ`);
  if (priv.text() !== "ssh-ed25519") throw new Error(`${file}: not an ed25519 key`);
  const pub = priv.bytes();
  const secret = priv.bytes(); // seed ‖ public key
  if (pub.length !== 32 || secret.length !== 64) throw new Error(`${file}: bad ed25519 key`);
  const key = createPrivateKey({
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: secret.subarray(0, 32).toString("base64url"),
      x: pub.toString("base64url"),
    },
    format: "jwk",
  });
  return signerFor(key, publicBlob);
}

function signerFor(key: KeyObject, publicBlob: Buffer): SshSigner {
  const MAGIC = Buffer.from("SSHSIG");
  const version = Buffer.from([0, 0, 0, 1]);
  return {
    publicKey: `ssh-ed25519 ${publicBlob.toString("base64")}`,
    sign(message, namespace = "git") {
      const digest = createHash("sha512").update(message).digest();
      const signed = Buffer.concat([
        MAGIC,
        sshString(namespace),
        sshString(""),
        sshString("sha512"),
        sshString(digest),
      ]);
      const signature = sign(null, signed, key);
      const blob = Buffer.concat([
        MAGIC,
        version,
        sshString(publicBlob),
        sshString(namespace),
        sshString(""),
        sshString("sha512"),
        sshString(Buffer.concat([sshString("ssh-ed25519"), sshString(signature)])),
      ]).toString("base64");
      const lines = blob.match(/.{1,70}/g) ?? [];
      return `-----BEGIN SSH SIGNATURE-----\n${lines.join("\n")}\n-----END SSH SIGNATURE-----\n`;
    },
  };
}
