import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
} from "node:crypto";
import { InterlockError } from "../../errors.ts";

/**
 * In-process verification of SSH signatures (the SSHSIG format of `ssh-keygen -Y sign`, which
 * git uses for `gpg.format=ssh`), so an audit can check tens of thousands of signed approval
 * tags per second without spawning `git verify-tag` / `ssh-keygen -Y verify` for each.
 *
 * The reference is OpenSSH itself (PROTOCOL.sshsig, sshsig.c, match.c) and the tests cross-check
 * every outcome against the real tools. Where OpenSSH is lenient in a way no signer needs, this
 * module is stricter (fail closed) and says so in a comment:
 *  - version must be exactly 1 (OpenSSH also accepts 0);
 *  - nothing but whitespace may follow the armor's END line (OpenSSH ignores anything there);
 *  - an allowed key must match the signing key's wire encoding byte for byte;
 *  - allowed-signers options that need more than (principal, key, namespace) — `cert-authority`,
 *    `valid-after`, `valid-before` — are refused when parsing instead of being half-honoured.
 *
 * Supported keys: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (signatures rsa-sha2-256 and
 * rsa-sha2-512 only, as OpenSSH requires for SSHSIG). Certificates and FIDO (sk-) keys are not.
 */

/** One line of an allowed_signers file. */
export interface AllowedSigner {
  /**
   * The principals field verbatim: usually one email, but ssh-keygen reads it as a
   * comma-separated list of patterns (`*`, `?`, `!negation`), and so does this module.
   */
  readonly principal: string;
  /** "keytype base64 [comment]", as in a .pub file. */
  readonly publicKey: string;
  /** The `namespaces="…"` option: patterns the signature namespace must match; absent = any. */
  readonly namespaces?: readonly string[];
}

export type SshsigResult =
  { ok: true; principal: string; fingerprint: string } | { ok: false; reason: string };

const MAGIC = Buffer.from("SSHSIG");
const SIG_VERSION = 1;
const BEGIN = "-----BEGIN SSH SIGNATURE-----";
const END = "-----END SSH SIGNATURE-----";
/** The hash algorithms OpenSSH allows for the message digest (HASHALG_ALLOWED). */
const HASH_ALGORITHMS: ReadonlySet<string> = new Set(["sha256", "sha512"]);

/** A malformed or unacceptable signature; its message is the `reason` returned to the caller. */
class Rejection extends Error {}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/**
 * Verifies an armored SSHSIG ("-----BEGIN SSH SIGNATURE-----…") over `message` for `namespace`
 * (git uses "git"), requiring the signing key to be allowed for `principal`. Never throws: every
 * failure is `{ ok: false, reason }`.
 */
export function verifySshSignature(
  armored: string,
  message: Uint8Array | string,
  namespace: string,
  principal: string,
  allowed: readonly AllowedSigner[],
): SshsigResult {
  try {
    if (namespace === "") throw new Rejection("the expected namespace must not be empty");
    const sig = parseSignatureBlob(dearmor(armored));
    const gotNamespace = sig.namespace.toString("utf8");
    if (!sig.namespace.equals(Buffer.from(namespace, "utf8"))) {
      throw new Rejection(
        `signature is for namespace ${JSON.stringify(gotNamespace)}, expected ${JSON.stringify(namespace)}`,
      );
    }
    const fp = blobFingerprint(sig.publicKey);
    // Authorisation first: it is cheap, and a key nobody allowed is not worth a verification.
    const key = findAllowedKey(allowed, principal, namespace, sig.publicKey, fp);
    const digest = createHash(sig.hashAlgorithm).update(message).digest();
    if (!key.verify(signedData(namespace, sig.hashAlgorithm, digest), sig.signature)) {
      throw new Rejection(
        `signature by ${fp} does not verify: the message or the signature was altered`,
      );
    }
    return { ok: true, principal, fingerprint: fp };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: err instanceof Rejection ? detail : `cannot verify: ${detail}` };
  }
}

/** Removes the ASCII armor the way sshsig_dearmor does, with strict base64. */
function dearmor(armored: string): Buffer {
  if (!armored.startsWith(`${BEGIN}\n`)) {
    throw new Rejection(`signature is not an armored SSH signature (no "${BEGIN}" first line)`);
  }
  const end = armored.indexOf(`\n${END}`, BEGIN.length);
  if (end < 0) throw new Rejection(`armored SSH signature has no "${END}" line`);
  // Stricter than OpenSSH, which ignores whatever follows the END line.
  if (armored.slice(end + 1 + END.length).trim() !== "") {
    throw new Rejection(`armored SSH signature has text after the "${END}" line`);
  }
  return strictBase64(armored.slice(BEGIN.length + 1, end), "armored SSH signature");
}

/** Decodes base64, refusing what Buffer.from would silently skip (stray characters, bad padding). */
function strictBase64(text: string, what: string): Buffer {
  const compact = text.replace(/[ \t\r\n]/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new Rejection(`${what} is not valid base64`);
  }
  return Buffer.from(compact, "base64");
}

interface SignatureBlob {
  readonly publicKey: Buffer;
  readonly namespace: Buffer;
  readonly hashAlgorithm: string;
  readonly signature: Buffer;
}

/** MAGIC_PREAMBLE, uint32 version, string publickey, namespace, reserved, hash_algorithm, signature. */
function parseSignatureBlob(blob: Buffer): SignatureBlob {
  if (blob.length < MAGIC.length || !blob.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Rejection('signature blob does not start with the "SSHSIG" magic preamble');
  }
  const r = new Reader(blob.subarray(MAGIC.length), "signature blob");
  const version = r.uint32("version");
  // Stricter than OpenSSH, which accepts any version up to 1 (including 0).
  if (version !== SIG_VERSION) {
    throw new Rejection(`signature version ${version} is not supported (expected ${SIG_VERSION})`);
  }
  const publicKey = r.bytes("public key");
  const namespace = r.cstring("namespace");
  r.bytes("reserved field"); // PROTOCOL.sshsig: ignore the reserved field's contents.
  const hashAlgorithm = r.cstring("hash algorithm").toString("latin1");
  const signature = r.bytes("signature");
  r.end();
  if (!HASH_ALGORITHMS.has(hashAlgorithm)) {
    throw new Rejection(
      `signature uses unsupported hash algorithm ${JSON.stringify(hashAlgorithm)} (allowed: sha256, sha512)`,
    );
  }
  return { publicKey, namespace, hashAlgorithm, signature };
}

/**
 * What the signer signed: "SSHSIG" || string namespace || string reserved || string hash_algorithm
 * || string H(message). Like OpenSSH's sshsig_wrap_verify, the reserved field is always empty here.
 */
function signedData(namespace: string, hashAlgorithm: string, digest: Buffer): Buffer {
  return Buffer.concat([
    MAGIC,
    sshString(Buffer.from(namespace, "utf8")),
    sshString(Buffer.alloc(0)),
    sshString(Buffer.from(hashAlgorithm, "latin1")),
    sshString(digest),
  ]);
}

function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/**
 * Mirrors sshsig_check_allowed_keys: the first signer whose principals match and whose key is the
 * signing key, and whose namespaces (if restricted) include `namespace`, authorises the signature.
 */
function findAllowedKey(
  allowed: readonly AllowedSigner[],
  principal: string,
  namespace: string,
  signingKey: Buffer,
  fp: string,
): PublicKey {
  let principalListed = false;
  let excludedBy: readonly string[] | undefined;
  for (const signer of allowed) {
    if (matchPatternList(principal, signer.principal) !== 1) continue;
    principalListed = true;
    const entry = allowedKeyOf(signer, principal);
    if (!entry.blob.equals(signingKey)) continue;
    const { namespaces } = signer;
    if (namespaces !== undefined && matchPatternList(namespace, namespaces.join(",")) !== 1) {
      excludedBy = namespaces;
      continue;
    }
    entry.key ??= decodePublicKey(entry.blob);
    return entry.key;
  }
  if (excludedBy !== undefined) {
    throw new Rejection(
      `key ${fp} is allowed for ${principal} only in namespaces "${excludedBy.join(",")}", not in "${namespace}"`,
    );
  }
  if (!principalListed) {
    throw new Rejection(`signed by ${fp}, but no allowed signer is listed for ${principal}`);
  }
  throw new Rejection(`signed by ${fp} which is not an allowed key for ${principal}`);
}

// ---------------------------------------------------------------------------------------------
// Public keys
// ---------------------------------------------------------------------------------------------

/** A decoded key: its wire blob and how to check a signature blob with it. */
interface PublicKey {
  readonly blob: Buffer;
  verify(data: Buffer, signatureBlob: Buffer): boolean;
}

/** An allowed signer's key blob, and its verifier once a signature needed it. */
interface AllowedKey {
  readonly blob: Buffer;
  key?: PublicKey;
}

/** Per signer object, so a list parsed once costs one base64 decode and key import per signer. */
const allowedKeys = new WeakMap<AllowedSigner, AllowedKey>();

function allowedKeyOf(signer: AllowedSigner, principal: string): AllowedKey {
  let entry = allowedKeys.get(signer);
  if (entry === undefined) {
    try {
      entry = { blob: readKeyLine(signer.publicKey).blob };
    } catch (err) {
      // Like ssh-keygen, an unreadable line for a matching principal aborts rather than skips.
      const detail = err instanceof Error ? err.message : String(err);
      throw new Rejection(
        `the allowed signer for ${principal} has an unreadable public key: ${detail}`,
      );
    }
    allowedKeys.set(signer, entry);
  }
  return entry;
}

/** Splits "keytype base64 [comment]" and checks the blob names the same key type. */
function readKeyLine(line: string): { type: string; blob: Buffer } {
  const [type, base64] = line.trim().split(/[ \t]+/, 2);
  if (type === undefined || type === "" || base64 === undefined) {
    throw new Rejection('public key must look like "keytype base64 [comment]"');
  }
  const blob = strictBase64(base64, "public key");
  const inner = new Reader(blob, "public key").cstring("key type").toString("latin1");
  if (inner !== type) {
    throw new Rejection(
      `public key says ${JSON.stringify(type)} but encodes ${JSON.stringify(inner)}`,
    );
  }
  return { type, blob };
}

/** Builds a verifier for a public key blob of a supported type. */
function decodePublicKey(blob: Buffer): PublicKey {
  const r = new Reader(blob, "public key");
  const type = r.cstring("key type").toString("latin1");
  if (type === "ssh-ed25519") return ed25519Key(blob, r);
  const curve = ECDSA_CURVES[type];
  if (curve !== undefined) return ecdsaKey(blob, r, type, curve);
  if (type === "ssh-rsa") return rsaKey(blob, r);
  throw new Rejection(`key type ${JSON.stringify(type)} is not supported`);
}

function ed25519Key(blob: Buffer, r: Reader): PublicKey {
  const raw = r.bytes("ed25519 key");
  r.end();
  if (raw.length !== 32) throw new Rejection(`ed25519 key is ${raw.length} bytes, expected 32`);
  const key = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: b64url(raw) },
    format: "jwk",
  });
  return {
    blob,
    verify(data, signatureBlob) {
      const sig = readSignature(signatureBlob, ["ssh-ed25519"]);
      if (sig.bytes.length !== 64) return false;
      return cryptoVerify(null, data, key, sig.bytes);
    },
  };
}

interface Curve {
  readonly name: string;
  readonly jwk: string;
  readonly hash: string;
  readonly size: number;
}

/** RFC 5656: the key type fixes the curve and the hash of the ECDSA signature. */
const ECDSA_CURVES: Readonly<Record<string, Curve>> = {
  "ecdsa-sha2-nistp256": { name: "nistp256", jwk: "P-256", hash: "sha256", size: 32 },
  "ecdsa-sha2-nistp384": { name: "nistp384", jwk: "P-384", hash: "sha384", size: 48 },
  "ecdsa-sha2-nistp521": { name: "nistp521", jwk: "P-521", hash: "sha512", size: 66 },
};

function ecdsaKey(blob: Buffer, r: Reader, type: string, curve: Curve): PublicKey {
  const name = r.cstring("curve name").toString("latin1");
  const point = r.bytes("ecdsa point");
  r.end();
  if (name !== curve.name) throw new Rejection(`${type} key names curve ${JSON.stringify(name)}`);
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) {
    throw new Rejection(`${type} key is not an uncompressed ${curve.name} point`);
  }
  const x = b64url(point.subarray(1, 1 + curve.size));
  const y = b64url(point.subarray(1 + curve.size));
  const key = createPublicKey({ key: { kty: "EC", crv: curve.jwk, x, y }, format: "jwk" });
  return {
    blob,
    verify(data, signatureBlob) {
      const sig = readSignature(signatureBlob, [type]);
      // The signature is string(mpint r, mpint s); node wants r || s at the curve's size.
      const inner = new Reader(sig.bytes, "ecdsa signature");
      const rs = [inner.mpint("r"), inner.mpint("s")];
      inner.end();
      if (rs.some((n) => n.length > curve.size)) return false;
      const p1363 = Buffer.concat(rs.map((n) => leftPad(n, curve.size)));
      return cryptoVerify(curve.hash, data, { key, dsaEncoding: "ieee-p1363" }, p1363);
    },
  };
}

/** OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE. */
const RSA_MIN_BITS = 1024;
/** SSHSIG accepts only these RSA signature algorithms (sshsig.c RSA_SIGN_ALLOWED). */
const RSA_HASHES: Readonly<Record<string, string>> = {
  "rsa-sha2-256": "sha256",
  "rsa-sha2-512": "sha512",
};

function rsaKey(blob: Buffer, r: Reader): PublicKey {
  const e = r.mpint("rsa exponent");
  const n = r.mpint("rsa modulus");
  r.end();
  const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0] ?? 0));
  if (bits < RSA_MIN_BITS)
    throw new Rejection(`rsa key has ${bits} bits, fewer than ${RSA_MIN_BITS}`);
  const key = createPublicKey({ key: { kty: "RSA", n: b64url(n), e: b64url(e) }, format: "jwk" });
  return {
    blob,
    verify(data, signatureBlob) {
      const sig = readSignature(signatureBlob, Object.keys(RSA_HASHES));
      // Like ssh_rsa_verify: a short signature is left-padded to the modulus, a long one is bad.
      if (sig.bytes.length > n.length) return false;
      const padded = leftPad(sig.bytes, n.length);
      const hash = RSA_HASHES[sig.type] ?? "unreachable";
      return cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, padded);
    },
  };
}

/** The signature field: string sig-type, string sig-blob, with a type the key allows. */
function readSignature(blob: Buffer, types: readonly string[]): { type: string; bytes: Buffer } {
  const r = new Reader(blob, "signature");
  const type = r.cstring("signature type").toString("latin1");
  const bytes = r.bytes("signature bytes");
  r.end();
  if (!types.includes(type)) {
    throw new Rejection(
      `signature type ${JSON.stringify(type)} is not allowed for this key (expected ${types.join(" or ")})`,
    );
  }
  return { type, bytes };
}

/**
 * SHA256:… fingerprint as `ssh-keygen -l` prints it, for "keytype base64 [comment]".
 * Throws InterlockError("config.invalid") when the key line is malformed.
 */
export function fingerprint(publicKey: string): string {
  try {
    return blobFingerprint(readKeyLine(publicKey).blob);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new InterlockError("config.invalid", `invalid SSH public key: ${detail}`);
  }
}

function blobFingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

// ---------------------------------------------------------------------------------------------
// Wire format
// ---------------------------------------------------------------------------------------------

/** Reads SSH wire-format fields (RFC 4251 §5), rejecting truncation and trailing data. */
class Reader {
  private offset = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  uint32(field: string): number {
    if (this.buf.length - this.offset < 4) throw this.truncated(field);
    const value = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(field: string): Buffer {
    const length = this.uint32(field);
    if (this.buf.length - this.offset < length) throw this.truncated(field);
    const value = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A string that must not contain NUL, as sshbuf_get_cstring requires. */
  cstring(field: string): Buffer {
    const value = this.bytes(field);
    if (value.includes(0)) throw new Rejection(`${this.what}: ${field} contains a NUL byte`);
    return value;
  }

  /** A non-negative mpint, returned without leading zero bytes. */
  mpint(field: string): Buffer {
    const value = this.bytes(field);
    if (value.length > 0 && (value[0] ?? 0) & 0x80) {
      throw new Rejection(`${this.what}: ${field} is negative`);
    }
    let start = 0;
    while (start < value.length && value[start] === 0) start++;
    return value.subarray(start);
  }

  end(): void {
    const left = this.buf.length - this.offset;
    if (left !== 0) throw new Rejection(`${this.what} has ${left} bytes of trailing data`);
  }

  private truncated(field: string): Rejection {
    return new Rejection(`${this.what} is truncated (while reading ${field})`);
  }
}

function leftPad(bytes: Buffer, size: number): Buffer {
  return bytes.length >= size ? bytes : Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

function b64url(bytes: Buffer): string {
  return bytes.toString("base64url");
}

// ---------------------------------------------------------------------------------------------
// OpenSSH patterns (match.c)
// ---------------------------------------------------------------------------------------------

/**
 * match_pattern_list: 1 if `value` matches a positive pattern of the comma-separated `list`,
 * -1 if it matches a negated (`!`) one (which wins), 0 otherwise. Case-sensitive, byte-wise.
 */
function matchPatternList(value: string, list: string): -1 | 0 | 1 {
  // Fast path for the common case: one plain principal or namespace.
  if (!/[*?!,]/.test(list)) return value === list ? 1 : 0;
  const subject = Buffer.from(value, "utf8");
  let positive = false;
  for (const item of list.split(",")) {
    const negated = item.startsWith("!");
    const pattern = Buffer.from(negated ? item.slice(1) : item, "utf8");
    // match.c copies each subpattern into a 1024-byte buffer and fails the list when it does not fit.
    if (pattern.length >= 1023) return 0;
    if (matchPattern(subject, pattern)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

/** match_pattern: `*` is any run of bytes, `?` any one byte, everything else is literal. */
function matchPattern(s: Buffer, p: Buffer): boolean {
  const STAR = 0x2a;
  const QUESTION = 0x3f;
  let si = 0;
  let pi = 0;
  let starP = -1; // position after the last `*` seen, to backtrack to
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === QUESTION || p[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < p.length && p[pi] === STAR) {
      starP = ++pi;
      starS = si;
    } else if (starP >= 0) {
      pi = starP;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === STAR) pi++;
  return pi === p.length;
}

// ---------------------------------------------------------------------------------------------
// Git tags
// ---------------------------------------------------------------------------------------------

/** Every armor git recognises (gpg-interface.c sigs[]); the last one at a line start begins the signature. */
const GIT_SIGNATURE_STARTS = [
  "-----BEGIN PGP SIGNATURE-----",
  "-----BEGIN PGP MESSAGE-----",
  "-----BEGIN SIGNED MESSAGE-----",
  BEGIN,
];

/**
 * Splits a raw git tag object (as printed by `git cat-file tag <name>`) into the signed payload
 * and the armored signature; undefined when unsigned. Mirrors git's parse_signed_buffer: the
 * signature starts at the last line that begins with a known armor header, and the payload is
 * every byte before it. A non-SSH armor is returned as is (and then fails SSH verification).
 */
export function splitSignedTag(
  raw: string | Uint8Array,
): { payload: Uint8Array; signature: string } | undefined {
  const bytes =
    typeof raw === "string"
      ? Buffer.from(raw, "utf8")
      : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  // latin1 maps byte i to char i, so string offsets are byte offsets.
  const text = bytes.toString("latin1");
  let start = -1;
  for (let line = 0; line < text.length;) {
    if (GIT_SIGNATURE_STARTS.some((marker) => text.startsWith(marker, line))) start = line;
    const eol = text.indexOf("\n", line);
    line = eol < 0 ? text.length : eol + 1;
  }
  if (start < 0) return undefined;
  return { payload: bytes.subarray(0, start), signature: bytes.subarray(start).toString("utf8") };
}

// ---------------------------------------------------------------------------------------------
// allowed_signers files
// ---------------------------------------------------------------------------------------------

const WHITESPACE = " \t\r\n";

/**
 * Parses an allowed_signers file (ssh-keygen ALLOWED SIGNERS: principals[,…] [options] keytype
 * base64 [comment]) the way sshsig.c reads each line. Blank and `#` lines are skipped. Throws
 * InterlockError("config.invalid") listing every bad line, including lines with options this
 * module cannot honour (cert-authority, valid-after, valid-before): fail closed, never half-read.
 */
export function parseAllowedSigners(text: string): AllowedSigner[] {
  const signers: AllowedSigner[] = [];
  const problems: { line: number; message: string }[] = [];
  text.split("\n").forEach((line, index) => {
    try {
      const signer = parseSignerLine(line);
      if (signer !== undefined) signers.push(signer);
    } catch (err) {
      problems.push({ line: index + 1, message: err instanceof Error ? err.message : String(err) });
    }
  });
  if (problems.length > 0) {
    const first = problems[0];
    throw new InterlockError(
      "config.invalid",
      `allowed signers: line ${first?.line}: ${first?.message}` +
        (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""),
      { problems },
    );
  }
  return signers;
}

function parseSignerLine(line: string): AllowedSigner | undefined {
  const rest = skipWhitespace(line, 0);
  if (rest === line.length || line[rest] === "#") return undefined;
  const { token: principal, next } = principalsToken(line, rest);
  if (principal === "") throw new Error("empty principals field");
  const afterPrincipal = line.slice(next);
  // As sshkey_read: if what follows is not a key, it is options, then the key.
  if (looksLikeKey(afterPrincipal)) return { principal, publicKey: afterPrincipal.trim() };
  const optionsEnd = endOfOptions(afterPrincipal);
  const namespaces = parseOptions(afterPrincipal.slice(0, optionsEnd));
  const publicKey = afterPrincipal.slice(optionsEnd).trim();
  if (publicKey === "") throw new Error("missing key");
  readKeyLine(publicKey); // throws a precise reason if the key is malformed
  return namespaces === undefined ? { principal, publicKey } : { principal, publicKey, namespaces };
}

function skipWhitespace(s: string, i: number): number {
  while (i < s.length && WHITESPACE.includes(s[i] ?? "")) i++;
  return i;
}

/** strdelimw: the first token, where a `"` starts a quoted run (quotes removed, no escapes). */
function principalsToken(line: string, start: number): { token: string; next: number } {
  let i = start;
  while (i < line.length && !`${WHITESPACE}"`.includes(line[i] ?? "")) i++;
  if (i === line.length) throw new Error("missing key");
  if (line[i] !== '"') return { token: line.slice(start, i), next: skipWhitespace(line, i) };
  const close = line.indexOf('"', i + 1);
  if (close < 0) throw new Error("unterminated quote in principals");
  return {
    token: line.slice(start, i) + line.slice(i + 1, close),
    next: skipWhitespace(line, close + 1),
  };
}

function looksLikeKey(s: string): boolean {
  try {
    readKeyLine(s);
    return true;
  } catch {
    return false;
  }
}

/** sshkey_advance_past_options: up to the first unquoted space or tab (`\"` does not toggle). */
function endOfOptions(s: string): number {
  let quoted = false;
  let i = 0;
  for (; i < s.length && (quoted || (s[i] !== " " && s[i] !== "\t")); i++) {
    if (s[i] === "\\" && s[i + 1] === '"') i++;
    else if (s[i] === '"') quoted = !quoted;
  }
  if (quoted) throw new Error("unterminated quote in options");
  return i;
}

/** sshsigopt_parse, for the options this module can honour; returns the namespaces, if any. */
function parseOptions(options: string): string[] | undefined {
  let namespaces: string[] | undefined;
  let i = 0;
  while (i < options.length) {
    const name = /^[A-Za-z-]+/.exec(options.slice(i))?.[0] ?? "";
    const lower = name.toLowerCase();
    if (lower === "namespaces" && options[i + name.length] === "=") {
      if (namespaces !== undefined) throw new Error('multiple "namespaces" clauses');
      const { value, next } = dequote(options, i + name.length + 1);
      namespaces = value === "" ? [] : value.split(",");
      i = next;
    } else if (lower === "cert-authority" || lower === "valid-after" || lower === "valid-before") {
      throw new Error(`option "${name}" is not supported by in-process verification`);
    } else {
      throw new Error(`unknown option ${JSON.stringify(options.slice(i))}`);
    }
    if (i === options.length) break;
    if (options[i] !== ",") throw new Error(`unknown option ${JSON.stringify(options.slice(i))}`);
    i++;
    if (i === options.length) throw new Error("unexpected end of options");
  }
  return namespaces;
}

/** opt_dequote: a double-quoted value in which `\"` stands for `"`. */
function dequote(s: string, start: number): { value: string; next: number } {
  if (s[start] !== '"') throw new Error("option value is missing its start quote");
  let value = "";
  let i = start + 1;
  for (; i < s.length && s[i] !== '"'; i++) {
    if (s[i] === "\\" && s[i + 1] === '"') i++;
    value += s[i];
  }
  if (i >= s.length) throw new Error("option value is missing its end quote");
  return { value, next: i + 1 };
}

/**
 * Writes signers as an allowed_signers file that ssh-keygen (and parseAllowedSigners) read back
 * to the same signers. Throws InterlockError("config.invalid") for a signer that cannot be
 * written faithfully, rather than write a line that means something else.
 */
export function formatAllowedSigners(signers: readonly AllowedSigner[]): string {
  return signers.map((signer, i) => formatSigner(signer, i + 1)).join("");
}

function formatSigner(signer: AllowedSigner, index: number): string {
  const bad = (message: string): never => {
    throw new InterlockError("config.invalid", `allowed signer ${index}: ${message}`);
  };
  const { principal, publicKey, namespaces } = signer;
  // A line break in any field would smuggle in another line, i.e. another signer.
  if (/[\r\n]/.test(principal + publicKey + (namespaces ?? []).join(""))) {
    bad("fields must not contain line breaks");
  }
  if (principal === "") bad("principal must not be empty");
  if (principal.includes('"')) bad('principal must not contain a double quote (")');
  const principalField = /[\s#]/.test(principal) ? `"${principal}"` : principal;
  try {
    readKeyLine(publicKey);
  } catch (err) {
    bad(`invalid public key: ${err instanceof Error ? err.message : String(err)}`);
  }
  let options = "";
  if (namespaces !== undefined) {
    for (const ns of namespaces) {
      if (/[,"\\]/.test(ns)) bad(`namespace ${JSON.stringify(ns)} cannot be written`);
    }
    options = ` namespaces="${namespaces.join(",")}"`;
  }
  return `${principalField}${options} ${publicKey.trim()}\n`;
}

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

/** A private key that makes SSHSIG signatures in-process, as `ssh-keygen -Y sign` does. */
export interface SshSigningKey {
  /** "keytype base64", as in a .pub file (without comment). */
  readonly publicKey: string;
  /** The armored SSHSIG over `message` for `namespace` (git signs tags in namespace "git"). */
  sign(message: Uint8Array | string, namespace: string): string;
}

const OPENSSH_KEY =
  /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+?)-----END OPENSSH PRIVATE KEY-----/;
const OPENSSH_MAGIC = Buffer.from("openssh-key-v1\0", "latin1");
/** The hash ssh-keygen -Y sign uses for the message digest. */
const SIGN_HASH = "sha512";

/**
 * Reads an unencrypted OpenSSH private key (the openssh-key-v1 format ssh-keygen writes) of type
 * ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa. Interlock signs with it in-process, so no
 * program (git's gpg.ssh.program, which a repository's config can name) ever sees the key.
 * Throws InterlockError("usage") with the reason when the key cannot be used.
 */
export function parseSshPrivateKey(text: string, source: string): SshSigningKey {
  try {
    const b64 = OPENSSH_KEY.exec(text)?.[1];
    if (b64 === undefined) throw new Rejection("it is not an OpenSSH private key");
    const raw = strictBase64(b64, "private key");
    if (!raw.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) {
      throw new Rejection("it is not in the openssh-key-v1 format");
    }
    const r = new Reader(raw.subarray(OPENSSH_MAGIC.length), "private key");
    const cipher = r.cstring("cipher").toString("latin1");
    const kdf = r.cstring("kdf").toString("latin1");
    r.bytes("kdf options");
    if (cipher !== "none" || kdf !== "none") {
      throw new Rejection(
        "it is encrypted with a passphrase (Interlock signs with unencrypted keys)",
      );
    }
    if (r.uint32("key count") !== 1) throw new Rejection("it must hold exactly one key");
    const publicBlob = r.bytes("public key");
    const p = new Reader(r.bytes("private section"), "private key");
    if (p.uint32("check") !== p.uint32("check")) throw new Rejection("its check bytes differ");
    const type = p.cstring("key type").toString("latin1");
    const signer = privateSigner(type, p, publicBlob);
    return {
      publicKey: `${type} ${publicBlob.toString("base64")}`,
      sign(message, namespace) {
        if (namespace === "") throw new Rejection("the namespace must not be empty");
        const digest = createHash(SIGN_HASH).update(message).digest();
        const signature = signer(signedData(namespace, SIGN_HASH, digest));
        const blob = Buffer.concat([
          MAGIC,
          uint32(SIG_VERSION),
          sshString(publicBlob),
          sshString(Buffer.from(namespace, "utf8")),
          sshString(Buffer.alloc(0)),
          sshString(Buffer.from(SIGN_HASH, "latin1")),
          sshString(signature),
        ]).toString("base64");
        return `${BEGIN}\n${(blob.match(/.{1,70}/g) ?? []).join("\n")}\n${END}\n`;
      },
    };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new InterlockError("usage", `cannot sign with ${source}: ${detail}`, {
      hint: "Use an unencrypted OpenSSH key (ssh-keygen -t ed25519 -N '' -f <file>).",
    });
  }
}

/** A function from the data to sign to the signature field (string type, string bytes). */
function privateSigner(type: string, p: Reader, publicBlob: Buffer): (data: Buffer) => Buffer {
  const wire = (sigType: string, bytes: Buffer) =>
    Buffer.concat([sshString(Buffer.from(sigType, "latin1")), sshString(bytes)]);
  if (type === "ssh-ed25519") {
    const pub = p.bytes("ed25519 public key");
    const secret = p.bytes("ed25519 private key"); // seed ‖ public key
    if (pub.length !== 32 || secret.length !== 64) throw new Rejection("bad ed25519 key");
    const key = createPrivateKey({
      key: { kty: "OKP", crv: "Ed25519", d: b64url(secret.subarray(0, 32)), x: b64url(pub) },
      format: "jwk",
    });
    assertSameKey(publicBlob, decodePublicKey(publicBlob), (d) =>
      wire(type, cryptoSign(null, d, key)),
    );
    return (data) => wire(type, cryptoSign(null, data, key));
  }
  const curve = ECDSA_CURVES[type];
  if (curve !== undefined) {
    const name = p.cstring("curve name").toString("latin1");
    const point = p.bytes("ecdsa point");
    const d = p.mpint("ecdsa private key");
    if (name !== curve.name || point.length !== 1 + 2 * curve.size || point[0] !== 0x04) {
      throw new Rejection(`bad ${type} key`);
    }
    const key = createPrivateKey({
      key: {
        kty: "EC",
        crv: curve.jwk,
        x: b64url(point.subarray(1, 1 + curve.size)),
        y: b64url(point.subarray(1 + curve.size)),
        d: b64url(leftPad(d, curve.size)),
      },
      format: "jwk",
    });
    const sign = (data: Buffer) => {
      const rs = cryptoSign(curve.hash, data, { key, dsaEncoding: "ieee-p1363" });
      const mp = (n: Buffer) => sshString(mpintBytes(n));
      return wire(
        type,
        Buffer.concat([mp(rs.subarray(0, curve.size)), mp(rs.subarray(curve.size))]),
      );
    };
    assertSameKey(publicBlob, decodePublicKey(publicBlob), sign);
    return sign;
  }
  if (type === "ssh-rsa") {
    const n = p.mpint("rsa modulus");
    const e = p.mpint("rsa exponent");
    const d = p.mpint("rsa private exponent");
    const iqmp = p.mpint("rsa iqmp");
    const prime1 = p.mpint("rsa p");
    const prime2 = p.mpint("rsa q");
    const big = (b: Buffer) => BigInt(`0x${b.toString("hex") || "0"}`);
    const bytes = (v: bigint) => {
      const hex = v.toString(16);
      return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
    };
    const key = createPrivateKey({
      key: {
        kty: "RSA",
        n: b64url(n),
        e: b64url(e),
        d: b64url(d),
        p: b64url(prime1),
        q: b64url(prime2),
        dp: b64url(bytes(big(d) % (big(prime1) - 1n))),
        dq: b64url(bytes(big(d) % (big(prime2) - 1n))),
        qi: b64url(iqmp),
      },
      format: "jwk",
    });
    const sign = (data: Buffer) =>
      wire(
        "rsa-sha2-512",
        cryptoSign("sha512", data, { key, padding: constants.RSA_PKCS1_PADDING }),
      );
    assertSameKey(publicBlob, decodePublicKey(publicBlob), sign);
    return sign;
  }
  throw new Rejection(`key type ${JSON.stringify(type)} cannot sign (ed25519, ecdsa or rsa can)`);
}

/** The private half must belong to the public key the file names: sign once and verify. */
function assertSameKey(publicBlob: Buffer, pub: PublicKey, sign: (d: Buffer) => Buffer): void {
  const probe = Buffer.from("interlock key check");
  if (!pub.verify(probe, sign(probe))) {
    throw new Rejection(
      `its private key does not match its public key ${blobFingerprint(publicBlob)}`,
    );
  }
}

/** A non-negative integer as an SSH mpint body: no leading zeros, a zero byte if the top bit is set. */
function mpintBytes(n: Buffer): Buffer {
  let start = 0;
  while (start < n.length && n[start] === 0) start++;
  const v = n.subarray(start);
  return v.length > 0 && (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
