import { createHash, createPrivateKey, sign as cryptoSign, type KeyObject } from "node:crypto";
import { InterlockError } from "../../errors.ts";

/**
 * In-process SSH signing (the SSHSIG format of `ssh-keygen -Y sign`, which git uses for
 * gpg.format=ssh) for unencrypted ed25519 keys in OpenSSH's private key format, so filing a
 * request spawns no signing program at all. Verification lives in sshsig.ts.
 */

export interface SshSigningKey {
  /** "ssh-ed25519 AAAA…" (no comment). */
  readonly publicKey: string;
  readonly sign: (message: Uint8Array | string, namespace: string) => string;
}

const MAGIC = Buffer.from("SSHSIG");
const KEY_MAGIC = Buffer.from("openssh-key-v1\0", "latin1");

/** Reads an unencrypted OpenSSH ed25519 private key ("-----BEGIN OPENSSH PRIVATE KEY-----"). */
export function parseSshSigningKey(text: string, source = "the key"): SshSigningKey {
  const fail = (why: string) =>
    new InterlockError("usage", `${source} cannot sign: ${why}`, {
      hint: "Use an unencrypted ed25519 key made by 'ssh-keygen -t ed25519 -N \"\"'.",
    });
  try {
    return readKey(text, fail);
  } catch (err) {
    if (err instanceof InterlockError) throw err;
    throw fail(`it is corrupt (${err instanceof Error ? err.message : String(err)})`);
  }
}

function readKey(text: string, fail: (why: string) => InterlockError): SshSigningKey {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(
    text,
  );
  if (!m) throw fail("it is not an OpenSSH private key");
  const blob = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  if (!blob.subarray(0, KEY_MAGIC.length).equals(KEY_MAGIC)) throw fail("bad key magic");
  const r = new Reader(blob.subarray(KEY_MAGIC.length));
  const cipher = r.string().toString("latin1");
  const kdf = r.string().toString("latin1");
  r.string(); // kdf options
  if (cipher !== "none" || kdf !== "none") throw fail("it is encrypted with a passphrase");
  if (r.uint32() !== 1) throw fail("it holds more than one key");
  const publicBlob = r.string();
  const priv = new Reader(r.string());
  if (priv.uint32() !== priv.uint32()) throw fail("it is corrupt (check bytes differ)");
  const type = priv.string().toString("latin1");
  if (type !== "ssh-ed25519") throw fail(`${type} keys are not supported here, only ed25519`);
  const pub = priv.string();
  const secret = priv.string();
  if (pub.length !== 32 || secret.length !== 64) throw fail("it is corrupt (key lengths)");
  const key: KeyObject = createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: b64url(secret.subarray(0, 32)), x: b64url(pub) },
    format: "jwk",
  });
  const publicKey = `ssh-ed25519 ${publicBlob.toString("base64")}`;
  return {
    publicKey,
    sign: (message, namespace) => signSshsig(key, publicBlob, message, namespace),
  };
}

/** An armored SSHSIG over `message`, as `ssh-keygen -Y sign -n <namespace>` writes it. */
function signSshsig(
  key: KeyObject,
  publicBlob: Buffer,
  message: Uint8Array | string,
  namespace: string,
): string {
  const hash = "sha512";
  const digest = createHash(hash).update(message).digest();
  const toSign = Buffer.concat([
    MAGIC,
    sshString(Buffer.from(namespace, "utf8")),
    sshString(Buffer.alloc(0)),
    sshString(Buffer.from(hash)),
    sshString(digest),
  ]);
  const raw = cryptoSign(null, toSign, key);
  const signature = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]);
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([
    MAGIC,
    version,
    sshString(publicBlob),
    sshString(Buffer.from(namespace, "utf8")),
    sshString(Buffer.alloc(0)),
    sshString(Buffer.from(hash)),
    sshString(signature),
  ]);
  const b64 = blob.toString("base64");
  const lines = b64.match(/.{1,70}/g) ?? [];
  return ["-----BEGIN SSH SIGNATURE-----", ...lines, "-----END SSH SIGNATURE-----", ""].join("\n");
}

function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

function b64url(bytes: Buffer): string {
  return bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

class Reader {
  #buf: Buffer;
  #at = 0;
  constructor(buf: Buffer) {
    this.#buf = buf;
  }
  uint32(): number {
    if (this.#at + 4 > this.#buf.length) throw new Error("truncated key");
    const v = this.#buf.readUInt32BE(this.#at);
    this.#at += 4;
    return v;
  }
  string(): Buffer {
    const n = this.uint32();
    if (this.#at + n > this.#buf.length) throw new Error("truncated key");
    const v = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }
}
